from typing import Any

from django.core.management.base import BaseCommand

from observatory.reporting.services import load_instruments


class Command(BaseCommand):
    help = "Mirror the shipped questionnaire definitions (instrument → module → question) into the tables."

    def handle(self, *args: Any, **options: Any) -> None:
        for sync in load_instruments():
            state = "created" if sync.created else ("updated" if sync.modules else "up to date")
            self.stdout.write(
                f"{sync.instrument}: {state} ({sync.modules} modules, {sync.questions} questions written)"
            )
