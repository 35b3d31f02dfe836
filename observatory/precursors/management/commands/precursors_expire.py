"""``observatory precursors expire``: expire sent notifications whose reply deadline has come.

Run it from cron (or a systemd timer) every few minutes; it is idempotent. ``--enqueue`` hands the work
to the database worker as a job instead of doing it in this process.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from observatory.jobs.services import start_job
from observatory.precursors.services import expire_due
from observatory.precursors.tasks import expire_notifications


class Command(BaseCommand):
    help = "Expire sent pre-export notifications whose reply deadline has come (idempotent)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--enqueue", action="store_true", help="run it in the worker as a job")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["enqueue"]:
            minute = timezone.now().strftime("%Y-%m-%dT%H:%M")
            job = start_job(
                None,
                "precursors.expire",
                "Expire pre-export notifications past their deadline",
                expire_notifications,
                {},
                idempotency_key=minute,
            )
            self.stdout.write(f"job {job.pk} enqueued")
            return
        result = expire_due()
        self.stdout.write(f"expired {len(result.expired)} of {result.checked} due notification(s)")
