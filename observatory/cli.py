"""The ``observatory`` console script: Django's management commands under one name.

Two-word operations map to one command: ``observatory import seizure-cases PATH`` runs the
``import_seizure_cases`` command, ``observatory audit verify`` runs ``audit_verify``; single words map
directly (``observatory load-reference`` runs ``load_reference``).
"""

from __future__ import annotations

import os
import sys


def resolve_command(argv: list[str]) -> list[str]:
    """Rewrite ``[prog, word1, word2, ...]`` into Django's ``[prog, command, ...]``."""
    from django.core.management import get_commands

    if len(argv) < 2 or argv[1].startswith("-"):
        return argv
    commands = get_commands()
    first = argv[1].replace("-", "_")
    if len(argv) > 2 and not argv[2].startswith("-"):
        joined = f"{first}_{argv[2].replace('-', '_')}"
        if joined in commands:
            return [argv[0], joined, *argv[3:]]
    return [argv[0], first, *argv[2:]]


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "observatory.settings")
    import django
    from django.core.management import execute_from_command_line

    django.setup()
    execute_from_command_line(resolve_command(list(argv if argv is not None else sys.argv)))


if __name__ == "__main__":
    main()
