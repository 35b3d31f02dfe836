"""Jobs API: the progress of the caller's background jobs."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Router, Schema

from observatory.api import AUTH
from observatory.jobs.queries import jobs_of

router = Router(tags=["jobs"], auth=AUTH)


class JobOut(Schema):
    id: UUID
    kind: str
    title: str
    status: str
    stage: str
    done: int
    total: int | None
    percent: int | None
    result: Any
    error: str
    created_at: datetime
    finished_at: datetime | None


@router.get("/", response=list[JobOut])
def list_jobs(request: HttpRequest) -> Any:
    return jobs_of(request.user)[:100]


@router.get("/{job_id}", response=JobOut)
def get_job(request: HttpRequest, job_id: UUID) -> Any:
    return get_object_or_404(jobs_of(request.user), pk=job_id)
