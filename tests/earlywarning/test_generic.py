"""Generic legal definitions, tested with the substances the laws' own texts name and near misses."""

from __future__ import annotations

from datetime import date

import pytest

from observatory.earlywarning.chemistry.generic import (
    DefinitionDataError,
    default_generic_definitions,
    definitions_from_data,
    evaluate,
)

TODAY = date(2025, 6, 1)

CATHINONES_ID = "GBR-MDA1971-cathinones-2010"
NAPHTHOYL_2009 = "GBR-MDA1971-naphthoylindoles-2009"
NAPHTHOYL_2013 = "GBR-MDA1971-naphthoylindoles-2013"
FENTANYL_CLASS = "USA-CSA-fentanyl-related-substances"


# --- UK: cathinones (2-amino-1-phenyl-1-propanone) ---------------------------------------------


@pytest.mark.parametrize(
    ("name", "smiles", "expected_detail"),
    [
        ("mephedrone", "CNC(C)C(=O)c1ccc(C)cc1", "phenyl ring: *C (alkyl)"),
        ("methylone", "CNC(C)C(=O)c1ccc2c(c1)OCO2", "phenyl ring: *OCO* (alkylenedioxy)"),
        ("MDPV", "CCCC(C(=O)c1ccc2c(c1)OCO2)N1CCCC1", "nitrogen atom: *1CCCC1 (ring_through_site)"),
        ("α-PVP", "CCCC(C(=O)c1ccccc1)N1CCCC1", "3-position: *CC (alkyl)"),
        ("4-CMC", "CNC(C)C(=O)c1ccc(Cl)cc1", "phenyl ring: *Cl (halo)"),
    ],
)
def test_uk_cathinone_generic_covers_derivatives(name: str, smiles: str, expected_detail: str) -> None:
    result = evaluate(smiles, None, "GBR", TODAY)
    assert (result.status, result.definition_id, result.control) == ("controlled", CATHINONES_ID, "Class B")
    assert expected_detail in result.details
    assert "Schedule 2, Part II" in (result.citation or "")


@pytest.mark.parametrize(
    ("name", "smiles"),
    [
        ("bupropion", "CC(NC(C)(C)C)C(=O)c1cccc(Cl)c1"),
        ("diethylpropion", "CCN(CC)C(C)C(=O)c1ccccc1"),
        ("pyrovalerone", "CCCC(C(=O)c1ccc(C)cc1)N1CCCC1"),
    ],
)
def test_uk_cathinone_generic_named_exceptions_are_excluded(name: str, smiles: str) -> None:
    result = evaluate(smiles, None, "GBR", TODAY)
    assert (result.status, result.definition_id) == ("excluded", CATHINONES_ID)
    assert f"named as an exception ({name})" in result.explanation


def test_uk_cathinone_generic_needs_a_modification_of_cathinone_itself() -> None:
    result = evaluate("CC(N)C(=O)c1ccccc1", None, "GBR", TODAY)
    assert result.status == "excluded"
    assert "unmodified parent compound" in result.explanation


@pytest.mark.parametrize(
    ("name", "smiles", "why"),
    [
        # fused benzo ring is not one of the listed ring substituents
        (
            "naphyrone",
            "CCCC(C(=O)c1ccc2ccccc2c1)N1CCCC1",
            "phenyl ring: *:C:C:C:C:* is not an allowed substituent",
        ),
        # 3-position substituent must be alkyl: methoxymethyl is not
        ("mexedrone", "CNC(COC)C(=O)c1ccc(C)cc1", "3-position: *OC is not an allowed substituent"),
        # N-benzyl is neither alkyl nor a ring including the nitrogen
        (
            "BMDB",
            "CCC(NCc1ccccc1)C(=O)c1ccc2c(c1)OCO2",
            "nitrogen atom: *Cc1ccccc1 is not an allowed substituent",
        ),
        # hydroxy alone is an 'other univalent' substituent, allowed only alongside a listed one
        ("4-hydroxymethcathinone", "CNC(C)C(=O)c1ccc(O)cc1", "only 'other' substituents"),
        # thiophene instead of phenyl: the core is absent
        ("methiopropamine ketone", "CNC(C)C(=O)c1cccs1", "core 2-amino-1-phenyl-1-propanone not present"),
        # no ketone: an amphetamine, not a cathinone
        ("4-methylmethamphetamine", "CNC(C)Cc1ccc(C)cc1", "core 2-amino-1-phenyl-1-propanone not present"),
    ],
)
def test_uk_cathinone_generic_near_misses_are_not_determined_with_the_reason(
    name: str, smiles: str, why: str
) -> None:
    result = evaluate(smiles, None, "GBR", TODAY)
    assert result.status == "not_determined"
    assert any(line.startswith(CATHINONES_ID) and why in line for line in result.considered), (
        result.considered
    )


# --- UK: naphthoylindoles ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "smiles", "n_substituent"),
    [
        ("JWH-018", "CCCCCn1cc(C(=O)c2cccc3ccccc23)c2ccccc21", "*CCCCC (alkyl)"),
        ("JWH-073", "CCCCn1cc(C(=O)c2cccc3ccccc23)c2ccccc21", "*CCCC (alkyl)"),
        ("AM-2201", "FCCCCCn1cc(C(=O)c2cccc3ccccc23)c2ccccc21", "*CCCCCF (haloalkyl)"),
        ("JWH-200", "O=C(c1cccc2ccccc12)c1cn(CCN2CCOCC2)c2ccccc12", "*CCN1CCOCC1 (2-(4-morpholinyl)ethyl)"),
        ("JWH-175 (naphthylmethane)", "CCCCCn1cc(Cc2cccc3ccccc23)c2ccccc21", "*CCCCC (alkyl)"),
    ],
)
def test_uk_naphthoylindole_generic_covers_the_jwh_family(name: str, smiles: str, n_substituent: str) -> None:
    result = evaluate(smiles, None, "GBR", date(2012, 1, 1))
    assert (result.status, result.definition_id) == ("controlled", NAPHTHOYL_2009)
    assert f"indole nitrogen: {n_substituent}" in result.details


def test_uk_naphthoylindole_definition_in_force_depends_on_the_date() -> None:
    # AM-1220's (N-methylpiperidin-2-yl)methyl was added to the list in 2013
    am1220 = "CN1CCCCC1Cn1cc(C(=O)c2cccc3ccccc23)c2ccccc21"
    before = evaluate(am1220, None, "GBR", date(2013, 2, 25))
    after = evaluate(am1220, None, "GBR", date(2013, 2, 26))
    assert before.status == "not_determined"
    assert any(
        "indole nitrogen: *CC1CCCCN1C is not an allowed substituent" in line for line in before.considered
    )
    assert (after.status, after.definition_id) == ("controlled", NAPHTHOYL_2013)
    assert evaluate(am1220, None, "GBR", date(2009, 1, 1)).explanation == (
        "no generic definition in force in GBR on 2009-01-01"
    )


@pytest.mark.parametrize(
    ("name", "smiles", "why"),
    [
        ("THJ-018 (indazole)", "CCCCCn1nc(C(=O)c2cccc3ccccc23)c2ccccc21", "not present"),
        (
            "FUB-JWH-018 (N-benzyl)",
            "O=C(c1cccc2ccccc12)c1cn(Cc2ccc(F)cc2)c2ccccc12",
            "is not an allowed substituent",
        ),
        ("unsubstituted 3-(1-naphthoyl)indole", "O=C(c1c[nH]c2ccccc12)c1cccc2ccccc12", "needs at least 1"),
    ],
)
def test_uk_naphthoylindole_near_misses(name: str, smiles: str, why: str) -> None:
    result = evaluate(smiles, None, "GBR", TODAY)
    assert result.status == "not_determined"
    assert any(line.startswith(NAPHTHOYL_2013) and why in line for line in result.considered), (
        result.considered
    )


# --- USA: fentanyl-related substances ----------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "smiles", "detail"),
    [
        # substances DEA named as fentanyl-related substances under the class definition
        (
            "β-methyl fentanyl",
            "CCC(=O)N(c1ccccc1)C1CCN(CC(C)c2ccccc2)CC1",
            "ethyl of the phenethyl group (B): *C (alkyl)",
        ),
        ("2'-fluoro ortho-fluorofentanyl", "CCC(=O)N(c1ccccc1F)C1CCN(CCc2ccccc2F)CC1", None),
        (
            "thiofuranyl fentanyl",
            "O=C(c1cccs1)N(c1ccccc1)C1CCN(CCc2ccccc2)CC1",
            "acyl group (E: another acyl group): *c1cccs1 (any)",
        ),
        (
            "fentanyl carbamate",
            "CCOC(=O)N(c1ccccc1)C1CCN(CCc2ccccc2)CC1",
            "acyl group (E: another acyl group): *OCC (any)",
        ),
        ("ortho-fluoroacryl fentanyl", "C=CC(=O)N(c1ccccc1F)C1CCN(CCc2ccccc2)CC1", None),
    ],
)
def test_us_fentanyl_related_substances_class(name: str, smiles: str, detail: str | None) -> None:
    result = evaluate(smiles, None, "usa", TODAY)
    assert (result.status, result.definition_id, result.control) == (
        "controlled",
        FENTANYL_CLASS,
        "Schedule I",
    )
    assert result.citation is not None and "21 CFR 1308.11(h)(30)" in result.citation
    if detail:
        assert detail in result.details


def test_fentanyl_itself_and_named_analogues_are_outside_the_class() -> None:
    fentanyl = evaluate("CCC(=O)N(c1ccccc1)C1CCN(CCc2ccccc2)CC1", None, "USA", TODAY)
    carfentanil = evaluate("CCC(=O)N(c1ccccc1)C1(C(=O)OC)CCN(CCc2ccccc2)CC1", None, "USA", TODAY)
    assert fentanyl.status == carfentanil.status == "excluded"
    assert "unmodified parent compound" in fentanyl.explanation
    assert "carfentanil" in carfentanil.explanation


@pytest.mark.parametrize(
    ("name", "smiles", "why"),
    [
        ("4-ANPP (no acyl group)", "c1ccc(NC2CCN(CCc3ccccc3)CC2)cc1", "not present"),
        ("benzylfentanyl (shortened chain)", "CCC(=O)N(c1ccccc1)C1CCN(Cc2ccccc2)CC1", "not present"),
        (
            "naphthylethyl analogue (fused ring)",
            "CCC(=O)N(c1ccccc1)C1CCN(CCc2ccc3ccccc3c2)CC1",
            "is not a monocycle",
        ),
        (
            "isotonitazene (other opioid class)",
            "CCN(CC)CCn1c(Cc2ccc(OC(C)C)cc2)nc2cc([N+](=O)[O-])ccc21",
            "not present",
        ),
    ],
)
def test_us_fentanyl_class_near_misses(name: str, smiles: str, why: str) -> None:
    result = evaluate(smiles, None, "USA", TODAY)
    assert result.status == "not_determined"
    assert any(why in line for line in result.considered), result.considered


def test_before_the_temporary_order_nothing_is_determined() -> None:
    result = evaluate("CCC(=O)N(c1ccccc1)C1CCN(CC(C)c2ccccc2)CC1", None, "USA", date(2018, 2, 5))
    assert result.status == "not_determined"
    assert result.considered == ()


def test_jurisdiction_without_rules_is_not_determined() -> None:
    result = evaluate("CNC(C)C(=O)c1ccc(C)cc1", None, "SVN", TODAY)
    assert (result.status, result.definition_id) == ("not_determined", None)
    assert result.explanation == "no generic definition in force in SVN on 2025-06-01"


def test_definitions_are_data_with_required_fields() -> None:
    definitions = default_generic_definitions()
    assert {d.id for d in definitions} >= {CATHINONES_ID, NAPHTHOYL_2009, NAPHTHOYL_2013, FENTANYL_CLASS}
    for definition in definitions:
        assert len(definition.jurisdiction) == 3 and definition.law and definition.article
        assert definition.cores and definition.sites


def test_bad_definition_data_names_the_definition() -> None:
    raw = {
        "definitions": [
            {
                "id": "X-1",
                "title": "t",
                "law": "l",
                "instrument": "i",
                "article": "a",
                "jurisdiction": "xxx",
                "effective_from": "2020-01-01",
                "control": "c",
                "cores": [{"name": "c", "smarts": "[c:1]"}],
                "sites": [{"name": "s", "atoms": [1], "allowed": ["sulfonyl"]}],
            }
        ]
    }
    with pytest.raises(DefinitionDataError, match="X-1: unknown substituent kind 'sulfonyl'"):
        definitions_from_data(raw)


def test_answers_serialise_to_json_for_the_cli_and_api() -> None:
    import json

    from observatory.earlywarning.chemistry.classes import classify
    from observatory.earlywarning.chemistry.structures import parse_structure

    structure = parse_structure("CNC(C)C(=O)c1ccc(C)cc1.Cl")
    payload = {
        "structure": structure.as_dict(),
        "class": classify(structure.mol).as_dict(),
        "legal": evaluate(structure, None, "GBR", TODAY).as_dict(),
    }
    decoded = json.loads(json.dumps(payload))
    assert decoded["structure"]["inchikey"] == "YELGFTGWJGBAQU-UHFFFAOYSA-N"
    assert decoded["class"]["group"] == "synthetic_cathinones"
    assert decoded["legal"]["status"] == "controlled"


def test_a_raw_salt_molecule_is_standardised_before_exclusions_are_checked() -> None:
    from rdkit import Chem

    bupropion_hydrochloride = Chem.MolFromSmiles("CC(NC(C)(C)C)C(=O)c1cccc(Cl)c1.Cl")
    result = evaluate(bupropion_hydrochloride, None, "GBR", TODAY)
    assert (result.status, result.definition_id) == ("excluded", CATHINONES_ID)
