"""Site-wide pages: the public home page and the health check."""

from __future__ import annotations

from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache

from observatory.jobs.queries import queue_health
from observatory.reference.models import ControlledSubstance, Country


def site_home(request: HttpRequest) -> HttpResponse:
    """The public portal's home page when the publication app provides one, else the basic welcome."""
    try:
        from observatory.publication.views import portal_home  # type: ignore[attr-defined,unused-ignore]
    except ImportError:
        return home(request)
    return portal_home(request)  # type: ignore[no-any-return,unused-ignore]


def home(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "home.html",
        {"country_count": Country.objects.count(), "substance_count": ControlledSubstance.objects.count()},
    )


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """200 when the database answers and the worker queue drains; 503 otherwise, saying which failed."""
    checks: dict[str, object] = {}
    healthy = True
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        checks["database"] = {"status": "ok", "vendor": connection.vendor}
    except Exception as error:  # any driver error means unhealthy
        checks["database"] = {"status": "error", "detail": type(error).__name__}
        return JsonResponse({"status": "error", "checks": checks}, status=503)
    queue = queue_health()
    checks["queue"] = queue
    healthy = queue["status"] == "ok"
    return JsonResponse(
        {"status": "ok" if healthy else "degraded", "checks": checks}, status=200 if healthy else 503
    )
