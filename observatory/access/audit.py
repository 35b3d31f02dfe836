"""The append-only, hash-chained audit trail.

Every service that changes data calls :func:`record` inside its transaction. Each row's hash covers its
content and the previous row's hash; :func:`verify` walks the chain and names the first row that does
not fit, so an edited, deleted or reordered row is detected.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone

from observatory.access.models import AuditChainHead, AuditEvent

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from observatory.access.models import User

GENESIS_HASH = "0" * 64


def _plain(value: Any) -> Any:
    """JSON-safe copy with dates/decimals as strings, so what is stored is exactly what was hashed."""
    return json.loads(json.dumps(value, default=str)) if value is not None else None


def _canonical(fields: dict[str, Any]) -> bytes:
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _row_fields(event: AuditEvent) -> dict[str, Any]:
    return {
        "sequence": event.sequence,
        "at": event.at.astimezone(UTC).isoformat(),
        "actor_id": event.actor_id,
        "actor_label": event.actor_label,
        "action": event.action,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "country_iso3": event.country_iso3,
        "before": event.before,
        "after": event.after,
        "reason": event.reason,
        "previous_hash": event.previous_hash,
    }


def compute_hash(event: AuditEvent) -> str:
    return hashlib.sha256(_canonical(_row_fields(event))).hexdigest()


def record(
    actor: User | AnonymousUser | None,
    action: str,
    object_type: str,
    object_id: object,
    *,
    country_iso3: str = "",
    before: Any = None,
    after: Any = None,
    reason: str = "",
) -> AuditEvent:
    """Append one event to the chain. Call it inside the service's transaction."""
    with transaction.atomic():
        head = AuditChainHead.objects.select_for_update().filter(pk=1).first()
        if head is None:
            head = AuditChainHead.objects.create(pk=1, last_sequence=0, last_hash=GENESIS_HASH)
        known_actor = actor if actor is not None and actor.is_authenticated else None
        event = AuditEvent(
            sequence=head.last_sequence + 1,
            at=timezone.now().replace(tzinfo=UTC),
            actor_id=known_actor.pk if known_actor is not None else None,
            actor_label=known_actor.get_username() if known_actor is not None else "system",
            action=action,
            object_type=object_type,
            object_id=str(object_id),
            country_iso3=country_iso3,
            before=_plain(before),
            after=_plain(after),
            reason=reason,
            previous_hash=head.last_hash,
        )
        event.row_hash = compute_hash(event)
        event.save(force_insert=True)
        head.last_sequence = event.sequence
        head.last_hash = event.row_hash
        head.save(update_fields=["last_sequence", "last_hash"])
    return event


@dataclass(frozen=True)
class VerificationResult:
    ok: bool
    rows_checked: int
    first_bad_sequence: int | None = None
    problem: str = ""


def verify(batch_size: int = 5000, on_progress: Callable[[int], None] | None = None) -> VerificationResult:
    """Walk the chain in sequence order; report the first row that was edited, removed or reordered."""
    expected_previous = GENESIS_HASH
    expected_sequence = 1
    checked = 0
    last_sequence = 0
    while True:
        batch = list(AuditEvent.objects.filter(sequence__gt=last_sequence).order_by("sequence")[:batch_size])
        if not batch:
            break
        for event in batch:
            if event.sequence != expected_sequence:
                return VerificationResult(
                    False,
                    checked,
                    expected_sequence,
                    f"row {expected_sequence} is missing (next is {event.sequence})",
                )
            if event.previous_hash != expected_previous:
                return VerificationResult(
                    False,
                    checked,
                    event.sequence,
                    "previous-hash link broken (a row was removed or reordered)",
                )
            if compute_hash(event) != event.row_hash:
                return VerificationResult(
                    False, checked, event.sequence, "content does not match its hash (edited)"
                )
            expected_previous = event.row_hash
            expected_sequence += 1
            checked += 1
        last_sequence = batch[-1].sequence
        if on_progress is not None:
            on_progress(checked)
    head = AuditChainHead.objects.filter(pk=1).first()
    if head is not None and (head.last_sequence != checked or head.last_hash != expected_previous):
        return VerificationResult(
            False,
            checked,
            checked + 1,
            f"chain ends at row {checked} but its head records row {head.last_sequence}",
        )
    return VerificationResult(True, checked)


def snapshot(instance: Any, fields: list[str]) -> dict[str, Any]:
    """The audited state of a model instance: the named fields, foreign keys as their ids."""
    state: dict[str, Any] = {}
    for name in fields:
        field = instance._meta.get_field(name)
        state[name] = getattr(instance, field.attname)
    return _plain(state)
