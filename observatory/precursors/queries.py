"""Every read of precursor data, already narrowed to what the acting user may see.

A notification is seen by the exporting and the importing country (a draft by the exporting country
only) and by global holders of ``precursors.view`` (the board). An incident is seen by the countries
involved in it and the board. Both are confidential: only country-scoped grants count, so a region-wide
grant does not reach them. Everything is filtered before it is counted.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from observatory.access import policy
from observatory.precursors.kernels import patterns
from observatory.precursors.kernels.workflow import Action, Actor, State, allowed_actions
from observatory.precursors.models import (
    Alert,
    AlertRead,
    Incident,
    IncidentChemical,
    IncidentParty,
    Notification,
    NotificationRequirement,
    RouteLeg,
)

if TYPE_CHECKING:
    from observatory.access.policy import Actor as User

VIEW = "precursors.view"
AWAITING_ANSWER = (State.SENT.value, State.INFORMATION_REQUESTED.value)


def _countries(user: User | None, verb: str = VIEW) -> policy.CountryReach:
    return policy.reach(user, verb)


def is_board(user: User | None) -> bool:
    return policy.allows_globally(user, VIEW)


def notification_filter(user: User | None) -> Q:
    """Rows of Notification the user may read."""
    granted = _countries(user)
    if granted.everywhere:
        return Q()
    own = sorted(granted.by_country)  # confidential: country-scoped grants only
    if not own:
        return Q(pk__in=[])
    return Q(exporting_country_id__in=own) | (Q(importing_country_id__in=own) & ~Q(state=State.DRAFT.value))


def notifications(user: User | None) -> QuerySet[Notification]:
    return Notification.objects.filter(notification_filter(user)).select_related(
        "exporting_country", "importing_country", "unit", "substance"
    )


def notification(user: User | None, notification_id: int) -> Notification:
    """Raises Notification.DoesNotExist when it does not exist or the user may not see it."""
    return notifications(user).select_related("exporter", "importer", "consignee").get(pk=notification_id)


def inbox(user: User | None, country_id: int | None = None) -> QuerySet[Notification]:
    """Incoming current notifications awaiting an answer, the nearest deadline first."""
    granted = _countries(user)
    rows = notifications(user).filter(state__in=AWAITING_ANSWER, superseded_at__isnull=True)
    if not granted.everywhere:
        rows = rows.filter(importing_country_id__in=sorted(granted.by_country))
    if country_id is not None:
        rows = rows.filter(importing_country_id=country_id)
    return rows.order_by("deadline", "pk")


def outbox(user: User | None, country_id: int | None = None) -> QuerySet[Notification]:
    """Current versions of the notifications the user's countries sent (or drafted), newest first."""
    granted = _countries(user)
    rows = notifications(user).filter(superseded_at__isnull=True)
    if not granted.everywhere:
        rows = rows.filter(exporting_country_id__in=sorted(granted.by_country))
    if country_id is not None:
        rows = rows.filter(exporting_country_id=country_id)
    return rows.order_by("-created_at", "-pk")


def versions(user: User | None, reference: str) -> QuerySet[Notification]:
    return notifications(user).filter(reference=reference).order_by("version")


def is_overdue(row: Notification, now: dt.datetime | None = None) -> bool:
    """Sent, unanswered and past its deadline (the expiry job may not have run yet)."""
    now = now or timezone.now()
    return row.state == State.SENT.value and row.deadline is not None and now >= row.deadline


def actions_for(user: User | None, row: Notification, now: dt.datetime | None = None) -> tuple[Action, ...]:
    """The workflow actions the user may take on this notification now (buttons on the page)."""
    from observatory.precursors.services import kernel_view

    if row.superseded_at is not None:
        return ()
    now = now or timezone.now()
    found: list[Action] = []
    current = kernel_view(row)
    if policy.allows(user, "precursors.notify", row.exporting_country_id):
        found += allowed_actions(current, Actor.EXPORTING_AUTHORITY, now)
    if policy.allows(user, "precursors.answer", row.importing_country_id):
        found += allowed_actions(current, Actor.IMPORTING_AUTHORITY, now)
    return tuple(found)


# Incidents ------------------------------------------------------------------------------------------


def incident_filter(user: User | None) -> Q:
    granted = _countries(user)
    if granted.everywhere:
        return Q()
    own = sorted(granted.by_country)
    if not own:
        return Q(pk__in=[])
    return Q(pk__in=_involved_incident_ids(own))


def _involved_incident_ids(country_ids: list[int]) -> QuerySet[Any, Any]:
    from observatory.precursors.models import Involvement

    return Involvement.objects.filter(country_id__in=country_ids).values("incident_id")


def incidents(user: User | None) -> QuerySet[Incident]:
    return Incident.objects.filter(incident_filter(user)).select_related("reporting_country")


def incident(user: User | None, incident_id: int) -> Incident:
    return incidents(user).get(pk=incident_id)


# Alerts ---------------------------------------------------------------------------------------------


def alerts(user: User | None) -> QuerySet[Alert]:
    """The alerts addressed to the user's countries (and to the board, for board officers), each with
    ``is_read`` for this user."""
    if user is None or not user.is_authenticated:
        return Alert.objects.none()
    granted = _countries(user)
    condition = Q(recipient_country_id__in=sorted(granted.by_country))
    if granted.everywhere:
        condition |= Q(to_board=True)
    return (
        Alert.objects.filter(condition)
        .annotate(is_read=Exists(AlertRead.objects.filter(alert_id=OuterRef("pk"), user_id=user.pk)))
        .select_related("recipient_country")
    )


def unread_alerts(user: User | None) -> QuerySet[Alert]:
    if user is None or not user.is_authenticated:
        return Alert.objects.none()
    return alerts(user).filter(~Exists(AlertRead.objects.filter(alert_id=OuterRef("pk"), user_id=user.pk)))


def unread_alert_count(user: User | None) -> int:
    return unread_alerts(user).count()


# Registry -------------------------------------------------------------------------------------------


def requirements() -> QuerySet[NotificationRequirement]:
    """The registry is public among authorities (exporters must know the reply periods)."""
    return NotificationRequirement.objects.select_related("importing_country", "substance")


# Patterns for the board -----------------------------------------------------------------------------


@dataclass(frozen=True)
class PatternReport:
    since: dt.date
    until: dt.date
    notifications_scanned: int
    incidents_scanned: int
    company_shopping: list[patterns.CompanyShoppingCase]
    surges: list[patterns.Surge]


def party_mentions(
    user: User | None, since: dt.datetime, until: dt.datetime
) -> tuple[list[patterns.PartyMention], int, int]:
    """Importers and consignees of the current notification versions sent in the window, and the
    companies named in incidents (exporting country: the first source on the route, else the reporter)."""
    rows = (
        notifications(user)
        .filter(superseded_at__isnull=True, sent_at__gte=since, sent_at__lt=until)
        .values_list(
            "pk",
            "exporting_country__iso3",
            "substance_name",
            "importer__name",
            "importer__address",
            "importer__country__iso3",
            "consignee__name",
            "consignee__address",
            "consignee__country__iso3",
        )
    )
    mentions: list[patterns.PartyMention] = []
    scanned = 0
    for pk, exporting, substance, i_name, i_address, i_country, c_name, c_address, c_country in rows.iterator(
        chunk_size=5000
    ):
        scanned += 1
        record = f"N{pk}"
        mentions.append(
            patterns.PartyMention(
                record, "notification", "importer", i_name, i_address, i_country, exporting, substance
            )
        )
        if c_name and (c_name, c_address) != (i_name, i_address):
            mentions.append(
                patterns.PartyMention(
                    record, "notification", "consignee", c_name, c_address, c_country, exporting, substance
                )
            )
    visible_incidents = incidents(user).filter(created_at__gte=since, created_at__lt=until)
    incident_ids = list(visible_incidents.values_list("pk", flat=True))
    sources: dict[int, str] = {}
    for incident_id, iso3 in (
        RouteLeg.objects.filter(incident_id__in=visible_incidents.values("pk"), role=RouteLeg.Role.SOURCE)
        .order_by("incident_id", "-position")
        .values_list("incident_id", "country__iso3")
    ):
        sources[incident_id] = iso3  # the first source wins (ordered last)
    reporters = dict(visible_incidents.values_list("pk", "reporting_country__iso3"))
    for incident_id, role, name, address, country, kind in (
        IncidentParty.objects.filter(incident_id__in=visible_incidents.values("pk"))
        .values_list(
            "incident_id",
            "role",
            "operator__name",
            "operator__address",
            "operator__country__iso3",
            "operator__kind",
        )
        .iterator(chunk_size=5000)
    ):
        if kind != "company":
            continue
        mentions.append(
            patterns.PartyMention(
                f"I{incident_id}",
                "incident",
                role or "party",
                name,
                address,
                country,
                sources.get(incident_id, reporters[incident_id]),
            )
        )
    return mentions, scanned, len(incident_ids)


def substance_events(
    user: User | None, since: dt.datetime, until: dt.datetime
) -> list[patterns.SubstanceEvent]:
    """Non-scheduled chemicals (no ControlledSubstance) moved by notifications or met in incidents,
    per month and route (exporting/source → importing/destination country)."""
    events: list[patterns.SubstanceEvent] = []
    for pk, name, exporting, importing, sent in (
        notifications(user)
        .filter(superseded_at__isnull=True, substance__isnull=True, sent_at__gte=since, sent_at__lt=until)
        .values_list("pk", "substance_name", "exporting_country__iso3", "importing_country__iso3", "sent_at")
        .iterator(chunk_size=5000)
    ):
        if sent is not None:
            events.append(
                patterns.SubstanceEvent(
                    f"N{pk}", name.strip().casefold(), exporting, importing, sent.strftime("%Y-%m")
                )
            )
    visible_incidents = incidents(user).filter(occurred_on__gte=since.date(), occurred_on__lt=until.date())
    ends: dict[int, dict[str, str]] = {}
    for incident_id, role, iso3 in RouteLeg.objects.filter(
        incident_id__in=visible_incidents.values("pk"),
        role__in=[RouteLeg.Role.SOURCE, RouteLeg.Role.DESTINATION],
    ).values_list("incident_id", "role", "country__iso3"):
        ends.setdefault(incident_id, {}).setdefault(role, iso3)
    for incident_id, name, occurred, reporter in (
        IncidentChemical.objects.filter(
            incident_id__in=visible_incidents.values("pk"), substance__isnull=True
        )
        .values_list(
            "incident_id", "substance_name", "incident__occurred_on", "incident__reporting_country__iso3"
        )
        .iterator(chunk_size=5000)
    ):
        route = ends.get(incident_id, {})
        events.append(
            patterns.SubstanceEvent(
                f"I{incident_id}",
                name.strip().casefold(),
                route.get("source", "?"),
                route.get("destination", reporter),
                occurred.strftime("%Y-%m"),
            )
        )
    return events


def months(since: dt.date, until: dt.date) -> list[str]:
    labels = []
    year, month = since.year, since.month
    while (year, month) <= (until.year, until.month):
        labels.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return labels


def company_shopping(
    mentions: list[patterns.PartyMention], min_exporting_countries: int = 2
) -> list[patterns.CompanyShoppingCase]:
    """The kernel over one representative per exact (name, address, party country) — a company is
    named by many notifications, and identical mentions always join the same party — then each case
    expanded back to every record and exporting country of its members. Same cases as the kernel over
    all mentions, at a fraction of the comparisons."""
    groups: dict[tuple[str, str, str], list[patterns.PartyMention]] = {}
    for mention in mentions:
        groups.setdefault((mention.name, mention.address, mention.party_country), []).append(mention)
    members = list(groups.values())
    representatives = [
        dataclasses.replace(group[0], record_id=str(index)) for index, group in enumerate(members)
    ]
    cases = []
    for case in patterns.detect_company_shopping(representatives, min_exporting_countries=1):
        expanded = [mention for index in case.record_ids for mention in members[int(index)]]
        exporting = tuple(sorted({mention.exporting_country for mention in expanded}))
        if len(exporting) < min_exporting_countries:
            continue
        first_record = {index: members[int(index)][0].record_id for index in case.record_ids}
        cases.append(
            patterns.CompanyShoppingCase(
                party_country=case.party_country,
                names=case.names,
                record_ids=tuple(sorted({mention.record_id for mention in expanded})),
                record_kinds=tuple(sorted({mention.record_kind for mention in expanded})),
                exporting_countries=exporting,
                pairs=tuple(
                    dataclasses.replace(
                        pair, record_a=first_record[pair.record_a], record_b=first_record[pair.record_b]
                    )
                    for pair in case.pairs
                ),
                min_name_similarity=case.min_name_similarity,
            )
        )
    return sorted(cases, key=lambda case: (-len(case.exporting_countries), case.record_ids))


def pattern_report(
    user: User | None, since: dt.date | None = None, until: dt.date | None = None, *, min_surge: int = 5
) -> PatternReport:
    """Company shopping and surges of non-scheduled substitutes over a window (default: the last year)
    — for the board; raises PermissionDenied for anyone without a global view."""
    if not is_board(user):
        raise policy.PermissionDenied("precursors.view", "pattern detection is for the board")
    until = until or timezone.now().date() + dt.timedelta(days=1)
    since = since or until - dt.timedelta(days=365)
    start = dt.datetime.combine(since, dt.time.min, tzinfo=dt.UTC)
    end = dt.datetime.combine(until, dt.time.min, tzinfo=dt.UTC)
    mentions, notification_count, incident_count = party_mentions(user, start, end)
    cases = company_shopping(mentions)
    surges = patterns.detect_surges(
        substance_events(user, start, end), periods=months(since, until), min_count=min_surge
    )
    return PatternReport(since, until, notification_count, incident_count, cases, surges)
