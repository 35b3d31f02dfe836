"""Every write of early-warning data: check the policy, write in one transaction with its audit row,
send follow-up mail on commit.

Reporting an identification standardises the structure with the chemistry kernel (parent of a salt or
mixture, neutralised, canonical tautomer; stereo kept): a known InChIKey merges the report into the
existing registry entry (new names become synonyms, never a duplicate substance); an unknown one
creates a registry entry classified by the class rules. Enantiomers are distinct entries (the full
InChIKey is the identity); their shared skeleton is shown as "stereo-related".
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core import mail
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from observatory.access import audit, policy
from observatory.access.models import Assignment, Role
from observatory.earlywarning import queries
from observatory.earlywarning.chemistry.classes import ClassAssignment, SubstanceGroup, classify
from observatory.earlywarning.chemistry.search import fingerprint_words
from observatory.earlywarning.chemistry.structures import (
    StandardStructure,
    StructureParseError,
    parse_structure,
)
from observatory.earlywarning.models import (
    Alert,
    AlertRecipient,
    CountryRule,
    EffectGroup,
    Identification,
    Substance,
    SubstanceVersion,
)
from observatory.errors import Conflict, InvalidInput
from observatory.reference.models import Country

if TYPE_CHECKING:
    from observatory.access.policy import Actor

log = logging.getLogger(__name__)

SUBSTANCE_FIELDS = [
    "inchikey",
    "canonical_smiles",
    "formula",
    "name",
    "synonyms",
    "cas",
    "substance_group",
    "class_rule",
    "effect_group",
    "status",
    "version",
]

# Default effect group where the structural group implies it; otherwise "not yet assigned".
EFFECT_BY_GROUP: dict[str, str] = {
    SubstanceGroup.SYNTHETIC_CANNABINOIDS.value: EffectGroup.SYNTHETIC_CANNABINOIDS,
    SubstanceGroup.SYNTHETIC_CATHINONES.value: EffectGroup.STIMULANTS,
    SubstanceGroup.PIPERAZINES.value: EffectGroup.STIMULANTS,
    SubstanceGroup.AMINOINDANES.value: EffectGroup.STIMULANTS,
    SubstanceGroup.TRYPTAMINES.value: EffectGroup.CLASSIC_HALLUCINOGENS,
    SubstanceGroup.PHENCYCLIDINE_TYPE.value: EffectGroup.DISSOCIATIVES,
    SubstanceGroup.FENTANYL_AND_OPIOIDS.value: EffectGroup.OPIOIDS,
    SubstanceGroup.NITAZENES.value: EffectGroup.OPIOIDS,
    SubstanceGroup.BENZODIAZEPINES.value: EffectGroup.SEDATIVES_HYPNOTICS,
}

MAX_NAMES = 20
MAX_MZ_VALUES = 200


def _now() -> dt.datetime:
    return timezone.now()


def resolve_country(iso3: str, field_name: str = "country") -> Country:
    country = Country.objects.filter(iso3=(iso3 or "").strip().upper()).first()
    if country is None:
        raise InvalidInput(field_name, f"unknown country {iso3!r} (ISO 3166-1 alpha-3)")
    return country


def standardise(text: str, structure_format: str | None = None) -> StandardStructure:
    """Parse and standardise a structure; unparsable input → InvalidInput('structure', reason)."""
    if structure_format not in (None, "", "smiles", "molfile"):
        raise InvalidInput("structure_format", "must be 'smiles' or 'molfile'")
    try:
        return parse_structure(text, structure_format or None)  # type: ignore[arg-type]
    except StructureParseError as error:
        raise InvalidInput("structure", str(error)) from error


def clean_names(names: Iterable[str]) -> list[str]:
    seen: dict[str, str] = {}
    for raw in names:
        name = " ".join(str(raw).split())[:200]
        if name and name.casefold() not in seen:
            seen[name.casefold()] = name
    if len(seen) > MAX_NAMES:
        raise InvalidInput("names", f"at most {MAX_NAMES} names")
    return list(seen.values())


def parse_mz_list(text: str) -> list[float]:
    """'214.1, 119.0 91' → [214.1, 119.0, 91.0]; anything else is refused with the offending token."""
    values: list[float] = []
    for token in text.replace(";", " ").replace(",", " ").split():
        try:
            value = float(token)
        except ValueError as error:
            raise InvalidInput("mz", f"{token!r} is not a number") from error
        if not math.isfinite(value) or value <= 0 or value > 5000:
            raise InvalidInput("mz", f"{token} is not an m/z value between 0 and 5000")
        values.append(value)
    if len(values) > MAX_MZ_VALUES:
        raise InvalidInput("mz", f"at most {MAX_MZ_VALUES} values")
    return values


# Registry ------------------------------------------------------------------------------------------


def _version(entry: Substance, change: str, actor: Actor | None, reason: str = "") -> None:
    SubstanceVersion.objects.create(
        substance=entry,
        version=entry.version,
        change=change,
        data=audit.snapshot(entry, SUBSTANCE_FIELDS),
        reason=reason,
        changed_by=actor if actor is not None and actor.is_authenticated else None,
        changed_at=_now(),
    )


def _new_substance(
    structure: StandardStructure,
    names: list[str],
    cas: str,
    effect_group: str,
    actor: Actor | None,
) -> tuple[Substance, bool]:
    """Create the registry entry, or return the one another writer created meanwhile (same InChIKey)."""
    assignment: ClassAssignment = classify(structure.mol)
    now = _now()
    entry = Substance(
        inchikey=structure.inchikey,
        connectivity_key=structure.connectivity_key,
        canonical_smiles=structure.canonical_smiles,
        inchi=structure.inchi,
        formula=structure.formula,
        exact_mass=structure.exact_mass,
        average_mass=structure.average_mass,
        fingerprint=queries.fingerprint_bytes(fingerprint_words(structure.mol)),
        name=names[0] if names else f"Unnamed substance {structure.connectivity_key}",
        synonyms=names[1:],
        cas=cas,
        substance_group=assignment.group.value,
        class_rule=assignment.rule_id,
        class_reason=assignment.reason[:400],
        effect_group=effect_group or EFFECT_BY_GROUP.get(assignment.group.value, EffectGroup.NOT_ASSIGNED),
        created_at=now,
        updated_at=now,
    )
    try:
        with transaction.atomic():
            entry.save(force_insert=True)
    except IntegrityError:
        existing = Substance.objects.select_for_update().get(inchikey=structure.inchikey)
        return existing, False
    _version(entry, "created", actor)
    audit.record(
        actor,
        "earlywarning.substance.create",
        "substance",
        entry.pk,
        after=audit.snapshot(entry, SUBSTANCE_FIELDS),
        reason=f"class {assignment.rule_id}: {assignment.reason}"[:500],
    )
    return entry, True


def _merge_into(entry: Substance, names: list[str], cas: str, actor: Actor | None, why: str) -> list[str]:
    """Add new names (as synonyms) and a missing CAS number; reinstate a retracted entry. Returns changes."""
    before = audit.snapshot(entry, SUBSTANCE_FIELDS)
    known = {n.casefold() for n in entry.names}
    added = [n for n in names if n.casefold() not in known]
    changes: list[str] = []
    if added:
        entry.synonyms = [*entry.synonyms, *added]
        changes.append("names added: " + ", ".join(added))
    if cas and not entry.cas:
        entry.cas = cas
        changes.append(f"CAS {cas}")
    if entry.status == Substance.Status.RETRACTED:
        entry.status = Substance.Status.ACTIVE
        changes.append("reinstated: identified again")
    if changes:
        entry.version += 1
        entry.updated_at = _now()
        entry.save(update_fields=["synonyms", "cas", "status", "version", "updated_at"])
        _version(entry, "merged", actor, f"{why}: {'; '.join(changes)}")
        audit.record(
            actor,
            "earlywarning.substance.update",
            "substance",
            entry.pk,
            before=before,
            after=audit.snapshot(entry, SUBSTANCE_FIELDS),
            reason=f"{why}: {'; '.join(changes)}"[:500],
        )
    return changes


def register_substance(
    actor: Actor | None,
    structure_text: str,
    names: Sequence[str],
    *,
    cas: str = "",
    effect_group: str = "",
    system: bool = False,
) -> tuple[Substance, bool]:
    """Add a reference entry to the registry (office, or the system for demonstration data)."""
    if not system:
        policy.require(actor, "earlywarning.alert")
        if not policy.allows_globally(actor, "earlywarning.alert"):
            raise policy.PermissionDenied(
                "earlywarning.alert", "the registry is global: needs a global scope"
            )
    if effect_group and effect_group not in EffectGroup.values:
        raise InvalidInput("effect_group", f"unknown effect group {effect_group!r}")
    structure = standardise(structure_text)
    clean = clean_names(names)
    with transaction.atomic():
        entry = Substance.objects.select_for_update().filter(inchikey=structure.inchikey).first()
        if entry is not None:
            _merge_into(entry, clean, cas.strip(), actor, "registered again")
            return entry, False
        return _new_substance(structure, clean, cas.strip(), effect_group, actor)


def update_substance(
    actor: Actor | None,
    entry: Substance,
    *,
    name: str | None = None,
    synonyms: Sequence[str] | None = None,
    cas: str | None = None,
    effect_group: str | None = None,
    reason: str,
) -> Substance:
    """Curate a registry entry's names, CAS number or effect group (global office); a new version.

    The chemical identity (structure, InChIKey) and the class assigned by the rules are not editable."""
    policy.require(actor, "earlywarning.alert")
    if not policy.allows_globally(actor, "earlywarning.alert"):
        raise policy.PermissionDenied("earlywarning.alert", "the registry is global: needs a global scope")
    if not reason.strip():
        raise InvalidInput("reason", "a change needs a reason")
    if effect_group is not None and effect_group not in EffectGroup.values:
        raise InvalidInput("effect_group", f"unknown effect group {effect_group!r}")
    if name is not None and not name.strip():
        raise InvalidInput("name", "cannot be empty")
    with transaction.atomic():
        locked = Substance.objects.select_for_update().get(pk=entry.pk, status=Substance.Status.ACTIVE)
        before = audit.snapshot(locked, SUBSTANCE_FIELDS)
        if name is not None:
            locked.name = " ".join(name.split())[:200]
        if synonyms is not None:
            locked.synonyms = [n for n in clean_names(synonyms) if n.casefold() != locked.name.casefold()]
        if cas is not None:
            locked.cas = cas.strip()[:20]
        if effect_group is not None:
            locked.effect_group = effect_group
        after = audit.snapshot(locked, SUBSTANCE_FIELDS)
        if after == before:
            return locked
        locked.version += 1
        locked.updated_at = _now()
        locked.save()
        _version(locked, "curated", actor, reason.strip())
        audit.record(
            actor,
            "earlywarning.substance.update",
            "substance",
            locked.pk,
            before=before,
            after=audit.snapshot(locked, SUBSTANCE_FIELDS),
            reason=reason.strip()[:500],
        )
    return locked


def retract_substance(actor: Actor | None, entry: Substance, reason: str) -> Substance:
    """Withdraw a registry entry from every view (the versions and the audit trail keep it)."""
    policy.require(actor, "earlywarning.alert")
    if not policy.allows_globally(actor, "earlywarning.alert"):
        raise policy.PermissionDenied("earlywarning.alert", "the registry is global: needs a global scope")
    if not reason.strip():
        raise InvalidInput("reason", "a retraction needs a reason")
    with transaction.atomic():
        locked = Substance.objects.select_for_update().get(pk=entry.pk)
        if locked.status == Substance.Status.RETRACTED:
            raise Conflict("already retracted")
        before = audit.snapshot(locked, SUBSTANCE_FIELDS)
        locked.status = Substance.Status.RETRACTED
        locked.version += 1
        locked.updated_at = _now()
        locked.save(update_fields=["status", "version", "updated_at"])
        _version(locked, "retracted", actor, reason.strip())
        audit.record(
            actor,
            "earlywarning.substance.retract",
            "substance",
            locked.pk,
            before=before,
            after=audit.snapshot(locked, SUBSTANCE_FIELDS),
            reason=reason.strip()[:500],
        )
    return locked


# Identifications -----------------------------------------------------------------------------------


@dataclass
class IdentificationInput:
    country: str
    structure: str
    date_found: dt.date
    matrix: str
    analytical_method: str
    names: list[str] = field(default_factory=list)
    structure_format: str | None = None
    place: str = ""
    key_data: dict[str, Any] = field(default_factory=dict)
    classification: str = Identification.Classification.RESTRICTED
    cas: str = ""


@dataclass(frozen=True)
class Assessment:
    """What the reporter is told at once: known or new, class, closest substances, control status."""

    identification_id: int | None
    substance_id: int | None
    known: bool
    identity: dict[str, object]
    substance_name: str | None
    substance_group: str
    substance_group_label: str
    class_rule: str
    class_reason: str
    closest: list[dict[str, object]]
    stereo_related: list[dict[str, object]]
    control: dict[str, object]
    merged: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {
            "identification_id": self.identification_id,
            "substance_id": self.substance_id,
            "known": self.known,
            "identity": self.identity,
            "substance_name": self.substance_name,
            "substance_group": self.substance_group,
            "substance_group_label": self.substance_group_label,
            "class_rule": self.class_rule,
            "class_reason": self.class_reason,
            "closest": self.closest,
            "stereo_related": self.stereo_related,
            "control": self.control,
            "merged": self.merged,
        }


def assess(
    structure: StandardStructure,
    entry: Substance | None,
    *,
    known: bool,
    on_date: dt.date,
    countries: Sequence[str] = (),
    names: Sequence[str] = (),
    cas: str = "",
    k: int = 5,
    identification_id: int | None = None,
    merged: Sequence[str] = (),
) -> Assessment:
    """The assessment of a structure against the registry (a read; also used by `nps classify`)."""
    if entry is not None:
        group, rule, reason = entry.substance_group, entry.class_rule, entry.class_reason
    else:
        assignment = classify(structure.mol)
        group, rule, reason = assignment.group.value, assignment.rule_id, assignment.reason
    closest = queries.similar_substances(structure, k=k, exclude_inchikey=structure.inchikey)
    relatives = [
        {"substance_id": s.pk, "name": s.name, "inchikey": s.inchikey}
        for s in Substance.objects.filter(
            connectivity_key=structure.connectivity_key, status=Substance.Status.ACTIVE
        ).exclude(inchikey=structure.inchikey)
    ]
    control = queries.control_status(structure, entry, on_date, list(names), cas, list(countries))
    return Assessment(
        identification_id=identification_id,
        substance_id=entry.pk if entry is not None else None,
        known=known,
        identity=structure.as_dict(),
        substance_name=entry.name if entry is not None else None,
        substance_group=group,
        substance_group_label=SubstanceGroup(group).label,
        class_rule=rule,
        class_reason=reason,
        closest=[c.as_dict() for c in closest],
        stereo_related=relatives,
        control=control.as_dict(),
        merged=list(merged),
    )


def _validate(data: IdentificationInput) -> None:
    if data.matrix not in Identification.Matrix.values:
        raise InvalidInput("matrix", f"must be one of {', '.join(Identification.Matrix.values)}")
    if data.classification not in Identification.Classification.values:
        raise InvalidInput(
            "classification", f"must be one of {', '.join(Identification.Classification.values)}"
        )
    if not data.analytical_method.strip():
        raise InvalidInput("analytical_method", "required (e.g. GC-MS, LC-HRMS, NMR, FTIR)")
    if not isinstance(data.date_found, dt.date):
        raise InvalidInput("date_found", "required (YYYY-MM-DD)")
    if data.date_found > timezone.localdate():
        raise InvalidInput("date_found", "is in the future")
    if data.date_found.year < 1950:
        raise InvalidInput("date_found", "before 1950")
    mz = data.key_data.get("mz", [])
    if not isinstance(mz, list) or not all(isinstance(v, int | float) and 0 < v <= 5000 for v in mz):
        raise InvalidInput("key_data", "mz must be a list of m/z values between 0 and 5000")


@dataclass(frozen=True)
class Recorded:
    """What recording an identification wrote: the row, its registry entry and the standardised structure."""

    identification: Identification
    substance: Substance
    structure: StandardStructure
    known: bool
    merged: list[str]


def record_identification(actor: Actor | None, data: IdentificationInput) -> Recorded:
    """The write of a forensic identification: merge into the registry entry of its InChIKey or create one."""
    country = resolve_country(data.country)
    policy.require(actor, "earlywarning.identify", country)
    _validate(data)
    names = clean_names(data.names)
    structure = standardise(data.structure, data.structure_format)
    why = f"identification reported by {country.iso3}"
    with transaction.atomic():
        entry = Substance.objects.select_for_update().filter(inchikey=structure.inchikey).first()
        merged: list[str] = []
        if entry is not None:
            known = True
            merged = _merge_into(entry, names, data.cas.strip(), actor, why)
        else:
            entry, created = _new_substance(structure, names, data.cas.strip(), "", actor)
            known = not created
            if not created:
                merged = _merge_into(entry, names, data.cas.strip(), actor, why)
        row = Identification.objects.create(
            substance=entry,
            country=country,
            structure_text=data.structure,
            structure_format=structure.input_format,
            standardisation_notes=list(structure.notes),
            names_reported=names,
            date_found=data.date_found,
            place=data.place.strip()[:200],
            matrix=data.matrix,
            analytical_method=data.analytical_method.strip()[:120],
            key_data=data.key_data,
            classification=data.classification,
            reported_by=actor if actor is not None and actor.is_authenticated else None,
            reported_at=_now(),
        )
        audit.record(
            actor,
            "earlywarning.identification.report",
            "identification",
            row.pk,
            country_iso3=country.iso3,
            after={
                "substance": entry.pk,
                "inchikey": entry.inchikey,
                "known": known,
                "date_found": data.date_found.isoformat(),
                "matrix": data.matrix,
                "classification": data.classification,
            },
        )
    return Recorded(row, entry, structure, known, merged)


def report_identification(actor: Actor | None, data: IdentificationInput) -> Assessment:
    """Record a forensic identification for the actor's country and assess the structure at once."""
    recorded = record_identification(actor, data)
    return assess(
        recorded.structure,
        recorded.substance,
        known=recorded.known,
        on_date=data.date_found,
        countries=[recorded.identification.country.iso3],
        names=recorded.identification.names_reported,
        cas=data.cas,
        identification_id=recorded.identification.pk,
        merged=recorded.merged,
    )


# National rules ------------------------------------------------------------------------------------


def add_country_rule(
    actor: Actor | None,
    country_iso3: str,
    entry: Substance,
    law: str,
    article: str,
    control: str,
    effective_from: dt.date,
    effective_to: dt.date | None = None,
) -> CountryRule:
    """Record that a country controls a named substance from a date (office, on the country)."""
    country = resolve_country(country_iso3)
    policy.require(actor, "earlywarning.alert", country)
    if not law.strip():
        raise InvalidInput("law", "required")
    if effective_to is not None and effective_to <= effective_from:
        raise InvalidInput("effective_to", "must be after effective_from")
    with transaction.atomic():
        rule = CountryRule.objects.create(
            country=country,
            substance=entry,
            law=law.strip(),
            article=article.strip(),
            control=control.strip(),
            effective_from=effective_from,
            effective_to=effective_to,
            created_by=actor if actor is not None and actor.is_authenticated else None,
            created_at=_now(),
        )
        audit.record(
            actor,
            "earlywarning.country_rule.create",
            "country_rule",
            rule.pk,
            country_iso3=country.iso3,
            after=audit.snapshot(
                rule, ["country", "substance", "law", "article", "control", "effective_from", "effective_to"]
            ),
        )
    return rule


# Alerts --------------------------------------------------------------------------------------------


@dataclass
class AlertInput:
    substance_id: int
    severity: str
    countries: list[str]
    title: str
    message: str
    evidence: str = ""
    published: bool = False
    public_summary: str = ""


def recipients_for(country_ids: Sequence[int]) -> list[int]:
    """Active users holding earlywarning.view on any of the countries (country, region or global scope)."""
    roles = [role.pk for role in Role.objects.all() if "earlywarning.view" in role.verbs]
    region_ids: set[int] = set()
    for row in Country.objects.filter(pk__in=country_ids).values(
        "wdr_region_id", "wdr_subregion_id", "m49_region_id", "m49_subregion_id", "m49_intermediate_region_id"
    ):
        region_ids |= {int(v) for v in row.values() if isinstance(v, int)}
    condition = (
        Q(scope="global") | Q(scope="country", country_id__in=list(country_ids)) | Q(region_id__in=region_ids)
    )
    return sorted(
        set(
            Assignment.objects.filter(condition, role_id__in=roles, user__is_active=True).values_list(
                "user_id", flat=True
            )
        )
    )


def issue_alert(actor: Actor | None, data: AlertInput) -> Alert:
    """Issue an alert to the countries concerned: in-app for every user whose scope covers one of them,
    and by e-mail once committed. The actor needs earlywarning.alert on every country named."""
    policy.require(actor, "earlywarning.alert")
    iso3s = sorted({c.strip().upper() for c in data.countries if c.strip()})
    if not iso3s:
        raise InvalidInput("countries", "name at least one country concerned")
    countries = [resolve_country(iso3, "countries") for iso3 in iso3s]
    for country in countries:
        policy.require(actor, "earlywarning.alert", country)
    if data.severity not in Alert.Severity.values:
        raise InvalidInput("severity", f"must be one of {', '.join(Alert.Severity.values)}")
    if not data.title.strip():
        raise InvalidInput("title", "required")
    if not data.message.strip():
        raise InvalidInput("message", "required")
    if data.published and not data.public_summary.strip():
        raise InvalidInput("public_summary", "a published alert needs a public summary")
    entry = Substance.objects.filter(pk=data.substance_id, status=Substance.Status.ACTIVE).first()
    if entry is None:
        raise InvalidInput("substance_id", "no active registry entry with this id")
    with transaction.atomic():
        row = Alert.objects.create(
            substance=entry,
            severity=data.severity,
            title=data.title.strip()[:300],
            message=data.message.strip(),
            evidence=data.evidence.strip(),
            published=data.published,
            public_summary=data.public_summary.strip(),
            issued_by=actor if actor is not None and actor.is_authenticated else None,
            issued_at=_now(),
        )
        row.countries.set(countries)
        user_ids = recipients_for([c.pk for c in countries])
        from observatory.access.models import User

        emails = dict(User.objects.filter(pk__in=user_ids).values_list("pk", "email"))
        AlertRecipient.objects.bulk_create(
            [AlertRecipient(alert=row, user_id=uid, emailed=bool(emails.get(uid))) for uid in user_ids]
        )
        audit.record(
            actor,
            "earlywarning.alert.issue",
            "alert",
            row.pk,
            country_iso3=iso3s[0] if len(iso3s) == 1 else "",
            after={
                "substance": entry.pk,
                "severity": row.severity,
                "countries": iso3s,
                "title": row.title,
                "published": row.published,
                "recipients": len(user_ids),
            },
        )
        addresses = sorted({e for e in emails.values() if e})
        subject = f"[Drug Observatory] NPS alert ({row.severity}): {row.title}"
        body = (
            f"{row.message}\n\nSubstance: {entry.name} ({entry.inchikey})\n"
            f"Countries concerned: {', '.join(iso3s)}\n\n"
            f"Sign in to the Drug Observatory to read it: /earlywarning/alerts/{row.pk}/\n"
        )
        transaction.on_commit(lambda: _send_mail(subject, body, addresses))
    return row


def _send_mail(subject: str, body: str, addresses: list[str]) -> None:
    if not addresses:
        return
    messages = tuple((subject, body, settings.DEFAULT_FROM_EMAIL, [a]) for a in addresses)
    try:
        mail.send_mass_mail(messages, fail_silently=False)
    except Exception:  # mail is a courtesy copy: the in-app alert is already committed
        log.exception("could not send NPS alert e-mail to %d recipients", len(addresses))


def publish_alert(actor: Actor | None, row: Alert, public_summary: str) -> Alert:
    """Publish the public part of an alert (needs earlywarning.alert on every country concerned)."""
    for country in row.countries.all():
        policy.require(actor, "earlywarning.alert", country)
    if not public_summary.strip():
        raise InvalidInput("public_summary", "required")
    with transaction.atomic():
        locked = Alert.objects.select_for_update().get(pk=row.pk)
        if locked.published:
            raise Conflict("already published")
        locked.published = True
        locked.public_summary = public_summary.strip()
        locked.save(update_fields=["published", "public_summary"])
        audit.record(
            actor,
            "earlywarning.alert.publish",
            "alert",
            locked.pk,
            before={"published": False},
            after={"published": True, "public_summary": locked.public_summary},
        )
    return locked


def mark_alert_read(actor: Actor | None, row: Alert) -> None:
    """Read state for the acting user (the alert must be visible to them)."""
    queries.alert(actor, row.pk)
    if actor is None or not actor.is_authenticated:
        raise policy.PermissionDenied("earlywarning.view")
    with transaction.atomic():
        recipient, _ = AlertRecipient.objects.get_or_create(alert=row, user_id=actor.pk)
        if recipient.read_at is None:
            recipient.read_at = _now()
            recipient.save(update_fields=["read_at"])
            audit.record(actor, "earlywarning.alert.read", "alert", row.pk)
