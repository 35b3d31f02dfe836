from __future__ import annotations

from uuid import UUID

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from observatory.jobs.queries import jobs_of


@login_required
def job_list(request: HttpRequest) -> HttpResponse:
    return render(request, "jobs/list.html", {"jobs": jobs_of(request.user)[:100]})


@login_required
def job_detail(request: HttpRequest, job_id: UUID) -> HttpResponse:
    job = get_object_or_404(jobs_of(request.user), pk=job_id)
    return render(request, "jobs/detail.html", {"job": job})
