"""Periodic work of the precursor app: expiring notifications whose reply deadline has passed."""

from datetime import timedelta

from observatory.jobs.schedule import PeriodicJob
from observatory.precursors.tasks import expire_notifications

PERIODIC_JOBS = [
    PeriodicJob(
        "precursors.expire",
        "Expire unanswered pre-export notifications",
        expire_notifications,
        timedelta(minutes=1),
    ),
]
