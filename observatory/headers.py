"""Response headers that narrow what a browser lets a page do: a Content Security Policy and a
Permissions Policy on every response.

The pages load only our own scripts (vendored, never a CDN, no inline code), so script-src is 'self';
styles keep 'unsafe-inline' for the style attributes of server-drawn SVG charts and maps. A view that
sets its own policy keeps it.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponseBase


class SecurityHeadersMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response
        self.content_security_policy = settings.OBSERVATORY_CONTENT_SECURITY_POLICY
        self.permissions_policy = settings.OBSERVATORY_PERMISSIONS_POLICY

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", self.content_security_policy)
        response.headers.setdefault("Permissions-Policy", self.permissions_policy)
        return response
