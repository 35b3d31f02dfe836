"""Class rules: known substances land in their UNODC group, and the rules agree with a lab's list."""

from __future__ import annotations

from pathlib import Path

import pytest

from observatory.earlywarning.chemistry.class_evaluation import agreement_report, read_labelled_csv
from observatory.earlywarning.chemistry.classes import (
    FALLBACK_RULE_ID,
    RuleDataError,
    SubstanceGroup,
    classify_smiles,
    default_class_rules,
    rules_from_data,
)

G = SubstanceGroup
LABELLED_CSV = Path(__file__).resolve().parents[2].parent / "shared" / "nps" / "labelled_nps_slovenia.csv"

KNOWN = [
    ("JWH-018", "CCCCCn1cc(C(=O)c2cccc3ccccc23)c2ccccc21", G.SYNTHETIC_CANNABINOIDS),
    ("MDMB-4en-PINACA", "C=CCCCn1nc(C(=O)NC(C(=O)OC)C(C)(C)C)c2ccccc21", G.SYNTHETIC_CANNABINOIDS),
    ("Δ9-THC", "CCCCCc1cc(O)c2c(c1)OC(C)(C)C1CCC(C)=CC21", G.SYNTHETIC_CANNABINOIDS),
    ("mephedrone", "CNC(C)C(=O)c1ccc(C)cc1", G.SYNTHETIC_CATHINONES),
    ("α-PVP", "CCCC(C(=O)c1ccccc1)N1CCCC1", G.SYNTHETIC_CATHINONES),
    ("2C-B", "COc1cc(CCN)c(OC)cc1Br", G.PHENETHYLAMINES),
    ("25I-NBOMe", "COc1ccccc1CNCCc1cc(OC)c(I)cc1OC", G.PHENETHYLAMINES),
    ("amphetamine", "CC(N)Cc1ccccc1", G.PHENETHYLAMINES),
    ("5-MeO-DMT", "COc1ccc2[nH]cc(CCN(C)C)c2c1", G.TRYPTAMINES),
    ("LSD", "CCN(CC)C(=O)C1C=C2c3cccc4[nH]cc(c34)CC2N(C)C1", G.TRYPTAMINES),
    ("BZP", "c1ccc(CN2CCNCC2)cc1", G.PIPERAZINES),
    ("MDAI", "NC1Cc2cc3c(cc2C1)OCO3", G.AMINOINDANES),
    ("ketamine", "CNC1(c2ccccc2Cl)CCCCC1=O", G.PHENCYCLIDINE_TYPE),
    ("3-MeO-PCP", "COc1cccc(C2(N3CCCCC3)CCCCC2)c1", G.PHENCYCLIDINE_TYPE),
    ("mitragynine", "CC[C@@H]1CN2CCc3c([nH]c4cccc(OC)c34)C2C[C@@H]1/C(=C\\OC)C(=O)OC", G.PLANT_BASED),
    ("fentanyl", "CCC(=O)N(c1ccccc1)C1CCN(CCc2ccccc2)CC1", G.FENTANYL_AND_OPIOIDS),
    ("carfentanil", "CCC(=O)N(c1ccccc1)C1(C(=O)OC)CCN(CCc2ccccc2)CC1", G.FENTANYL_AND_OPIOIDS),
    ("U-47700", "CN(C)C1CCCCC1N(C)C(=O)c1ccc(Cl)c(Cl)c1", G.FENTANYL_AND_OPIOIDS),
    ("isotonitazene", "CCN(CC)CCn1c(Cc2ccc(OC(C)C)cc2)nc2cc([N+](=O)[O-])ccc21", G.NITAZENES),
    ("etizolam", "CCc1cc2c(s1)-n1c(C)nnc1CN=C2c1ccccc1Cl", G.BENZODIAZEPINES),
    ("flubromazepam", "O=C1CN=C(c2ccccc2F)c2cc(Br)ccc2N1", G.BENZODIAZEPINES),
    ("caffeine", "Cn1c(=O)c2c(ncn2C)n(C)c1=O", G.OTHER),
]


@pytest.mark.parametrize(("name", "smiles", "group"), KNOWN, ids=[k[0] for k in KNOWN])
def test_known_substance_gets_its_group(name: str, smiles: str, group: SubstanceGroup) -> None:
    assert classify_smiles(smiles).group is group


def test_fentanyl_is_an_opioid_not_a_phenethylamine_and_says_which_rule() -> None:
    # fentanyl contains a phenethylamine; the opioid rule comes first in the ordered list
    assignment = classify_smiles("CCC(=O)N(c1ccccc1)C1CCN(CCc2ccccc2)CC1")
    assert assignment.group is G.FENTANYL_AND_OPIOIDS
    assert assignment.rule_id == "opioid.fentanyl.anilidopiperidine"
    assert "N-aryl-N-(piperidin-4-yl)amide" in assignment.reason
    rule_ids = [rule.id for rule in default_class_rules()]
    assert rule_ids.index("opioid.fentanyl.anilidopiperidine") < rule_ids.index("phenethylamine.chain")


def test_cathinone_is_not_reported_as_phenethylamine() -> None:
    assignment = classify_smiles("CNC(C)C(=O)c1ccc(C)cc1")
    assert assignment.rule_id == "cathinone.beta_keto_arylalkylamine"


def test_salt_form_classifies_like_the_free_base() -> None:
    assert classify_smiles("CNC(C)C(=O)c1ccc(C)cc1.Cl").group is G.SYNTHETIC_CATHINONES


def test_unmatched_structure_falls_back_to_other_with_a_reason() -> None:
    assignment = classify_smiles("CCO")
    assert (assignment.group, assignment.rule_id, assignment.reason) == (
        G.OTHER,
        FALLBACK_RULE_ID,
        "no structural class rule matched",
    )


def test_exclusion_pattern_blocks_a_rule() -> None:
    rules = rules_from_data(
        {
            "rules": [
                {
                    "id": "amine.any",
                    "group": "phenethylamines",
                    "description": "test",
                    "any_of": [{"name": "amine", "smarts": "[NX3]"}],
                    "none_of": [{"name": "amide", "smarts": "NC=O"}],
                }
            ]
        }
    )
    assert classify_smiles("CCN", rules).rule_id == "amine.any"
    assert classify_smiles("CC(=O)N", rules).group is G.OTHER


def test_bad_rule_data_is_rejected_naming_the_rule() -> None:
    bad_pattern = {"name": "n", "smarts": "[[["}
    bad = {"rules": [{"id": "broken", "group": "tryptamines", "description": "x", "any_of": [bad_pattern]}]}
    with pytest.raises(RuleDataError, match="broken"):
        rules_from_data(bad)
    with pytest.raises(RuleDataError, match="unknown group"):
        rules_from_data({"rules": [{"id": "g", "group": "stimulants", "description": "x", "any_of": []}]})


@pytest.mark.skipif(not LABELLED_CSV.exists(), reason=f"labelled NPS list not found at {LABELLED_CSV}")
def test_rules_agree_with_the_laboratory_labels_on_at_least_95_percent() -> None:
    report = agreement_report(read_labelled_csv(LABELLED_CSV))
    assert report.evaluated > 800
    assert report.agreement >= 0.95, [(row.name, row.label, a.group.value) for row, a in report.disagreements]
    assert len(report.unparsable) <= 5
