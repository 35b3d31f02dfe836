"""Open-data responses that are already cached, answered before the session, CSRF, authentication
and message middleware and before URL resolution: those add nothing to an anonymous GET of public
JSON, and they cost most of such a request. Placed right after the security and static-file
middleware in ``settings.MIDDLEWARE``; see ``http.cached_public_json`` for what it answers."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponseBase

from observatory.publication.http import cached_public_json


class PublicJsonCacheMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        return cached_public_json(request) or self.get_response(request)
