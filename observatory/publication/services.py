"""Every write of the publication app: build a release snapshot, schedule it under embargo, release it,
and correct a released one with a new release that says what changed.

Each function takes the acting user, asks the policy, runs in one transaction and writes the audit row.
A release's observations are written once, when it is created, and never changed afterwards.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import asdict
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone

from observatory.access import audit, policy
from observatory.publication import queries, sources
from observatory.publication.models import PublishedObservation, Release
from observatory.publication.sources import ObservationRow

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from observatory.access.models import User

    Actor = User | AnonymousUser

DEFAULT_DATASETS: tuple[str, ...] = sources.DATASET_BUILDERS
_LABEL = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,39}")
DIFF_DETAIL_LIMIT = 500  # changed figures listed one by one; counts are always complete


class ReleaseError(ValueError):
    """A workflow step that is not possible for this release (message says why)."""


def _actor_or_none(actor: Actor | None) -> Any:
    return actor if actor is not None and actor.is_authenticated else None


def _row_fields(row: ObservationRow) -> dict[str, Any]:
    return asdict(row)


def content_hash(rows: Iterable[ObservationRow]) -> str:
    digest = hashlib.sha256()
    for row in sorted(rows, key=lambda r: r.key):
        digest.update(json.dumps(_row_fields(row), sort_keys=True, default=str).encode())
    return digest.hexdigest()


def _figures(row: ObservationRow | PublishedObservation) -> dict[str, float | None]:
    return {"value": row.value, "low": row.low, "high": row.high}


def _key_text(key: Sequence[object]) -> str:
    return "/".join(str(part) for part in key)


def compute_diff(before: Release, rows: Sequence[ObservationRow]) -> dict[str, Any]:
    """What a correction changes against the release it corrects: figures added, removed and changed
    (value, low or high), per dataset, with the first changed figures listed one by one."""
    old: dict[tuple[Any, ...], dict[str, Any]] = {}
    for obs in PublishedObservation.objects.filter(release=before).values(
        "dataset",
        "indicator",
        "area_code",
        "drug",
        "year",
        "series_rank",
        "value",
        "low",
        "high",
        "area_name",
    ):
        key = (
            obs["dataset"],
            obs["indicator"],
            obs["area_code"],
            obs["drug"],
            obs["year"],
            obs["series_rank"],
        )
        old[key] = dict(obs)
    new = {row.key: row for row in rows}
    added = sorted(set(new) - set(old))
    removed = sorted(set(old) - set(new))
    changed: list[dict[str, Any]] = []
    changed_count = 0
    per_dataset: dict[str, dict[str, int]] = {}
    for key in sorted(set(new) & set(old)):
        after = _figures(new[key])
        previous = {name: old[key][name] for name in ("value", "low", "high")}
        if after == previous:
            continue
        changed_count += 1
        per_dataset.setdefault(key[0], {"added": 0, "removed": 0, "changed": 0})["changed"] += 1
        if len(changed) < DIFF_DETAIL_LIMIT:
            changed.append(
                {
                    "key": _key_text(key),
                    "area": new[key].area_name,
                    "indicator": key[1],
                    "drug": key[3],
                    "year": key[4],
                    "before": previous,
                    "after": after,
                }
            )
    for key in added:
        per_dataset.setdefault(key[0], {"added": 0, "removed": 0, "changed": 0})["added"] += 1
    for key in removed:
        per_dataset.setdefault(key[0], {"added": 0, "removed": 0, "changed": 0})["removed"] += 1
    return {
        "corrects": before.label,
        "added": len(added),
        "removed": len(removed),
        "changed": changed_count,
        "by_dataset": per_dataset,
        "changed_figures": changed,
        "added_keys": [_key_text(k) for k in added[:DIFF_DETAIL_LIMIT]],
        "removed_keys": [_key_text(k) for k in removed[:DIFF_DETAIL_LIMIT]],
    }


def create_release(
    actor: Actor,
    label: str,
    title: str,
    *,
    datasets: Sequence[str] = DEFAULT_DATASETS,
    description: str = "",
    corrects: Release | None = None,
    change_notes: str = "",
    rows: dict[str, list[ObservationRow]] | None = None,
) -> Release:
    """Snapshot the chosen datasets, as ``actor`` sees them, into a new draft release.

    A correction names the released release it corrects and must say what changed (``change_notes``);
    the difference is computed and stored with it. ``rows`` replaces the sources (tests, re-imports).
    """
    policy.require(actor, "publication.prepare")
    if not _LABEL.fullmatch(label):
        raise ReleaseError(f"label {label!r}: letters, digits, '.', '_' or '-', at most 40 characters")
    if Release.objects.filter(label=label).exists():
        raise ReleaseError(f"a release labelled {label!r} exists already")
    if corrects is not None:
        corrects = Release.objects.get(pk=corrects.pk)
        if not is_public(corrects, timezone.now()):
            raise ReleaseError(f"{corrects.label} is not released: only a released release can be corrected")
        if not change_notes.strip():
            raise ReleaseError("a correction needs change notes saying what changed and why")
    collected = rows if rows is not None else sources.collect(actor, datasets)
    all_rows = [row for name in collected for row in collected[name]]
    keys = [row.key for row in all_rows]
    if len(set(keys)) != len(keys):
        duplicate = next(k for k in keys if keys.count(k) > 1)
        raise ReleaseError(f"two figures share the key {_key_text(duplicate)}")
    with transaction.atomic():
        release = Release.objects.create(
            label=label,
            title=title,
            description=description,
            corrects=corrects,
            change_notes=change_notes.strip(),
            datasets=list(collected),
            sources={name: {"observations": len(collected[name])} for name in collected},
            observation_count=len(all_rows),
            content_hash=content_hash(all_rows),
            created_by=_actor_or_none(actor),
        )
        PublishedObservation.objects.bulk_create(
            (PublishedObservation(release=release, **_row_fields(row)) for row in all_rows), batch_size=1000
        )
        if corrects is not None:
            release.diff = compute_diff(corrects, all_rows)
            release.save(update_fields=["diff"])
        audit.record(
            actor,
            "publication.release.create",
            "release",
            release.pk,
            after={
                "label": label,
                "datasets": release.datasets,
                "observations": release.observation_count,
                "content_hash": release.content_hash,
                "corrects": corrects.label if corrects else None,
            },
            reason=change_notes,
        )
    return release


def is_public(release: Release, now: datetime) -> bool:
    return (
        release.state in (Release.State.SCHEDULED, Release.State.RELEASED)
        and release.public_from is not None
        and release.public_from <= now
    )


def _locked(release: Release) -> Release:
    return Release.objects.select_for_update().get(pk=release.pk)


def schedule_release(actor: Actor, release: Release, embargo_until: datetime, reason: str = "") -> Release:
    """Set the embargo: the release becomes public at ``embargo_until`` (to the second), not before."""
    policy.require(actor, "publication.release")
    if timezone.is_naive(embargo_until):
        raise ReleaseError("the embargo time needs a time zone")
    if embargo_until <= timezone.now():
        raise ReleaseError("the embargo time is in the past: release it now instead")
    return _decide(
        actor, release, Release.State.SCHEDULED, embargo_until.replace(microsecond=0), "schedule", reason
    )


def publish_release(actor: Actor, release: Release, reason: str = "") -> Release:
    """Release now: public from this second on."""
    policy.require(actor, "publication.release")
    return _decide(actor, release, Release.State.RELEASED, None, "release", reason)


def _forget_current_release() -> None:
    """This process forgets which release is current, now and again once the change is committed (a
    reader in between may have remembered the state before it); other processes ask the database
    again within ``queries.CURRENT_SECONDS`` and at every embargo."""
    queries.forget_current_release()
    transaction.on_commit(queries.forget_current_release)


def _decide(
    actor: Actor, release: Release, state: str, public_from: datetime | None, action: str, reason: str
) -> Release:
    """Record the reviewer's decision to make a release public now (``public_from`` None) or at a time."""
    now = timezone.now()
    with transaction.atomic():
        current = _locked(release)
        if is_public(current, now):
            raise ReleaseError(f"{current.label} is public already and cannot be changed")
        before = {"state": current.state, "public_from": current.public_from}
        current.state = state
        current.public_from = public_from or now
        current.decided_by = _actor_or_none(actor)
        current.decided_at = now
        current.save(update_fields=["state", "public_from", "decided_by", "decided_at"])
        _forget_current_release()
        audit.record(
            actor,
            f"publication.release.{action}",
            "release",
            current.pk,
            before=before,
            after={"state": current.state, "public_from": current.public_from},
            reason=reason,
        )
    return current


def withdraw_schedule(actor: Actor, release: Release, reason: str = "") -> Release:
    """Take a scheduled release back to draft, while its embargo still holds."""
    policy.require(actor, "publication.release")
    with transaction.atomic():
        current = _locked(release)
        # The clock is read once the row is ours: a withdrawal that waited for the lock past the
        # embargo finds the release already public and must not take it back.
        if current.state != Release.State.SCHEDULED or is_public(current, timezone.now()):
            raise ReleaseError(f"{current.label} is not an embargoed scheduled release")
        before = {"state": current.state, "public_from": current.public_from}
        current.state = Release.State.DRAFT
        current.public_from = None
        current.save(update_fields=["state", "public_from"])
        _forget_current_release()
        audit.record(
            actor,
            "publication.release.withdraw",
            "release",
            current.pk,
            before=before,
            after={"state": "draft"},
            reason=reason,
        )
    return current


def delete_draft(actor: Actor, release: Release, reason: str = "") -> None:
    """Discard a draft that was never scheduled or released."""
    policy.require(actor, "publication.prepare")
    with transaction.atomic():
        current = _locked(release)
        if current.state != Release.State.DRAFT:
            raise ReleaseError(f"{current.label} is {current.state}: only drafts can be discarded")
        pk, label = current.pk, current.label
        current.delete()
        audit.record(
            actor, "publication.release.delete", "release", pk, before={"label": label}, reason=reason
        )
