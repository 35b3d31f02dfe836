"""Precursor control API: pre-export notifications (art. 12 of the 1988 Convention), incidents with
their follow-up threads, alerts, the registry of notification requirements and the board's patterns.

Reads are scoped: a notification exists only for its exporting and importing countries and the board
(404 for anyone else); a missing verb is 403; a transition that lost a race or a deadline is 409.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Field, Router, Schema

from observatory.api import AUTH
from observatory.precursors import queries, services
from observatory.precursors.models import Alert, Incident, Notification, NotificationRequirement

router = Router(tags=["precursors"], auth=AUTH)


# Schemas --------------------------------------------------------------------------------------------


class OperatorIn(Schema):
    name: str
    country: str = Field(description="ISO 3166-1 alpha-3 of the address")
    address: str = ""
    kind: Literal["company", "person"] = "company"
    nationality: str = Field("", description="ISO3 nationality (persons)")

    def to_input(self) -> services.OperatorInput:
        return services.OperatorInput(self.name, self.country, self.address, self.kind, self.nationality)


class NotificationIn(Schema):
    exporting_country: str
    importing_country: str
    substance_id: int | None = Field(
        None, description="a Table I/II substance; omit for a non-scheduled chemical"
    )
    substance_name: str = Field("", description="required for a non-scheduled chemical")
    quantity: Decimal
    unit: str = Field(description="kg, g, t, l, ml …")
    mixture_percentage: Decimal | None = None
    transport_mode: Literal["air", "sea", "road", "rail", "post", "courier", "multimodal"]
    transit_countries: list[str] = Field(default_factory=list, description="ISO3, in order")
    point_of_entry: str = ""
    expected_dispatch_date: dt.date | None = None
    licence_number: str = ""
    invoice_number: str = ""
    exporter: OperatorIn
    importer: OperatorIn
    consignee: OperatorIn | None = None
    other_operators: list[OperatorIn] = Field(default_factory=list)

    def to_input(self) -> services.NotificationInput:
        return services.NotificationInput(
            exporting_country_iso3=self.exporting_country,
            importing_country_iso3=self.importing_country,
            substance_id=self.substance_id,
            substance_name=self.substance_name,
            quantity=self.quantity,
            unit_code=self.unit,
            mixture_percentage=self.mixture_percentage,
            transport_mode=self.transport_mode,
            transit_iso3=tuple(self.transit_countries),
            point_of_entry=self.point_of_entry,
            expected_dispatch_date=self.expected_dispatch_date,
            licence_number=self.licence_number,
            invoice_number=self.invoice_number,
            exporter=self.exporter.to_input(),
            importer=self.importer.to_input(),
            consignee=self.consignee.to_input() if self.consignee else None,
            other_operators=tuple(other.to_input() for other in self.other_operators),
        )


class CreateNotificationIn(NotificationIn):
    send: bool = Field(False, description="send at once (else a draft)")


class AmendIn(NotificationIn):
    reason: str = ""


class AnswerIn(Schema):
    answer: Literal["no_objection", "objection", "information_requested"]
    text: str = Field("", description="grounds of an objection, or the information requested")


class CancelIn(Schema):
    reason: str = ""


class OperatorOut(Schema):
    kind: str
    name: str
    address: str
    country: str


class NotificationSummary(Schema):
    id: int
    reference: str
    version: int
    state: str
    exporting_country: str
    importing_country: str
    substance_name: str
    scheduled: bool
    quantity: Decimal
    unit: str
    sent_at: dt.datetime | None
    deadline: dt.datetime | None
    overdue: bool
    answer: str
    current: bool


class NotificationOut(NotificationSummary):
    amends_id: int | None
    substance_id: int | None
    mixture_percentage: Decimal | None
    transport_mode: str
    transit_countries: list[str]
    point_of_entry: str
    expected_dispatch_date: dt.date | None
    licence_number: str
    invoice_number: str
    exporter: OperatorOut
    importer: OperatorOut
    consignee: OperatorOut | None
    other_operators: list[OperatorOut]
    reply_period_days: int
    answered_at: dt.datetime | None
    answer_text: str
    shipped_at: dt.datetime | None
    cancelled_at: dt.datetime | None
    expired_at: dt.datetime | None
    classification: str
    allowed_actions: list[str]


def _operator_out(operator: Any) -> dict[str, Any]:
    return {
        "kind": operator.kind,
        "name": operator.name,
        "address": operator.address,
        "country": operator.country.iso3,
    }


def _summary(row: Notification) -> dict[str, Any]:
    return {
        "id": row.pk,
        "reference": row.reference,
        "version": row.version,
        "state": row.state,
        "exporting_country": row.exporting_country.iso3,
        "importing_country": row.importing_country.iso3,
        "substance_name": row.substance_name,
        "scheduled": row.substance_id is not None,
        "quantity": row.quantity,
        "unit": row.unit.code,
        "sent_at": row.sent_at,
        "deadline": row.deadline,
        "overdue": queries.is_overdue(row),
        "answer": row.answer,
        "current": row.superseded_at is None,
    }


def _detail(request: HttpRequest, row: Notification) -> dict[str, Any]:
    return {
        **_summary(row),
        "amends_id": row.amends_id,
        "substance_id": row.substance_id,
        "mixture_percentage": row.mixture_percentage,
        "transport_mode": row.transport_mode,
        "transit_countries": [stop.country.iso3 for stop in row.itinerary.select_related("country")],
        "point_of_entry": row.point_of_entry,
        "expected_dispatch_date": row.expected_dispatch_date,
        "licence_number": row.licence_number,
        "invoice_number": row.invoice_number,
        "exporter": _operator_out(row.exporter),
        "importer": _operator_out(row.importer),
        "consignee": _operator_out(row.consignee) if row.consignee else None,
        "other_operators": [_operator_out(op) for op in row.other_operators.select_related("country")],
        "reply_period_days": row.reply_period_days,
        "answered_at": row.answered_at,
        "answer_text": row.answer_text,
        "shipped_at": row.shipped_at,
        "cancelled_at": row.cancelled_at,
        "expired_at": row.expired_at,
        "classification": row.classification,
        "allowed_actions": [action.value for action in queries.actions_for(request.user, row)],
    }


def _reload(request: HttpRequest, row: Notification) -> dict[str, Any]:
    return _detail(request, queries.notification(request.user, row.pk))


# Notifications --------------------------------------------------------------------------------------


@router.get("/notifications", response=list[NotificationSummary], summary="List notifications")
def list_notifications(
    request: HttpRequest, box: Literal["inbox", "outbox", "all"] = "all", limit: int = 100, offset: int = 0
) -> list[dict[str, Any]]:
    """``inbox``: incoming, awaiting your answer, nearest deadline first; ``outbox``: sent by your
    countries; ``all``: every version you may see."""
    if box == "inbox":
        rows = queries.inbox(request.user)
    elif box == "outbox":
        rows = queries.outbox(request.user)
    else:
        rows = queries.notifications(request.user)
    limit = max(1, min(limit, 500))
    return [_summary(row) for row in rows[offset : offset + limit]]


@router.post("/notifications", response={201: NotificationOut}, summary="Create (and optionally send)")
def create_notification(request: HttpRequest, payload: CreateNotificationIn) -> tuple[int, dict[str, Any]]:
    row = services.create_notification(request.user, payload.to_input(), send=payload.send)
    return 201, _reload(request, row)


@router.get("/notifications/{notification_id}", response=NotificationOut)
def get_notification(request: HttpRequest, notification_id: int) -> dict[str, Any]:
    return _detail(request, queries.notification(request.user, notification_id))


@router.post("/notifications/{notification_id}/send", response=NotificationOut, summary="Send a draft")
def send_notification(request: HttpRequest, notification_id: int) -> dict[str, Any]:
    return _reload(request, services.send_notification(request.user, notification_id))


@router.post(
    "/notifications/{notification_id}/answer",
    response=NotificationOut,
    summary="Answer as importing country (409 when someone else answered first or the deadline passed)",
)
def answer_notification(request: HttpRequest, notification_id: int, payload: AnswerIn) -> dict[str, Any]:
    return _reload(
        request, services.answer_notification(request.user, notification_id, payload.answer, payload.text)
    )


@router.post(
    "/notifications/{notification_id}/amend",
    response={201: NotificationOut},
    summary="Amend: a new version, sent at once; the reply clock restarts",
)
def amend_notification(
    request: HttpRequest, notification_id: int, payload: AmendIn
) -> tuple[int, dict[str, Any]]:
    row = services.amend_notification(request.user, notification_id, payload.to_input(), payload.reason)
    return 201, _reload(request, row)


@router.post(
    "/notifications/{notification_id}/shipment", response=NotificationOut, summary="Record the shipment"
)
def record_shipment(request: HttpRequest, notification_id: int) -> dict[str, Any]:
    return _reload(request, services.record_shipment(request.user, notification_id))


@router.post("/notifications/{notification_id}/cancel", response=NotificationOut)
def cancel_notification(request: HttpRequest, notification_id: int, payload: CancelIn) -> dict[str, Any]:
    return _reload(request, services.cancel_notification(request.user, notification_id, payload.reason))


# Incidents ------------------------------------------------------------------------------------------


class ChemicalIn(Schema):
    substance_id: int | None = None
    substance_name: str = ""
    quantity: Decimal | None = None
    unit: str = ""


class RouteLegIn(Schema):
    role: Literal["source", "transit", "destination"]
    country: str


class PartyIn(Schema):
    operator: OperatorIn
    role: str = ""


class IncidentIn(Schema):
    kind: Literal["seizure", "stopped_shipment", "illicit_laboratory", "suspicious_order"]
    reporting_country: str
    occurred_on: dt.date
    summary: str = ""
    modus_operandi: list[
        Literal[
            "mislabelling",
            "misdeclaration",
            "company_shopping",
            "designer_precursor",
            "internet_ordering",
            "postal_courier",
        ]
    ] = Field(default_factory=list)
    chemicals: list[ChemicalIn]
    route: list[RouteLegIn] = Field(default_factory=list)
    parties: list[PartyIn] = Field(default_factory=list)


class ChemicalOut(Schema):
    substance_name: str
    scheduled: bool
    quantity: Decimal | None
    unit: str


class MessageOut(Schema):
    id: int
    author: str
    country: str | None
    body: str
    created_at: dt.datetime


class IncidentSummary(Schema):
    id: int
    reference: str
    kind: str
    reporting_country: str
    occurred_on: dt.date
    modus_operandi: list[str]
    created_at: dt.datetime


class IncidentOut(IncidentSummary):
    summary: str
    classification: str
    chemicals: list[ChemicalOut]
    route: list[RouteLegIn]
    parties: list[PartyIn]
    involved_countries: list[str]
    messages: list[MessageOut]


class MessageIn(Schema):
    body: str


def _incident_summary(row: Incident) -> dict[str, Any]:
    return {
        "id": row.pk,
        "reference": row.reference,
        "kind": row.kind,
        "reporting_country": row.reporting_country.iso3,
        "occurred_on": row.occurred_on,
        "modus_operandi": row.modus_operandi,
        "created_at": row.created_at,
    }


def _incident_detail(row: Incident) -> dict[str, Any]:
    return {
        **_incident_summary(row),
        "summary": row.summary,
        "classification": row.classification,
        "chemicals": [
            {
                "substance_name": c.substance_name,
                "scheduled": c.substance_id is not None,
                "quantity": c.quantity,
                "unit": c.unit.code if c.unit else "",
            }
            for c in row.chemicals.select_related("unit")
        ],
        "route": [
            {"role": leg.role, "country": leg.country.iso3} for leg in row.route.select_related("country")
        ],
        "parties": [
            {
                "role": party.role,
                "operator": {
                    **_operator_out(party.operator),
                    "nationality": party.operator.nationality.iso3 if party.operator.nationality else "",
                },
            }
            for party in row.parties.select_related("operator__country", "operator__nationality")
        ],
        "involved_countries": sorted(set(row.involvements.values_list("country__iso3", flat=True))),
        "messages": [
            {
                "id": m.pk,
                "author": m.author_label,
                "country": m.country.iso3 if m.country else None,
                "body": m.body,
                "created_at": m.created_at,
            }
            for m in row.messages.select_related("country")
        ],
    }


@router.get("/incidents", response=list[IncidentSummary])
def list_incidents(request: HttpRequest, limit: int = 100, offset: int = 0) -> list[dict[str, Any]]:
    """Incidents involving your countries (all of them for the board), newest first."""
    limit = max(1, min(limit, 500))
    return [_incident_summary(row) for row in queries.incidents(request.user)[offset : offset + limit]]


@router.post(
    "/incidents", response={201: IncidentOut}, summary="Report an incident (alerts every country involved)"
)
def report_incident(request: HttpRequest, payload: IncidentIn) -> tuple[int, dict[str, Any]]:
    data = services.IncidentInput(
        kind=payload.kind,
        reporting_country_iso3=payload.reporting_country,
        occurred_on=payload.occurred_on,
        summary=payload.summary,
        modus_operandi=tuple(payload.modus_operandi),
        chemicals=tuple(
            services.ChemicalInput(c.substance_name, c.substance_id, c.quantity, c.unit)
            for c in payload.chemicals
        ),
        route=tuple((leg.role, leg.country) for leg in payload.route),
        parties=tuple(services.PartyInput(p.operator.to_input(), p.role) for p in payload.parties),
    )
    row = services.report_incident(request.user, data)
    return 201, _incident_detail(queries.incident(request.user, row.pk))


@router.get("/incidents/{incident_id}", response=IncidentOut)
def get_incident(request: HttpRequest, incident_id: int) -> dict[str, Any]:
    return _incident_detail(queries.incident(request.user, incident_id))


@router.post(
    "/incidents/{incident_id}/messages", response={201: MessageOut}, summary="Follow up in the thread"
)
def post_message(request: HttpRequest, incident_id: int, payload: MessageIn) -> tuple[int, dict[str, Any]]:
    m = services.post_incident_message(request.user, incident_id, payload.body)
    return 201, {
        "id": m.pk,
        "author": m.author_label,
        "country": m.country.iso3 if m.country else None,
        "body": m.body,
        "created_at": m.created_at,
    }


# Alerts ---------------------------------------------------------------------------------------------


class AlertOut(Schema):
    id: int
    kind: str
    title: str
    body: str
    recipient: str = Field(description="ISO3 of the recipient country, or 'board'")
    notification_id: int | None
    incident_id: int | None
    special_alert_id: int | None
    created_at: dt.datetime
    read: bool


def _alert_out(alert: Alert) -> dict[str, Any]:
    return {
        "id": alert.pk,
        "kind": alert.kind,
        "title": alert.title,
        "body": alert.body,
        "recipient": alert.recipient_country.iso3 if alert.recipient_country else "board",
        "notification_id": alert.notification_id,
        "incident_id": alert.incident_id,
        "special_alert_id": alert.special_alert_id,
        "created_at": alert.created_at,
        "read": bool(getattr(alert, "is_read", False)),
    }


class AlertList(Schema):
    unread: int
    alerts: list[AlertOut]


@router.get(
    "/alerts", response=AlertList, summary="Alerts to your countries (and the board), with unread count"
)
def list_alerts(request: HttpRequest, unread_only: bool = False, limit: int = 100) -> dict[str, Any]:
    rows = queries.alerts(request.user)
    if unread_only:
        rows = queries.unread_alerts(request.user)
    return {
        "unread": queries.unread_alert_count(request.user),
        "alerts": [_alert_out(a) for a in rows[: max(1, min(limit, 500))]],
    }


@router.post("/alerts/{alert_id}/read", response=AlertOut)
def read_alert(request: HttpRequest, alert_id: int) -> dict[str, Any]:
    services.mark_alert_read(request.user, alert_id)
    return _alert_out(queries.alerts(request.user).get(pk=alert_id))


# Registry and the board -----------------------------------------------------------------------------


class RequirementIn(Schema):
    importing_country: str
    substance_id: int | None = Field(None, description="omit for every substance of Tables I and II")
    reply_period_days: int
    legal_basis: str = ""


class RequirementOut(Schema):
    id: int
    importing_country: str
    substance_id: int | None
    substance_name: str
    reply_period_days: int
    legal_basis: str


def _requirement_out(row: NotificationRequirement) -> dict[str, Any]:
    return {
        "id": row.pk,
        "importing_country": row.importing_country.iso3,
        "substance_id": row.substance_id,
        "substance_name": row.substance.name if row.substance else "all Table I/II substances",
        "reply_period_days": row.reply_period_days,
        "legal_basis": row.legal_basis,
    }


@router.get(
    "/registry", response=list[RequirementOut], summary="Which countries require notification, reply periods"
)
def list_requirements(request: HttpRequest, country: str = "") -> list[dict[str, Any]]:
    rows = queries.requirements()
    if country:
        rows = rows.filter(importing_country__iso3=country.upper())
    return [_requirement_out(row) for row in rows]


@router.post("/registry", response=RequirementOut, summary="Add or change an entry (board)")
def set_requirement(request: HttpRequest, payload: RequirementIn) -> dict[str, Any]:
    row = services.set_requirement(
        request.user,
        payload.importing_country,
        payload.substance_id,
        payload.reply_period_days,
        payload.legal_basis,
    )
    return _requirement_out(queries.requirements().get(pk=row.pk))


@router.delete("/registry/{requirement_id}", response={204: None}, summary="Remove an entry (board)")
def delete_requirement(request: HttpRequest, requirement_id: int) -> tuple[int, None]:
    services.delete_requirement(request.user, requirement_id)
    return 204, None


class SpecialAlertIn(Schema):
    title: str
    body: str
    recipients: list[str] = Field(default_factory=list, description="ISO3; empty for every country")
    substance_name: str = ""
    modus_operandi: list[str] = Field(default_factory=list)


class SpecialAlertOut(Schema):
    id: int
    title: str
    recipients: int


@router.post("/special-alerts", response={201: SpecialAlertOut}, summary="Issue a special alert (board)")
def issue_special_alert(request: HttpRequest, payload: SpecialAlertIn) -> tuple[int, dict[str, Any]]:
    row = services.issue_special_alert(
        request.user,
        payload.title,
        payload.body,
        recipient_iso3=payload.recipients,
        substance_name=payload.substance_name,
        modus_operandi=payload.modus_operandi,
    )
    return 201, {"id": row.pk, "title": row.title, "recipients": row.recipients.count()}


class PairOut(Schema):
    record_a: str
    record_b: str
    name_similarity: float
    address_similarity: float


class CaseOut(Schema):
    party_country: str
    names: list[str]
    record_ids: list[str]
    exporting_countries: list[str]
    min_name_similarity: float
    pairs: list[PairOut]


class SurgeOut(Schema):
    substance: str
    route: list[str]
    period: str
    count: int
    baseline_mean: float
    ratio: float | None
    record_ids: list[str]


class PatternsOut(Schema):
    since: dt.date
    until: dt.date
    notifications_scanned: int
    incidents_scanned: int
    company_shopping: list[CaseOut]
    surges: list[SurgeOut]


@router.get(
    "/patterns",
    response=PatternsOut,
    summary="Company shopping and surges of non-scheduled substitutes (board). Record ids: N<id>, I<id>",
)
def patterns(
    request: HttpRequest, since: dt.date | None = None, until: dt.date | None = None
) -> dict[str, Any]:
    report = queries.pattern_report(request.user, since, until)
    return {
        "since": report.since,
        "until": report.until,
        "notifications_scanned": report.notifications_scanned,
        "incidents_scanned": report.incidents_scanned,
        "company_shopping": [
            {
                "party_country": case.party_country,
                "names": list(case.names),
                "record_ids": list(case.record_ids),
                "exporting_countries": list(case.exporting_countries),
                "min_name_similarity": case.min_name_similarity,
                "pairs": [
                    {
                        "record_a": p.record_a,
                        "record_b": p.record_b,
                        "name_similarity": p.name_similarity,
                        "address_similarity": p.address_similarity,
                    }
                    for p in case.pairs
                ],
            }
            for case in report.company_shopping
        ],
        "surges": [
            {
                "substance": s.substance,
                "route": [str(part) for part in s.route] if isinstance(s.route, tuple) else [str(s.route)],
                "period": s.period,
                "count": s.count,
                "baseline_mean": s.baseline_mean,
                "ratio": s.ratio,
                "record_ids": list(s.record_ids),
            }
            for s in report.surges
        ],
    }
