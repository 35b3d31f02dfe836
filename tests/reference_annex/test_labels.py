"""Drug-label normaliser and the shipped taxonomy/alias table."""

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from observatory.reference.annex.labels import (
    TAXONOMY_PATH,
    Alias,
    AliasConflictError,
    AliasTable,
    normalise_label,
)
from observatory.reference.annex.seizures import parse_seizures
from observatory.reference.annex.taxonomy_build import all_codes, labels_seen
from tests.reference_annex.conftest import SEIZURES_CSV


@pytest.fixture(scope="module")
def taxonomy():
    return json.loads(TAXONOMY_PATH.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def table():
    return AliasTable.from_taxonomy_file()


def test_curly_and_straight_quotes_case_and_spacing_match(table):
    curly = table.resolve("Synthetic cannabinoids (“Spice”)")
    plain = table.resolve("synthetic  cannabinoids (Spice)")
    assert curly.code == plain.code == "nps.synthetic-cannabinoids-spice"  # the subgroup of that name
    assert table.resolve("“Ecstasy”-type substances").code == table.resolve('"Ecstasy"-type substances').code


def test_abbreviations_and_typos_resolve_through_the_alias_data(table):
    assert table.resolve("ATS").code == table.resolve("Amphetamine-type stimulants").code == "ats"
    assert table.resolve("Solvents and Inhallants").code == "inhalants"
    assert table.resolve("Katom").code == table.resolve("Kratom").code
    assert table.resolve("Katom").level == "drug_code"


def test_unknown_labels_are_reported_not_guessed(table):
    report = table.resolve_all(["Heroin", "Heroine", "Cannabis"])
    assert report.unknown == ("Heroine",)
    assert report.resolved["Heroin"].code == "opioids.opiates.heroin"
    assert report.resolved["Heroine"].code is None
    # a suggestion is offered for a person to review, never applied
    assert table.suggest("Heroine")[0][0] == "Heroin"


def test_an_alias_table_is_data_and_conflicts_are_refused():
    table = AliasTable([Alias("Crystal meth", "ats.methamphetamine", "subgroup_code")])
    assert table.resolve("CRYSTAL  METH").code == "ats.methamphetamine"
    with pytest.raises(AliasConflictError):
        AliasTable([Alias("Ice", "a", "drug_code"), Alias("ice", "b", "drug_code")])
    with pytest.raises(ValueError, match="exactly one"):
        AliasTable.from_records([{"label": "x", "drug_code": "a", "group_code": "b"}])


def test_taxonomy_codes_are_unique_and_every_alias_points_at_one(taxonomy):
    codes = all_codes(taxonomy["groups"])
    flat = [c for level in codes.values() for c in level]
    assert len(flat) == len(set(flat))
    for alias in taxonomy["aliases"]:
        (level,) = [key for key in ("drug_code", "subgroup_code", "group_code") if key in alias]
        assert alias[level] in codes[level], alias
    measures = {
        d["name"]: d["measure"] for g in taxonomy["groups"] for s in g["subgroups"] for d in s["drugs"]
    }
    assert {name for name, m in measures.items() if m == "count"} == {
        "Cannabis plants",
        "Poppy plants",
        "Coca bush",
    }


def test_every_label_of_7_1_1_2_1_4_and_2_1_resolves(annex_dir, table):
    seizures = parse_seizures(SEIZURES_CSV)
    labels = {lbl for r in seizures.records for lbl in (r.drug_group, r.drug_subgroup, r.drug_name)}
    for seen in labels_seen(annex_dir).values():
        labels |= seen
    assert table.resolve_all(labels).unknown == ()
    assert len(labels) > 250


_label_text = st.text(
    alphabet=st.sampled_from([*list("abcXYZ-–—&'\"“”‘’ ().,/\xa0\t"), "é", "ß", "ﬁ"]), max_size=30
)


@given(_label_text)
def test_normalise_label_is_idempotent(label):
    once = normalise_label(label)
    assert normalise_label(once) == once


@given(_label_text)
def test_normalise_label_ignores_case_and_quote_style(label):
    swapped = label.upper().replace("“", '"').replace("’", "'")
    assert normalise_label(swapped) == normalise_label(label.replace("“", '"').replace("’", "'").upper())
    assert normalise_label(label.replace("“", "").replace("”", "")) == normalise_label(label)


@given(st.text(max_size=40))
def test_normalise_label_has_no_quotes_or_outer_spaces(label):
    key = normalise_label(label)
    assert key == key.strip()
    assert not set(key) & set("\"'“”‘’")
