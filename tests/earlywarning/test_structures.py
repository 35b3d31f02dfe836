"""Structure identity as a forensic focal point meets it: what comes back for what they type."""

from __future__ import annotations

import pytest

from observatory.earlywarning.chemistry.structures import (
    StructureParseError,
    parse_structure,
    same_substance,
    stereo_related,
)

MEPHEDRONE_KEY = "YELGFTGWJGBAQU-UHFFFAOYSA-N"

MEPHEDRONE_MOLFILE = """mephedrone
     RDKit          2D

 13 13  0  0  0  0  0  0  0  0999 V2000
    0.0000    0.0000    0.0000 C   0  0
    1.2990    0.7500    0.0000 N   0  0
    2.5981    0.0000    0.0000 C   0  0
    2.5981   -1.5000    0.0000 C   0  0
    3.8971    0.7500    0.0000 C   0  0
    3.8971    2.2500    0.0000 O   0  0
    5.1962    0.0000    0.0000 C   0  0
    5.1962   -1.5000    0.0000 C   0  0
    6.4952   -2.2500    0.0000 C   0  0
    7.7942   -1.5000    0.0000 C   0  0
    9.0933   -2.2500    0.0000 C   0  0
    7.7942    0.0000    0.0000 C   0  0
    6.4952    0.7500    0.0000 C   0  0
  1  2  1  0
  2  3  1  0
  3  4  1  0
  3  5  1  0
  5  6  2  0
  5  7  1  0
  7  8  2  0
  8  9  1  0
  9 10  2  0
 10 11  1  0
 10 12  1  0
 12 13  2  0
 13  7  1  0
M  END
"""


@pytest.mark.parametrize("text", ["", "   ", "C1CC", "xyz", "c1cccc1", "CC(C)(C)(C)(C)C"])
def test_unparsable_input_raises_a_specific_error_naming_the_input(text: str) -> None:
    # given a string that is not a valid structure, when it is parsed, then a StructureParseError names it
    with pytest.raises(StructureParseError) as caught:
        parse_structure(text)
    assert repr(" ".join(text.split())) in str(caught.value)
    assert caught.value.input_text == text


def test_inorganic_salt_alone_is_rejected_with_the_reason() -> None:
    with pytest.raises(StructureParseError, match="no organic"):
        parse_structure("[Na+].[Cl-]")


def test_broken_molfile_is_rejected_as_a_molfile() -> None:
    with pytest.raises(StructureParseError, match="cannot parse molfile"):
        parse_structure("junk\n\n\n  2  1  0  0  0  0  0  0  0  0999 V2000\nM  END\n")


def test_hydrochloride_salt_keeps_the_parent_and_reports_the_counter_ion() -> None:
    # given mephedrone hydrochloride written as an ion pair
    structure = parse_structure("C[NH2+]C(C)C(=O)c1ccc(C)cc1.[Cl-]")
    # then identity is the neutral free base and the chloride is reported as removed
    assert structure.canonical_smiles == "CNC(C)C(=O)c1ccc(C)cc1"
    assert structure.inchikey == MEPHEDRONE_KEY
    assert structure.removed_fragments == ("[Cl-]",)
    assert "neutralised charges" in structure.notes
    assert structure.formula == "C11H15NO"


def test_mixture_keeps_the_largest_organic_fragment() -> None:
    # given a sample drawn with acetic acid and water alongside the drug
    structure = parse_structure("CC(=O)O.CNC(C)C(=O)c1ccc(C)cc1.O")
    assert structure.inchikey == MEPHEDRONE_KEY
    assert structure.removed_fragments == ("CC(=O)O", "O")


def test_same_substance_written_two_ways_gives_one_inchikey() -> None:
    as_smiles = parse_structure("CNC(C)C(=O)c1ccc(C)cc1")
    other_order = parse_structure("Cc1ccc(cc1)C(=O)C(C)NC")
    as_molfile = parse_structure(MEPHEDRONE_MOLFILE)
    assert as_smiles.inchikey == other_order.inchikey == as_molfile.inchikey == MEPHEDRONE_KEY
    assert as_molfile.input_format == "molfile"
    assert same_substance(as_smiles, as_molfile)


def test_tautomers_share_one_identity_and_the_note_says_so() -> None:
    hydroxy = parse_structure("Oc1ccccn1")
    pyridone = parse_structure("O=c1cccc[nH]1")
    assert hydroxy.inchikey == pyridone.inchikey
    assert hydroxy.canonical_smiles == pyridone.canonical_smiles == "O=c1cccc[nH]1"
    assert any("canonical tautomer" in note for note in hydroxy.notes)


def test_enantiomers_are_different_substances_but_stereo_related() -> None:
    s_cathinone = parse_structure("C[C@H](N)C(=O)c1ccccc1")
    r_cathinone = parse_structure("C[C@@H](N)C(=O)c1ccccc1")
    racemic = parse_structure("CC(N)C(=O)c1ccccc1")
    assert s_cathinone.inchikey != r_cathinone.inchikey != racemic.inchikey
    assert s_cathinone.connectivity_key == r_cathinone.connectivity_key == racemic.connectivity_key
    assert stereo_related(s_cathinone, racemic)
    assert s_cathinone.has_stereo_layer and not racemic.has_stereo_layer
    assert "1 stereocentre(s) undefined" in racemic.notes


def test_tautomer_step_keeps_the_stereocentre_next_to_the_ketone() -> None:
    # the alpha carbon of a cathinone is enolisable; identity must still tell the enantiomers apart
    assert parse_structure("C[C@H](N)C(=O)c1ccccc1").canonical_smiles == "C[C@H](N)C(=O)c1ccccc1"


def test_nitro_group_is_kept_charge_separated_and_masses_are_exact() -> None:
    isotonitazene = parse_structure("CCN(CC)CCn1c(Cc2ccc(OC(C)C)cc2)nc2cc(N(=O)=O)ccc21")
    assert isotonitazene.formula == "C23H30N4O3"
    assert isotonitazene.exact_mass == pytest.approx(410.231791, abs=1e-5)
    assert isotonitazene.average_mass == pytest.approx(410.518, abs=1e-2)
    assert "[N+](=O)[O-]" in isotonitazene.canonical_smiles


def test_permanent_charge_is_kept_and_noted() -> None:
    choline = parse_structure("C[N+](C)(C)CCO")
    assert choline.formula == "C5H14NO+"
    assert "net charge +1 has no neutral form and was kept" in choline.notes
