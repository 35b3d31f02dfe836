"""Every write of the reporting app: each function takes the acting user, asks the policy, runs in one
transaction and writes its audit row (before/after)."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, cast

from django.db import IntegrityError, transaction
from django.utils import timezone

from observatory import errors
from observatory.access import audit, policy
from observatory.reference.loading import normalize_label
from observatory.reference.models import Country, DrugAlias
from observatory.reporting import catalog
from observatory.reporting.kernels import cells as cellkit
from observatory.reporting.kernels.instrument import CellKey, Value, check_cell, describe_cell
from observatory.reporting.kernels.instrument import Instrument as KernelInstrument
from observatory.reporting.kernels.workbook import WorkbookError, parse_workbook
from observatory.reporting.models import (
    Instrument,
    Module,
    ModuleInvitation,
    Query,
    QueryMessage,
    Question,
    Submission,
    ValueSnapshot,
)
from observatory.reporting.models import Value as StoredValue

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from observatory.access.models import User

    Actor = User | AnonymousUser

Status = Submission.Status
ANNEX_SOURCE: Final = "UNODC World Drug Report 2025 annex 1.2"


class WorkflowError(Exception):
    """The operation is not possible in the submission's current state (locked, not a draft...)."""


class InvalidValues(Exception):
    """Values that do not fit their questions; nothing was saved. ``errors``: (cell id, reason)."""

    def __init__(self, errors: list[tuple[str, str]]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{cell}: {reason}" for cell, reason in errors[:5]))


@dataclass(frozen=True, slots=True)
class CellConflict:
    cell: str
    expected_version: int
    current_version: int
    current_value: str
    updated_by: str
    updated_at: str


class Conflict(errors.Conflict):
    """Someone changed the cell(s) since the caller read them; nothing was saved. Carries the cells, so
    the editor can show each one's current value beside the caller's."""

    def __init__(self, conflicts: list[CellConflict]) -> None:
        self.conflicts = conflicts
        super().__init__(
            "changed by someone else since you read it: " + ", ".join(c.cell for c in conflicts[:5])
        )


def _person(actor: Actor) -> User:
    """The signed-in user behind an action that names its author (queries, invitations)."""
    if not actor.is_authenticated:
        raise policy.PermissionDenied("reporting.view", "sign in first")
    return cast("User", actor)


# ----------------------------------------------------------------------------------------- instruments


@dataclass(frozen=True, slots=True)
class InstrumentSync:
    instrument: Instrument
    created: bool
    modules: int
    questions: int


def load_instruments() -> list[InstrumentSync]:
    """Mirror every shipped instrument definition into the tables. Idempotent; run by setup and demo."""
    return [sync_instrument(code, version) for code, version in catalog.SHIPPED]


def sync_instrument(code: str, version: str) -> InstrumentSync:
    definition = catalog.instrument(code, version)
    digest = catalog.definition_sha256(code, version)
    with transaction.atomic():
        row, created = Instrument.objects.get_or_create(
            code=code, version=version, defaults={"title": definition.title, "definition_sha256": digest}
        )
        if not created and row.definition_sha256 == digest and row.modules.count() == len(definition.modules):
            return InstrumentSync(row, False, 0, 0)
        row.title, row.definition_sha256 = definition.title, digest
        row.save()
        modules = questions = 0
        for position, module in enumerate(definition.modules):
            module_row, _ = Module.objects.update_or_create(
                instrument=row,
                code=module.code,
                defaults={
                    "title": module.title,
                    "part": module.part,
                    "sheet": module.sheet,
                    "position": position,
                },
            )
            modules += 1
            for q_position, question in enumerate(module.questions):
                Question.objects.update_or_create(
                    instrument=row,
                    code=question.code,
                    defaults={
                        "module": module_row,
                        "label": question.label,
                        "value_type": question.value_type,
                        "unit": question.unit,
                        "mandatory": question.mandatory,
                        "dimensions": [
                            {"dimension": qd.code, "codes": list(qd.codes), "required": list(qd.required)}
                            for qd in question.dimensions
                        ],
                        "options": [{"code": o.code, "label": o.label} for o in question.options],
                        "position": q_position,
                    },
                )
                questions += 1
        audit.record(
            None,
            "reporting.instrument.sync",
            "instrument",
            row.pk,
            after={
                "code": code,
                "version": version,
                "sha256": digest,
                "modules": modules,
                "questions": questions,
            },
        )
    return InstrumentSync(row, created, modules, questions)


def current_instrument() -> Instrument:
    code, version = catalog.CURRENT
    row = Instrument.objects.filter(code=code, version=version).first()
    return row if row is not None else sync_instrument(code, version).instrument


def kernel_of(submission: Submission) -> KernelInstrument:
    return catalog.instrument(submission.instrument.code, submission.instrument.version)


# ----------------------------------------------------------------------------------------- submissions

_SUBMISSION_FIELDS: Final = ["status", "status_reason", "submitted_by", "approved_by"]


def open_submission(actor: Actor, country: Country, year: int) -> Submission:
    """The country's questionnaire for the year (created as a draft the first time)."""
    policy.require(actor, "reporting.edit", country)
    instrument = current_instrument()
    with transaction.atomic():
        submission, created = Submission.objects.get_or_create(
            country=country,
            year=year,
            instrument=instrument,
            origin=Submission.Origin.QUESTIONNAIRE,
            defaults={"created_by": actor if actor.is_authenticated else None},
        )
        if created:
            audit.record(
                actor,
                "reporting.submission.create",
                "submission",
                submission.pk,
                country_iso3=country.iso3,
                after={"year": year, "instrument": str(instrument), "status": submission.status},
            )
    return submission


def editable_modules(actor: Actor, submission: Submission) -> frozenset[str] | None:
    """Modules the actor may fill (None: all of them); raise when they may not edit at all."""
    policy.require(actor, "reporting.edit", submission.country_id)
    if submission.origin != Submission.Origin.QUESTIONNAIRE:
        raise WorkflowError("historical series are read-only")
    if submission.status != Status.DRAFT:
        raise WorkflowError(
            "the submission is approved and locked"
            if submission.locked
            else f"the submission is {submission.get_status_display()}: only a draft can be changed"
        )
    invitation = ModuleInvitation.objects.filter(submission=submission, invitee_id=actor.pk).first()
    return frozenset(invitation.modules) if invitation is not None else None


@dataclass(frozen=True, slots=True)
class CellChange:
    """A cell as the caller wants it: raw input ('' or None clears it) and the version they read (0: none)."""

    key: CellKey
    raw: str | int | float | None
    version: int
    comment: str | None = None
    source: str | None = None
    method: str | None = None
    adjustment_codes: Sequence[str] | None = None


@dataclass(frozen=True, slots=True)
class SavedCell:
    cell: str
    version: int  # 0 when the cell was cleared
    value: str


def save_values(actor: Actor, submission: Submission, changes: Sequence[CellChange]) -> list[SavedCell]:
    """Save cells of a draft; all or nothing. A stale version raises Conflict, bad input InvalidValues."""
    allowed_modules = editable_modules(actor, submission)
    kernel = kernel_of(submission)
    parsed: list[tuple[CellChange, Value | None]] = []
    errors: list[tuple[str, str]] = []
    seen: set[CellKey] = set()
    for change in changes:
        cell = cellkit.cell_id(change.key)
        problem = check_cell(kernel, change.key)
        if problem:
            errors.append((cell, problem))
            continue
        if change.key in seen:
            errors.append((cell, "the same cell is given twice"))
            continue
        seen.add(change.key)
        question = kernel.question(change.key[0])
        if allowed_modules is not None and question.module_code not in allowed_modules:
            errors.append((cell, f"you were invited to fill {', '.join(sorted(allowed_modules))} only"))
            continue
        raw = change.raw
        text = "" if raw is None else (repr(raw) if isinstance(raw, float) else str(raw))
        if isinstance(raw, bool):
            errors.append((cell, "true/false is not a value"))
            continue
        value = cellkit.parse_input(question, text)
        if isinstance(value, cellkit.InputError):
            errors.append((cell, value.reason))
            continue
        parsed.append((change, value))
    if errors:
        raise InvalidValues(errors)
    return _write_cells(actor, submission, parsed, kernel, action="reporting.values.save")


def _write_cells(
    actor: Actor,
    submission: Submission,
    parsed: Sequence[tuple[CellChange, Value | None]],
    kernel: KernelInstrument,
    *,
    action: str,
    check_versions: bool = True,
) -> list[SavedCell]:
    user = actor if actor.is_authenticated else None
    saved: list[SavedCell] = []
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    now = timezone.now()
    with transaction.atomic():
        # One writer per submission at a time on PostgreSQL; SQLite serialises writers anyway.
        Submission.objects.select_for_update().filter(pk=submission.pk).values_list("pk").first()
        existing = {
            (row.question, row.dims): row
            for row in StoredValue.objects.filter(
                submission=submission,
                entry=0,
                question__in={change.key[0] for change, _ in parsed},
            ).select_related("updated_by")
        }
        conflicts: list[CellConflict] = []
        for change, _ in parsed:
            row = existing.get((change.key[0], cellkit.dims_string(change.key[1])))
            current = row.version if row is not None else 0
            if check_versions and current != change.version:
                conflicts.append(_conflict(submission, change, row, kernel))
        if conflicts:
            raise Conflict(conflicts)
        for change, value in parsed:
            dims = cellkit.dims_string(change.key[1])
            cell = cellkit.cell_id(change.key)
            row = existing.get((change.key[0], dims))
            if value is None:
                if row is not None:
                    before[cell] = row.value
                    after[cell] = None
                    # Conditional delete: a concurrent writer that got here first makes this a conflict.
                    deleted, _ = StoredValue.objects.filter(pk=row.pk, version=row.version).delete()
                    if not deleted and check_versions:
                        raise Conflict([_conflict(submission, change, row, kernel)])
                saved.append(SavedCell(cell, 0, ""))
                continue
            encoded = cellkit.encode(value)
            meta = {
                name: getattr(change, name)
                for name in ("comment", "source", "method")
                if getattr(change, name) is not None
            }
            if change.adjustment_codes is not None:
                meta["adjustment_codes"] = list(change.adjustment_codes)
            if row is None:
                try:
                    with transaction.atomic():
                        created = StoredValue.objects.create(
                            submission=submission, question=change.key[0], dims=dims, entry=0,
                            value=encoded, updated_by=user, version=1, **meta,
                        )  # fmt: skip
                except IntegrityError:
                    raise Conflict([_conflict(submission, change, None, kernel)]) from None
                before[cell], after[cell] = None, encoded
                saved.append(SavedCell(cell, created.version, cellkit.display(value)))
                continue
            unchanged = row.value == encoded and all(getattr(row, k) == v for k, v in meta.items())
            if unchanged:
                saved.append(SavedCell(cell, row.version, cellkit.display(value)))
                continue
            updated = StoredValue.objects.filter(pk=row.pk, version=row.version).update(
                value=encoded,
                previous=row.value,
                updated_by=user,
                updated_at=now,
                version=row.version + 1,
                **meta,
            )
            if not updated and check_versions:
                raise Conflict([_conflict(submission, change, row, kernel)])
            before[cell], after[cell] = row.value, encoded
            saved.append(SavedCell(cell, row.version + 1, cellkit.display(value)))
        if after:
            _change_snapshot(submission.pk, after)
            audit.record(
                actor, action, "submission", submission.pk, country_iso3=submission.country.iso3,
                before=before, after=after,
            )  # fmt: skip
    return saved


def _change_snapshot(submission_id: int, changes: dict[str, Any]) -> None:
    """Apply changed cells ({cell id: stored value or None}) to the submission's snapshot (in the caller's
    transaction, after the rows changed); rebuild it from the rows when it does not exist yet."""
    found = ValueSnapshot.objects.filter(submission_id=submission_id).values_list("cells", "values").first()
    if found is None:
        refresh_snapshots([submission_id])
        return
    snapshot = cellkit.snapshot_changed(found[0], found[1], changes)
    ValueSnapshot.objects.filter(submission_id=submission_id).update(
        layout=snapshot.layout, cells=snapshot.cells, values=snapshot.values
    )


def refresh_snapshots(submission_ids: Iterable[int], *, chunk: int = 500) -> None:
    """Rebuild the value snapshots of these submissions from their entry-0 rows.

    Call it inside the transaction that changed the rows, so readers never see one without the other.
    """
    ids = sorted(set(submission_ids))
    for start in range(0, len(ids), chunk):
        part = ids[start : start + chunk]
        rows: dict[int, list[tuple[str, str, Any]]] = {pk: [] for pk in part}
        for submission_id, question, dims, raw in StoredValue.objects.filter(
            submission_id__in=part, entry=0
        ).values_list("submission_id", "question", "dims", "value"):
            rows[submission_id].append((question, dims, raw))
        snapshots = []
        for pk, cells in rows.items():
            snapshot = cellkit.snapshot_of(cells)
            snapshots.append(
                ValueSnapshot(
                    submission_id=pk, layout=snapshot.layout, cells=snapshot.cells, values=snapshot.values
                )
            )
        ValueSnapshot.objects.bulk_create(
            snapshots,
            update_conflicts=True,
            unique_fields=["submission"],
            update_fields=["layout", "cells", "values"],
        )


def _conflict(
    submission: Submission, change: CellChange, row: StoredValue | None, kernel: KernelInstrument
) -> CellConflict:
    fresh = (
        StoredValue.objects.select_related("updated_by").filter(pk=row.pk).first()
        if row is not None
        else None
    )
    if fresh is None and row is None:
        fresh = (
            StoredValue.objects.select_related("updated_by")
            .filter(
                submission=submission,
                question=change.key[0],
                dims=cellkit.dims_string(change.key[1]),
                entry=0,
            )
            .first()
        )
    return CellConflict(
        cell=cellkit.cell_id(change.key),
        expected_version=change.version,
        current_version=fresh.version if fresh is not None else 0,
        current_value=cellkit.display(cellkit.decode(fresh.value), kernel.question(change.key[0]))
        if fresh is not None
        else "",
        updated_by=str(fresh.updated_by) if fresh is not None and fresh.updated_by is not None else "",
        updated_at=fresh.updated_at.isoformat() if fresh is not None else "",
    )


# ------------------------------------------------------------------------------------------- workflow


@dataclass(frozen=True, slots=True)
class Transition:
    name: str
    label: str
    sources: frozenset[str]
    target: str
    verb: str
    needs_reason: bool = False


TRANSITIONS: Final[dict[str, Transition]] = {
    t.name: t
    for t in (
        Transition(
            "submit", "Submit to the office", frozenset({Status.DRAFT}), Status.SUBMITTED, "reporting.submit"
        ),
        Transition(
            "start_review",
            "Start review",
            frozenset({Status.SUBMITTED}),
            Status.UNDER_REVIEW,
            "reporting.review",
        ),
        Transition(
            "send_back",
            "Send back to the country",
            frozenset({Status.SUBMITTED, Status.UNDER_REVIEW, Status.VALIDATED}),
            Status.DRAFT,
            "reporting.review",
            needs_reason=True,
        ),
        Transition(
            "validate", "Validate", frozenset({Status.UNDER_REVIEW}), Status.VALIDATED, "reporting.review"
        ),
        Transition(
            "approve", "Approve and lock", frozenset({Status.VALIDATED}), Status.APPROVED, "reporting.approve"
        ),
        Transition(
            "reopen",
            "Reopen",
            frozenset({Status.APPROVED}),
            Status.UNDER_REVIEW,
            "reporting.approve",
            needs_reason=True,
        ),
    )
}


def _own_submission(actor: Actor, submission: Submission) -> bool:
    """A provider of the country (or whoever submitted it) approving it would approve their own."""
    return (
        submission.submitted_by_id is not None and submission.submitted_by_id == actor.pk
    ) or policy.allows(actor, "reporting.edit", submission.country_id)


def allowed_transitions(actor: Actor, submission: Submission) -> list[Transition]:
    """The transitions the actor may take now (the buttons a page shows)."""
    if submission.origin != Submission.Origin.QUESTIONNAIRE:
        return []
    result = []
    for transition in TRANSITIONS.values():
        if submission.status not in transition.sources:
            continue
        if not policy.allows(actor, transition.verb, submission.country_id):
            continue
        if transition.name == "approve" and _own_submission(actor, submission):
            continue
        result.append(transition)
    return result


def transition(actor: Actor, submission: Submission, name: str, reason: str = "") -> Submission:
    """Move the submission along the workflow table; refused moves change nothing."""
    try:
        step = TRANSITIONS[name]
    except KeyError:
        raise WorkflowError(f"unknown transition {name!r}") from None
    policy.require(actor, step.verb, submission.country_id)
    if name == "approve" and _own_submission(actor, submission):
        raise policy.PermissionDenied("reporting.approve", "you cannot approve your own country's submission")
    reason = reason.strip()
    if step.needs_reason and not reason:
        raise WorkflowError(f"{step.label} needs a reason")
    with transaction.atomic():
        locked = Submission.objects.select_for_update().select_related("country").get(pk=submission.pk)
        if locked.origin != Submission.Origin.QUESTIONNAIRE:
            raise WorkflowError("historical series are read-only")
        if locked.status not in step.sources:
            raise WorkflowError(
                f"cannot {step.label.lower()} a submission that is {locked.get_status_display()}"
            )
        before = audit.snapshot(locked, _SUBMISSION_FIELDS)
        locked.status = step.target
        locked.status_reason = reason
        locked.status_changed_at = timezone.now()
        if name == "submit":
            locked.submitted_by, locked.submitted_at = actor, timezone.now()  # type: ignore[assignment]
        elif name == "approve":
            locked.approved_by, locked.approved_at = actor, timezone.now()  # type: ignore[assignment]
        elif name == "reopen":
            locked.approved_by, locked.approved_at = None, None
        locked.save()
        audit.record(
            actor, f"reporting.submission.{name}", "submission", locked.pk, country_iso3=locked.country.iso3,
            before=before, after=audit.snapshot(locked, _SUBMISSION_FIELDS), reason=reason,
        )  # fmt: skip
    submission.refresh_from_db()
    return submission


@dataclass(frozen=True, slots=True)
class BulkOutcome:
    submission_id: int
    approved: bool
    reason: str = ""


def bulk_approve(actor: Actor, submission_ids: Iterable[int]) -> list[BulkOutcome]:
    """Approve each validated submission the actor may approve; each one on its own, reasons for refusals."""
    policy.require(actor, "reporting.approve")
    outcomes = []
    for submission_id in sorted(set(submission_ids)):
        submission = (
            Submission.objects.select_related("country", "instrument").filter(pk=submission_id).first()
        )
        if submission is None:
            outcomes.append(BulkOutcome(submission_id, False, "no such submission"))
            continue
        try:
            transition(actor, submission, "approve")
        except (WorkflowError, policy.PermissionDenied) as error:
            outcomes.append(BulkOutcome(submission_id, False, str(error)))
        else:
            outcomes.append(BulkOutcome(submission_id, True))
    return outcomes


# --------------------------------------------------------------------------------------------- queries


def raise_query(actor: Actor, submission: Submission, key: CellKey, text: str) -> Query:
    policy.require(actor, "reporting.review", submission.country_id)
    if submission.origin != Submission.Origin.QUESTIONNAIRE:
        raise WorkflowError("historical series cannot be queried")
    problem = check_cell(kernel_of(submission), key)
    if problem:
        raise WorkflowError(problem)
    text = text.strip()
    if not text:
        raise WorkflowError("a query needs a message")
    with transaction.atomic():
        query = Query.objects.create(
            submission=submission, question=key[0], dims=cellkit.dims_string(key[1]), raised_by=_person(actor)
        )
        QueryMessage.objects.create(query=query, author=_person(actor), text=text)
        audit.record(
            actor, "reporting.query.raise", "query", query.pk, country_iso3=submission.country.iso3,
            after={"submission": submission.pk, "cell": describe_cell(key), "text": text},
        )  # fmt: skip
    return query


def reply_to_query(actor: Actor, query: Query, text: str) -> Query:
    """A provider's answer (the query becomes answered) or the analyst's follow-up (open again)."""
    country_id = query.submission.country_id
    provider = policy.allows(actor, "reporting.edit", country_id)
    if not provider:
        policy.require(actor, "reporting.review", country_id)
    if query.status == Query.Status.CLOSED:
        raise WorkflowError("the query is closed")
    text = text.strip()
    if not text:
        raise WorkflowError("a reply needs a message")
    with transaction.atomic():
        before = query.status
        query.status = Query.Status.ANSWERED if provider else Query.Status.OPEN
        query.save()
        QueryMessage.objects.create(query=query, author=_person(actor), text=text)
        audit.record(
            actor, "reporting.query.reply", "query", query.pk, country_iso3=query.submission.country.iso3,
            before={"status": before}, after={"status": query.status, "text": text},
        )  # fmt: skip
    return query


def close_query(actor: Actor, query: Query) -> Query:
    policy.require(actor, "reporting.review", query.submission.country_id)
    with transaction.atomic():
        before = query.status
        query.status = Query.Status.CLOSED
        query.save()
        audit.record(
            actor, "reporting.query.close", "query", query.pk, country_iso3=query.submission.country.iso3,
            before={"status": before}, after={"status": query.status},
        )  # fmt: skip
    return query


# ----------------------------------------------------------------------------------------- invitations


def invite_provider(
    actor: Actor, submission: Submission, invitee: User, modules: Sequence[str], message: str = ""
) -> ModuleInvitation:
    """The focal point asks another provider of the country to fill the given modules."""
    policy.require(actor, "reporting.submit", submission.country_id)
    if invitee.pk == actor.pk:
        raise WorkflowError("you cannot invite yourself")
    if not policy.allows(invitee, "reporting.edit", submission.country_id):
        raise WorkflowError(f"{invitee} is not a data provider of {submission.country.name}")
    known = {module.code for module in kernel_of(submission).modules}
    unknown = sorted(set(modules) - known)
    if unknown or not modules:
        raise WorkflowError(f"unknown or no modules: {', '.join(unknown) or '(none)'}")
    with transaction.atomic():
        invitation, created = ModuleInvitation.objects.update_or_create(
            submission=submission,
            invitee=invitee,
            defaults={
                "modules": sorted(set(modules)),
                "invited_by": _person(actor),
                "message": message.strip(),
            },
        )
        audit.record(
            actor, "reporting.invitation.save", "invitation", invitation.pk,
            country_iso3=submission.country.iso3,
            after={"invitee": invitee.pk, "modules": invitation.modules, "created": created},
        )  # fmt: skip
    return invitation


# -------------------------------------------------------------------------------------------- workbook


@dataclass(frozen=True, slots=True)
class UploadResult:
    errors: tuple[WorkbookError, ...]
    saved: int = 0
    cleared: int = 0

    @property
    def ok(self) -> bool:
        return not self.errors


def upload_workbook(actor: Actor, submission: Submission, data: bytes) -> UploadResult:
    """Store the whole workbook or nothing: its cells replace those of the modules the actor may fill."""
    allowed_modules = editable_modules(actor, submission)
    kernel = kernel_of(submission)
    result = parse_workbook(data, kernel, submission.country.iso3, submission.year)
    if not result.ok or result.values is None:
        return UploadResult(result.errors)
    existing = {
        cellkit.key_of(row.question, row.dims): cellkit.decode(row.value)
        for row in StoredValue.objects.filter(submission=submission, entry=0)
    }
    errors: list[WorkbookError] = []
    changes: list[tuple[CellChange, Value | None]] = []
    for key in set(existing) | set(result.values):
        new = result.values.get(key)
        if new == existing.get(key):
            continue
        question = kernel.question(key[0])
        if allowed_modules is not None and question.module_code not in allowed_modules:
            module = kernel.module(question.module_code)
            errors.append(
                WorkbookError(
                    module.sheet, "", f"you were invited to fill other modules; {describe_cell(key)} changed"
                )
            )
            continue
        changes.append((CellChange(key, None, 0), new))
    if errors:
        return UploadResult(tuple(errors))
    saved = _write_cells(
        actor, submission, changes, kernel, action="reporting.values.upload", check_versions=False
    )
    return UploadResult((), sum(1 for s in saved if s.version), sum(1 for s in saved if not s.version))


# ------------------------------------------------------------------------------ annex 1.2 (historical)


@dataclass
class SheetImport:
    sheet: str
    layout: str
    records: int = 0  # parsed by the annex parser
    imported: int = 0  # records stored (now or by an earlier import)
    values_created: int = 0
    skipped: Counter[str] = field(default_factory=Counter)


@dataclass(frozen=True, slots=True)
class AnnexImport:
    sheets: tuple[SheetImport, ...]
    submissions_created: int
    values_created: int


# Sub-national survey areas of the annex, stored under their country with the area kept as reported.
SUBNATIONAL_AREAS: Final = {
    "united kingdom (england and wales)": "GBR",
    "united kingdom (england)": "GBR",
    "united kingdom (northern ireland)": "GBR",
    "united kingdom (scotland)": "GBR",
}
_PERIOD_GROUP: Final = {"lifetime": "Lifetime", "past_year": "Past year", "past_month": "Past Month"}


def _country_lookup() -> dict[str, int]:
    lookup: dict[str, int] = {}
    for pk, iso3, name, name_wdr in Country.objects.values_list("pk", "iso3", "name", "name_wdr"):
        lookup[normalize_label(name)] = pk
        if name_wdr:
            lookup[normalize_label(name_wdr)] = pk
        lookup[iso3.casefold()] = pk
    by_iso3 = dict(Country.objects.values_list("iso3", "pk"))
    for area, iso3 in SUBNATIONAL_AREAS.items():
        if iso3 in by_iso3:
            lookup[normalize_label(area)] = by_iso3[iso3]
    return lookup


def _taxonomy_code(label: str) -> str:
    """The drug taxonomy node behind a sheet's label, through the reference alias table."""
    alias = DrugAlias.objects.filter(normalized=normalize_label(label)).values_list(
        "drug__code", "subgroup__code", "group__code"
    )
    for codes in alias:
        return next((code for code in codes if code), "")
    return ""


def import_annex_prevalence(actor: Actor | None, path: Path | str, *, system: bool = False) -> AnnexImport:
    """Store every record of annex 1.2 as the countries' published series (idempotent)."""
    from observatory.reference.annex.prevalence import parse_general_population

    if not system:
        policy.require(actor, "reporting.approve")
    parse = parse_general_population(path)
    instrument = current_instrument()
    columns: dict[str, dict[str, CellKey]] = defaultdict(dict)
    for legacy in catalog.legacy_columns():
        if legacy.source == "wdr_annex_1_2" and legacy.cell is not None:
            columns[legacy.sheet][legacy.column] = legacy.cell
    countries = _country_lookup()
    taxonomy = {sheet.sheet: _taxonomy_code(sheet.sheet) for sheet in parse.sheets}
    reports = {sheet.sheet: SheetImport(sheet.sheet, sheet.layout, sheet.records) for sheet in parse.sheets}

    planned: list[tuple[tuple[int, int], str, StoredValue]] = []  # ((country, year), sheet, value)
    entries: Counter[tuple[int, int, str, str]] = Counter()
    for record in parse.records:
        report = reports[record.sheet]
        country_id = countries.get(normalize_label(record.country))
        if country_id is None:
            report.skipped[f"country {record.country!r} is not in the reference table"] += 1
            continue
        if record.year is None:
            report.skipped["no year"] += 1
            continue
        sheet_columns = columns.get(record.sheet)
        if sheet_columns is None:
            report.skipped["sheet has no mapping onto the instrument"] += 1
            continue
        if record.layout == "nps_by_recall_period":
            group = _PERIOD_GROUP[record.recall_period]
            figures = {
                f"{group}/Total": record.best,
                f"{group}/Male": record.male,
                f"{group}/Female": record.female,
            }
        else:
            figures = {
                record.value_column: record.best, "Low": record.low, "High": record.high,
                "Male": record.male, "Female": record.female,
            }  # fmt: skip
        non_numeric = dict(record.non_numeric)
        text_by_column = {
            "Best": non_numeric.get("best"), "Total": non_numeric.get("total"), "Low": non_numeric.get("low"),
            "High": non_numeric.get("high"), "Male": non_numeric.get("male"), "Female": non_numeric.get("female"),
        }  # fmt: skip
        if record.layout == "nps_by_recall_period":
            period = {"lifetime": "lifetime", "past_year": "pastyear", "past_month": "pastmonth"}[
                record.recall_period
            ]
            text_by_column = {
                f"{group}/{sex.title()}": non_numeric.get(f"{period}.{sex}")
                for sex in ("total", "male", "female")
            }
        area = record.country if normalize_label(record.country) in SUBNATIONAL_AREAS else None
        stored_any = False
        for column, number in figures.items():
            key = sheet_columns.get(column)
            reported: float | str | None = number if number is not None else text_by_column.get(column)
            if key is None or reported is None:
                continue
            dims = cellkit.dims_string(key[1])
            entry_key = (country_id, record.year, key[0], dims)
            entry = entries[entry_key]
            entries[entry_key] += 1
            planned.append(
                (
                    (country_id, record.year),
                    record.sheet,
                    StoredValue(
                        question=key[0], dims=dims, entry=entry, value=reported,
                        comment=record.notes or "", source=record.source_label or "",
                        method=record.method or "", adjustment_codes=list(record.adjustment_codes),
                        provenance={
                            "file": record.source.file, "sheet": record.sheet, "row": record.source.row,
                            "column": column, "year_reported": record.year_reported,
                            "age_range": record.age_range, "substance": record.substance,
                            "nps_type": record.nps_type, "area": area, "region": record.region,
                            "subregion": record.subregion, "taxonomy": taxonomy.get(record.sheet, ""),
                            "adjustment_reported": record.adjustment_reported,
                        },
                    ),
                )
            )  # fmt: skip
            stored_any = True
        if stored_any:
            report.imported += 1
        else:
            report.skipped["no value in a mapped column"] += 1

    with transaction.atomic():
        wanted = {country_year for country_year, _, _ in planned}
        existing = {
            (s.country_id, s.year): s.pk
            for s in Submission.objects.filter(instrument=instrument, origin=Submission.Origin.ANNEX_1_2)
        }
        missing = [
            Submission(
                country_id=country_id,
                year=year,
                instrument=instrument,
                origin=Submission.Origin.ANNEX_1_2,
                status=Status.APPROVED,
                source=ANNEX_SOURCE,
                approved_at=timezone.now(),
            )
            for country_id, year in sorted(wanted - set(existing))
        ]
        Submission.objects.bulk_create(missing, batch_size=500)
        if missing:
            existing = {
                (s.country_id, s.year): s.pk
                for s in Submission.objects.filter(instrument=instrument, origin=Submission.Origin.ANNEX_1_2)
            }
        present = set(
            StoredValue.objects.filter(submission__origin=Submission.Origin.ANNEX_1_2).values_list(
                "submission_id", "question", "dims", "entry"
            )
        )
        new_values: list[StoredValue] = []
        for country_year, sheet, value in planned:
            value.submission_id = existing[country_year]
            if (value.submission_id, value.question, value.dims, value.entry) in present:
                continue
            new_values.append(value)
            reports[sheet].values_created += 1
        StoredValue.objects.bulk_create(new_values, batch_size=1000)
        refresh_snapshots({value.submission_id for value in new_values})
        outcome = AnnexImport(tuple(reports.values()), len(missing), len(new_values))
        audit.record(
            actor, "reporting.annex.import", "annex", "1.2",
            after={
                "file": Path(path).name, "submissions_created": len(missing), "values_created": len(new_values),
                "sheets": {s.sheet: {"records": s.records, "imported": s.imported, "values_created": s.values_created,
                                     "skipped": dict(s.skipped)} for s in outcome.sheets},
            },
        )  # fmt: skip
    return outcome


def shipped_annex_path() -> Path:
    return Path(__file__).resolve().parent / "data" / ANNEX_FILE_NAME


ANNEX_FILE_NAME: Final = "1.2_Prevalence_of_drug_use_in_the_general_population_national_data.xlsx"
