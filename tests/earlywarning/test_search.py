"""Search over an in-memory library: exact, similarity top-k, substructure, save/load."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rdkit import Chem, DataStructs

from observatory.earlywarning.chemistry.search import (
    FP_WORDS,
    StructureLibrary,
    fingerprint_words,
    morgan_generator,
    popcount_rows,
    tanimoto,
)
from observatory.earlywarning.chemistry.structures import parse_structure

LIBRARY_SMILES = {
    "mephedrone": "CNC(C)C(=O)c1ccc(C)cc1",
    "4-MEC": "CCNC(C)C(=O)c1ccc(C)cc1",
    "methylone": "CNC(C)C(=O)c1ccc2c(c1)OCO2",
    "JWH-018": "CCCCCn1cc(C(=O)c2cccc3ccccc23)c2ccccc21",
    "fentanyl": "CCC(=O)N(c1ccccc1)C1CCN(CCc2ccccc2)CC1",
    "(S)-cathinone": "C[C@H](N)C(=O)c1ccccc1",
    "(R)-cathinone": "C[C@@H](N)C(=O)c1ccccc1",
    "caffeine": "Cn1c(=O)c2c(ncn2C)n(C)c1=O",
}


@pytest.fixture(scope="module")
def library() -> StructureLibrary:
    return StructureLibrary.from_molecules(
        (name, parse_structure(s).mol) for name, s in LIBRARY_SMILES.items()
    )


def test_exact_lookup_by_inchikey_finds_a_salt_form_of_a_library_substance(library: StructureLibrary) -> None:
    query = parse_structure("CNC(C)C(=O)c1ccc(C)cc1.Cl")
    rows = library.lookup_inchikey(query.inchikey)
    assert [library.identifiers[i] for i in rows] == ["mephedrone"]
    assert library.lookup_inchikey("AAAAAAAAAAAAAA-UHFFFAOYSA-N") == []


def test_stereo_variants_are_found_by_connectivity(library: StructureLibrary) -> None:
    racemate = parse_structure("CC(N)C(=O)c1ccccc1")
    assert library.lookup_inchikey(racemate.inchikey) == []
    found = sorted(
        str(library.identifiers[i]) for i in library.lookup_connectivity(racemate.connectivity_key)
    )
    assert found == ["(R)-cathinone", "(S)-cathinone"]


def test_top_k_returns_the_closest_substances_best_first(library: StructureLibrary) -> None:
    hits = library.top_k(parse_structure("CNC(C)C(=O)c1ccc(C)cc1").mol, k=3)
    assert hits[0].identifier == "mephedrone" and hits[0].similarity == 1.0
    assert hits[1].identifier == "4-MEC"
    assert [h.similarity for h in hits] == sorted((h.similarity for h in hits), reverse=True)


def test_threshold_drops_weak_hits(library: StructureLibrary) -> None:
    hits = library.top_k(parse_structure("CNC(C)C(=O)c1ccc(C)cc1").mol, k=10, threshold=0.5)
    assert all(h.similarity >= 0.5 for h in hits)
    assert "JWH-018" not in {h.identifier for h in hits}


def test_scores_equal_rdkit_tanimoto(library: StructureLibrary) -> None:
    generator = morgan_generator()
    query = Chem.MolFromSmiles(LIBRARY_SMILES["JWH-018"])
    expected = DataStructs.BulkTanimotoSimilarity(
        generator.GetFingerprint(query),
        [generator.GetFingerprint(Chem.MolFromSmiles(s)) for s in library.smiles],
    )
    assert np.allclose(library.similarity_scores(query), expected)


def test_substructure_search_with_fingerprint_screen(library: StructureLibrary) -> None:
    aryl_ketone_amine = library.substructure("c[CX3](=O)[CX4][NX3]")
    names = sorted(str(library.identifiers[i]) for i in aryl_ketone_amine)
    assert names == ["(R)-cathinone", "(S)-cathinone", "4-MEC", "mephedrone", "methylone"]
    assert [str(library.identifiers[i]) for i in library.substructure("n1cc(C(=O)c)c2ccccc21")] == ["JWH-018"]
    with pytest.raises(ValueError, match="invalid SMARTS"):
        library.substructure("[[[")


def test_library_round_trips_through_npz(library: StructureLibrary, tmp_path: Path) -> None:
    path = tmp_path / "library.npz"
    library.save(path)
    loaded = StructureLibrary.load(path)
    assert len(loaded) == len(library)
    assert np.array_equal(loaded.fingerprints, library.fingerprints)
    assert list(loaded.identifiers) == list(library.identifiers)
    query = parse_structure(LIBRARY_SMILES["fentanyl"]).mol
    assert loaded.top_k(query, 2) == library.top_k(query, 2)


def test_empty_library_and_empty_fingerprints() -> None:
    empty = StructureLibrary([], [], [], np.zeros((0, FP_WORDS), dtype=np.uint64))
    assert empty.top_k(Chem.MolFromSmiles("CCO"), 5) == []
    zeros = np.zeros((2, FP_WORDS), dtype=np.uint64)
    assert list(tanimoto(zeros[0], zeros)) == [1.0, 1.0]  # RDKit's convention for two empty vectors


def test_popcount_matches_python_bit_count() -> None:
    rng = np.random.default_rng(3)
    matrix = rng.integers(0, 2**63, size=(5, FP_WORDS), dtype=np.uint64)
    assert list(popcount_rows(matrix)) == [sum(int(w).bit_count() for w in row) for row in matrix]


# --- properties --------------------------------------------------------------------------------

random_fingerprints = st.lists(
    st.lists(st.integers(0, 2048 - 1), min_size=0, max_size=60), min_size=1, max_size=40
)


def _matrix(bit_lists: list[list[int]]) -> np.ndarray:
    bits = np.zeros((len(bit_lists), 2048), dtype=np.uint8)
    for row, on in enumerate(bit_lists):
        bits[row, on] = 1
    return np.packbits(bits, axis=1, bitorder="little").view(np.uint64)


@settings(max_examples=40, deadline=None)
@given(random_fingerprints, st.integers(1, 12), st.floats(0.0, 1.0))
def test_top_k_is_exact_sorted_and_respects_the_threshold(
    bit_lists: list[list[int]], k: int, threshold: float
) -> None:
    matrix = _matrix(bit_lists)
    n = len(bit_lists)
    library = StructureLibrary([str(i) for i in range(n)], [""] * n, ["C"] * n, matrix)
    query = matrix[0]
    hits = library.top_k(query, k=k, threshold=threshold)
    scores = [h.similarity for h in hits]
    brute = sorted((s for s in tanimoto(query, matrix) if s >= threshold), reverse=True)[:k]
    assert scores == sorted(scores, reverse=True)
    assert np.allclose(scores, brute)


@settings(max_examples=30, deadline=None)
@given(st.sampled_from(list(LIBRARY_SMILES.values())))
def test_tanimoto_of_a_molecule_with_itself_is_one(smiles: str) -> None:
    words = fingerprint_words(Chem.MolFromSmiles(smiles))
    assert tanimoto(words, words[np.newaxis, :])[0] == 1.0
