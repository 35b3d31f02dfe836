"""Reads of jobs: people see the jobs they started; holders of a verb on a country see its jobs."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.db.models import Min, QuerySet
from django.utils import timezone
from django_tasks_db.models import DBTaskResult, get_date_max

from observatory.jobs.models import Job

if TYPE_CHECKING:
    from observatory.access.policy import Actor

QUEUE_STALL_AFTER = timedelta(minutes=2)


def jobs_of(user: Actor | None) -> QuerySet[Job]:
    if user is None or not user.is_authenticated:
        return Job.objects.none()
    return Job.objects.filter(requested_by_id=user.pk)


def queue_health() -> dict[str, Any]:
    """Ready tasks and the age of the oldest: a worker that is down shows as a growing age."""
    now = timezone.now()
    ready = DBTaskResult.objects.ready()
    # A task without a delay carries the maximum date as run_after: it has waited since it was enqueued.
    undelayed = ready.filter(run_after=get_date_max()).aggregate(oldest=Min("enqueued_at"))["oldest"]
    delayed = ready.exclude(run_after=get_date_max()).aggregate(oldest=Min("run_after"))["oldest"]
    oldest = min((moment for moment in (undelayed, delayed) if moment is not None), default=None)
    age = (now - oldest).total_seconds() if oldest else 0.0
    return {
        "ready": ready.count(),
        "running": DBTaskResult.objects.running().count(),
        "oldest_ready_seconds": round(max(age, 0.0), 1),
        "status": "stalled" if oldest and now - oldest > QUEUE_STALL_AFTER else "ok",
    }
