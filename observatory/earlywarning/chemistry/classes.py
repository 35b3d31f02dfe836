"""Structural class rules that assign the UNODC NPS substance group.

The rules are data (``observatory/earlywarning/data/class_rules.json``): an ordered list, first match
wins. Each rule has ``any_of`` SMARTS (one must match) and optional ``none_of`` SMARTS (none may
match). Rules and single patterns may declare ``requires_elements`` (element → minimum count, or a
list meaning at least one) and ``requires_ring_sizes``: a cheap prefilter computed once per molecule
from its formula and ring sizes, so most substructure searches never run. Patterns are compiled once
when the rule set is loaded.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache
from pathlib import Path

from rdkit import Chem, rdBase
from rdkit.Chem import rdMolDescriptors

from observatory.earlywarning.chemistry.class_screen import (
    AtomRequirement,
    compile_screen,
    has_ring_sizes,
    merge_requirements,
    molecule_mask,
    query_ring_atoms,
    requirement_for_query,
)

DEFAULT_RULES_PATH = Path(__file__).resolve().parent.parent / "data" / "class_rules.json"


class SubstanceGroup(StrEnum):
    """UNODC NPS substance groups (value = stable code, ``label`` = display name)."""

    SYNTHETIC_CANNABINOIDS = "synthetic_cannabinoid_receptor_agonists"
    SYNTHETIC_CATHINONES = "synthetic_cathinones"
    PHENETHYLAMINES = "phenethylamines"
    TRYPTAMINES = "tryptamines"
    PIPERAZINES = "piperazines"
    AMINOINDANES = "aminoindanes"
    PHENCYCLIDINE_TYPE = "phencyclidine_type_substances"
    PLANT_BASED = "plant_based_substances"
    FENTANYL_AND_OPIOIDS = "fentanyl_and_other_synthetic_opioids"
    NITAZENES = "nitazenes"
    BENZODIAZEPINES = "benzodiazepines"
    OTHER = "other"

    @property
    def label(self) -> str:
        return _LABELS[self]


_LABELS: dict[SubstanceGroup, str] = {
    SubstanceGroup.SYNTHETIC_CANNABINOIDS: "Synthetic cannabinoid receptor agonists",
    SubstanceGroup.SYNTHETIC_CATHINONES: "Synthetic cathinones",
    SubstanceGroup.PHENETHYLAMINES: "Phenethylamines",
    SubstanceGroup.TRYPTAMINES: "Tryptamines",
    SubstanceGroup.PIPERAZINES: "Piperazines",
    SubstanceGroup.AMINOINDANES: "Aminoindanes",
    SubstanceGroup.PHENCYCLIDINE_TYPE: "Phencyclidine-type substances",
    SubstanceGroup.PLANT_BASED: "Plant-based substances",
    SubstanceGroup.FENTANYL_AND_OPIOIDS: "Fentanyl analogues and other synthetic opioids",
    SubstanceGroup.NITAZENES: "Nitazenes",
    SubstanceGroup.BENZODIAZEPINES: "Benzodiazepines",
    SubstanceGroup.OTHER: "Other substances",
}

FALLBACK_RULE_ID = "fallback.other"


class RuleDataError(ValueError):
    """The rule file is malformed (bad SMARTS, unknown group or element); names the rule."""


@dataclass(frozen=True)
class Prefilter:
    """Necessary conditions checked before any substructure search."""

    min_element_counts: tuple[tuple[str, int], ...] = ()
    ring_sizes: frozenset[int] = frozenset()

    def admits(self, features: MoleculeFeatures) -> bool:
        counts = features.element_counts
        if any(counts.get(symbol, 0) < minimum for symbol, minimum in self.min_element_counts):
            return False
        return self.ring_sizes <= features.ring_sizes

    @property
    def requirement(self) -> AtomRequirement:
        return AtomRequirement(elements=self.min_element_counts)


@dataclass(frozen=True)
class MoleculeFeatures:
    element_counts: dict[str, int]
    ring_sizes: frozenset[int]


_FORMULA_TERM = re.compile(r"([A-Z][a-z]?)(\d*)")


def molecule_features(mol: Chem.Mol) -> MoleculeFeatures:
    # The formula and ring list are computed in C++: much cheaper than iterating atoms in Python.
    counts: dict[str, int] = {}
    for symbol, number in _FORMULA_TERM.findall(rdMolDescriptors.CalcMolFormula(mol)):
        counts[symbol] = counts.get(symbol, 0) + (int(number) if number else 1)
    ring_sizes = frozenset(len(ring) for ring in mol.GetRingInfo().AtomRings())
    return MoleculeFeatures(counts, ring_sizes)


@dataclass(frozen=True)
class NamedPattern:
    name: str
    smarts: str
    pattern: Chem.Mol
    prefilter: Prefilter = Prefilter()
    # derived from ``pattern`` alone (always a necessary condition)
    requirement: AtomRequirement = field(init=False, repr=False, compare=False)
    # compiled: the derived requirement alone (screens exclusions, whose prefilters were never applied)
    # and together with the declared prefilter (screens any_of patterns)
    exclusion_screen: int = field(init=False, repr=False, compare=False)
    screen: int = field(init=False, repr=False, compare=False)
    # query atoms in query cycles, by cycle size: where a match most likely shows a declared ring size
    ring_hints: Mapping[int, tuple[int, ...]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "ring_hints", query_ring_atoms(self.pattern))
        derived = requirement_for_query(self.pattern)
        declared = merge_requirements(derived, self.prefilter.requirement)
        object.__setattr__(self, "requirement", derived)
        object.__setattr__(self, "exclusion_screen", compile_screen(derived))
        object.__setattr__(self, "screen", compile_screen(declared))


@dataclass(frozen=True)
class ClassRule:
    id: str
    group: SubstanceGroup
    description: str
    any_of: tuple[NamedPattern, ...]
    none_of: tuple[NamedPattern, ...]
    prefilter: Prefilter
    screen: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "screen", compile_screen(self.prefilter.requirement))


@dataclass(frozen=True)
class ClassAssignment:
    """The group, the rule that decided it and a one-line reason a chemist can check."""

    group: SubstanceGroup
    rule_id: str
    reason: str
    matched_pattern: str | None = None
    matched_atoms: tuple[int, ...] = ()

    def as_dict(self) -> dict[str, object]:
        return {
            "group": self.group.value,
            "group_label": self.group.label,
            "rule_id": self.rule_id,
            "reason": self.reason,
            "matched_pattern": self.matched_pattern,
        }


def _prefilter(rule_id: str, entry: dict[str, object]) -> Prefilter:
    periodic_table = Chem.GetPeriodicTable()
    raw_elements = entry.get("requires_elements", {})
    if isinstance(raw_elements, list):
        raw_elements = {symbol: 1 for symbol in raw_elements}
    if not isinstance(raw_elements, dict):
        raise RuleDataError(f"rule {rule_id}: requires_elements must be a list or an object")
    for symbol in raw_elements:
        try:
            periodic_table.GetAtomicNumber(symbol)
        except RuntimeError as exc:
            raise RuleDataError(f"rule {rule_id}: unknown element {symbol!r} in requires_elements") from exc
    raw_rings = entry.get("requires_ring_sizes", [])
    if not isinstance(raw_rings, list):
        raise RuleDataError(f"rule {rule_id}: requires_ring_sizes must be a list")
    return Prefilter(
        min_element_counts=tuple(sorted((str(k), int(v)) for k, v in raw_elements.items())),
        ring_sizes=frozenset(int(size) for size in raw_rings),
    )


def _compile(rule_id: str, entries: Iterable[dict[str, object]]) -> tuple[NamedPattern, ...]:
    compiled = []
    for entry in entries:
        name, smarts = str(entry["name"]), str(entry["smarts"])
        with rdBase.BlockLogs():
            pattern = Chem.MolFromSmarts(smarts)
        if pattern is None:
            raise RuleDataError(f"rule {rule_id}: invalid SMARTS for {name!r}: {smarts}")
        compiled.append(NamedPattern(name, smarts, pattern, _prefilter(rule_id, entry)))
    return tuple(compiled)


def rules_from_data(data: Mapping[str, object]) -> tuple[ClassRule, ...]:
    """Build (and validate) the ordered rule set from the decoded JSON document."""
    raw_rules = data.get("rules")
    if not isinstance(raw_rules, list):
        raise RuleDataError("class rule data has no 'rules' list")
    rules = []
    seen: set[str] = set()
    for raw in raw_rules:
        rule_id = raw["id"]
        if rule_id in seen:
            raise RuleDataError(f"duplicate rule id {rule_id}")
        seen.add(rule_id)
        try:
            group = SubstanceGroup(raw["group"])
        except ValueError as exc:
            raise RuleDataError(f"rule {rule_id}: unknown group {raw['group']!r}") from exc
        any_of = _compile(rule_id, raw["any_of"])
        if not any_of:
            raise RuleDataError(f"rule {rule_id}: any_of is empty")
        rules.append(
            ClassRule(
                id=rule_id,
                group=group,
                description=raw["description"],
                any_of=any_of,
                none_of=_compile(rule_id, raw.get("none_of", [])),
                prefilter=_prefilter(rule_id, raw),
            )
        )
    return tuple(rules)


def load_class_rules(path: Path | str | None = None) -> tuple[ClassRule, ...]:
    with open(path or DEFAULT_RULES_PATH, encoding="utf-8") as handle:
        return rules_from_data(json.load(handle))


@lru_cache(maxsize=1)
def default_class_rules() -> tuple[ClassRule, ...]:
    """The shipped rule set, compiled once per process (immutable, so safe to share)."""
    return load_class_rules(DEFAULT_RULES_PATH)


def classify(mol: Chem.Mol, rules: Sequence[ClassRule] | None = None) -> ClassAssignment:
    """Assign the substance group of a (standardised) molecule by the first matching rule.

    Same result as before the derived screens: a rule applies when its declared prefilters hold, one
    of its any_of patterns matches (first one wins) and none of its exclusions matches. The atom-count
    screens skip searches that cannot match; the declared ring sizes (necessary conditions too) are
    checked only once a pattern has matched, because listing a molecule's rings costs more than the
    searches it would save. The order of these pure checks does not change the outcome.
    """
    rule_set = default_class_rules() if rules is None else rules
    mask = molecule_mask(mol)
    ring_sizes: list[set[int]] = []  # the molecule's ring sizes, once listed
    for rule in rule_set:
        required = rule.screen
        if required & mask != required:
            continue
        rule_rings = rule.prefilter.ring_sizes
        for candidate in rule.any_of:
            required = candidate.screen
            if required & mask != required:
                continue
            match = mol.GetSubstructMatch(candidate.pattern)
            if not match:
                continue
            hints = candidate.ring_hints
            if rule_rings and not has_ring_sizes(mol, rule_rings, match, hints, ring_sizes):
                break  # the rule's declared prefilter fails: none of its patterns applies
            rings = candidate.prefilter.ring_sizes
            if rings and not has_ring_sizes(mol, rings, match, hints, ring_sizes):
                continue
            if _excluded(mol, rule, mask):
                break  # this rule is excluded for the molecule; later rules may still apply
            return _assignment(rule, candidate, match)
    return _FALLBACK


def _excluded(mol: Chem.Mol, rule: ClassRule, mask: int) -> bool:
    for exclusion in rule.none_of:
        required = exclusion.exclusion_screen
        if required & mask == required and mol.HasSubstructMatch(exclusion.pattern):
            return True
    return False


def classify_unscreened(mol: Chem.Mol, rules: Sequence[ClassRule] | None = None) -> ClassAssignment:
    """The rule semantics with no prefilter or screen at all: every pattern is searched in order.

    The reference for tests (the declared prefilters and derived screens must never change a result);
    too slow for production use.
    """
    rule_set = default_class_rules() if rules is None else rules
    for rule in rule_set:
        for candidate in rule.any_of:
            match = mol.GetSubstructMatch(candidate.pattern)
            if not match:
                continue
            if any(mol.HasSubstructMatch(exclusion.pattern) for exclusion in rule.none_of):
                break
            return _assignment(rule, candidate, match)
    return _FALLBACK


def classify_declared_prefilters(mol: Chem.Mol, rules: Sequence[ClassRule] | None = None) -> ClassAssignment:
    """The rules with only their declared element and ring prefilters, without the derived atom-count
    screens: the implementation before those screens, kept as a second test reference and as the
    classification benchmark's anchor."""
    rule_set = default_class_rules() if rules is None else rules
    features = molecule_features(mol)
    for rule in rule_set:
        if not rule.prefilter.admits(features):
            continue
        for candidate in rule.any_of:
            if not candidate.prefilter.admits(features):
                continue
            match = mol.GetSubstructMatch(candidate.pattern)
            if not match:
                continue
            if any(mol.HasSubstructMatch(exclusion.pattern) for exclusion in rule.none_of):
                break
            return _assignment(rule, candidate, match)
    return _FALLBACK


def _assignment(rule: ClassRule, candidate: NamedPattern, match: Sequence[int]) -> ClassAssignment:
    return ClassAssignment(
        group=rule.group,
        rule_id=rule.id,
        reason=f"contains {candidate.name} ({rule.description})",
        matched_pattern=candidate.smarts,
        matched_atoms=tuple(match),
    )


_FALLBACK = ClassAssignment(
    group=SubstanceGroup.OTHER,
    rule_id=FALLBACK_RULE_ID,
    reason="no structural class rule matched",
)


def classify_smiles(smiles: str, rules: Sequence[ClassRule] | None = None) -> ClassAssignment:
    """Convenience for callers holding SMILES: standardise first so salts and tautomers do not matter."""
    from observatory.earlywarning.chemistry.structures import parse_structure

    return classify(parse_structure(smiles).mol, rules)
