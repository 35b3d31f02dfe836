"""Every read of publication data.

``released_observations`` is THE gate of everything public — pages, the open-data API, SDMX, exports
and search all read published figures through it (or through ``public_releases`` for the list of
releases), so a draft, or a scheduled release before its embargo to the second, is never visible to
the public. Reviewers and analysts preview unreleased snapshots through ``preview_observations``.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import TYPE_CHECKING, NamedTuple

from django.core.cache import cache
from django.db.models import Q, QuerySet
from django.utils import timezone

from observatory.access import policy
from observatory.publication.models import PublishedObservation, Release

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from observatory.access.models import User

    Actor = User | AnonymousUser


def _public_filter(now: datetime) -> Q:
    return Q(state__in=(Release.State.SCHEDULED, Release.State.RELEASED), public_from__lte=now)


def public_releases(now: datetime | None = None) -> QuerySet[Release]:
    """Releases the public may see at ``now``: released, or scheduled with the embargo passed."""
    return Release.objects.filter(_public_filter(now or timezone.now())).order_by("-public_from", "-id")


def current_release(now: datetime | None = None) -> Release | None:
    """The newest public release: the one the portal shows by default."""
    return public_releases(now).first()


def public_release(label: str, now: datetime | None = None) -> Release | None:
    """A public release by label; None when it does not exist or is not (yet) public."""
    return public_releases(now).filter(label=label).first()


class ReleaseStamp(NamedTuple):
    """What identifies a public release's content: enough for an ETag and a cache key."""

    pk: int
    label: str
    content_hash: str


STAMP_SECONDS = 300


def public_release_stamp(label: str | None = None, now: datetime | None = None) -> ReleaseStamp | None:
    """The current (or named) public release as a stamp, so a revalidation (If-None-Match) or a cached
    body costs no more than this: one indexed query reading three columns for the current release.

    A named release, once public, stays public and unchanged for good (the services refuse to
    schedule, withdraw, delete or alter a public release), so its stamp is kept in Django's cache
    by label and a request naming it costs no query at all. Only public stamps are stored: a draft
    or an embargoed release is looked up every time, so it shows the second its embargo passes.
    """
    key = ""
    if label is not None:
        key = "publication:public-stamp:" + hashlib.sha256(label.encode()).hexdigest()[:32]
        cached = cache.get(key)
        if cached is not None:
            return ReleaseStamp(*cached)
    releases = public_releases(now)
    if label is not None:
        releases = releases.filter(label=label)
    row = releases.values_list("pk", "label", "content_hash").first()
    if row is None:
        return None
    if key:
        cache.set(key, tuple(row), STAMP_SECONDS)
    return ReleaseStamp(*row)


def released_observations(
    now: datetime | None = None, *, release: Release | str | None = None
) -> QuerySet[PublishedObservation]:
    """The figures the public may see at ``now``: those of the current release, or of the named
    release when it is public. Nothing else, ever — an unknown or unreleased name gives no rows."""
    moment = now or timezone.now()
    releases = public_releases(moment)
    if release is None:
        chosen = releases.values("pk")[:1]
    elif isinstance(release, Release):
        chosen = releases.filter(pk=release.pk).values("pk")
    else:
        chosen = releases.filter(label=release).values("pk")
    return PublishedObservation.objects.filter(
        release__in=chosen, release__state__in=(Release.State.SCHEDULED, Release.State.RELEASED),
        release__public_from__lte=moment,
    )  # fmt: skip


def release_is_public(release: Release, now: datetime | None = None) -> bool:
    return public_releases(now).filter(pk=release.pk).exists()


def all_releases(user: Actor) -> QuerySet[Release]:
    """Every release, drafts included, for those who prepare or release publications."""
    if not (policy.allows(user, "publication.prepare") or policy.allows(user, "publication.release")):
        return Release.objects.none()
    return Release.objects.select_related("corrects", "created_by", "decided_by").order_by(
        "-created_at", "-id"
    )


def preview_observations(user: Actor, release: Release) -> QuerySet[PublishedObservation]:
    """The snapshot of any release, for a reviewer or analyst previewing it before it is public."""
    policy.require(user, "publication.prepare")
    return PublishedObservation.objects.filter(release=release)
