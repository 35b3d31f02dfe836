"""Periodic work of the analysis app: seizure trends follow newly imported individual cases."""

from datetime import timedelta

from observatory.analysis.tasks import refresh_case_trends
from observatory.jobs.schedule import PeriodicJob

PERIODIC_JOBS = [
    PeriodicJob(
        "analysis.case-trends",
        "Refresh seizure trends from individual cases",
        refresh_case_trends,
        timedelta(minutes=10),
    ),
]
