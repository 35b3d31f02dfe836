"""Run the web server (gunicorn), the background worker and the scheduler together until interrupted."""

import signal
import subprocess
import sys
from typing import Any

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Serve the web application and run the database-backed worker (Ctrl-C stops both)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--bind", default="127.0.0.1:8000")
        parser.add_argument("--workers", type=int, default=2)
        # Threads let one worker overlap requests waiting on the database (benchmarks/portal.py serves so).
        parser.add_argument("--threads", type=int, default=4)

    def handle(self, *args: Any, **options: Any) -> None:
        python = sys.executable
        worker = subprocess.Popen([python, "-m", "observatory.cli", "worker"])
        scheduler = subprocess.Popen([python, "-m", "observatory.cli", "scheduler"])
        web = subprocess.Popen(
            [
                python,
                "-m",
                "gunicorn",
                "observatory.wsgi:application",
                "--bind",
                options["bind"],
                "--workers",
                str(options["workers"]),
                "--threads",
                str(options["threads"]),
                "--access-logfile",
                "-",
                "--timeout",
                "120",
            ]
        )
        self.stdout.write(
            f"Drug Observatory on http://{options['bind']} (worker pid {worker.pid}); Ctrl-C stops."
        )
        try:
            web.wait()
        except KeyboardInterrupt:
            pass
        finally:
            for process in (web, worker, scheduler):
                if process.poll() is None:
                    process.send_signal(signal.SIGTERM)
            for process in (web, worker, scheduler):
                process.wait(timeout=30)
