"""Every read of publication data.

``released_observations`` is THE gate of everything public — pages, the open-data API, SDMX, exports
and search all read published figures through it (or through ``public_releases`` for the list of
releases), so a draft, or a scheduled release before its embargo to the second, is never visible to
the public. Reviewers and analysts preview unreleased snapshots through ``preview_observations``.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, NamedTuple

from django.core.cache import cache
from django.db.models import Min, Q, QuerySet
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

# How long a process may answer "which release is current?" without asking the database. Never past
# the next embargo: the answer is only reused within [asked at, min(asked at + this, next embargo)), so
# a scheduled release shows to the second (the database decides at its embargo) and a withdrawn one
# never shows. A release made public *now* by another process is seen within this many seconds (the
# process that releases forgets its answer at once); readers' caches keep public responses for
# ``http.PUBLIC_MAX_AGE`` (60 s) anyway.
CURRENT_SECONDS = 1.0
CURRENT_KEY = "publication:current-release"


def forget_current_release() -> None:
    """Drop this process's answer to "which release is current?" (after a release, schedule or
    withdrawal, so the process that made the change sees it at once)."""
    cache.delete(CURRENT_KEY)


def current_release_stamp(now: datetime | None = None) -> ReleaseStamp | None:
    """The stamp of the newest public release at ``now``, answered from the database at most once per
    ``CURRENT_SECONDS`` and once at every embargo; in between, from the cache with no query."""
    moment = now or timezone.now()
    cached = cache.get(CURRENT_KEY)
    if cached is not None:
        row, asked_at, valid_until = cached
        if asked_at <= moment < valid_until:
            return ReleaseStamp(*row) if row is not None else None
    found = public_releases(moment).values_list("pk", "label", "content_hash").first()
    upcoming = Release.objects.filter(state=Release.State.SCHEDULED, public_from__gt=moment).aggregate(
        first=Min("public_from")
    )["first"]
    valid_until = moment + timedelta(seconds=CURRENT_SECONDS)
    if upcoming is not None and upcoming < valid_until:
        valid_until = upcoming
    row = tuple(found) if found is not None else None
    cache.set(CURRENT_KEY, (row, moment, valid_until), 60)
    return ReleaseStamp(*row) if row is not None else None


def public_release_stamp(label: str | None = None, now: datetime | None = None) -> ReleaseStamp | None:
    """The current (or named) public release as a stamp: enough for an ETag and a cache key.

    The current release comes from ``current_release_stamp`` (no query within its short window). A
    named release, once public, stays public and unchanged for good (the services refuse to schedule,
    withdraw, delete or alter a public release), so its stamp is kept in Django's cache by label and a
    request naming it costs no query at all. Only public stamps are stored: a draft or an embargoed
    release is looked up every time, so it shows the second its embargo passes.
    """
    if label is None:
        return current_release_stamp(now)
    key = "publication:public-stamp:" + hashlib.sha256(label.encode()).hexdigest()[:32]
    cached = cache.get(key)
    if cached is not None:
        return ReleaseStamp(*cached)
    row = public_releases(now).filter(label=label).values_list("pk", "label", "content_hash").first()
    if row is None:
        return None
    cache.set(key, tuple(row), STAMP_SECONDS)
    return ReleaseStamp(*row)


RELEASE_ROW_SECONDS = 3600


def public_release_row(stamp: ReleaseStamp) -> Release:
    """The release a stamp names (with the release it corrects, without the large JSON columns), for
    page headers. ``stamp`` comes from ``public_release_stamp``, so the release is public, and a public
    release never changes: the row is kept in the cache by id and content hash."""
    key = f"publication:release-row:{stamp.pk}:{stamp.content_hash}"
    release: Release | None = cache.get(key)
    if release is None:
        release = (
            Release.objects.select_related("corrects")
            .defer("diff", "sources", "corrects__diff", "corrects__sources")
            .get(pk=stamp.pk)
        )
        cache.set(key, release, RELEASE_ROW_SECONDS)
    return release


def released_observations(
    now: datetime | None = None, *, release: Release | str | None = None
) -> QuerySet[PublishedObservation]:
    """The figures the public may see at ``now``: those of the current release, or of the named
    release when it is public. Nothing else, ever — an unknown or unreleased name gives no rows."""
    moment = now or timezone.now()
    public = Q(
        release__state__in=(Release.State.SCHEDULED, Release.State.RELEASED), release__public_from__lte=moment
    )
    if isinstance(release, Release):
        # The release is known: the join's condition alone says whether it is public at ``moment``.
        return PublishedObservation.objects.filter(public, release_id=release.pk)
    releases = public_releases(moment)
    chosen = (releases if release is None else releases.filter(label=release)).values("pk")[:1]
    return PublishedObservation.objects.filter(public, release__in=chosen)


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
