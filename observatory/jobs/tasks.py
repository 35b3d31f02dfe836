"""Background tasks of the infrastructure itself."""

from __future__ import annotations

from typing import Any

from django_tasks import task

from observatory.jobs.models import Job
from observatory.jobs.services import ProgressReporter, run_job


@task()
def verify_audit_trail(job_id: str) -> dict[str, Any]:
    """Verify the audit hash chain in the worker, reporting rows checked as progress."""
    from observatory.access.audit import verify
    from observatory.access.models import AuditEvent

    def work(job: Job, progress: ProgressReporter) -> dict[str, Any]:
        progress.stage("verifying the audit hash chain", total=AuditEvent.objects.count())
        result = verify(on_progress=lambda checked: progress.advance(checked))
        progress.advance(result.rows_checked, force=True)
        return {
            "ok": result.ok,
            "rows_checked": result.rows_checked,
            "first_bad_sequence": result.first_bad_sequence,
            "problem": result.problem,
        }

    return run_job(job_id, work)
