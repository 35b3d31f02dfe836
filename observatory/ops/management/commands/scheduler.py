import time
from typing import Any

from django.core.management.base import BaseCommand

from observatory.jobs.schedule import enqueue_due, periodic_jobs


class Command(BaseCommand):
    help = "Enqueue periodic jobs when they are due (runs until stopped; --once for a single pass)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--once", action="store_true")
        parser.add_argument("--interval", type=float, default=30.0, help="seconds between passes")

    def handle(self, *args: Any, **options: Any) -> None:
        kinds = ", ".join(job.kind for job in periodic_jobs()) or "none"
        self.stdout.write(f"scheduler: periodic jobs {kinds}")
        while True:
            for job in enqueue_due():
                self.stdout.write(f"enqueued {job.kind} ({job.pk})")
            if options["once"]:
                return
            time.sleep(options["interval"])
