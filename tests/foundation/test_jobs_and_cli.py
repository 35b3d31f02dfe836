"""Background jobs run in the real database worker and report progress; the CLI and demo set-up."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command

from observatory.access.models import Assignment, User
from observatory.cli import resolve_command
from observatory.jobs.models import Job
from observatory.jobs.services import start_job
from observatory.jobs.tasks import verify_audit_trail
from tests.factories import make_user

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.django_db(transaction=True)
def test_job_runs_in_the_worker_and_reports_progress(transactional_reference: None) -> None:
    """Given an audit verification job, when the database worker runs, then the job has succeeded and
    its progress equals the rows checked; running the same task again changes nothing."""
    user = make_user("reviewer")
    job = start_job(user, "audit.verify", "Verify the audit trail", verify_audit_trail, {})
    call_command("worker", batch=True)
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED
    assert job.result is not None
    assert job.result["ok"] is True
    assert job.done == job.result["rows_checked"] == job.total
    assert job.percent == 100
    finished_at = job.finished_at
    verify_audit_trail.call(str(job.pk))
    job.refresh_from_db()
    assert job.finished_at == finished_at


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["observatory", "setup-demo"], ["observatory", "setup_demo"]),
        (["observatory", "audit", "verify"], ["observatory", "audit_verify"]),
        (["observatory", "load-reference"], ["observatory", "load_reference"]),
        (["observatory", "migrate", "--check"], ["observatory", "migrate", "--check"]),
    ],
)
def test_cli_maps_two_word_operations_to_commands(argv: list[str], expected: list[str]) -> None:
    assert resolve_command(argv) == expected


@pytest.mark.usefixtures("reference")
def test_demo_setup_is_idempotent(tmp_path: Path, settings: object) -> None:
    """Running the demo set-up twice leaves one user per demo role and the same passwords."""
    setattr(settings, "VAR_DIR", tmp_path)  # noqa: B010 - pytest-django settings fixture
    call_command("setup_demo", stdout=open(os.devnull, "w"))  # noqa: SIM115
    first = json.loads((tmp_path / "demo_logins.json").read_text())
    users, assignments = User.objects.count(), Assignment.objects.count()
    call_command("setup_demo", stdout=open(os.devnull, "w"))  # noqa: SIM115
    assert json.loads((tmp_path / "demo_logins.json").read_text()) == first
    assert (User.objects.count(), Assignment.objects.count()) == (users, assignments)
    assert User.objects.get(username="reviewer").check_password(first["reviewer"])


def test_production_settings_pass_the_deploy_checklist(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "OBSERVATORY_ENV": "production",
        "DJANGO_SECRET_KEY": "x" * 20 + "a-long-random-production-secret-key-0123456789",
        "DJANGO_ALLOWED_HOSTS": "observatory.example.org",
        "OBSERVATORY_VAR_DIR": str(tmp_path),
    }
    env.pop("DATABASE_URL", None)
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    result = subprocess.run(
        [sys.executable, "-m", "observatory.cli", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.usefixtures("reference")
def test_scheduler_enqueues_a_periodic_job_once_per_interval() -> None:
    """Given the precursor expiry runs every minute and the case-trend refresh every ten, two passes
    within the minute start each once; a pass a minute later starts only the expiry again."""
    from datetime import timedelta

    import time_machine
    from django.utils import timezone

    from observatory.jobs.schedule import enqueue_due

    now = timezone.now()
    with time_machine.travel(now, tick=False):
        first = sorted(job.kind for job in enqueue_due())
        assert [job.kind for job in enqueue_due()] == []
    with time_machine.travel(now + timedelta(seconds=61), tick=False):
        again = [job.kind for job in enqueue_due()]
    assert first == ["analysis.case-trends", "precursors.expire"]
    assert again == ["precursors.expire"]


@pytest.mark.django_db(transaction=True)
def test_progress_inside_the_works_transaction_is_seen_before_it_commits() -> None:
    """Given a job whose work stores everything in one transaction, when it reports a stage and progress
    inside that transaction, then on PostgreSQL another connection (the job page) sees them at once; on
    SQLite they are written in the transaction, seen at its commit. Either way the last report stays."""
    from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction

    from observatory.jobs.services import ProgressReporter

    job = Job.objects.create(kind="test.progress", title="Progress in a transaction", parameters={})
    progress = ProgressReporter(str(job.pk), every=1)
    try:
        with transaction.atomic():
            progress.stage("storing cases", total=10)
            progress.advance(7)
            if connection.vendor == "postgresql":  # (SQLite's test database allows no second reader here)
                watcher = connections.create_connection(DEFAULT_DB_ALIAS)
                with watcher.cursor() as cursor:
                    cursor.execute(f"SELECT stage, done FROM {Job._meta.db_table} WHERE id = %s", [job.pk])
                    assert cursor.fetchone() == ("storing cases", 7)
                watcher.close()
    finally:
        progress.close()
    job.refresh_from_db()
    assert (job.stage, job.total, job.done) == ("storing cases", 10, 7)


@pytest.mark.django_db
def test_progress_of_a_stage_with_a_known_total_is_written_at_most_a_hundred_times() -> None:
    """Given a stage of 1,000,000 items reported item by item 1,000 at a time, when it runs, then the job
    row is written once per hundredth (10,000 items) and on the forced last report, and shows the end."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from observatory.jobs.services import ProgressReporter

    job = Job.objects.create(kind="test.progress", title="Progress by the hundredth", parameters={})
    progress = ProgressReporter(str(job.pk))
    progress.stage("storing cases", total=1_000_000)
    with CaptureQueriesContext(connection) as writes:
        for done in range(1_000, 1_000_001, 1_000):
            progress.advance(done)
        progress.advance(1_000_000, force=True)
    progress.close()
    assert len(writes) == 101
    job.refresh_from_db()
    assert (job.stage, job.total, job.done) == ("storing cases", 1_000_000, 1_000_000)
