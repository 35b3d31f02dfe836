from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Set up the demonstration (idempotent) and serve it on http://127.0.0.1:8000 with the worker."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--no-serve", action="store_true", help="Set up only.")

    def handle(self, *args: Any, **options: Any) -> None:
        call_command("setup_demo", stdout=self.stdout)
        if not options["no_serve"]:
            call_command("serve", stdout=self.stdout)
