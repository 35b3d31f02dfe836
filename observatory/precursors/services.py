"""Every write of precursor data: check the policy, take the workflow transition (kernel), write in one
transaction with its audit row, alert the countries concerned in the app and by e-mail (on commit).

Concurrency: a transition is a conditional UPDATE on the state the caller read (``WHERE state = …
AND superseded_at IS NULL``); when another writer got there first no row matches and the caller gets
:class:`Conflict`. This holds on PostgreSQL (the second UPDATE waits for the row lock, then re-reads)
and on SQLite (writers are serialised).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core import mail
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from observatory.access import audit, policy
from observatory.access.models import Assignment, Role
from observatory.errors import Conflict, InvalidInput
from observatory.precursors import queries
from observatory.precursors.kernels import workflow
from observatory.precursors.kernels.workflow import Action, State
from observatory.precursors.models import (
    Alert,
    AlertRead,
    Incident,
    IncidentChemical,
    IncidentMessage,
    IncidentParty,
    Involvement,
    ItineraryStop,
    Notification,
    NotificationEvent,
    NotificationRequirement,
    Operator,
    RouteLeg,
    SpecialAlert,
)
from observatory.reference.models import ControlledSubstance, Country, ScheduleListing, Unit

if TYPE_CHECKING:
    from observatory.access.policy import Actor as User

log = logging.getLogger(__name__)

DEFAULT_REPLY_PERIOD_DAYS = 15  # when the importing country has not registered its own period
AUDITED_FIELDS = [
    "reference",
    "version",
    "state",
    "exporting_country",
    "importing_country",
    "substance",
    "substance_name",
    "quantity",
    "unit",
    "sent_at",
    "deadline",
    "answer",
    "answered_at",
]


# Inputs ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OperatorInput:
    name: str
    country_iso3: str
    address: str = ""
    kind: str = Operator.Kind.COMPANY.value
    nationality_iso3: str = ""


@dataclass(frozen=True)
class NotificationInput:
    exporting_country_iso3: str
    importing_country_iso3: str
    substance_name: str
    quantity: Decimal
    unit_code: str
    transport_mode: str
    exporter: OperatorInput
    importer: OperatorInput
    substance_id: int | None = None  # a 1988 Table I/II substance; empty for a non-scheduled chemical
    mixture_percentage: Decimal | None = None
    transit_iso3: tuple[str, ...] = ()
    point_of_entry: str = ""
    expected_dispatch_date: dt.date | None = None
    licence_number: str = ""
    invoice_number: str = ""
    consignee: OperatorInput | None = None
    other_operators: tuple[OperatorInput, ...] = ()


@dataclass(frozen=True)
class ChemicalInput:
    substance_name: str
    substance_id: int | None = None
    quantity: Decimal | None = None
    unit_code: str = ""


@dataclass(frozen=True)
class PartyInput:
    operator: OperatorInput
    role: str = ""


@dataclass(frozen=True)
class IncidentInput:
    kind: str
    reporting_country_iso3: str
    occurred_on: dt.date
    summary: str = ""
    modus_operandi: tuple[str, ...] = ()
    chemicals: tuple[ChemicalInput, ...] = ()
    route: tuple[tuple[str, str], ...] = ()  # (role, ISO3) in order
    parties: tuple[PartyInput, ...] = field(default_factory=tuple)


# Helpers --------------------------------------------------------------------------------------------


def _country(iso3: str, field_name: str) -> Country:
    country = Country.objects.filter(iso3=(iso3 or "").upper()).first()
    if country is None:
        raise InvalidInput(field_name, f"unknown country {iso3!r}")
    return country


def _unit(code: str, field_name: str = "unit") -> Unit:
    unit = Unit.objects.filter(code=code).first()
    if unit is None or unit.dimension == Unit.Dimension.COUNT:
        raise InvalidInput(field_name, f"unknown mass or volume unit {code!r}")
    return unit


def table_substances() -> Q:
    """Substances listed (now) in Table I or II of the 1988 Convention."""
    return Q(
        listings__convention=ScheduleListing.Convention.ILLICIT_TRAFFIC_1988,
        listings__effective_to__isnull=True,
    )


def _substance(
    substance_id: int | None, name: str, field_name: str
) -> tuple[ControlledSubstance | None, str]:
    if substance_id is None:
        if not name.strip():
            raise InvalidInput(field_name, "name the substance")
        return None, name.strip()
    substance = ControlledSubstance.objects.filter(table_substances(), pk=substance_id).distinct().first()
    if substance is None:
        raise InvalidInput(
            field_name, f"substance {substance_id} is not in Table I or II of the 1988 Convention"
        )
    return substance, substance.name


def _operator(data: OperatorInput, field_name: str) -> Operator:
    if not data.name.strip():
        raise InvalidInput(field_name, "name the operator")
    if data.kind not in Operator.Kind.values:
        raise InvalidInput(field_name, f"unknown operator kind {data.kind!r}")
    country = _country(data.country_iso3, f"{field_name}.country")
    nationality = (
        _country(data.nationality_iso3, f"{field_name}.nationality") if data.nationality_iso3 else None
    )
    operator, _ = Operator.objects.get_or_create(
        kind=data.kind,
        name=data.name.strip(),
        address=data.address.strip(),
        country=country,
        nationality=nationality,
    )
    return operator


def _label(user: User | None) -> str:
    return user.get_username() if user is not None and user.is_authenticated else "system"


def reply_period(
    importing_country: Country, substance: ControlledSubstance | None
) -> tuple[NotificationRequirement | None, int]:
    """The registry entry for this substance, else the country's all-tables entry, else the default."""
    rows = NotificationRequirement.objects.filter(importing_country=importing_country)
    requirement = None
    if substance is not None:
        requirement = rows.filter(substance=substance).first()
    requirement = requirement or rows.filter(substance__isnull=True).first()
    return requirement, requirement.reply_period_days if requirement else DEFAULT_REPLY_PERIOD_DAYS


def kernel_view(row: Notification) -> workflow.Notification:
    return workflow.Notification(
        reference=row.reference,
        version=row.version,
        state=State(row.state),
        reply_period=dt.timedelta(days=row.reply_period_days),
        sent_at=row.sent_at,
    )


def _event(
    row: Notification, user: User | None, action: str, before: str, at: dt.datetime, text: str = ""
) -> None:
    NotificationEvent.objects.create(
        notification=row,
        action=action,
        from_state=before,
        to_state=row.state,
        actor=user if user is not None and user.is_authenticated else None,
        actor_label=_label(user),
        at=at,
        text=text,
    )


def _recipient_addresses(country_ids: Iterable[int], board: bool) -> dict[int | None, list[str]]:
    """E-mail addresses of the active users holding precursors.view on each country (key: country id)
    and globally (key None, the board)."""
    roles = [role.pk for role in Role.objects.all() if "precursors.view" in role.verbs]
    wanted = sorted(set(country_ids))
    condition = Q(scope="country", country_id__in=wanted)
    if board:
        condition |= Q(scope="global")
    found: dict[int | None, list[str]] = {}
    for country_id, email in (
        Assignment.objects.filter(condition, role_id__in=roles, user__is_active=True)
        .exclude(user__email="")
        .values_list("country_id", "user__email")
        .distinct()
    ):
        found.setdefault(country_id, [])
        if email not in found[country_id]:
            found[country_id].append(email)
    return found


def _alert(
    kind: str,
    title: str,
    body: str,
    *,
    countries: Iterable[int] = (),
    board: bool = False,
    now: dt.datetime,
    notification: Notification | None = None,
    incident: Incident | None = None,
    special: SpecialAlert | None = None,
) -> list[Alert]:
    """In-app alerts to each country (and the board), and e-mail to their users once committed."""
    country_ids = sorted(set(countries))
    rows = [
        Alert(
            kind=kind,
            recipient_country_id=country_id,
            title=title,
            body=body,
            notification=notification,
            incident=incident,
            special_alert=special,
            created_at=now,
        )
        for country_id in country_ids
    ]
    if board:
        rows.append(
            Alert(
                kind=kind,
                to_board=True,
                title=title,
                body=body,
                notification=notification,
                incident=incident,
                special_alert=special,
                created_at=now,
            )
        )
    created = Alert.objects.bulk_create(rows)
    transaction.on_commit(lambda: _send_mail(title, body, country_ids, board))
    return created


def _send_mail(subject: str, body: str, country_ids: list[int], board: bool) -> None:
    addresses = _recipient_addresses(country_ids, board)
    recipients = sorted({email for emails in addresses.values() for email in emails})
    if not recipients:
        return
    text = f"{body}\n\nSign in to the Drug Observatory to read it: /precursors/alerts/\n"
    messages = tuple(
        (f"[Drug Observatory] {subject}", text, settings.DEFAULT_FROM_EMAIL, [email]) for email in recipients
    )
    try:
        mail.send_mass_mail(messages, fail_silently=False)
    except Exception:  # mail is a courtesy copy: the in-app alert is already committed
        log.exception("could not send precursor alert e-mail to %d recipients", len(recipients))


# Notifications --------------------------------------------------------------------------------------


def _fill(row: Notification, data: NotificationInput) -> list[Operator]:
    substance, name = _substance(data.substance_id, data.substance_name, "substance")
    if data.quantity is None or Decimal(data.quantity) <= 0:
        raise InvalidInput("quantity", "must be positive")
    if data.mixture_percentage is not None and not Decimal(0) < Decimal(data.mixture_percentage) <= 100:
        raise InvalidInput("mixture_percentage", "must be above 0 and at most 100")
    if data.transport_mode not in Notification.TransportMode.values:
        raise InvalidInput("transport_mode", f"unknown transport mode {data.transport_mode!r}")
    row.substance = substance
    row.substance_name = name
    row.quantity = Decimal(data.quantity)
    row.unit = _unit(data.unit_code)
    row.mixture_percentage = data.mixture_percentage
    row.transport_mode = data.transport_mode
    row.point_of_entry = data.point_of_entry.strip()
    row.expected_dispatch_date = data.expected_dispatch_date
    row.licence_number = data.licence_number.strip()
    row.invoice_number = data.invoice_number.strip()
    row.exporter = _operator(data.exporter, "exporter")
    row.importer = _operator(data.importer, "importer")
    row.consignee = _operator(data.consignee, "consignee") if data.consignee else None
    return [_operator(other, f"other_operators[{index}]") for index, other in enumerate(data.other_operators)]


def _write_itinerary(row: Notification, transit_iso3: Sequence[str]) -> None:
    stops = []
    for position, iso3 in enumerate(transit_iso3, start=1):
        country = _country(iso3, f"transit[{position - 1}]")
        if country.pk in (row.exporting_country_id, row.importing_country_id):
            raise InvalidInput(
                f"transit[{position - 1}]", "a transit country is neither exporter nor importer"
            )
        stops.append(ItineraryStop(notification=row, country=country, position=position))
    ItineraryStop.objects.bulk_create(stops)


def create_notification(user: User | None, data: NotificationInput, *, send: bool = False) -> Notification:
    """A draft notification from the exporting country (sent at once with ``send=True``)."""
    exporting = _country(data.exporting_country_iso3, "exporting_country")
    policy.require(user, "precursors.notify", exporting)
    importing = _country(data.importing_country_iso3, "importing_country")
    if importing.pk == exporting.pk:
        raise InvalidInput("importing_country", "must differ from the exporting country")
    now = timezone.now()
    with transaction.atomic():
        row = Notification(exporting_country=exporting, importing_country=importing, created_at=now)
        others = _fill(row, data)
        row.requirement, row.reply_period_days = reply_period(importing, row.substance)
        row.reference = f"tmp-{now.timestamp()}"
        row.created_by = user if user is not None and user.is_authenticated else None
        row.save()
        row.reference = f"PEN-{exporting.iso3}-{now.year}-{row.pk:06d}"
        row.save(update_fields=["reference"])
        row.other_operators.set(others)
        _write_itinerary(row, data.transit_iso3)
        _event(row, user, "create", "", now)
        audit.record(
            user,
            "precursors.notification.create",
            "precursors.notification",
            row.pk,
            country_iso3=exporting.iso3,
            after=audit.snapshot(row, AUDITED_FIELDS),
        )
    if send:
        return send_notification(user, row.pk)
    return row


def _transition(
    user: User | None,
    row: Notification,
    action: Action,
    actor: workflow.Actor,
    *,
    now: dt.datetime,
    updates: dict[str, Any] | None = None,
    text: str = "",
) -> Notification:
    """Take one kernel transition as a conditional UPDATE; raise Conflict when the row moved on."""
    try:
        moved = workflow.apply(kernel_view(row), action, actor, now)
    except workflow.TransitionError as error:
        raise Conflict(str(error)) from error
    before_state = row.state
    before = audit.snapshot(row, AUDITED_FIELDS)
    values = {"state": moved.state.value, **(updates or {})}
    with transaction.atomic():
        changed = Notification.objects.filter(
            pk=row.pk, state=before_state, superseded_at__isnull=True
        ).update(**values)
        if changed != 1:
            raise Conflict(f"{row.reference} v{row.version} was changed meanwhile; reload it")
        row.refresh_from_db()
        _event(row, user, action.value, before_state, now, text)
        audit.record(
            user,
            f"precursors.notification.{action.value}",
            "precursors.notification",
            row.pk,
            country_iso3=(
                row.importing_country.iso3
                if actor is workflow.Actor.IMPORTING_AUTHORITY
                else row.exporting_country.iso3
            ),
            before=before,
            after=audit.snapshot(row, AUDITED_FIELDS),
            reason=text,
        )
        _notify_transition(row, action, now)
    return row


def _notify_transition(row: Notification, action: Action, now: dt.datetime) -> None:
    what = (
        f"{row.reference} v{row.version}: {row.quantity.normalize():f} {row.unit.code} {row.substance_name}"
    )
    route = f"{row.exporting_country.name} → {row.importing_country.name}"
    if action is Action.SEND:
        _alert(
            Alert.Kind.NOTIFICATION_RECEIVED,
            f"Pre-export notification {what}",
            f"{route}. Answer before {row.deadline:%Y-%m-%d %H:%M} UTC.",
            countries=[row.importing_country_id],
            now=now,
            notification=row,
        )
    elif action in (Action.ANSWER_NO_OBJECTION, Action.ANSWER_OBJECTION, Action.REQUEST_INFORMATION):
        _alert(
            Alert.Kind.NOTIFICATION_ANSWERED,
            f"{row.importing_country.name} answered {row.reference} v{row.version}: {row.get_answer_display()}",
            row.answer_text or route,
            countries=[row.exporting_country_id],
            now=now,
            notification=row,
        )
    elif action is Action.EXPIRE:
        _alert(
            Alert.Kind.NOTIFICATION_EXPIRED,
            f"Expired without answer: {what}",
            f"{route}. The reply deadline {row.deadline:%Y-%m-%d %H:%M} UTC passed without an answer.",
            countries=[row.exporting_country_id, row.importing_country_id],
            now=now,
            notification=row,
        )
    elif action in (Action.RECORD_SHIPMENT, Action.CANCEL) and row.sent_at is not None:
        _alert(
            Alert.Kind.NOTIFICATION_CLOSED,
            f"{'Shipped' if action is Action.RECORD_SHIPMENT else 'Cancelled'}: {what}",
            route,
            countries=[row.importing_country_id],
            now=now,
            notification=row,
        )


def _as_exporter(user: User | None, notification_id: int) -> Notification:
    row = queries.notification(user, notification_id)
    policy.require(user, "precursors.notify", row.exporting_country_id)
    return row


def send_notification(user: User | None, notification_id: int) -> Notification:
    row = _as_exporter(user, notification_id)
    now = timezone.now()
    deadline = now + dt.timedelta(days=row.reply_period_days)
    return _transition(
        user,
        row,
        Action.SEND,
        workflow.Actor.EXPORTING_AUTHORITY,
        now=now,
        updates={"sent_at": now, "deadline": deadline},
    )


ANSWER_ACTIONS: dict[str, Action] = {
    Notification.Answer.NO_OBJECTION.value: Action.ANSWER_NO_OBJECTION,
    Notification.Answer.OBJECTION.value: Action.ANSWER_OBJECTION,
    Notification.Answer.INFORMATION_REQUESTED.value: Action.REQUEST_INFORMATION,
}


def answer_notification(user: User | None, notification_id: int, answer: str, text: str = "") -> Notification:
    """The importing authority answers: no objection, objection, or a request for information (after
    which it answers again). Exactly one of two concurrent answers wins; the other raises Conflict."""
    if answer not in ANSWER_ACTIONS:
        raise InvalidInput("answer", f"one of {', '.join(ANSWER_ACTIONS)}")
    row = queries.notification(user, notification_id)
    policy.require(user, "precursors.answer", row.importing_country_id)
    if answer == Notification.Answer.OBJECTION and not text.strip():
        raise InvalidInput("text", "give the grounds of the objection")
    if answer == Notification.Answer.INFORMATION_REQUESTED and not text.strip():
        raise InvalidInput("text", "say which information is requested")
    now = timezone.now()
    return _transition(
        user,
        row,
        ANSWER_ACTIONS[answer],
        workflow.Actor.IMPORTING_AUTHORITY,
        now=now,
        updates={
            "answer": answer,
            "answer_text": text.strip(),
            "answered_at": now,
            "answered_by": user if user is not None and user.is_authenticated else None,
        },
        text=text.strip(),
    )


def record_shipment(user: User | None, notification_id: int) -> Notification:
    row = _as_exporter(user, notification_id)
    now = timezone.now()
    return _transition(
        user,
        row,
        Action.RECORD_SHIPMENT,
        workflow.Actor.EXPORTING_AUTHORITY,
        now=now,
        updates={"shipped_at": now},
    )


def cancel_notification(user: User | None, notification_id: int, reason: str = "") -> Notification:
    row = _as_exporter(user, notification_id)
    now = timezone.now()
    return _transition(
        user,
        row,
        Action.CANCEL,
        workflow.Actor.EXPORTING_AUTHORITY,
        now=now,
        updates={"cancelled_at": now},
        text=reason.strip(),
    )


def amend_notification(
    user: User | None, notification_id: int, data: NotificationInput, reason: str = ""
) -> Notification:
    """A new version replacing an open one, sent at once: the reply clock restarts. The countries of a
    notification cannot change (that is a new notification)."""
    old = _as_exporter(user, notification_id)
    if (data.exporting_country_iso3.upper(), data.importing_country_iso3.upper()) != (
        old.exporting_country.iso3,
        old.importing_country.iso3,
    ):
        raise InvalidInput("importing_country", "an amendment keeps the exporting and importing countries")
    now = timezone.now()
    try:
        workflow.amend(kernel_view(old), workflow.Actor.EXPORTING_AUTHORITY, now)
    except workflow.TransitionError as error:
        raise Conflict(str(error)) from error
    with transaction.atomic():
        changed = Notification.objects.filter(pk=old.pk, state=old.state, superseded_at__isnull=True).update(
            superseded_at=now
        )
        if changed != 1:
            raise Conflict(f"{old.reference} v{old.version} was changed meanwhile; reload it")
        row = Notification(
            reference=old.reference,
            version=old.version + 1,
            amends=old,
            exporting_country=old.exporting_country,
            importing_country=old.importing_country,
            created_at=now,
            created_by=user if user is not None and user.is_authenticated else None,
            state=State.SENT.value,
            sent_at=now,
            classification=old.classification,
        )
        others = _fill(row, data)
        row.requirement, row.reply_period_days = reply_period(old.importing_country, row.substance)
        row.deadline = now + dt.timedelta(days=row.reply_period_days)
        row.save()
        row.other_operators.set(others)
        _write_itinerary(row, data.transit_iso3)
        _event(row, user, Action.AMEND.value, old.state, now, reason.strip())
        audit.record(
            user,
            "precursors.notification.amend",
            "precursors.notification",
            row.pk,
            country_iso3=old.exporting_country.iso3,
            before=audit.snapshot(old, AUDITED_FIELDS),
            after=audit.snapshot(row, AUDITED_FIELDS),
            reason=reason.strip(),
        )
        _alert(
            Alert.Kind.NOTIFICATION_AMENDED,
            f"Amended pre-export notification {row.reference} v{row.version}",
            f"{row.exporting_country.name} → {row.importing_country.name}: version {old.version} is replaced. "
            f"Answer before {row.deadline:%Y-%m-%d %H:%M} UTC.",
            countries=[row.importing_country_id],
            now=now,
            notification=row,
        )
    return row


def notification_input_from(row: Notification) -> NotificationInput:
    """The content of a version as an input (the starting point of an amendment)."""

    def operator(op: Operator) -> OperatorInput:
        return OperatorInput(
            op.name, op.country.iso3, op.address, op.kind, op.nationality.iso3 if op.nationality else ""
        )

    return NotificationInput(
        exporting_country_iso3=row.exporting_country.iso3,
        importing_country_iso3=row.importing_country.iso3,
        substance_id=row.substance_id,
        substance_name=row.substance_name,
        quantity=row.quantity,
        unit_code=row.unit.code,
        mixture_percentage=row.mixture_percentage,
        transport_mode=row.transport_mode,
        transit_iso3=tuple(stop.country.iso3 for stop in row.itinerary.select_related("country")),
        point_of_entry=row.point_of_entry,
        expected_dispatch_date=row.expected_dispatch_date,
        licence_number=row.licence_number,
        invoice_number=row.invoice_number,
        exporter=operator(row.exporter),
        importer=operator(row.importer),
        consignee=operator(row.consignee) if row.consignee else None,
        other_operators=tuple(operator(op) for op in row.other_operators.all()),
    )


@dataclass(frozen=True)
class ExpiryResult:
    expired: list[int]
    checked: int


def expire_due(now: dt.datetime | None = None) -> ExpiryResult:
    """The scheduled job: every current notification still ``sent`` whose deadline has come (deadline
    <= now) becomes ``expired``, each in its own transaction, audited, both countries alerted.
    Idempotent: a second run at the same or a later time finds nothing more to do."""
    now = now or timezone.now()
    due = list(
        Notification.objects.filter(state=State.SENT.value, superseded_at__isnull=True, deadline__lte=now)
        .select_related("exporting_country", "importing_country", "unit")
        .order_by("deadline", "pk")
    )
    expired: list[int] = []
    for row in due:
        try:
            _transition(None, row, Action.EXPIRE, workflow.Actor.SYSTEM, now=now, updates={"expired_at": now})
        except Conflict:
            continue  # answered or amended between the read and the update: not ours to expire
        expired.append(row.pk)
    return ExpiryResult(expired, len(due))


# Incidents ------------------------------------------------------------------------------------------


def report_incident(user: User | None, data: IncidentInput) -> Incident:
    """Record an incident and alert every country involved (reporting, source, transit, destination,
    nationality of a person involved) and the board — no other country."""
    reporting = _country(data.reporting_country_iso3, "reporting_country")
    policy.require(user, "precursors.report", reporting)
    if data.kind not in Incident.Kind.values:
        raise InvalidInput("kind", f"unknown incident kind {data.kind!r}")
    unknown = [code for code in data.modus_operandi if code not in Incident.ModusOperandi.values]
    if unknown:
        raise InvalidInput("modus_operandi", f"unknown codes {', '.join(unknown)}")
    if not data.chemicals:
        raise InvalidInput("chemicals", "name at least one chemical")
    now = timezone.now()
    with transaction.atomic():
        row = Incident.objects.create(
            reference=f"tmp-{now.timestamp()}",
            kind=data.kind,
            reporting_country=reporting,
            occurred_on=data.occurred_on,
            summary=data.summary.strip(),
            modus_operandi=sorted(set(data.modus_operandi)),
            reported_by=user if user is not None and user.is_authenticated else None,
            created_at=now,
        )
        row.reference = f"PIC-{reporting.iso3}-{now.year}-{row.pk:06d}"
        row.save(update_fields=["reference"])
        chemicals = []
        for index, chemical in enumerate(data.chemicals):
            substance, name = _substance(
                chemical.substance_id, chemical.substance_name, f"chemicals[{index}]"
            )
            chemicals.append(
                IncidentChemical(
                    incident=row,
                    substance=substance,
                    substance_name=name,
                    quantity=chemical.quantity,
                    unit=_unit(chemical.unit_code, f"chemicals[{index}].unit")
                    if chemical.unit_code
                    else None,
                )
            )
        IncidentChemical.objects.bulk_create(chemicals)
        involved: set[tuple[int, str]] = {(reporting.pk, Involvement.Basis.REPORTING.value)}
        legs = []
        for position, (role, iso3) in enumerate(data.route, start=1):
            if role not in RouteLeg.Role.values:
                raise InvalidInput(f"route[{position - 1}].role", f"unknown role {role!r}")
            country = _country(iso3, f"route[{position - 1}].country")
            legs.append(RouteLeg(incident=row, role=role, country=country, position=position))
            involved.add((country.pk, role))
        RouteLeg.objects.bulk_create(legs)
        parties = []
        for index, party in enumerate(data.parties):
            operator = _operator(party.operator, f"parties[{index}]")
            parties.append(IncidentParty(incident=row, operator=operator, role=party.role.strip()))
            if operator.kind == Operator.Kind.PERSON and operator.nationality_id is not None:
                involved.add((operator.nationality_id, Involvement.Basis.NATIONALITY.value))
        IncidentParty.objects.bulk_create(parties)
        Involvement.objects.bulk_create(
            [
                Involvement(incident=row, country_id=country_id, basis=basis)
                for country_id, basis in sorted(involved)
            ]
        )
        audit.record(
            user,
            "precursors.incident.report",
            "precursors.incident",
            row.pk,
            country_iso3=reporting.iso3,
            after={
                "reference": row.reference,
                "kind": row.kind,
                "involved": sorted({country_id for country_id, _ in involved}),
                "modus_operandi": row.modus_operandi,
                "chemicals": [c.substance_name for c in chemicals],
            },
        )
        names = ", ".join(c.substance_name for c in chemicals)
        _alert(
            Alert.Kind.INCIDENT,
            f"{row.get_kind_display().capitalize()} reported by {reporting.name}: {names}",
            row.summary or f"Incident {row.reference} involves your country.",
            countries=[country_id for country_id, _ in involved],
            board=True,
            now=now,
            incident=row,
        )
    return row


def involved_country_ids(row: Incident) -> set[int]:
    return set(row.involvements.values_list("country_id", flat=True))


def post_incident_message(user: User | None, incident_id: int, body: str) -> IncidentMessage:
    """A follow-up in the incident's thread, by a focal point of an involved country or the board;
    the other involved countries and the board are alerted."""
    row = queries.incident(user, incident_id)
    involved = involved_country_ids(row)
    board = policy.allows_globally(user, "precursors.registry")
    granted = policy.reach(user, "precursors.report")
    own = sorted(involved & granted.by_country)
    if not board and not own:
        raise policy.PermissionDenied(
            "precursors.report", "only the countries involved and the board follow up"
        )
    if not body.strip():
        raise InvalidInput("body", "write the message")
    now = timezone.now()
    with transaction.atomic():
        message = IncidentMessage.objects.create(
            incident=row,
            author=user if user is not None and user.is_authenticated else None,
            author_label=_label(user),
            country_id=None if board and not own else own[0],
            body=body.strip(),
            created_at=now,
        )
        audit.record(
            user,
            "precursors.incident.message",
            "precursors.incident",
            row.pk,
            country_iso3=message.country.iso3 if message.country else "",
            after={"message": message.pk, "body": message.body},
        )
        author = message.country.name if message.country else "the board"
        _alert(
            Alert.Kind.INCIDENT_MESSAGE,
            f"Follow-up on {row.reference} from {author}",
            message.body[:500],
            countries=sorted(involved - {message.country_id} if message.country_id else involved),
            board=message.country_id is not None,
            now=now,
            incident=row,
        )
    return message


# Registry and special alerts (the board) ------------------------------------------------------------


def _require_board(user: User | None) -> None:
    if not policy.allows_globally(user, "precursors.registry"):
        raise policy.PermissionDenied("precursors.registry")


def set_requirement(
    user: User | None,
    importing_iso3: str,
    substance_id: int | None,
    reply_period_days: int,
    legal_basis: str = "",
) -> NotificationRequirement:
    """Add or change the entry for (country, substance or all Table I/II). Notifications already sent
    keep the period they were sent with."""
    _require_board(user)
    country = _country(importing_iso3, "importing_country")
    substance, _ = _substance(substance_id, "all", "substance") if substance_id is not None else (None, "")
    if not 1 <= int(reply_period_days) <= 365:
        raise InvalidInput("reply_period_days", "between 1 and 365 days")
    with transaction.atomic():
        row = (
            NotificationRequirement.objects.select_for_update(of=("self",))
            .filter(importing_country=country, substance=substance)
            .first()
        )
        before = (
            audit.snapshot(row, ["importing_country", "substance", "reply_period_days", "legal_basis"])
            if row
            else None
        )
        if row is None:
            row = NotificationRequirement(importing_country=country, substance=substance)
        row.reply_period_days = int(reply_period_days)
        row.legal_basis = legal_basis.strip()
        row.updated_by = user if user is not None and user.is_authenticated else None
        row.save()
        audit.record(
            user,
            "precursors.registry.set",
            "precursors.requirement",
            row.pk,
            country_iso3=country.iso3,
            before=before,
            after=audit.snapshot(row, ["importing_country", "substance", "reply_period_days", "legal_basis"]),
        )
    return row


def delete_requirement(user: User | None, requirement_id: int) -> None:
    _require_board(user)
    with transaction.atomic():
        row = (
            NotificationRequirement.objects.select_for_update(of=("self",))
            .select_related("importing_country")
            .get(pk=requirement_id)
        )
        before = audit.snapshot(row, ["importing_country", "substance", "reply_period_days", "legal_basis"])
        audit.record(
            user,
            "precursors.registry.delete",
            "precursors.requirement",
            row.pk,
            country_iso3=row.importing_country.iso3,
            before=before,
        )
        row.delete()


def issue_special_alert(
    user: User | None,
    title: str,
    body: str,
    *,
    recipient_iso3: Sequence[str] = (),
    substance_name: str = "",
    modus_operandi: Sequence[str] = (),
) -> SpecialAlert:
    """A special alert from the board to the named countries (every country when none is named)."""
    _require_board(user)
    if not title.strip() or not body.strip():
        raise InvalidInput("title", "a special alert has a title and a text")
    unknown = [code for code in modus_operandi if code not in Incident.ModusOperandi.values]
    if unknown:
        raise InvalidInput("modus_operandi", f"unknown codes {', '.join(unknown)}")
    countries = (
        [_country(iso3, "recipients") for iso3 in recipient_iso3]
        if recipient_iso3
        else list(Country.objects.all())
    )
    now = timezone.now()
    with transaction.atomic():
        row = SpecialAlert.objects.create(
            title=title.strip(),
            body=body.strip(),
            substance_name=substance_name.strip(),
            modus_operandi=sorted(set(modus_operandi)),
            issued_by=user if user is not None and user.is_authenticated else None,
            created_at=now,
        )
        row.recipients.set(countries)
        audit.record(
            user,
            "precursors.special_alert.issue",
            "precursors.special_alert",
            row.pk,
            after={"title": row.title, "recipients": sorted(c.iso3 for c in countries)},
        )
        _alert(
            Alert.Kind.SPECIAL,
            f"Special alert: {row.title}",
            row.body,
            countries=[c.pk for c in countries],
            board=True,
            now=now,
            special=row,
        )
    return row


def mark_alert_read(user: User | None, alert_id: int) -> Alert:
    """Read state is per user; marking twice is harmless. (Not audited: it changes no shared record.)"""
    alert = queries.alerts(user).get(pk=alert_id)
    if user is not None and user.is_authenticated:
        AlertRead.objects.get_or_create(alert=alert, user_id=user.pk, defaults={"read_at": timezone.now()})
    return alert


def mark_all_alerts_read(user: User | None) -> int:
    if user is None or not user.is_authenticated:
        return 0
    now = timezone.now()
    unread = list(queries.unread_alerts(user).values_list("pk", flat=True))
    AlertRead.objects.bulk_create(
        [AlertRead(alert_id=pk, user_id=user.pk, read_at=now) for pk in unread], ignore_conflicts=True
    )
    return len(unread)
