"""``observatory release create --label L --as USER``: build a draft release from the approved data."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from observatory.access import policy
from observatory.access.models import User
from observatory.publication import queries, services


class Command(BaseCommand):
    help = "Snapshot the chosen datasets, as the acting reviewer or analyst sees them, into a draft release."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--label", required=True)
        parser.add_argument("--title", default="")
        parser.add_argument(
            "--as", dest="actor", required=True, help="username of the preparing reviewer/analyst"
        )
        parser.add_argument("--datasets", default=",".join(services.DEFAULT_DATASETS))
        parser.add_argument("--corrects", default="", help="label of the public release this one corrects")
        parser.add_argument("--change-notes", default="")

    def handle(self, *args: Any, **options: Any) -> None:
        actor = User.objects.filter(username=options["actor"]).first()
        if actor is None:
            raise CommandError(f"no user {options['actor']}")
        corrects = None
        if options["corrects"]:
            corrects = queries.public_release(options["corrects"])
            if corrects is None:
                raise CommandError(f"{options['corrects']} is not a public release")
        try:
            release = services.create_release(
                actor, options["label"], options["title"] or options["label"],
                datasets=[d.strip() for d in options["datasets"].split(",") if d.strip()],
                corrects=corrects, change_notes=options["change_notes"],
            )  # fmt: skip
        except (services.ReleaseError, ValueError, policy.PermissionDenied) as error:
            raise CommandError(str(error)) from error
        self.stdout.write(
            f"draft {release.label}: {release.observation_count} figures ({', '.join(release.datasets)})"
        )
        if release.corrects:
            diff = release.diff
            self.stdout.write(
                f"corrects {release.corrects.label}: {diff['changed']} changed, {diff['added']} added, {diff['removed']} removed"
            )
