"""Property tests: the parser never crashes, and standardisation is idempotent."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from observatory.earlywarning.chemistry.classes import SubstanceGroup, classify
from observatory.earlywarning.chemistry.structures import StructureParseError, parse_structure

# A small SMILES grammar: a chain of atoms and groups, optional ring and salt, always valid.
ATOMS = [
    "C",
    "N",
    "O",
    "c1ccccc1",
    "C(=O)",
    "C(C)",
    "C(F)(F)F",
    "Cl",
    "Br",
    "S",
    "c1ccc2[nH]ccc2c1",
    "C1CCNCC1",
]
COUNTER_IONS = ["", ".Cl", ".[Na+].[O-]C(=O)C", ".O"]

chains = st.lists(st.sampled_from(ATOMS), min_size=1, max_size=8).map("".join)
valid_smiles = st.tuples(chains, st.sampled_from(COUNTER_IONS)).map(lambda parts: parts[0] + parts[1])


def _valid_or_specific_error(text: str) -> None:
    try:
        structure = parse_structure(text)
    except StructureParseError as error:
        assert error.input_text == text
        return
    assert structure.inchikey.count("-") == 2 and len(structure.inchikey) == 27
    assert structure.connectivity_key == structure.inchikey[:14]


@settings(max_examples=60, deadline=None)
@given(valid_smiles)
def test_grammar_smiles_parse_or_fail_cleanly_and_round_trip(smiles: str) -> None:
    try:
        first = parse_structure(smiles)
    except StructureParseError:
        return  # e.g. a halogen chain end with wrong valence: rejected with the specific error
    again = parse_structure(first.canonical_smiles)
    assert again.inchikey == first.inchikey
    assert again.canonical_smiles == first.canonical_smiles
    assert isinstance(classify(first.mol).group, SubstanceGroup)


@settings(max_examples=80, deadline=None)
@given(st.text(alphabet="CNOcn()[]=#123+-.@/\\HClBr ", max_size=30))
def test_arbitrary_smiles_like_text_never_crashes(text: str) -> None:
    _valid_or_specific_error(text)


@settings(max_examples=30, deadline=None)
@given(st.text(max_size=200))
def test_arbitrary_text_never_crashes(text: str) -> None:
    _valid_or_specific_error(text)
