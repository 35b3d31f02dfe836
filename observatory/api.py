"""The JSON API at /api/v1/: one NinjaAPI, a router per app, OpenAPI at /api/v1/openapi.json.

Machine clients authenticate with ``Authorization: Bearer <token>``; the browser uses its session
(with CSRF). Refusals by the policy become 403 with the verb that was missing.
"""

from __future__ import annotations

import importlib
import importlib.util
from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.security import APIKeyCookie, HttpBearer

from observatory.access.policy import PermissionDenied
from observatory.access.services import authenticate_token
from observatory.errors import Conflict, InvalidInput


class BearerToken(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Any:
        user = authenticate_token(token)
        if user is not None:
            request.user = user
        return user


class SessionAuth(APIKeyCookie):
    """The browser's session, CSRF-checked like any form post."""

    param_name = "sessionid"

    def __init__(self) -> None:
        super().__init__(csrf=True)

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = getattr(request, "user", None)
        return user if user is not None and user.is_authenticated else None


AUTH = [BearerToken(), SessionAuth()]

api = NinjaAPI(
    title="Drug Observatory API",
    version="1",
    description=(
        "Reporting, analysis and open data for international cooperation against the world drug problem. "
        "Authenticate with a bearer token (issued on your profile page) or your browser session."
    ),
    urls_namespace="api",
)


@api.exception_handler(PermissionDenied)
def permission_denied(request: HttpRequest, error: PermissionDenied) -> HttpResponse:
    return api.create_response(request, {"detail": "forbidden", "verb": error.verb}, status=403)


@api.exception_handler(ObjectDoesNotExist)
def not_found(request: HttpRequest, error: ObjectDoesNotExist) -> HttpResponse:
    # Out of scope and absent look the same, so a refusal does not confirm that a record exists.
    return api.create_response(request, {"detail": "not found"}, status=404)


@api.exception_handler(Conflict)
def conflict(request: HttpRequest, error: Conflict) -> HttpResponse:
    return api.create_response(request, {"detail": str(error)}, status=409)


@api.exception_handler(InvalidInput)
def invalid_input(request: HttpRequest, error: InvalidInput) -> HttpResponse:
    return api.create_response(request, {"detail": str(error), "field": error.field}, status=422)


def register_routers() -> None:
    """Mount the router of every app that has an ``api`` module at /api/v1/<app>/."""
    from django.conf import settings

    for app in ("reference", "access", "jobs", *settings.DOMAIN_APPS):
        if importlib.util.find_spec(f"observatory.{app}.api") is not None:
            module = importlib.import_module(f"observatory.{app}.api")
            api.add_router(f"/{app}/", module.router)
            # Open data lives at /api/v1/public/… whichever app serves it.
            if hasattr(module, "public_router"):
                api.add_router("/public/", module.public_router)


register_routers()
