"""Periodic jobs (e.g. expiring overdue pre-export notifications).

Apps list them in ``observatory/<app>/schedule.py`` as ``PERIODIC_JOBS``. The scheduler process
(``observatory scheduler``, started by ``observatory serve``) enqueues each one when its interval has
passed since the last job of its kind, reading that time from the Job table, so a restart neither skips
nor repeats work and the jobs themselves stay idempotent.
"""

from __future__ import annotations

import importlib
import importlib.util
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_tasks.base import Task

from observatory.jobs.models import Job
from observatory.jobs.services import start_job


@dataclass(frozen=True)
class PeriodicJob:
    kind: str
    title: str
    task: Task[Any, Any]
    every: timedelta


def periodic_jobs() -> list[PeriodicJob]:
    jobs: list[PeriodicJob] = []
    for app in settings.DOMAIN_APPS:
        if importlib.util.find_spec(f"observatory.{app}.schedule") is not None:
            jobs.extend(importlib.import_module(f"observatory.{app}.schedule").PERIODIC_JOBS)
    return jobs


def enqueue_due(now: datetime | None = None) -> list[Job]:
    """Start every periodic job whose interval has passed; return the jobs started."""
    now = now or timezone.now()
    started = []
    for periodic in periodic_jobs():
        with transaction.atomic():
            last = Job.objects.filter(kind=periodic.kind).order_by("-created_at").first()
            if last is not None and now - last.created_at < periodic.every:
                continue
            started.append(start_job(None, periodic.kind, periodic.title, periodic.task, {}))
    return started
