"""Reporting identifications through the service: what the registry does with each structure, what the
reporter is told, who may write, and that refused or invalid writes change nothing."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from observatory.access import policy
from observatory.access.models import AuditEvent
from observatory.earlywarning import queries, services
from observatory.earlywarning.models import Identification, Substance, SubstanceVersion
from tests.factories import make_user

pytestmark = pytest.mark.django_db

MEPHEDRONE = "CNC(C)C(=O)c1ccc(C)cc1"
MEPHEDRONE_KEY = "YELGFTGWJGBAQU-UHFFFAOYSA-N"
JWH_018 = "CCCCCn1cc(C(=O)c2cccc3ccccc23)c2ccccc21"
JWH_073 = "CCCCn1cc(C(=O)c2cccc3ccccc23)c2ccccc21"
AM_2201 = "FCCCCCn1cc(C(=O)c2cccc3ccccc23)c2ccccc21"


def report(
    user: Any, structure: str, *, country: str = "GBR", names: list[str] | None = None, **extra: Any
) -> services.Assessment:
    data = services.IdentificationInput(
        country=country,
        structure=structure,
        names=names or [],
        date_found=extra.pop("date_found", dt.date(2020, 3, 1)),
        matrix=extra.pop("matrix", "seized_material"),
        analytical_method=extra.pop("analytical_method", "GC-MS"),
        **extra,
    )
    return services.report_identification(user, data)


def state() -> tuple[int, int, int, int]:
    return (
        Substance.objects.count(),
        SubstanceVersion.objects.count(),
        Identification.objects.count(),
        AuditEvent.objects.filter(action__startswith="earlywarning.").count(),
    )


@pytest.fixture
def forensic_gbr(reference: None) -> Any:
    return make_user("forensic_focal_point", country="GBR")


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "empty input"),
        ("C1CC", "invalid syntax or valence"),
        ("C(C)(C)(C)(C)C", "invalid syntax or valence"),
        ("[Na+].[Cl-]", "no organic (carbon-containing) fragment"),
    ],
)
def test_given_an_unparsable_structure_when_reported_then_the_error_names_it_and_nothing_is_written(
    forensic_gbr: Any, text: str, reason: str
) -> None:
    before = state()
    with pytest.raises(services.InvalidInput) as caught:
        report(forensic_gbr, text, names=["unknown powder"])
    assert caught.value.field == "structure"
    assert reason in caught.value.message
    assert state() == before


def test_given_a_new_structure_when_reported_then_a_classified_registry_entry_is_created(
    forensic_gbr: Any,
) -> None:
    assessment = report(
        forensic_gbr, MEPHEDRONE, names=["Mephedrone", "4-MMC"], date_found=dt.date(2020, 3, 1)
    )
    entry = Substance.objects.get()
    assert assessment.known is False
    assert assessment.substance_id == entry.pk
    assert (entry.inchikey, entry.name, entry.synonyms) == (MEPHEDRONE_KEY, "Mephedrone", ["4-MMC"])
    assert (entry.formula, entry.substance_group, entry.effect_group) == (
        "C11H15NO",
        "synthetic_cathinones",
        "stimulants",
    )
    assert assessment.class_rule == entry.class_rule
    assert assessment.class_reason == entry.class_reason
    assert SubstanceVersion.objects.filter(substance=entry).values_list("version", "change").get() == (
        1,
        "created",
    )
    assert list(
        AuditEvent.objects.filter(action__startswith="earlywarning.")
        .order_by("sequence")
        .values_list("action", "country_iso3")
    ) == [("earlywarning.substance.create", ""), ("earlywarning.identification.report", "GBR")]


def test_given_a_known_inchikey_when_reported_as_a_salt_then_the_report_merges_into_the_entry(
    forensic_gbr: Any,
) -> None:
    report(forensic_gbr, MEPHEDRONE, names=["Mephedrone"])
    # when the same substance arrives as a hydrochloride in a mixture with water, under another name
    assessment = report(
        forensic_gbr, "Cl.CNC(C)C(=O)c1ccc(C)cc1.O", names=["4-methylmethcathinone", "mephedrone"]
    )
    # then one substance, two identifications, the new name kept as a synonym and a new version
    entry = Substance.objects.get()
    assert assessment.known is True
    assert assessment.merged == ["names added: 4-methylmethcathinone"]
    assert entry.synonyms == ["4-methylmethcathinone"]
    assert entry.version == 2
    assert list(entry.versions.values_list("version", "change")) == [(1, "created"), (2, "merged")]
    second = Identification.objects.order_by("pk").last()
    assert second is not None
    assert second.structure_text == "Cl.CNC(C)C(=O)c1ccc(C)cc1.O"
    assert second.standardisation_notes[0] == "kept the largest organic fragment; removed 2: Cl, O"
    assert Identification.objects.filter(substance=entry).count() == 2


def test_given_two_tautomers_when_reported_then_they_are_one_substance(forensic_gbr: Any) -> None:
    first = report(forensic_gbr, "Oc1ccccn1")
    second = report(forensic_gbr, "O=c1cccc[nH]1")
    assert (first.known, second.known) == (False, True)
    assert Substance.objects.get().canonical_smiles == "O=c1cccc[nH]1"
    assert any("canonical tautomer" in note for note in first.identity["notes"])  # type: ignore[attr-defined]


def test_given_enantiomers_when_reported_then_they_are_distinct_substances_shown_as_stereo_related(
    forensic_gbr: Any,
) -> None:
    s_form = report(forensic_gbr, "C[C@H](N)C(=O)c1ccccc1", names=["(S)-cathinone"])
    r_form = report(forensic_gbr, "C[C@@H](N)C(=O)c1ccccc1", names=["(R)-cathinone"])
    assert Substance.objects.count() == 2
    assert r_form.known is False
    assert [r["name"] for r in r_form.stereo_related] == ["(S)-cathinone"]
    assert s_form.identity["connectivity_key"] == r_form.identity["connectivity_key"]


def test_given_a_molfile_when_reported_then_it_is_the_same_substance_as_its_smiles(forensic_gbr: Any) -> None:
    from tests.earlywarning.test_structures import MEPHEDRONE_MOLFILE

    report(forensic_gbr, MEPHEDRONE)
    assessment = report(forensic_gbr, MEPHEDRONE_MOLFILE)
    assert assessment.known is True
    assert Identification.objects.order_by("pk").last().structure_format == "molfile"  # type: ignore[union-attr]


def test_assessment_gives_the_closest_registry_substances_best_first(forensic_gbr: Any) -> None:
    report(forensic_gbr, JWH_018, names=["JWH-018"])
    report(forensic_gbr, JWH_073, names=["JWH-073"])
    report(forensic_gbr, MEPHEDRONE, names=["Mephedrone"])
    assessment = report(forensic_gbr, AM_2201, names=["AM-2201"])
    assert [c["name"] for c in assessment.closest] == ["JWH-018", "JWH-073", "Mephedrone"]
    assert assessment.closest[0]["similarity"] > assessment.closest[2]["similarity"]  # type: ignore[operator]


def test_assessment_gives_control_status_internationally_and_by_generic_definition(forensic_gbr: Any) -> None:
    assessment = report(forensic_gbr, MEPHEDRONE, names=["Mephedrone"], date_found=dt.date(2020, 3, 1))
    control = assessment.control
    international: dict[str, Any] = control["international"]  # type: ignore[assignment]
    assert international["status"] == "controlled"
    assert international["substance"] == "Mephedrone"
    assert [(x["convention"], x["schedule"]) for x in international["listings"]] == [("1971", "II")]
    national = {row["country"]: row for row in control["national"]}  # type: ignore[attr-defined]
    assert sorted(national) == ["GBR", "USA"]
    assert national["GBR"]["status"] == "controlled"
    assert national["GBR"]["rule"] == "GBR-MDA1971-cathinones-2010"
    assert national["GBR"]["explanation"].startswith(
        "controlled in GBR on 2020-03-01 by GBR-MDA1971-cathinones-2010"
    )
    assert national["USA"]["status"] == "not_determined"


def test_before_the_international_listing_the_name_match_is_reported_as_not_in_force(
    forensic_gbr: Any,
) -> None:
    assessment = report(forensic_gbr, MEPHEDRONE, names=["Mephedrone"], date_found=dt.date(2012, 6, 1))
    assert assessment.control["international"]["status"] == "not_in_force"  # type: ignore[index]
    # the UK generic cathinone definition was already in force (16 April 2010)
    national = {row["country"]: row["status"] for row in assessment.control["national"]}  # type: ignore[attr-defined]
    assert national["GBR"] == "controlled"


def test_an_unnamed_new_structure_is_not_determined_internationally(forensic_gbr: Any) -> None:
    assessment = report(forensic_gbr, "CCCCCCOc1ccc(CCN)cc1", country="GBR")
    assert assessment.substance_name == "Unnamed substance " + assessment.identity["inchikey"][:14]  # type: ignore[index]
    assert assessment.control["international"]["status"] == "not_determined"  # type: ignore[index]


@pytest.mark.parametrize(
    ("role", "scope"),
    [
        ("focal_point", {"country": "GBR"}),  # may read, may not report
        ("forensic_focal_point", {"country": "COL"}),  # may report, but for Colombia
        ("analyst", {}),  # the office issues alerts, it does not report identifications
        (None, {}),
    ],
)
def test_refused_reports_change_nothing(reference: None, role: str | None, scope: dict[str, str]) -> None:
    user = make_user(role, **scope)
    before = state()
    with pytest.raises(policy.PermissionDenied):
        report(user, MEPHEDRONE, country="GBR", names=["Mephedrone"])
    assert state() == before


@pytest.mark.parametrize(
    ("field", "change"),
    [
        ("matrix", {"matrix": "urine"}),
        ("analytical_method", {"analytical_method": "  "}),
        ("date_found", {"date_found": dt.date.today() + dt.timedelta(days=2)}),
        ("key_data", {"key_data": {"mz": ["abc"]}}),
        ("country", {"country": "XXX"}),
    ],
)
def test_invalid_fields_are_named_and_nothing_is_written(
    forensic_gbr: Any, field: str, change: dict[str, Any]
) -> None:
    before = state()
    with pytest.raises(services.InvalidInput) as caught:
        report(forensic_gbr, MEPHEDRONE, **change)
    assert caught.value.field == field
    assert state() == before


def test_mz_list_parsing_names_the_bad_token() -> None:
    assert services.parse_mz_list("178.12, 160.1; 91") == [178.12, 160.1, 91.0]
    with pytest.raises(services.InvalidInput, match="'16O' is not a number"):
        services.parse_mz_list("178.12 16O")


def test_retraction_hides_the_entry_keeps_its_versions_and_a_new_identification_reinstates_it(
    forensic_gbr: Any,
) -> None:
    report(forensic_gbr, MEPHEDRONE, names=["Mephedrone"])
    entry = Substance.objects.get()
    analyst = make_user("analyst")
    services.retract_substance(analyst, entry, "structure was a transcription error")
    assert list(queries.substances(analyst)) == []
    assert list(queries.identifications(analyst)) == []
    with pytest.raises(Substance.DoesNotExist):
        queries.substance(analyst, entry.pk)
    assert (
        AuditEvent.objects.filter(action="earlywarning.substance.retract", object_id=str(entry.pk)).count()
        == 1
    )
    assert list(entry.versions.values_list("change", flat=True)) == ["created", "retracted"]
    # when it is identified again
    assessment = report(forensic_gbr, MEPHEDRONE)
    assert assessment.known is True
    assert assessment.merged == ["reinstated: identified again"]
    assert [s.pk for s in queries.substances(analyst)] == [entry.pk]


def test_retraction_needs_a_global_office_scope_and_a_reason(forensic_gbr: Any) -> None:
    report(forensic_gbr, MEPHEDRONE, names=["Mephedrone"])
    entry = Substance.objects.get()
    before = state()
    for user in (forensic_gbr, make_user("analyst", region="Europe")):
        with pytest.raises(policy.PermissionDenied):
            services.retract_substance(user, entry, "wrong")
    with pytest.raises(services.InvalidInput):
        services.retract_substance(make_user("board_officer"), entry, " ")
    assert state() == before
