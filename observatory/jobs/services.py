"""Starting background jobs and reporting their progress.

A job is a row people can watch plus a django-tasks task that does the work in the worker. Tasks are
written to be idempotent: running one twice leaves the same state as running it once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django.db import DEFAULT_DB_ALIAS, OperationalError, connection, connections, transaction
from django.utils import timezone

from observatory.jobs.models import Job

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser
    from django.db.backends.base.base import BaseDatabaseWrapper
    from django_tasks.base import Task

    from observatory.access.models import User


def start_job(
    actor: User | AnonymousUser | None,
    kind: str,
    title: str,
    task: Task[Any, Any],
    parameters: dict[str, Any],
    *,
    country_iso3: str = "",
    idempotency_key: str = "",
) -> Job:
    """Record the job and enqueue its task once the surrounding transaction commits.

    The caller (a service) has already checked the policy for what the job will do.
    """
    if idempotency_key:
        existing = (
            Job.objects.filter(kind=kind, idempotency_key=idempotency_key)
            .exclude(status=Job.Status.FAILED)
            .first()
        )
        if existing is not None:
            return existing
    job = Job.objects.create(
        kind=kind,
        title=title,
        requested_by=actor if actor is not None and actor.is_authenticated else None,
        country_iso3=country_iso3,
        idempotency_key=idempotency_key,
        parameters=parameters,
    )
    job_id = str(job.pk)
    transaction.on_commit(lambda: task.enqueue(job_id))
    return job


class ProgressReporter:
    """Handed to the work function; writes progress at most every ``every`` items, and at most a hundred
    times in a stage whose total is known.

    Work that runs inside a transaction (an import storing everything or nothing) would hide its own
    progress until it commits. On PostgreSQL such writes go through a second connection of their own, in
    autocommit, so the job page sees them at once; they wait at most a second for the job's row and are
    dropped rather than block the work. (SQLite allows one writer: there they wait for the commit.)"""

    def __init__(self, job_id: str, every: int = 1000) -> None:
        self.job_id = job_id
        self.every = every
        self._step = every
        self._last_written = -every
        self._side: BaseDatabaseWrapper | None = None

    def stage(self, name: str, total: int | None = None) -> None:
        self._write(stage=name, total=total, done=0)
        self._step = max(self.every, (total or 0) // 100)
        self._last_written = -self._step

    def advance(self, done: int, force: bool = False) -> None:
        if force or done - self._last_written >= self._step:
            self._write(done=done)
            self._last_written = done

    def close(self) -> None:
        if self._side is not None:
            self._side.close()
            self._side = None

    def _write(self, **fields: Any) -> None:
        if not (connection.in_atomic_block and connection.vendor == "postgresql"):
            Job.objects.filter(pk=self.job_id).update(**fields)
            return
        if self._side is None:
            self._side = connections.create_connection(DEFAULT_DB_ALIAS)
        assignments = ", ".join(f"{connection.ops.quote_name(name)} = %s" for name in fields)
        table = connection.ops.quote_name(Job._meta.db_table)
        with self._side.cursor() as cursor:
            cursor.execute("SET lock_timeout = '1s'")
            try:
                cursor.execute(
                    f"UPDATE {table} SET {assignments} WHERE id = %s", [*fields.values(), self.job_id]
                )
            except OperationalError:  # the row is held by the work's own transaction: skip this report
                return
            seen = cursor.rowcount
        if not seen:  # the job row itself is not committed yet (created in the same transaction)
            Job.objects.filter(pk=self.job_id).update(**fields)


def run_job(job_id: str, work: Callable[[Job, ProgressReporter], dict[str, Any]]) -> dict[str, Any]:
    """Run ``work`` for the job, recording start, progress, result or error. Called inside a task."""
    job = Job.objects.get(pk=job_id)
    if job.status == Job.Status.SUCCEEDED:
        return job.result or {}  # a re-delivered task does nothing twice
    Job.objects.filter(pk=job_id).update(status=Job.Status.RUNNING, started_at=timezone.now(), error="")
    progress = ProgressReporter(job_id)
    try:
        result = work(job, progress)
    except Exception as error:
        Job.objects.filter(pk=job_id).update(
            status=Job.Status.FAILED, finished_at=timezone.now(), error=f"{type(error).__name__}: {error}"
        )
        raise
    finally:
        progress.close()
    Job.objects.filter(pk=job_id).update(
        status=Job.Status.SUCCEEDED, finished_at=timezone.now(), result=result, stage="done"
    )
    return result
