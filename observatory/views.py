"""Site-wide endpoints: the health check (the home page is the public portal's)."""

from __future__ import annotations

from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache

from observatory.jobs.queries import queue_health


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
