"""Atom-count screens derived from SMARTS queries: cheap necessary conditions for a substructure match.

A substructure match maps every query atom to a distinct molecule atom. So when ``k`` query atoms can
only match (say) aromatic nitrogens, a molecule with fewer than ``k`` aromatic nitrogens cannot match,
and the (comparatively expensive) substructure search can be skipped. The requirement of a query atom
is read from RDKit's description of its query tree, and only from the conjunctive part of it: a node
that is an ``AtomAnd`` of primitives such as ``AtomType 1007 = val`` (aromatic nitrogen, the type is
``atomic number + 1000 if aromatic``), ``AtomAtomicNum 7 = val``, ``AtomIsAromatic 1 = val`` or
``AtomIsAliphatic 1 = val``. Anything else (disjunctions, negations, recursive SMARTS, degrees, charges,
ring primitives) adds no requirement, which only makes the screen weaker, never wrong.

The molecule side is counted from RDKit's molecular formula (element totals) and its aromatic atoms,
both computed in C++: a few microseconds, against several for every substructure search skipped.
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from rdkit import Chem
from rdkit.Chem import rdMolDescriptors

ANY_ELEMENT = "*"  # key for "any atom" (totals) and "any aromatic / aliphatic atom" ('a', 'A')

_TYPE = re.compile(r"AtomType (\d+) = val")
_ATOMIC_NUM = re.compile(r"AtomAtomicNum (\d+) = val")
_AROMATIC = "AtomIsAromatic 1 = val"
_ALIPHATIC = "AtomIsAliphatic 1 = val"
_MIN_RING_SIZE = re.compile(r"AtomMinRingSize (\d+) = val")
_FORMULA_TERM = re.compile(r"([A-Z][a-z]?)(\d*)")
_AROMATIC_NOT_CARBON = Chem.MolFromSmarts("[a;!#6]")


@dataclass(frozen=True)
class AtomKind:
    """What a query atom must be: an element (symbol) or any, and aromatic, aliphatic or either."""

    symbol: str | None
    aromatic: bool | None


def query_atom_kind(atom: Chem.Atom) -> AtomKind:
    """The element and aromaticity that every match of this query atom must have (None = unknown)."""
    description = atom.DescribeQuery() if atom.HasQuery() else ""
    if not description:  # a plain atom (a SMILES used as a query) matches its element, either aromaticity
        return AtomKind(atom.GetSymbol() if atom.GetAtomicNum() > 1 else None, None)
    number: int | None = None
    aromatic: bool | None = None
    path: list[str] = []  # node names from the root down to the current line
    for line in description.splitlines():
        if not line.strip():
            continue
        depth = (len(line) - len(line.lstrip(" "))) // 2
        text = line.strip()
        del path[depth:]
        if all(node == "AtomAnd" for node in path):  # every ancestor is a conjunction: necessary
            if match := _TYPE.fullmatch(text):
                value = int(match.group(1))
                number, aromatic = value % 1000, value >= 1000
            elif (match := _ATOMIC_NUM.fullmatch(text)) and number is None:
                number = int(match.group(1))
            elif text == _AROMATIC:
                aromatic = True
            elif text == _ALIPHATIC:
                aromatic = False
        path.append(text)
    symbol = Chem.GetPeriodicTable().GetElementSymbol(number) if number else None
    if symbol == "H":  # hydrogens may be implicit in the molecule: no count requirement
        symbol = None
    return AtomKind(symbol, aromatic)


@dataclass(frozen=True)
class AtomRequirement:
    """Minimum atom counts a molecule must have for the query to match (each: (symbol, minimum))."""

    elements: tuple[tuple[str, int], ...] = ()
    aromatic: tuple[tuple[str, int], ...] = ()
    aliphatic: tuple[tuple[str, int], ...] = ()

    @property
    def needs_aromatic_counts(self) -> bool:
        return bool(self.aromatic or self.aliphatic)


def requirement_for_query(query: Chem.Mol) -> AtomRequirement:
    elements: Counter[str] = Counter()
    aromatic: Counter[str] = Counter()
    aliphatic: Counter[str] = Counter()
    for atom in query.GetAtoms():
        kind = query_atom_kind(atom)
        elements[ANY_ELEMENT] += 1
        if kind.symbol is not None:
            elements[kind.symbol] += 1
        if kind.aromatic is not None:
            split = aromatic if kind.aromatic else aliphatic
            split[ANY_ELEMENT] += 1
            if kind.symbol is not None:
                split[kind.symbol] += 1
    return AtomRequirement(
        elements=tuple(sorted(elements.items())),
        aromatic=tuple(sorted(aromatic.items())),
        aliphatic=tuple(sorted(aliphatic.items())),
    )


def merge_requirements(*requirements: AtomRequirement) -> AtomRequirement:
    """The conjunction of several requirements (the largest minimum of each count)."""

    def merged(parts: list[tuple[tuple[str, int], ...]]) -> tuple[tuple[str, int], ...]:
        best: dict[str, int] = {}
        for part in parts:
            for symbol, minimum in part:
                best[symbol] = max(best.get(symbol, 0), minimum)
        return tuple(sorted(best.items()))

    return AtomRequirement(
        elements=merged([r.elements for r in requirements]),
        aromatic=merged([r.aromatic for r in requirements]),
        aliphatic=merged([r.aliphatic for r in requirements]),
    )


def element_counts(mol: Chem.Mol) -> dict[str, int]:
    """Atoms per element (from the formula: implicit hydrogens included) and graph atoms under ``*``."""
    counts: dict[str, int] = {}
    for symbol, number in _FORMULA_TERM.findall(rdMolDescriptors.CalcMolFormula(mol)):
        counts[symbol] = counts.get(symbol, 0) + (int(number) if number else 1)
    counts[ANY_ELEMENT] = mol.GetNumAtoms()
    return counts


def aromatic_counts(mol: Chem.Mol) -> dict[str, int]:
    """Aromatic atoms per element and in total (``*``); carbon by difference."""
    total = len(mol.GetAromaticAtoms())
    counts: dict[str, int] = {ANY_ELEMENT: total}
    others = 0
    for (index,) in mol.GetSubstructMatches(_AROMATIC_NOT_CARBON, uniquify=False, maxMatches=1_000_000):
        atom = mol.GetAtomWithIdx(index)
        others += 1
        if atom.GetAtomicNum() > 0:  # dummy atoms count in the total only
            symbol = atom.GetSymbol()
            counts[symbol] = counts.get(symbol, 0) + 1
    counts["C"] = total - others
    return counts


# Screens are compiled into bit masks so that checking one pattern costs one integer operation. Each bit
# stands for "count of <feature> >= <minimum>"; a molecule's mask has the bits of every condition it
# satisfies, and a pattern passes when its mask is a subset. Bits are allocated process-wide as rule
# sets are compiled; molecule masks cover every allocated bit.


class _BitRegistry:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._bits: dict[tuple[str, str, int], int] = {}
        # stage -> symbol -> table t where t[c] is the mask of that symbol's bits satisfied by count c
        self.tables: dict[str, dict[str, tuple[int, ...]]] = {"element": {}, "aromatic": {}, "aliphatic": {}}

    def count_bit(self, stage: str, symbol: str, minimum: int) -> int:
        with self._lock:
            key = (stage, symbol, minimum)
            if key not in self._bits:
                self._bits[key] = 1 << len(self._bits)
                thresholds = {m: b for (st, sy, m), b in self._bits.items() if st == stage and sy == symbol}
                table = tuple(
                    sum(b for m, b in thresholds.items() if m <= count)
                    for count in range(max(thresholds) + 1)
                )
                self.tables = {**self.tables, stage: {**self.tables[stage], symbol: table}}
            return self._bits[key]


_REGISTRY = _BitRegistry()


def compile_screen(requirement: AtomRequirement) -> int:
    """The bits a molecule's mask must contain for ``requirement`` to hold."""
    bits = 0
    for stage, terms in (
        ("element", requirement.elements),
        ("aromatic", requirement.aromatic),
        ("aliphatic", requirement.aliphatic),
    ):
        for symbol, minimum in terms:
            if minimum > 0:
                bits |= _REGISTRY.count_bit(stage, symbol, minimum)
    return bits


def _mask(table: dict[str, tuple[int, ...]], counts: dict[str, int]) -> int:
    mask = 0
    for symbol, bits in table.items():
        count = counts.get(symbol, 0)
        if count:
            mask |= bits[count] if count < len(bits) else bits[-1]
    return mask


def molecule_mask(mol: Chem.Mol) -> int:
    """Every allocated screen bit the molecule satisfies (element, aromatic and aliphatic atom counts).

    A pattern whose compiled screen ``bits`` has ``bits & mask != bits`` cannot match the molecule.
    """
    counts = element_counts(mol)
    aromatic = aromatic_counts(mol)
    aliphatic = {symbol: count - aromatic.get(symbol, 0) for symbol, count in counts.items()}
    tables = _REGISTRY.tables
    mask = _mask(tables["element"], counts) | _mask(tables["aromatic"], aromatic)
    return mask | _mask(tables["aliphatic"], aliphatic)


def query_ring_atoms(query: Chem.Mol) -> dict[int, tuple[int, ...]]:
    """Query atoms likely (not necessarily) to match an atom in an SSSR ring of a given size: the atoms
    of the query's own smallest rings of that size, then atoms whose query says ``r<size>``."""
    by_size: dict[int, list[int]] = {}
    for ring in Chem.GetSymmSSSR(Chem.Mol(query)):
        atoms = by_size.setdefault(len(ring), [])
        atoms.extend(index for index in ring if index not in atoms)
    for atom in query.GetAtoms():
        for size in _MIN_RING_SIZE.findall(atom.DescribeQuery() if atom.HasQuery() else ""):
            atoms = by_size.setdefault(int(size), [])
            if atom.GetIdx() not in atoms:
                atoms.append(atom.GetIdx())
    return {size: tuple(atoms) for size, atoms in by_size.items()}


def has_ring_sizes(
    mol: Chem.Mol,
    sizes: frozenset[int],
    match: Sequence[int] = (),
    hints: Mapping[int, Sequence[int]] | None = None,
    known: list[set[int]] | None = None,
) -> bool:
    """True when the molecule has an SSSR ring of every size in ``sizes``.

    ``match`` (a substructure match) and ``hints`` (for a size, the query atoms to look at, see
    :func:`query_ring_atoms`) let the usual case be confirmed from one or two atoms; otherwise, and to
    refute, the molecule's ring list decides (kept in ``known``, when given, for later calls).
    """
    ring_info = mol.GetRingInfo()
    for size in sizes:
        if hints is not None and any(
            ring_info.IsAtomInRingOfSize(match[i], size) for i in hints.get(size, ())
        ):
            continue
        if known is None:
            known = []
        if not known:
            known.append({len(ring) for ring in ring_info.AtomRings()})
        if size not in known[0]:
            return False
    return True
