"""Every read of early-warning data, already scoped to what the acting user may see.

Decisions on identifications (restricted by default, DESIGN.md security model):

* the *details* of an identification (structure as reported, place, matrix, method, key data, who
  reported it) are visible to holders of ``earlywarning.view`` whose scope covers the reporting country
  (the country itself, the regional office, the global office), following its classification;
* the *fact* that a substance was identified in a country, and the month it was found, is shared with
  every holder of ``earlywarning.view`` (all governments and the office): it is what the emergence
  pages are made of. The public sees neither; it sees the public part of published alerts only.

Substances retracted from the registry disappear from every read here (the audit trail keeps them).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from django.db.models import Min, Q, QuerySet

from observatory.access import policy
from observatory.earlywarning.chemistry import generic
from observatory.earlywarning.chemistry.classes import SubstanceGroup
from observatory.earlywarning.chemistry.search import FP_WORDS, StructureLibrary
from observatory.earlywarning.chemistry.structures import StandardStructure
from observatory.earlywarning.models import Alert, AlertRecipient, CountryRule, Identification, Substance
from observatory.reference import queries as reference_queries
from observatory.reference.models import ControlledSubstance, Country

if TYPE_CHECKING:
    from observatory.access.policy import Actor

VIEW = "earlywarning.view"


def require_view(user: Actor | None) -> None:
    policy.require(user, VIEW)


# Registry -------------------------------------------------------------------------------------------


def substances(user: Actor | None, text: str = "", group: str = "") -> QuerySet[Substance]:
    """Active registry entries, optionally filtered by a name/synonym/CAS/InChIKey fragment and group."""
    require_view(user)
    rows = Substance.objects.filter(status=Substance.Status.ACTIVE)
    if text.strip():
        needle = text.strip()
        rows = rows.filter(
            Q(name__icontains=needle)
            | Q(synonyms__icontains=needle)
            | Q(cas=needle)
            | Q(inchikey__iexact=needle)
            | Q(formula__iexact=needle)
        )
    if group:
        rows = rows.filter(substance_group=group)
    return rows.order_by("name")


def substance(user: Actor | None, substance_id: int) -> Substance:
    """One active registry entry (DoesNotExist when retracted or unknown)."""
    require_view(user)
    return Substance.objects.get(pk=substance_id, status=Substance.Status.ACTIVE)


def stereo_relatives(entry: Substance) -> list[Substance]:
    """Other active entries with the same skeleton (InChIKey first block): stereo variants."""
    return list(
        Substance.objects.filter(connectivity_key=entry.connectivity_key, status=Substance.Status.ACTIVE)
        .exclude(pk=entry.pk)
        .order_by("name")
    )


def fingerprint_bytes(words: np.ndarray[Any, Any]) -> bytes:
    return np.ascontiguousarray(words, dtype=np.uint64).tobytes()


def registry_library() -> StructureLibrary:
    """The active registry as a search library (identifier = substance id), built from stored fingerprints."""
    rows = list(
        Substance.objects.filter(status=Substance.Status.ACTIVE).values_list(
            "pk", "inchikey", "canonical_smiles", "fingerprint"
        )
    )
    if rows:
        matrix = np.vstack([np.frombuffer(bytes(row[3]), dtype=np.uint64) for row in rows])
    else:
        matrix = np.zeros((0, FP_WORDS), dtype=np.uint64)
    return StructureLibrary([str(r[0]) for r in rows], [r[1] for r in rows], [r[2] for r in rows], matrix)


@dataclass(frozen=True)
class SimilarSubstance:
    substance_id: int
    name: str
    inchikey: str
    smiles: str
    substance_group: str
    similarity: float

    @property
    def group_label(self) -> str:
        return SubstanceGroup(self.substance_group).label

    def as_dict(self) -> dict[str, object]:
        return {
            "substance_id": self.substance_id,
            "name": self.name,
            "inchikey": self.inchikey,
            "smiles": self.smiles,
            "substance_group": self.substance_group,
            "substance_group_label": self.group_label,
            "similarity": round(self.similarity, 4),
        }


def similar_substances(
    structure: StandardStructure, k: int = 5, threshold: float = 0.0, exclude_inchikey: str | None = None
) -> list[SimilarSubstance]:
    """The k registry entries closest to the structure (Tanimoto, Morgan r=2), best first."""
    # thresholds below 1e-6 are 0 (the kernel's count window divides by the threshold)
    threshold = 0.0 if threshold < 1e-6 else min(threshold, 1.0)
    library = registry_library()
    hits = library.top_k(structure.mol, k=k + (1 if exclude_inchikey else 0), threshold=threshold)
    hits = [h for h in hits if h.inchikey != exclude_inchikey][:k]
    by_id = {s.pk: s for s in Substance.objects.filter(pk__in=[int(h.identifier) for h in hits])}
    return [
        SimilarSubstance(
            substance_id=int(h.identifier),
            name=by_id[int(h.identifier)].name,
            inchikey=h.inchikey,
            smiles=h.smiles,
            substance_group=by_id[int(h.identifier)].substance_group,
            similarity=h.similarity,
        )
        for h in hits
        if int(h.identifier) in by_id
    ]


# Legal status ---------------------------------------------------------------------------------------


def _key(name: str) -> str:
    return "".join(ch for ch in name.casefold() if ch.isalnum())


def international_matches(names: list[str], cas: str = "") -> list[str]:
    """Names of reference-list substances whose name, other name or CAS number equals one of ours."""
    wanted = {_key(n) for n in names if _key(n)}
    found: list[str] = []
    rows = ControlledSubstance.objects.order_by("name").values_list("name", "other_names", "cas")
    for name, other_names, listed_cas in rows:
        keys = {_key(name)} | {_key(o) for o in other_names.split(";") if _key(o)}
        if keys & wanted or (cas and listed_cas and listed_cas == cas.strip()):
            found.append(name)
    return found


@dataclass(frozen=True)
class InternationalStatus:
    status: str  # controlled | not_in_force | not_determined
    substance: str | None
    listings: tuple[dict[str, object], ...]
    explanation: str

    def as_dict(self) -> dict[str, object]:
        return {
            "status": self.status,
            "substance": self.substance,
            "listings": list(self.listings),
            "explanation": self.explanation,
        }


def international_status(names: list[str], cas: str, on_date: dt.date) -> InternationalStatus:
    matches = international_matches(names, cas)
    if not matches:
        return InternationalStatus(
            "not_determined",
            None,
            (),
            "no name, synonym or CAS number matches the international control lists; "
            "not determined (the lists are searched by name, not by structure)",
        )
    for match in matches:
        status = reference_queries.substance_status(match, on_date)
        if status.controlled:
            listings: tuple[dict[str, object], ...] = tuple(
                {
                    "convention": listing.convention,
                    "schedule": listing.schedule,
                    "since": listing.since.isoformat(),
                    "since_precision": listing.since_precision,
                }
                for listing in status.listings
            )
            where = "; ".join(
                f"{listing['convention']} Convention Schedule {listing['schedule']} since {listing['since']}"
                for listing in listings
            )
            return InternationalStatus(
                "controlled",
                match,
                listings,
                f"listed as {match}: {where} (on {on_date.isoformat()})",
            )
    return InternationalStatus(
        "not_in_force",
        matches[0],
        (),
        f"listed as {matches[0]}, but no listing was in force on {on_date.isoformat()}",
    )


@dataclass(frozen=True)
class NationalStatus:
    country: str
    status: str  # controlled | excluded | not_determined
    basis: str  # named | generic | none
    rule: str | None
    citation: str | None
    control: str | None
    explanation: str
    details: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, object]:
        return {
            "country": self.country,
            "status": self.status,
            "basis": self.basis,
            "rule": self.rule,
            "citation": self.citation,
            "control": self.control,
            "explanation": self.explanation,
            "details": list(self.details),
        }


def _named_rule(entry: Substance | None, iso3: str, on_date: dt.date) -> CountryRule | None:
    if entry is None:
        return None
    return (
        CountryRule.objects.filter(substance=entry, country__iso3=iso3, effective_from__lte=on_date)
        .filter(Q(effective_to__isnull=True) | Q(effective_to__gt=on_date))
        .order_by("effective_from")
        .first()
    )


def national_status(
    structure: StandardStructure, entry: Substance | None, iso3: str, on_date: dt.date
) -> NationalStatus:
    """Named national rule first, then the generic definitions in force in the country on the date."""
    country = iso3.upper()
    named = _named_rule(entry, country, on_date)
    if named is not None:
        citation = f"{named.law}, {named.article}".rstrip(", ")
        return NationalStatus(
            country,
            "controlled",
            "named",
            f"country-rule-{named.pk}",
            citation,
            named.control or None,
            f"controlled in {country} on {on_date.isoformat()} by name under {citation}, "
            f"in force since {named.effective_from.isoformat()}",
        )
    evaluation = generic.evaluate(structure, None, country, on_date)
    basis = "none" if evaluation.status == "not_determined" else "generic"
    explanation = evaluation.explanation
    if evaluation.status == "controlled":
        explanation = (
            f"controlled in {country} on {on_date.isoformat()} by {evaluation.definition_id}: {explanation}"
        )
    return NationalStatus(
        country,
        evaluation.status,
        basis,
        evaluation.definition_id,
        evaluation.citation,
        evaluation.control,
        explanation,
        evaluation.details,
    )


def jurisdictions_with_rules(entry: Substance | None) -> list[str]:
    """Countries that have any generic definition in the data, or a named rule for this substance."""
    found = {d.jurisdiction for d in generic.default_generic_definitions()}
    if entry is not None:
        found |= set(CountryRule.objects.filter(substance=entry).values_list("country__iso3", flat=True))
    return sorted(found)


@dataclass(frozen=True)
class ControlStatus:
    on_date: dt.date
    international: InternationalStatus
    national: tuple[NationalStatus, ...]

    def as_dict(self) -> dict[str, object]:
        return {
            "on_date": self.on_date.isoformat(),
            "international": self.international.as_dict(),
            "national": [n.as_dict() for n in self.national],
        }


def control_status(
    structure: StandardStructure,
    entry: Substance | None,
    on_date: dt.date,
    names: list[str] = (),  # type: ignore[assignment]
    cas: str = "",
    countries: list[str] = (),  # type: ignore[assignment]
) -> ControlStatus:
    all_names = list(names) + (entry.names if entry is not None else [])
    all_cas = cas or (entry.cas if entry is not None else "")
    wanted = sorted({c.upper() for c in countries} | set(jurisdictions_with_rules(entry)))
    return ControlStatus(
        on_date,
        international_status(all_names, all_cas, on_date),
        tuple(national_status(structure, entry, iso3, on_date) for iso3 in wanted),
    )


# Identifications ------------------------------------------------------------------------------------


def _active_identifications() -> QuerySet[Identification]:
    return Identification.objects.filter(substance__status=Substance.Status.ACTIVE).select_related(
        "substance", "country", "reported_by"
    )


def identifications(user: Actor | None) -> QuerySet[Identification]:
    """Identifications whose details the user may read (scope × classification)."""
    require_view(user)
    return policy.scoped(
        _active_identifications(), user, VIEW, ("country",), classification_field="classification"
    ).order_by("-date_found", "-pk")


def identification(user: Actor | None, identification_id: int) -> Identification:
    return identifications(user).get(pk=identification_id)


@dataclass(frozen=True)
class Sighting:
    """That a substance was identified in a country in a month: shared with every holder of the verb."""

    substance_id: int
    substance_name: str
    country_iso3: str
    country_name: str
    month: str  # YYYY-MM
    details_visible: bool
    identification_id: int | None


def sightings(user: Actor | None, entry: Substance) -> list[Sighting]:
    require_view(user)
    visible = set(identifications(user).filter(substance=entry).values_list("pk", flat=True))
    rows = (
        Identification.objects.filter(substance=entry)
        .select_related("country")
        .order_by("date_found", "country__iso3", "pk")
    )
    return [
        Sighting(
            entry.pk,
            entry.name,
            row.country.iso3,
            row.country.name,
            row.date_found.strftime("%Y-%m"),
            row.pk in visible,
            row.pk if row.pk in visible else None,
        )
        for row in rows
    ]


# Emergence -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FirstSeen:
    substance_id: int
    substance_name: str
    substance_group: str
    date: dt.date
    where: str  # country ISO3 (worldwide: the first country)

    @property
    def group_label(self) -> str:
        return SubstanceGroup(self.substance_group).label

    def as_dict(self) -> dict[str, object]:
        return {
            "substance_id": self.substance_id,
            "substance_name": self.substance_name,
            "substance_group": self.substance_group,
            "date": self.date.isoformat(),
            "where": self.where,
        }


@dataclass
class Emergence:
    worldwide: list[FirstSeen]
    by_region: dict[str, list[FirstSeen]]
    by_country: dict[str, list[FirstSeen]]
    timeline: list[dict[str, int]]
    new_this_month: list[FirstSeen]
    month: str
    first_year_by_country: dict[str, int] = field(default_factory=dict)


def emergence(user: Actor | None, today: dt.date | None = None, substance_id: int | None = None) -> Emergence:
    """First identification per substance worldwide, per WDR region and per country; the timeline (new
    substances and identifications per year); the substances first identified this month; and, for the
    map, the year of the first identification in each country (of one substance, or of any)."""
    require_view(user)
    today = today or dt.date.today()
    rows = (
        Identification.objects.filter(substance__status=Substance.Status.ACTIVE)
        .values("substance_id", "substance__name", "substance__substance_group", "country__iso3")
        .annotate(first=Min("date_found"))
        .order_by("first", "substance__name", "country__iso3")
    )
    regions = dict(Country.objects.filter(wdr_region__isnull=False).values_list("iso3", "wdr_region__name"))
    world: dict[int, FirstSeen] = {}
    by_region: dict[str, dict[int, FirstSeen]] = defaultdict(dict)
    by_country: dict[str, list[FirstSeen]] = defaultdict(list)
    first_year: dict[str, int] = {}
    for row in rows:
        seen = FirstSeen(
            row["substance_id"],
            row["substance__name"],
            row["substance__substance_group"],
            row["first"],
            row["country__iso3"],
        )
        world.setdefault(seen.substance_id, seen)
        region = regions.get(seen.where, "Unassigned")
        by_region[region].setdefault(seen.substance_id, seen)
        by_country[seen.where].append(seen)
        if substance_id is None or seen.substance_id == substance_id:
            year = seen.date.year
            first_year[seen.where] = min(first_year.get(seen.where, year), year)
    per_year: dict[int, dict[str, int]] = defaultdict(lambda: {"new_substances": 0, "identifications": 0})
    for seen in world.values():
        per_year[seen.date.year]["new_substances"] += 1
    counted = Identification.objects.filter(substance__status=Substance.Status.ACTIVE)
    for found in counted.values_list("date_found", flat=True):
        per_year[found.year]["identifications"] += 1
    timeline = [{"year": year, **per_year[year]} for year in sorted(per_year)]
    month = today.strftime("%Y-%m")
    worldwide = sorted(world.values(), key=lambda s: (s.date, s.substance_name))
    return Emergence(
        worldwide=worldwide,
        by_region={
            r: sorted(v.values(), key=lambda s: (s.date, s.substance_name))
            for r, v in sorted(by_region.items())
        },
        by_country=dict(sorted(by_country.items())),
        timeline=timeline,
        new_this_month=[s for s in worldwide if s.date.strftime("%Y-%m") == month],
        month=month,
        first_year_by_country=first_year,
    )


# Alerts ---------------------------------------------------------------------------------------------


def alerts(user: Actor | None) -> QuerySet[Alert]:
    """Alerts concerning a country in the user's scope (all of them for a global scope)."""
    require_view(user)
    return (
        policy.scoped(Alert.objects.all(), user, VIEW, ("countries",))
        .distinct()
        .select_related("substance", "issued_by")
        .prefetch_related("countries")
        .order_by("-issued_at", "-pk")
    )


def alert(user: Actor | None, alert_id: int) -> Alert:
    return alerts(user).get(pk=alert_id)


def read_alert_ids(user: Actor | None) -> set[int]:
    if user is None or not user.is_authenticated:
        return set()
    return set(
        AlertRecipient.objects.filter(user_id=user.pk, read_at__isnull=False).values_list(
            "alert_id", flat=True
        )
    )


def unread_alert_count(user: Actor | None) -> int:
    if user is None or not user.is_authenticated:
        return 0
    return AlertRecipient.objects.filter(user_id=user.pk, read_at__isnull=True).count()


@dataclass(frozen=True)
class PublicAlert:
    id: int
    title: str
    severity: str
    substance: str
    substance_group: str
    countries: tuple[str, ...]
    summary: str
    issued_on: dt.date

    def as_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "title": self.title,
            "severity": self.severity,
            "substance": self.substance,
            "substance_group": self.substance_group,
            "countries": list(self.countries),
            "summary": self.summary,
            "issued_on": self.issued_on.isoformat(),
        }


def public_alerts() -> list[PublicAlert]:
    """The public part of published alerts (no message, evidence or issuer)."""
    rows = (
        Alert.objects.filter(published=True, substance__status=Substance.Status.ACTIVE)
        .select_related("substance")
        .prefetch_related("countries")
        .order_by("-issued_at", "-pk")
    )
    return [
        PublicAlert(
            row.pk,
            row.title,
            row.severity,
            row.substance.name,
            row.substance.substance_group,
            tuple(sorted(c.iso3 for c in row.countries.all())),
            row.public_summary,
            row.issued_at.date(),
        )
        for row in rows
    ]


def public_alert(alert_id: int) -> PublicAlert:
    for row in public_alerts():
        if row.id == alert_id:
            return row
    raise Alert.DoesNotExist("no published alert with this id")
