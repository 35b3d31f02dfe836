"""Generic (class) legal definitions: "is this structure controlled in country X on date D, and why?"

A definition (data: ``observatory/earlywarning/data/generic_definitions.json``) is a core (SMARTS
with atom-map numbers), sites (mapped core atoms where the law allows substitution, each with the
allowed substituent kinds), named exclusions, an optional parent compound (controlled by name, so
outside the class: the class needs at least one modification), the law, article, jurisdiction
(ISO 3166-1 alpha-3) and the period in force.

Matching: for each mapping of a core onto the molecule, every atom outside the core belongs to a
substituent (a connected fragment of non-core atoms). Each substituent must hang from atoms of one
site and be of a kind that site allows; core atoms outside every site may carry only hydrogen. The
answer names the definition, the core and each substituent with its kind, or explains the nearest
miss. No definition applying is reported as "not determined", never as "not controlled": lists of
named substances (international schedules, national lists) are checked elsewhere.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Literal

from rdkit import Chem, rdBase

from observatory.earlywarning.chemistry.structures import StandardStructure, parse_structure

DEFAULT_DEFINITIONS_PATH = Path(__file__).resolve().parent.parent / "data" / "generic_definitions.json"

HALOGENS = frozenset({"F", "Cl", "Br", "I"})
MAX_CORE_MAPPINGS = 64  # symmetric cores map several ways; more than this is pathological input


class DefinitionDataError(ValueError):
    """The definition file is malformed; the message names the definition."""


# --- substituents ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Substituent:
    """A connected set of non-core atoms and the core atoms it is bonded to."""

    atoms: frozenset[int]
    attachments: tuple[tuple[int, int], ...]  # (substituent atom, core atom) for each bond

    @property
    def core_atoms(self) -> frozenset[int]:
        return frozenset(core for _, core in self.attachments)


def _fragment_bonds(mol: Chem.Mol, sub: Substituent) -> list[Chem.Bond]:
    bonds = []
    for bond in mol.GetBonds():
        a, b = bond.GetBeginAtomIdx(), bond.GetEndAtomIdx()
        if a in sub.atoms and b in sub.atoms:
            bonds.append(bond)
    return bonds


def _symbols(mol: Chem.Mol, sub: Substituent) -> list[str]:
    return [mol.GetAtomWithIdx(i).GetSymbol() for i in sub.atoms]


def _acyclic(mol: Chem.Mol, sub: Substituent) -> bool:
    return len(sub.attachments) == 1 and not any(mol.GetAtomWithIdx(i).IsInRing() for i in sub.atoms)


def _single_bonds_only(mol: Chem.Mol, sub: Substituent) -> bool:
    return all(b.GetBondType() == Chem.BondType.SINGLE for b in _fragment_bonds(mol, sub))


def _attached_atom(mol: Chem.Mol, sub: Substituent) -> Chem.Atom:
    return mol.GetAtomWithIdx(sub.attachments[0][0])


def _is_alkyl(mol: Chem.Mol, sub: Substituent) -> bool:
    """Acyclic saturated hydrocarbon (cyclic ones are 'cycloalkyl': the laws list them apart)."""
    return _acyclic(mol, sub) and set(_symbols(mol, sub)) == {"C"} and _single_bonds_only(mol, sub)


def _is_alkenyl(mol: Chem.Mol, sub: Substituent) -> bool:
    if not (_acyclic(mol, sub) and set(_symbols(mol, sub)) == {"C"}):
        return False
    kinds = {b.GetBondType() for b in _fragment_bonds(mol, sub)}
    return Chem.BondType.DOUBLE in kinds and Chem.BondType.TRIPLE not in kinds


def _is_halo(mol: Chem.Mol, sub: Substituent) -> bool:
    return len(sub.atoms) == 1 and _symbols(mol, sub)[0] in HALOGENS


def _is_haloalkyl(mol: Chem.Mol, sub: Substituent) -> bool:
    symbols = set(_symbols(mol, sub))
    return (
        _acyclic(mol, sub)
        and "C" in symbols
        and bool(symbols & HALOGENS)
        and symbols <= HALOGENS | {"C"}
        and _attached_atom(mol, sub).GetSymbol() == "C"
        and _single_bonds_only(mol, sub)
    )


def _is_hydroxy(mol: Chem.Mol, sub: Substituent) -> bool:
    return (
        len(sub.atoms) == 1 and _symbols(mol, sub) == ["O"] and _attached_atom(mol, sub).GetTotalNumHs() == 1
    )


def _hetero_then_alkyl(mol: Chem.Mol, sub: Substituent, symbol: str) -> bool:
    head = _attached_atom(mol, sub)
    rest = [mol.GetAtomWithIdx(i).GetSymbol() for i in sub.atoms if i != head.GetIdx()]
    return (
        _acyclic(mol, sub)
        and head.GetSymbol() == symbol
        and head.GetFormalCharge() == 0
        and all(s == "C" for s in rest)
        and _single_bonds_only(mol, sub)
    )


def _is_alkoxy(mol: Chem.Mol, sub: Substituent) -> bool:
    return len(sub.atoms) >= 2 and _hetero_then_alkyl(mol, sub, "O")


def _is_amino(mol: Chem.Mol, sub: Substituent) -> bool:
    return _hetero_then_alkyl(mol, sub, "N")


def _is_nitro(mol: Chem.Mol, sub: Substituent) -> bool:
    symbols = sorted(_symbols(mol, sub))
    return symbols == ["N", "O", "O"] and _attached_atom(mol, sub).GetSymbol() == "N"


def _is_ether(mol: Chem.Mol, sub: Substituent) -> bool:
    """C/O-only acyclic saturated chain with an oxygen between two carbons (includes alkoxy)."""
    if not (_acyclic(mol, sub) and set(_symbols(mol, sub)) <= {"C", "O"} and _single_bonds_only(mol, sub)):
        return False
    core = {core for _, core in sub.attachments}
    for i in sub.atoms:
        atom = mol.GetAtomWithIdx(i)
        if atom.GetSymbol() == "O":
            carbons = [n for n in atom.GetNeighbors() if n.GetSymbol() == "C" or n.GetIdx() in core]
            if len(carbons) == 2:
                return True
    return False


_ESTER = Chem.MolFromSmarts("[#6][CX3](=O)[OX2][#6]")


def _is_ester(mol: Chem.Mol, sub: Substituent) -> bool:
    if not (_acyclic(mol, sub) and set(_symbols(mol, sub)) <= {"C", "O"}):
        return False
    atoms_with_core = sub.atoms | sub.core_atoms
    return any(set(match) <= atoms_with_core for match in mol.GetSubstructMatches(_ESTER))


def _is_cyanoalkyl(mol: Chem.Mol, sub: Substituent) -> bool:
    symbols = _symbols(mol, sub)
    if not (_acyclic(mol, sub) and sorted(set(symbols)) == ["C", "N"] and symbols.count("N") == 1):
        return False
    bonds = _fragment_bonds(mol, sub)
    triple = [b for b in bonds if b.GetBondType() == Chem.BondType.TRIPLE]
    return len(triple) == 1 and len(bonds) - 1 == sum(b.GetBondType() == Chem.BondType.SINGLE for b in bonds)


def _is_hydroxyalkyl(mol: Chem.Mol, sub: Substituent) -> bool:
    if not (_acyclic(mol, sub) and _single_bonds_only(mol, sub)):
        return False
    if _attached_atom(mol, sub).GetSymbol() != "C":
        return False
    oxygens = [mol.GetAtomWithIdx(i) for i in sub.atoms if mol.GetAtomWithIdx(i).GetSymbol() == "O"]
    others = [s for s in _symbols(mol, sub) if s not in {"C", "O"}]
    return bool(oxygens) and not others and all(o.GetTotalNumHs() == 1 for o in oxygens)


def _carbocycle_after_linker(mol: Chem.Mol, sub: Substituent, linker_length: int) -> bool:
    """CH2 chain of `linker_length` from the core, then a saturated all-carbon ring."""
    if len(sub.attachments) != 1 or set(_symbols(mol, sub)) != {"C"} or not _single_bonds_only(mol, sub):
        return False
    chain = [i for i in sub.atoms if not mol.GetAtomWithIdx(i).IsInRing()]
    ring = [i for i in sub.atoms if mol.GetAtomWithIdx(i).IsInRing()]
    if len(chain) != linker_length or not ring:
        return False
    return all(mol.GetAtomWithIdx(i).GetTotalNumHs() == 2 for i in chain)


def _is_ring_through_site(mol: Chem.Mol, sub: Substituent) -> bool:
    """Bonded two or more times to one core atom: that atom is included in a cyclic structure."""
    return len(sub.attachments) >= 2 and len(sub.core_atoms) == 1


def _is_alkylenedioxy(mol: Chem.Mol, sub: Substituent) -> bool:
    """-O-(CH2)n-O- bridging two core atoms (methylenedioxy, ethylenedioxy)."""
    if len(sub.attachments) != 2 or len(sub.core_atoms) != 2:
        return False
    heads = [mol.GetAtomWithIdx(a) for a, _ in sub.attachments]
    if any(h.GetSymbol() != "O" for h in heads) or heads[0].GetIdx() == heads[1].GetIdx():
        return False
    others = [mol.GetAtomWithIdx(i) for i in sub.atoms if i not in {h.GetIdx() for h in heads}]
    return (
        bool(others)
        and all(a.GetSymbol() == "C" and not a.GetIsAromatic() for a in others)
        and _single_bonds_only(mol, sub)
    )


def _is_univalent(mol: Chem.Mol, sub: Substituent) -> bool:
    return len(sub.attachments) == 1


def _is_any(mol: Chem.Mol, sub: Substituent) -> bool:
    return True


SubstituentTest = Callable[[Chem.Mol, Substituent], bool]

SUBSTITUENT_KINDS: dict[str, SubstituentTest] = {
    "alkyl": _is_alkyl,
    "alkenyl": _is_alkenyl,
    "halo": _is_halo,
    "haloalkyl": _is_haloalkyl,
    "hydroxy": _is_hydroxy,
    "alkoxy": _is_alkoxy,
    "amino": _is_amino,
    "nitro": _is_nitro,
    "ether": _is_ether,
    "ester": _is_ester,
    "cyanoalkyl": _is_cyanoalkyl,
    "hydroxyalkyl": _is_hydroxyalkyl,
    "cycloalkylmethyl": lambda mol, sub: _carbocycle_after_linker(mol, sub, 1),
    "cycloalkylethyl": lambda mol, sub: _carbocycle_after_linker(mol, sub, 2),
    "ring_through_site": _is_ring_through_site,
    "alkylenedioxy": _is_alkylenedioxy,
    "univalent": _is_univalent,
    "any": _is_any,
}


def substituent_smiles(mol: Chem.Mol, sub: Substituent) -> str:
    """SMILES of a substituent with '*' at each attachment (for explanations and named groups)."""
    editable = Chem.RWMol(mol)
    keep = set(sub.atoms) | set(sub.core_atoms)
    for core in sub.core_atoms:
        atom = editable.GetAtomWithIdx(core)
        atom.SetAtomicNum(0)
        atom.SetIsAromatic(False)
        atom.SetFormalCharge(0)
        atom.SetNoImplicit(True)
        atom.SetNumExplicitHs(0)
    # bonds between two core atoms are not part of the substituent
    for bond in list(editable.GetBonds()):
        a, b = bond.GetBeginAtomIdx(), bond.GetEndAtomIdx()
        if a in sub.core_atoms and b in sub.core_atoms:
            editable.RemoveBond(a, b)
    for index in sorted(set(range(mol.GetNumAtoms())) - keep, reverse=True):
        editable.RemoveAtom(index)
    for atom in editable.GetAtoms():
        if atom.GetAtomicNum() != 0 and not atom.IsInRing():
            atom.SetIsAromatic(False)
    fragment = editable.GetMol()
    fragment.UpdatePropertyCache(strict=False)
    return Chem.MolToSmiles(fragment, kekuleSmiles=False)


def _named_group_test(smiles: str) -> SubstituentTest:
    reference = Chem.MolToSmiles(Chem.MolFromSmiles(smiles))

    def test(mol: Chem.Mol, sub: Substituent) -> bool:
        return len(sub.attachments) == 1 and substituent_smiles(mol, sub) == reference

    return test


# --- definitions -------------------------------------------------------------------------------


@dataclass(frozen=True)
class AllowedKind:
    name: str
    test: SubstituentTest = field(compare=False, repr=False)


@dataclass(frozen=True)
class Site:
    name: str
    atom_maps: frozenset[int]
    allowed: tuple[AllowedKind, ...]
    further_allowed_if_any: tuple[AllowedKind, ...] = ()
    min_substituents: int = 0
    max_substituents: int | None = None
    ring: Literal["monocycle", "aromatic_monocycle"] | None = None


@dataclass(frozen=True)
class Core:
    name: str
    smarts: str
    pattern: Chem.Mol = field(compare=False, repr=False)


@dataclass(frozen=True)
class NamedCompound:
    name: str
    smiles: str
    inchikey: str


@dataclass(frozen=True)
class GenericDefinition:
    id: str
    title: str
    law: str
    instrument: str
    article: str
    jurisdiction: str
    effective_from: date
    effective_to: date | None  # exclusive: the first day it no longer applies
    control: str
    source: str
    cores: tuple[Core, ...]
    sites: tuple[Site, ...]
    exclusions: tuple[NamedCompound, ...]
    parent: NamedCompound | None

    def in_force(self, jurisdiction: str, on_date: date) -> bool:
        if self.jurisdiction != jurisdiction.upper():
            return False
        return self.effective_from <= on_date and (self.effective_to is None or on_date < self.effective_to)

    @property
    def citation(self) -> str:
        return f"{self.law}, {self.article} ({self.jurisdiction}; {self.instrument})"


def _named_compound(raw: dict[str, str], definition_id: str) -> NamedCompound:
    try:
        structure = parse_structure(raw["smiles"])
    except ValueError as exc:
        raise DefinitionDataError(f"definition {definition_id}: {exc}") from exc
    return NamedCompound(raw["name"], raw["smiles"], structure.inchikey)


def _allowed(raw: Iterable[object], definition_id: str) -> tuple[AllowedKind, ...]:
    kinds = []
    for entry in raw:
        if isinstance(entry, str):
            if entry not in SUBSTITUENT_KINDS:
                raise DefinitionDataError(f"definition {definition_id}: unknown substituent kind {entry!r}")
            kinds.append(AllowedKind(entry, SUBSTITUENT_KINDS[entry]))
        elif isinstance(entry, dict) and "smiles" in entry:
            if Chem.MolFromSmiles(entry["smiles"]) is None:
                raise DefinitionDataError(f"definition {definition_id}: bad SMILES for {entry.get('name')!r}")
            kinds.append(AllowedKind(str(entry["name"]), _named_group_test(str(entry["smiles"]))))
        else:
            raise DefinitionDataError(f"definition {definition_id}: bad allowed entry {entry!r}")
    return tuple(kinds)


def definitions_from_data(data: Mapping[str, object]) -> tuple[GenericDefinition, ...]:
    raw_definitions = data.get("definitions")
    if not isinstance(raw_definitions, list):
        raise DefinitionDataError("generic definition data has no 'definitions' list")
    definitions = []
    for raw in raw_definitions:
        definition_id = raw["id"]
        cores = []
        mapped: set[int] = set()
        for core in raw["cores"]:
            with rdBase.BlockLogs():
                pattern = Chem.MolFromSmarts(core["smarts"])
            if pattern is None:
                raise DefinitionDataError(f"definition {definition_id}: invalid core SMARTS {core['smarts']}")
            cores.append(Core(core["name"], core["smarts"], pattern))
            mapped |= {a.GetAtomMapNum() for a in pattern.GetAtoms() if a.GetAtomMapNum()}
        sites = []
        for site in raw["sites"]:
            unknown = set(site["atoms"]) - mapped
            if unknown:
                raise DefinitionDataError(
                    f"definition {definition_id}: site {site['name']!r} uses unmapped {unknown}"
                )
            sites.append(
                Site(
                    name=site["name"],
                    atom_maps=frozenset(site["atoms"]),
                    allowed=_allowed(site["allowed"], definition_id),
                    further_allowed_if_any=_allowed(site.get("further_allowed_if_any", []), definition_id),
                    min_substituents=int(site.get("min_substituents", 0)),
                    max_substituents=site.get("max_substituents"),
                    ring=site.get("ring"),
                )
            )
        definitions.append(
            GenericDefinition(
                id=definition_id,
                title=raw["title"],
                law=raw["law"],
                instrument=raw["instrument"],
                article=raw["article"],
                jurisdiction=raw["jurisdiction"].upper(),
                effective_from=date.fromisoformat(raw["effective_from"]),
                effective_to=date.fromisoformat(raw["effective_to"]) if raw.get("effective_to") else None,
                control=raw["control"],
                source=raw.get("source", ""),
                cores=tuple(cores),
                sites=tuple(sites),
                exclusions=tuple(_named_compound(e, definition_id) for e in raw.get("exclusions", [])),
                parent=_named_compound(raw["parent"], definition_id) if raw.get("parent") else None,
            )
        )
    return tuple(definitions)


def load_generic_definitions(path: Path | str | None = None) -> tuple[GenericDefinition, ...]:
    with open(path or DEFAULT_DEFINITIONS_PATH, encoding="utf-8") as handle:
        return definitions_from_data(json.load(handle))


@lru_cache(maxsize=1)
def default_generic_definitions() -> tuple[GenericDefinition, ...]:
    return load_generic_definitions(DEFAULT_DEFINITIONS_PATH)


# --- matching ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CoreMatch:
    """Outcome of one definition against one molecule."""

    definition: GenericDefinition
    matched: bool
    core: str | None
    reasons: tuple[str, ...]  # why it matched (site by site) or why the closest mapping failed


def _substituents(mol: Chem.Mol, core_atoms: frozenset[int]) -> list[Substituent]:
    seen: set[int] = set()
    found = []
    for start in range(mol.GetNumAtoms()):
        if start in core_atoms or start in seen:
            continue
        stack, atoms, attachments = [start], {start}, []
        while stack:
            atom = mol.GetAtomWithIdx(stack.pop())
            for neighbour in atom.GetNeighbors():
                index = neighbour.GetIdx()
                if index in core_atoms:
                    attachments.append((atom.GetIdx(), index))
                elif index not in atoms:
                    atoms.add(index)
                    stack.append(index)
        seen |= atoms
        found.append(Substituent(frozenset(atoms), tuple(sorted(attachments))))
    return found


def _monocycle_atoms(mol: Chem.Mol, atom_index: int, aromatic: bool) -> frozenset[int] | None:
    """The single ring through the atom, if it is a monocycle (not fused, not spiro)."""
    ring_info = mol.GetRingInfo()
    rings = [ring for ring in ring_info.AtomRings() if atom_index in ring]
    if len(rings) != 1:
        return None
    ring = rings[0]
    if any(ring_info.NumAtomRings(i) != 1 for i in ring):
        return None
    if aromatic and not all(mol.GetAtomWithIdx(i).GetIsAromatic() for i in ring):
        return None
    return frozenset(ring)


def _check_mapping(
    mol: Chem.Mol, definition: GenericDefinition, core: Core, match: tuple[int, ...]
) -> tuple[bool, list[str]]:
    map_to_atom = {q.GetAtomMapNum(): match[q.GetIdx()] for q in core.pattern.GetAtoms() if q.GetAtomMapNum()}
    core_atoms = set(match)
    site_of_atom: dict[int, Site] = {}
    reasons: list[str] = []
    for site in definition.sites:
        for atom_map in site.atom_maps:
            if atom_map not in map_to_atom:
                continue
            atom_index = map_to_atom[atom_map]
            site_of_atom[atom_index] = site
            if site.ring:
                ring = _monocycle_atoms(mol, atom_index, aromatic=site.ring == "aromatic_monocycle")
                if ring is None:
                    expected = "an aromatic monocycle" if site.ring == "aromatic_monocycle" else "a monocycle"
                    return False, [f"{site.name}: the ring is not {expected}"]
                for ring_atom in ring:
                    site_of_atom[ring_atom] = site
                core_atoms |= ring
                if ring != {atom_index}:
                    ring_smiles = Chem.MolFragmentToSmiles(mol, atomsToUse=sorted(ring))
                    reasons.append(f"{site.name}: ring {ring_smiles}")
    frozen_core = frozenset(core_atoms)
    per_site: dict[str, list[tuple[str, str]]] = {site.name: [] for site in definition.sites}
    for sub in _substituents(mol, frozen_core):
        sites = {site_of_atom.get(core_atom) for core_atom in sub.core_atoms}
        smiles = substituent_smiles(mol, sub)
        if None in sites:
            return False, [
                f"substituent {smiles} is on a core atom where the definition allows no substitution"
            ]
        if len(sites) != 1:
            names = sorted(s.name for s in sites if s is not None)
            return False, [
                f"substituent {smiles} bridges {' and '.join(names)}, which is not a listed modification"
            ]
        site = next(iter(s for s in sites if s is not None))
        kind: str | None = next((k.name for k in site.allowed if k.test(mol, sub)), None)
        if kind is None and site.further_allowed_if_any:
            kind = next((f"other {k.name}" for k in site.further_allowed_if_any if k.test(mol, sub)), None)
        if kind is None:
            allowed = ", ".join(k.name for k in site.allowed)
            return False, [f"{site.name}: {smiles} is not an allowed substituent (allowed: {allowed})"]
        per_site[site.name].append((smiles, kind))
    for site in definition.sites:
        found = per_site[site.name]
        if site.further_allowed_if_any and found and all(kind.startswith("other ") for _, kind in found):
            return False, [
                f"{site.name}: only 'other' substituents ({', '.join(s for s, _ in found)}); the text needs one of the listed kinds first"
            ]
        if len(found) < site.min_substituents:
            return False, [
                f"{site.name}: needs at least {site.min_substituents} substituent(s), found {len(found)}"
            ]
        if site.max_substituents is not None and len(found) > site.max_substituents:
            return False, [
                f"{site.name}: at most {site.max_substituents} substituent(s) allowed, found {len(found)}"
            ]
        if found:
            reasons.append(f"{site.name}: " + ", ".join(f"{s} ({kind})" for s, kind in found))
    return True, reasons


def match_definition(mol: Chem.Mol, definition: GenericDefinition) -> CoreMatch:
    """Does the molecule fall under the definition's structural text (exclusions not applied)?"""
    nearest: tuple[str, tuple[str, ...]] | None = None
    for core in definition.cores:
        mappings = mol.GetSubstructMatches(core.pattern, uniquify=False, maxMatches=MAX_CORE_MAPPINGS)
        for mapping in mappings:
            ok, reasons = _check_mapping(mol, definition, core, mapping)
            if ok:
                return CoreMatch(definition, True, core.name, tuple(reasons))
            if nearest is None:
                nearest = (core.name, tuple(reasons))
    if nearest is None:
        names = " / ".join(c.name for c in definition.cores)
        return CoreMatch(definition, False, None, (f"core {names} not present",))
    return CoreMatch(definition, False, nearest[0], nearest[1])


# --- evaluation --------------------------------------------------------------------------------

LegalStatus = Literal["controlled", "excluded", "not_determined"]


@dataclass(frozen=True)
class LegalEvaluation:
    """Answer to "is this structure controlled in `jurisdiction` on `on_date` by a generic definition?"."""

    status: LegalStatus
    jurisdiction: str
    on_date: date
    definition_id: str | None
    citation: str | None
    control: str | None
    explanation: str
    details: tuple[str, ...] = ()
    considered: tuple[str, ...] = ()  # one line per definition in force that was tried

    def as_dict(self) -> dict[str, object]:
        return {
            "status": self.status,
            "jurisdiction": self.jurisdiction,
            "on_date": self.on_date.isoformat(),
            "definition_id": self.definition_id,
            "citation": self.citation,
            "control": self.control,
            "explanation": self.explanation,
            "details": list(self.details),
            "considered": list(self.considered),
        }


def evaluate(
    structure: StandardStructure | Chem.Mol | str,
    definitions: Sequence[GenericDefinition] | None,
    jurisdiction: str,
    on_date: date,
) -> LegalEvaluation:
    """Evaluate the generic definitions in force in `jurisdiction` on `on_date`.

    "controlled": a definition matched and no named exclusion applies; "excluded": the structure
    fits a definition's text but is named as an exception (or is the parent compound, controlled by
    name elsewhere); "not_determined": no generic definition in force covers it.
    """
    # Exclusions compare standardised InChIKeys, so a raw molecule or text is standardised first.
    if isinstance(structure, StandardStructure):
        parsed = structure
    elif isinstance(structure, Chem.Mol):
        parsed = parse_structure(Chem.MolToSmiles(structure))
    else:
        parsed = parse_structure(structure)
    mol, inchikey = parsed.mol, parsed.inchikey
    country = jurisdiction.upper()
    pool = default_generic_definitions() if definitions is None else definitions
    in_force = [d for d in pool if d.in_force(country, on_date)]
    considered: list[str] = []
    excluded: LegalEvaluation | None = None
    for definition in in_force:
        outcome = match_definition(mol, definition)
        if not outcome.matched:
            considered.append(f"{definition.id}: not covered — {'; '.join(outcome.reasons)}")
            continue
        named = next((e for e in definition.exclusions if e.inchikey == inchikey), None)
        parent = definition.parent if definition.parent and definition.parent.inchikey == inchikey else None
        if named is not None or parent is not None:
            who = named.name if named is not None else parent.name if parent is not None else ""
            reason = "named as an exception" if named is not None else "the unmodified parent compound"
            considered.append(f"{definition.id}: fits the text but is {reason}: {who}")
            excluded = excluded or LegalEvaluation(
                status="excluded",
                jurisdiction=country,
                on_date=on_date,
                definition_id=definition.id,
                citation=definition.citation,
                control=None,
                explanation=f"fits {definition.title} but is {reason} ({who}); its status comes from the named lists",
                details=outcome.reasons,
            )
            continue
        considered.append(f"{definition.id}: covered")
        return LegalEvaluation(
            status="controlled",
            jurisdiction=country,
            on_date=on_date,
            definition_id=definition.id,
            citation=definition.citation,
            control=definition.control,
            explanation=(
                f"{definition.control} under {definition.citation}, in force since "
                f"{definition.effective_from.isoformat()}: derived from {outcome.core}"
            ),
            details=outcome.reasons,
            considered=tuple(considered),
        )
    if excluded is not None:
        return replace(excluded, considered=tuple(considered))
    if not in_force:
        explanation = f"no generic definition in force in {country} on {on_date.isoformat()}"
    else:
        explanation = (
            f"no generic definition in force in {country} on {on_date.isoformat()} covers this structure"
        )
    return LegalEvaluation(
        status="not_determined",
        jurisdiction=country,
        on_date=on_date,
        definition_id=None,
        citation=None,
        control=None,
        explanation=explanation,
        considered=tuple(considered),
    )
