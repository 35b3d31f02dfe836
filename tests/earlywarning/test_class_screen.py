"""Derived atom-count screens: necessary conditions only, so classification never changes."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rdkit import Chem, rdBase

from observatory.earlywarning.chemistry.class_evaluation import read_labelled_csv
from observatory.earlywarning.chemistry.class_screen import (
    ANY_ELEMENT,
    AtomKind,
    AtomRequirement,
    has_ring_sizes,
    molecule_mask,
    query_atom_kind,
    requirement_for_query,
)
from observatory.earlywarning.chemistry.classes import (
    FALLBACK_RULE_ID,
    ClassRule,
    classify,
    classify_declared_prefilters,
    classify_unscreened,
    default_class_rules,
    rules_from_data,
)
from observatory.earlywarning.chemistry.structures import StructureParseError, parse_structure
from tests.earlywarning.test_classes import KNOWN, LABELLED_CSV

needs_labelled_list = pytest.mark.skipif(
    not LABELLED_CSV.exists(), reason=f"labelled NPS list not found at {LABELLED_CSV}"
)


def _molecules(path: Path) -> list[tuple[str, Chem.Mol]]:
    """Every labelled structure twice: standardised, and as drawn (salts, charges, tautomers kept)."""
    molecules = []
    with rdBase.BlockLogs():
        for row in read_labelled_csv(path):
            with contextlib.suppress(StructureParseError):
                molecules.append((row.name, parse_structure(row.smiles).mol))
            drawn = Chem.MolFromSmiles(row.smiles)
            if drawn is not None:
                molecules.append((f"{row.name} (as drawn)", drawn))
    return molecules


def _known() -> list[tuple[str, Chem.Mol]]:
    return [(name, parse_structure(smiles).mol) for name, smiles, _ in KNOWN]


@pytest.mark.parametrize(
    ("smarts", "kind"),
    [
        ("c", AtomKind("C", True)),
        ("n", AtomKind("N", True)),
        ("C", AtomKind("C", False)),
        ("[NX3;!$(N[CX3]=O)]", AtomKind("N", False)),
        ("[CX4;R1]", AtomKind("C", False)),
        ("[#7;R]", AtomKind("N", None)),
        ("[#6;a]", AtomKind("C", True)),
        ("[#6&A]", AtomKind("C", False)),
        ("[n&H1]", AtomKind("N", True)),
        ("[Cl]", AtomKind("Cl", False)),
        ("a", AtomKind(None, True)),
        ("[a;r6]", AtomKind(None, True)),
        # disjunctions, negations and recursive SMARTS give no requirement
        ("[c,n]", AtomKind(None, None)),
        ("[!c]", AtomKind(None, None)),
        ("[#6;!a]", AtomKind("C", None)),
        ("[!#6]", AtomKind(None, None)),
        ("[$(c),$([CX3](=O)N)]", AtomKind(None, None)),
        ("[#6,$([SX4](=O)=O)]", AtomKind(None, None)),
        ("[n,c;H1]", AtomKind(None, None)),
        ("*", AtomKind(None, None)),
        ("[#1]", AtomKind(None, None)),
    ],
)
def test_query_atom_kind_reads_only_the_conjunctive_part(smarts: str, kind: AtomKind) -> None:
    assert query_atom_kind(Chem.MolFromSmarts(smarts).GetAtomWithIdx(0)) == kind


def test_plain_atoms_of_a_smiles_query_require_their_element_but_not_its_aromaticity() -> None:
    query = Chem.MolFromSmiles("c1ccccc1N")
    assert {query_atom_kind(atom) for atom in query.GetAtoms()} == {AtomKind("C", None), AtomKind("N", None)}


def test_requirement_counts_every_query_atom_once() -> None:
    requirement = requirement_for_query(Chem.MolFromSmarts("c1ccccc1[NX3][CX3](=O)[c,n]"))
    assert requirement == AtomRequirement(
        elements=((ANY_ELEMENT, 10), ("C", 7), ("N", 1), ("O", 1)),
        aromatic=((ANY_ELEMENT, 6), ("C", 6)),
        aliphatic=((ANY_ELEMENT, 3), ("C", 1), ("N", 1), ("O", 1)),
    )


def test_screen_rejects_what_cannot_match_and_admits_what_can() -> None:
    rules = default_class_rules()
    indole = next(p for r in rules for p in r.any_of if p.name.startswith("1-substituted indole"))
    jwh018 = Chem.MolFromSmiles("CCCCCn1cc(C(=O)c2cccc3ccccc23)c2ccccc21")
    ethanol = Chem.MolFromSmiles("CCO")
    assert indole.screen & molecule_mask(jwh018) == indole.screen
    assert indole.screen & molecule_mask(ethanol) != indole.screen  # no aromatic nitrogen at all


def test_has_ring_sizes_agrees_with_the_ring_list() -> None:
    mol = Chem.MolFromSmiles("CCc1cc2c(s1)-n1c(C)nnc1CN=C2c1ccccc1Cl")  # etizolam: 5-, 6- and 7-rings
    sizes = {len(ring) for ring in mol.GetRingInfo().AtomRings()}
    assert sizes == {5, 6, 7}
    for wanted in ({5}, {6, 7}, {5, 6, 7}, {3}, {6, 8}):
        expected = set(wanted) <= sizes
        assert has_ring_sizes(mol, frozenset(wanted)) is expected
        match = tuple(range(mol.GetNumAtoms()))
        hints = {size: match for size in range(3, 9)}  # every atom offered as a hint for every size
        assert has_ring_sizes(mol, frozenset(wanted), match, hints) is expected


@needs_labelled_list
def test_every_pattern_screen_is_a_necessary_condition_on_the_labelled_list() -> None:
    """Given each labelled structure (standardised and as drawn) and each pattern of the shipped rules,
    when the pattern matches, then the molecule passes the pattern's derived screen (and the declared
    prefilter the rule data promises is necessary)."""
    patterns = [
        (rule, pattern, is_exclusion)
        for rule in default_class_rules()
        for group, is_exclusion in ((rule.any_of, False), (rule.none_of, True))
        for pattern in group
    ]
    violations = []
    for name, mol in _molecules(LABELLED_CSV) + _known():
        mask = molecule_mask(mol)
        sizes = frozenset(len(ring) for ring in mol.GetRingInfo().AtomRings())
        for rule, pattern, is_exclusion in patterns:
            if not mol.HasSubstructMatch(pattern.pattern):
                continue
            if pattern.exclusion_screen & mask != pattern.exclusion_screen:
                violations.append((name, pattern.name, "derived"))
            if not is_exclusion and (
                pattern.screen & mask != pattern.screen
                or rule.screen & mask != rule.screen
                or not (pattern.prefilter.ring_sizes | rule.prefilter.ring_sizes) <= sizes
            ):
                violations.append((name, pattern.name, "declared"))
    assert violations == []


@needs_labelled_list
def test_screened_classification_equals_unscreened_and_previous_on_the_labelled_list() -> None:
    """Given every labelled structure, standardised and as drawn, when classified with the screens,
    without any prefilter, and as before this change, then all three give the same assignment."""
    rules = default_class_rules()
    molecules = _molecules(LABELLED_CSV)
    assert len(molecules) > 1900
    different = [
        name
        for name, mol in molecules
        if not (
            classify(mol, rules)
            == classify_unscreened(mol, rules)
            == classify_declared_prefilters(mol, rules)
        )
    ]
    assert different == []


def test_screened_classification_equals_unscreened_on_known_substances() -> None:
    rules = default_class_rules()
    for name, mol in _known():
        assert classify(mol, rules) == classify_unscreened(mol, rules), name


FRAGMENTS = ["C", "N", "O", "c1ccccc1", "C(=O)", "C(C)", "Cl", "n1ccc2ccccc21", "C1CCNCC1", "C(=O)N", "S"]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.sampled_from(FRAGMENTS), min_size=1, max_size=9).map("".join))
def test_screened_classification_equals_unscreened_on_generated_structures(smiles: str) -> None:
    with rdBase.BlockLogs():
        mol = Chem.MolFromSmiles(smiles)
    if mol is None:
        return
    rules = default_class_rules()
    assert classify(mol, rules) == classify_unscreened(mol, rules) == classify_declared_prefilters(mol, rules)


def _rules(
    *any_of: Mapping[str, object], requires_ring_sizes: list[int] | None = None
) -> tuple[ClassRule, ...]:
    rule: dict[str, object] = {"id": "r", "group": "tryptamines", "description": "d", "any_of": list(any_of)}
    if requires_ring_sizes is not None:
        rule["requires_ring_sizes"] = requires_ring_sizes
    return rules_from_data({"rules": [rule]})


def test_declared_ring_sizes_still_apply_after_a_match() -> None:
    benzene_ring = {"name": "benzene", "smarts": "c1ccccc1"}
    toluene = Chem.MolFromSmiles("Cc1ccccc1")
    # the rule's ring prefilter fails: the rule does not apply although its pattern matches
    assert classify(toluene, _rules(benzene_ring, requires_ring_sizes=[5])).rule_id == FALLBACK_RULE_ID
    assert classify(toluene, _rules(benzene_ring, requires_ring_sizes=[6])).rule_id == "r"
    # a pattern's ring prefilter fails: the next pattern of the rule is tried
    first = {"name": "first", "smarts": "c1ccccc1", "requires_ring_sizes": [7]}
    second = {"name": "second", "smarts": "[CH3]c"}
    assignment = classify(toluene, _rules(first, second))
    assert (assignment.rule_id, assignment.reason) == ("r", "contains second (d)")
    assert assignment == classify_declared_prefilters(toluene, _rules(first, second))
