"""Caching of public responses: ETags tied to the release shown, Cache-Control, 304 on If-None-Match.

A release is immutable, so a public response is fully determined by the release it shows and the
request (path and query string). The ETag hashes exactly those; it changes the moment another
release becomes the current one (a new release, or an embargo passing).
"""

from __future__ import annotations

import hashlib

from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.utils.cache import patch_vary_headers

from observatory.publication.models import Release
from observatory.publication.queries import ReleaseStamp

PUBLIC_MAX_AGE = 60  # seconds; short so a new release reaches readers quickly


def etag_for(release: Release | ReleaseStamp | None, request: HttpRequest, variant: str = "") -> str:
    """The ETag of a public response: the release (its id and content hash), the path and the sorted
    query string. ``release`` may be a full row or a ``queries.ReleaseStamp`` (same ETag either way)."""
    identity = f"{release.pk}:{release.content_hash}" if release is not None else "none"
    query = "&".join(sorted(request.GET.urlencode().split("&")))
    digest = hashlib.sha256(f"{identity}|{request.path}|{query}|{variant}".encode()).hexdigest()[:32]
    return f'"{digest}"'


def matches(request: HttpRequest, etag: str) -> bool:
    header = request.headers.get("If-None-Match", "")
    if not header:
        return False
    candidates = {part.strip().removeprefix("W/") for part in header.split(",")}
    return etag in candidates or "*" in candidates


def not_modified(etag: str) -> HttpResponse:
    response = HttpResponse(status=304)
    response["ETag"] = etag
    response["Cache-Control"] = f"public, max-age={PUBLIC_MAX_AGE}"
    return response


def public_headers(response: HttpResponseBase, etag: str, vary: tuple[str, ...] = ()) -> HttpResponseBase:
    response["ETag"] = etag
    response["Cache-Control"] = f"public, max-age={PUBLIC_MAX_AGE}"
    if vary:
        patch_vary_headers(response, vary)
    return response


def private_headers(response: HttpResponseBase) -> HttpResponseBase:
    """Previews of unreleased snapshots: never stored by any cache."""
    response["Cache-Control"] = "private, no-store"
    return response
