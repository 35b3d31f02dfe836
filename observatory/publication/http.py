"""Caching of public responses: ETags tied to the release shown, Cache-Control, 304 on If-None-Match.

A release is immutable, so a public response is fully determined by the release it shows and the
request (path and query string). The ETag hashes exactly those; it changes the moment another
release becomes the current one (a new release, or an embargo passing).
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.utils import timezone
from django.utils.cache import patch_vary_headers

from observatory.publication import queries
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


# ---------------------------------------------------------------------------------------------------
# The open-data API's cached bodies (``api._public_json`` stores them; ``cached_public_json`` answers
# repeated requests from them before the rest of the middleware stack, see ``middleware.py``).

PUBLIC_JSON_PREFIX = "/api/v1/public/"


def public_json_key(etag: str) -> str:
    return f"publication:public-json:{etag}"


def public_json_response(body: bytes, etag: str) -> HttpResponse:
    response = HttpResponse(body, content_type="application/json")
    public_headers(response, etag)
    return response


def cached_public_json(request: HttpRequest) -> HttpResponse | None:
    """The answer to a GET of the open-data API when this exact response is already cached, else None
    (then the request takes the ordinary way through the middleware stack to ``api._public_json``).

    It computes what ``api._public_json`` would — the stamp of the release asked for, the ETag, the body's
    key — and answers only when that body is in the cache: it was built by the view for this very
    path, query string and release, so it is what the view would answer (a body is stored only for a
    valid request of a public release). Nothing here decides what is public; anything unusual (another
    method, an unknown path, an empty or repeated ``release`` parameter, a release not public, a
    body not cached) falls through to the view.
    """
    if request.method != "GET" or not request.path_info.startswith(PUBLIC_JSON_PREFIX):
        return None
    rest = request.path_info[len(PUBLIC_JSON_PREFIX) :]
    label: str | None
    if rest in ("datasets", "observations"):
        named = request.GET.getlist("release")
        if len(named) > 1 or (named and not named[0]):
            return None
        label = named[0] if named else None
    elif rest == "releases":
        label = None
    elif rest.startswith("releases/") and rest[9:] and "/" not in rest[9:]:
        label = rest[9:]
    else:
        return None
    stamp = queries.public_release_stamp(label, timezone.now())
    if stamp is None and rest != "releases":
        return None
    etag = etag_for(stamp, request)
    body = cache.get(public_json_key(etag))
    if body is None:
        return None
    response = not_modified(etag) if matches(request, etag) else public_json_response(body, etag)
    # What the middleware it skips would add (the security middleware before it still runs).
    response["X-Frame-Options"] = getattr(settings, "X_FRAME_OPTIONS", "DENY").upper()
    response["Content-Length"] = str(len(response.content))
    return response
