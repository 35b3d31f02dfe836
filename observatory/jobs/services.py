"""Starting background jobs and reporting their progress.

A job is a row people can watch plus a django-tasks task that does the work in the worker. Tasks are
written to be idempotent: running one twice leaves the same state as running it once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone

from observatory.jobs.models import Job

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser
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
    """Handed to the work function; writes progress at most every ``every`` items."""

    def __init__(self, job_id: str, every: int = 1000) -> None:
        self.job_id = job_id
        self.every = every
        self._last_written = -every

    def stage(self, name: str, total: int | None = None) -> None:
        Job.objects.filter(pk=self.job_id).update(stage=name, total=total, done=0)
        self._last_written = -self.every

    def advance(self, done: int, force: bool = False) -> None:
        if force or done - self._last_written >= self.every:
            Job.objects.filter(pk=self.job_id).update(done=done)
            self._last_written = done


def run_job(job_id: str, work: Callable[[Job, ProgressReporter], dict[str, Any]]) -> dict[str, Any]:
    """Run ``work`` for the job, recording start, progress, result or error. Called inside a task."""
    job = Job.objects.get(pk=job_id)
    if job.status == Job.Status.SUCCEEDED:
        return job.result or {}  # a re-delivered task does nothing twice
    Job.objects.filter(pk=job_id).update(status=Job.Status.RUNNING, started_at=timezone.now(), error="")
    try:
        result = work(job, ProgressReporter(job_id))
    except Exception as error:
        Job.objects.filter(pk=job_id).update(
            status=Job.Status.FAILED, finished_at=timezone.now(), error=f"{type(error).__name__}: {error}"
        )
        raise
    Job.objects.filter(pk=job_id).update(
        status=Job.Status.SUCCEEDED, finished_at=timezone.now(), result=result, stage="done"
    )
    return result
