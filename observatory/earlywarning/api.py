"""Early-warning API: report identifications and get the assessment, the NPS registry with search and
classification, emergence (first identifications, timeline, spread), alerts; published alerts publicly.

Reads are scoped (see ``queries``): a missing verb is 403, what the user may not see is 404, invalid
input (an unparsable structure, an unknown country) is 422 with the field and the reason.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Field, Router, Schema, Status

from observatory.api import AUTH
from observatory.earlywarning import queries, services
from observatory.earlywarning.models import Alert, Identification, Substance

router = Router(tags=["earlywarning"], auth=AUTH)


# Schemas -------------------------------------------------------------------------------------------


class IdentificationIn(Schema):
    country: str = Field(description="reporting country, ISO 3166-1 alpha-3")
    structure: str = Field(description="SMILES or a V2000/V3000 molfile, as identified")
    structure_format: Literal["smiles", "molfile"] | None = Field(None, description="guessed when omitted")
    names: list[str] = Field(default_factory=list, description="names as reported (first = preferred)")
    cas: str = ""
    date_found: dt.date
    place: str = ""
    matrix: Literal["seized_material", "biological_sample"]
    analytical_method: str = Field(description="e.g. GC-MS, LC-HRMS, NMR, FTIR")
    mz: list[float] = Field(default_factory=list, description="key mass-spectral m/z values")
    classification: Literal["public", "restricted", "confidential"] = "restricted"


class IdentificationOut(Schema):
    id: int
    substance_id: int
    substance_name: str
    country: str
    structure_text: str
    structure_format: str
    standardisation_notes: list[str]
    names_reported: list[str]
    date_found: dt.date
    place: str
    matrix: str
    analytical_method: str
    key_data: dict[str, Any]
    classification: str
    reported_by: str | None


class SightingOut(Schema):
    country: str
    month: str
    details_visible: bool
    identification_id: int | None


class SubstanceOut(Schema):
    id: int
    name: str
    synonyms: list[str]
    cas: str
    inchikey: str
    canonical_smiles: str
    inchi: str
    formula: str
    exact_mass: float
    average_mass: float
    substance_group: str
    class_rule: str
    class_reason: str
    effect_group: str
    version: int


class SubstanceDetailOut(SubstanceOut):
    control: dict[str, Any]
    similar: list[dict[str, Any]]
    stereo_related: list[dict[str, Any]]
    identifications: list[SightingOut]


class RetractIn(Schema):
    reason: str


class SubstanceChangeIn(Schema):
    reason: str = Field(description="why (kept with the version and in the audit trail)")
    name: str | None = None
    synonyms: list[str] | None = None
    cas: str | None = None
    effect_group: str | None = Field(None, description="UNODC effect group code")


class SubstanceVersionOut(Schema):
    version: int
    change: str
    reason: str
    changed_by: str | None
    changed_at: dt.datetime
    data: dict[str, Any]


class ClassifyIn(Schema):
    structure: str = Field(description="SMILES or molfile")
    countries: list[str] = Field(default_factory=list, description="ISO3 countries to evaluate")
    on_date: dt.date | None = Field(None, description="default: today")
    k: int = Field(5, ge=1, le=50)


class AlertIn(Schema):
    substance_id: int
    severity: Literal["information", "warning", "urgent"]
    countries: list[str] = Field(description="ISO3 of the countries concerned")
    title: str
    message: str
    evidence: str = ""
    published: bool = False
    public_summary: str = ""


class AlertOut(Schema):
    id: int
    substance_id: int
    substance_name: str
    severity: str
    countries: list[str]
    title: str
    message: str
    evidence: str
    published: bool
    public_summary: str
    issued_by: str | None
    issued_at: dt.datetime
    read: bool


class PublishIn(Schema):
    public_summary: str


class PublicAlertOut(Schema):
    id: int
    title: str
    severity: str
    substance: str
    substance_group: str
    countries: list[str]
    summary: str
    issued_on: dt.date


# Converters ----------------------------------------------------------------------------------------


def _identification(row: Identification) -> dict[str, Any]:
    return {
        "id": row.pk,
        "substance_id": row.substance_id,
        "substance_name": row.substance.name,
        "country": row.country.iso3,
        "structure_text": row.structure_text,
        "structure_format": row.structure_format,
        "standardisation_notes": row.standardisation_notes,
        "names_reported": row.names_reported,
        "date_found": row.date_found,
        "place": row.place,
        "matrix": row.matrix,
        "analytical_method": row.analytical_method,
        "key_data": row.key_data,
        "classification": row.classification,
        "reported_by": row.reported_by.get_username() if row.reported_by else None,
    }


def _substance(row: Substance) -> dict[str, Any]:
    return {
        "id": row.pk,
        "name": row.name,
        "synonyms": row.synonyms,
        "cas": row.cas,
        "inchikey": row.inchikey,
        "canonical_smiles": row.canonical_smiles,
        "inchi": row.inchi,
        "formula": row.formula,
        "exact_mass": row.exact_mass,
        "average_mass": row.average_mass,
        "substance_group": row.substance_group,
        "class_rule": row.class_rule,
        "class_reason": row.class_reason,
        "effect_group": row.effect_group,
        "version": row.version,
    }


def _alert(row: Alert, read: set[int]) -> dict[str, Any]:
    return {
        "id": row.pk,
        "substance_id": row.substance_id,
        "substance_name": row.substance.name,
        "severity": row.severity,
        "countries": sorted(c.iso3 for c in row.countries.all()),
        "title": row.title,
        "message": row.message,
        "evidence": row.evidence,
        "published": row.published,
        "public_summary": row.public_summary,
        "issued_by": row.issued_by.get_username() if row.issued_by else None,
        "issued_at": row.issued_at,
        "read": row.pk in read,
    }


# Identifications -----------------------------------------------------------------------------------


@router.post("/identifications", response={201: dict[str, Any]}, summary="Report an identification")
def report_identification(request: HttpRequest, payload: IdentificationIn) -> Status:
    """Record a forensic identification (needs earlywarning.identify on the country) and return the
    assessment: known or new (by InChIKey), class with rule and reason, closest registry substances,
    control status internationally and in each country with a rule."""
    data = services.IdentificationInput(
        country=payload.country,
        structure=payload.structure,
        structure_format=payload.structure_format,
        names=payload.names,
        cas=payload.cas,
        date_found=payload.date_found,
        place=payload.place,
        matrix=payload.matrix,
        analytical_method=payload.analytical_method,
        key_data={"mz": payload.mz} if payload.mz else {},
        classification=payload.classification,
    )
    return Status(201, services.report_identification(request.user, data).as_dict())


@router.get("/identifications", response=list[IdentificationOut], summary="Identifications you may read")
def list_identifications(request: HttpRequest, limit: int = 200) -> list[dict[str, Any]]:
    rows = queries.identifications(request.user)[: max(1, min(limit, 1000))]
    return [_identification(r) for r in rows]


@router.get("/identifications/{identification_id}", response=IdentificationOut)
def get_identification(request: HttpRequest, identification_id: int) -> dict[str, Any]:
    return _identification(queries.identification(request.user, identification_id))


# Registry ------------------------------------------------------------------------------------------


@router.get("/substances", response=list[SubstanceOut], summary="The NPS registry")
def list_substances(request: HttpRequest, q: str = "", group: str = "") -> list[dict[str, Any]]:
    return [_substance(s) for s in queries.substances(request.user, q, group)]


@router.get("/substances/{substance_id}", response=SubstanceDetailOut)
def get_substance(request: HttpRequest, substance_id: int, on_date: dt.date | None = None) -> dict[str, Any]:
    """Identity, class, control status (today or `on_date`), similar substances and where it was found."""
    entry = queries.substance(request.user, substance_id)
    structure = services.standardise(entry.canonical_smiles)
    when = on_date or dt.date.today()
    control = queries.control_status(structure, entry, when)
    similar = queries.similar_substances(structure, k=8, exclude_inchikey=entry.inchikey)
    return {
        **_substance(entry),
        "control": control.as_dict(),
        "similar": [s.as_dict() for s in similar],
        "stereo_related": [
            {"substance_id": s.pk, "name": s.name, "inchikey": s.inchikey}
            for s in queries.stereo_relatives(entry)
        ],
        "identifications": [
            {
                "country": s.country_iso3,
                "month": s.month,
                "details_visible": s.details_visible,
                "identification_id": s.identification_id,
            }
            for s in queries.sightings(request.user, entry)
        ],
    }


@router.patch("/substances/{substance_id}", response=SubstanceOut, summary="Curate a registry entry")
def update_substance(request: HttpRequest, substance_id: int, payload: SubstanceChangeIn) -> dict[str, Any]:
    """Names, CAS number or effect group (global earlywarning.alert); every change is a new version."""
    entry = queries.substance(request.user, substance_id)
    changed = services.update_substance(
        request.user,
        entry,
        name=payload.name,
        synonyms=payload.synonyms,
        cas=payload.cas,
        effect_group=payload.effect_group,
        reason=payload.reason,
    )
    return _substance(changed)


@router.get("/substances/{substance_id}/versions", response=list[SubstanceVersionOut])
def substance_versions(request: HttpRequest, substance_id: int) -> list[dict[str, Any]]:
    """Every state the record has had, oldest first."""
    entry = queries.substance(request.user, substance_id)
    return [
        {
            "version": v.version,
            "change": v.change,
            "reason": v.reason,
            "changed_by": v.changed_by.get_username() if v.changed_by else None,
            "changed_at": v.changed_at,
            "data": v.data,
        }
        for v in entry.versions.select_related("changed_by").order_by("version")
    ]


@router.post("/substances/{substance_id}/retract", response=SubstanceOut)
def retract_substance(request: HttpRequest, substance_id: int, payload: RetractIn) -> dict[str, Any]:
    """Withdraw a registry entry from all views (global earlywarning.alert; kept in the audit trail)."""
    entry = queries.substance(request.user, substance_id)
    return _substance(services.retract_substance(request.user, entry, payload.reason))


@router.get("/search", summary="Similarity or substructure search over the registry")
def search(
    request: HttpRequest, smiles: str = "", smarts: str = "", k: int = 10, threshold: float = 0.0
) -> dict[str, Any]:
    """`smiles`: exact match by InChIKey and Tanimoto top-k; `smarts`: registry entries containing it."""
    queries.require_view(request.user)
    if smarts:
        library = queries.registry_library()
        try:
            rows = library.substructure(smarts, limit=max(1, min(k, 500)))
        except ValueError as error:
            raise services.InvalidInput("smarts", str(error)) from error
        ids = [int(library.identifiers[r]) for r in rows]
        names = dict(Substance.objects.filter(pk__in=ids).values_list("pk", "name"))
        return {"substructure": [{"substance_id": i, "name": names.get(i, "")} for i in ids]}
    structure = services.standardise(smiles)
    exact = Substance.objects.filter(inchikey=structure.inchikey, status=Substance.Status.ACTIVE).first()
    hits = queries.similar_substances(
        structure, k=max(1, min(k, 100)), threshold=max(0.0, min(threshold, 1.0))
    )
    return {
        "query": structure.as_dict(),
        "exact": _substance(exact) if exact else None,
        "similar": [h.as_dict() for h in hits],
    }


@router.post("/classify", summary="Classify a structure and give its control status (no write)")
def classify(request: HttpRequest, payload: ClassifyIn) -> dict[str, Any]:
    queries.require_view(request.user)
    structure = services.standardise(payload.structure)
    entry = Substance.objects.filter(inchikey=structure.inchikey, status=Substance.Status.ACTIVE).first()
    for iso3 in payload.countries:
        services.resolve_country(iso3, "countries")
    return services.assess(
        structure,
        entry,
        known=entry is not None,
        on_date=payload.on_date or dt.date.today(),
        countries=payload.countries,
        k=payload.k,
    ).as_dict()


@router.get("/emergence", summary="First identifications, timeline, new this month, spread")
def emergence(request: HttpRequest, substance_id: int | None = None) -> dict[str, Any]:
    data = queries.emergence(request.user, substance_id=substance_id)
    return {
        "month": data.month,
        "worldwide": [s.as_dict() for s in data.worldwide],
        "by_region": {r: [s.as_dict() for s in v] for r, v in data.by_region.items()},
        "by_country": {c: [s.as_dict() for s in v] for c, v in data.by_country.items()},
        "timeline": data.timeline,
        "new_this_month": [s.as_dict() for s in data.new_this_month],
        "first_year_by_country": data.first_year_by_country,
    }


# Alerts --------------------------------------------------------------------------------------------


@router.get("/alerts", response=list[AlertOut], summary="Alerts concerning your scope")
def list_alerts(request: HttpRequest) -> list[dict[str, Any]]:
    read = queries.read_alert_ids(request.user)
    return [_alert(a, read) for a in queries.alerts(request.user)]


@router.post("/alerts", response={201: AlertOut}, summary="Issue an alert")
def issue_alert(request: HttpRequest, payload: AlertIn) -> Status:
    row = services.issue_alert(request.user, services.AlertInput(**payload.dict()))
    return Status(201, _alert(row, set()))


@router.get("/alerts/{alert_id}", response=AlertOut)
def get_alert(request: HttpRequest, alert_id: int) -> dict[str, Any]:
    return _alert(queries.alert(request.user, alert_id), queries.read_alert_ids(request.user))


@router.post("/alerts/{alert_id}/read", response=AlertOut)
def read_alert(request: HttpRequest, alert_id: int) -> dict[str, Any]:
    row = queries.alert(request.user, alert_id)
    services.mark_alert_read(request.user, row)
    return _alert(row, queries.read_alert_ids(request.user))


@router.post("/alerts/{alert_id}/publish", response=AlertOut)
def publish_alert(request: HttpRequest, alert_id: int, payload: PublishIn) -> dict[str, Any]:
    row = queries.alert(request.user, alert_id)
    return _alert(services.publish_alert(request.user, row, payload.public_summary), set())


@router.get("/public/alerts", response=list[PublicAlertOut], auth=None, summary="Published alerts (public)")
def public_alerts(request: HttpRequest) -> list[dict[str, Any]]:
    return [a.as_dict() for a in queries.public_alerts()]


@router.get("/public/alerts/{alert_id}", response=PublicAlertOut, auth=None)
def public_alert(request: HttpRequest, alert_id: int) -> dict[str, Any]:
    return queries.public_alert(alert_id).as_dict()
