"""Reads of access data, already scoped to what the acting user may see."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import Q, QuerySet

from observatory.access import policy
from observatory.access.models import Assignment, AuditEvent
from observatory.reference.models import Country

if TYPE_CHECKING:
    from observatory.access.policy import Actor


def audit_events(user: Actor | None) -> QuerySet[AuditEvent]:
    """Audit rows of the user's scope: global auditors see all; others the rows of their countries."""
    granted = policy.reach(user, "audit.view")
    events = AuditEvent.objects.select_related("actor").order_by("-sequence")
    if granted.everywhere:
        return events
    iso3s = list(Country.objects.filter(pk__in=granted.country_ids).values_list("iso3", flat=True))
    mine = Q(actor_id=user.pk) if user is not None and user.is_authenticated else Q(pk__in=[])
    return events.filter(Q(country_iso3__in=iso3s) | mine)


def assignments_of(user: Actor | None) -> QuerySet[Assignment]:
    if user is None or not user.is_authenticated:
        return Assignment.objects.none()
    return Assignment.objects.filter(user_id=user.pk).select_related("role", "country", "region")
