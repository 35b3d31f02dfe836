"""Structure identity: parse SMILES or a molfile into one standardised parent structure.

Defined behaviour (the registry, the class rules and the search all rely on it):

* unparsable input (empty, bad syntax, bad valence, no carbon-containing fragment) raises
  :class:`StructureParseError`, whose message names the input;
* salts and mixtures keep the largest organic fragment (most heavy atoms, then the heavier, then
  the lexically first SMILES); every other fragment is reported in ``removed_fragments``;
* charges are neutralised where a neutral form exists (acids, protonated amines); permanent charges
  (quaternary ammonium) and charge-separated groups (nitro) stay and are noted;
* tautomers: identity is the RDKit canonical tautomer of the neutral parent, so two tautomers of one
  substance get one canonical SMILES and one InChIKey; stereo is preserved through this step;
* stereo: the full InChIKey is the identity, so enantiomers are different substances, while
  ``connectivity_key`` (the first 14 characters, the InChIKey skeleton block) is shared by all
  stereo variants so they are recognised as related.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Literal

from rdkit import Chem, rdBase
from rdkit.Chem import rdMolDescriptors
from rdkit.Chem.MolStandardize import rdMolStandardize

StructureFormat = Literal["smiles", "molfile"]

MAX_INPUT_CHARS = 200_000  # uploads are parsed defensively; a real molfile of an NPS is a few kB
_PREVIEW_CHARS = 60


class StructureParseError(ValueError):
    """The input cannot be turned into a structure; the message names the input and the reason."""

    def __init__(self, input_text: str, reason: str, input_format: str = "structure") -> None:
        self.input_text = input_text
        self.reason = reason
        self.input_format = input_format
        super().__init__(f"cannot parse {input_format} {_preview(input_text)!r}: {reason}")


@dataclass(frozen=True)
class StandardStructure:
    """A standardised parent structure and its identity."""

    input_text: str
    input_format: StructureFormat
    canonical_smiles: str
    inchi: str
    inchikey: str
    connectivity_key: str
    formula: str
    exact_mass: float
    average_mass: float
    removed_fragments: tuple[str, ...]
    notes: tuple[str, ...]
    mol: Chem.Mol = field(compare=False, repr=False)

    def as_dict(self) -> dict[str, object]:
        """JSON-ready view (everything but the RDKit molecule)."""
        return {
            "canonical_smiles": self.canonical_smiles,
            "inchi": self.inchi,
            "inchikey": self.inchikey,
            "connectivity_key": self.connectivity_key,
            "formula": self.formula,
            "exact_mass": self.exact_mass,
            "average_mass": self.average_mass,
            "removed_fragments": list(self.removed_fragments),
            "notes": list(self.notes),
            "input_format": self.input_format,
        }

    @property
    def has_stereo_layer(self) -> bool:
        """True when the InChIKey encodes stereo (its second block is not the 'no stereo' block)."""
        return not self.inchikey[15:].startswith("UHFFFAOYSA")


def _average_mass(mol: Chem.Mol) -> float:
    """Average molecular weight: standard atomic weights (isotope masses for labelled atoms), implicit Hs included.

    (Computed here because rdkit-stubs do not declare Descriptors.MolWt.)"""
    hydrogens = sum(atom.GetTotalNumHs() for atom in mol.GetAtoms())
    return sum(
        atom.GetMass() for atom in mol.GetAtoms()
    ) + hydrogens * Chem.GetPeriodicTable().GetAtomicWeight(1)


def _preview(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= _PREVIEW_CHARS else flat[: _PREVIEW_CHARS - 1] + "…"


def looks_like_molfile(text: str) -> bool:
    return "M  END" in text or "V2000" in text or "V3000" in text


@lru_cache(maxsize=1)
def _tautomer_enumerator() -> rdMolStandardize.TautomerEnumerator:
    # Built once per process (about 4 ms each time): a fixed configuration, never mutated.
    params = rdMolStandardize.CleanupParameters()
    # Keep stereo: enantiomers must stay distinct substances after tautomer canonicalisation.
    # (rdkit-stubs type these attributes as CleanupParameters; they are bool/int at run time)
    params.tautomerRemoveSp3Stereo = False  # type: ignore[assignment]
    params.tautomerRemoveBondStereo = False  # type: ignore[assignment]
    params.maxTautomers = 200  # type: ignore[assignment]
    return rdMolStandardize.TautomerEnumerator(params)


def _read(text: str, input_format: StructureFormat) -> Chem.Mol | None:
    if input_format == "molfile":
        return Chem.MolFromMolBlock(text, sanitize=True, removeHs=True)
    return Chem.MolFromSmiles(text.strip())


def _choose_parent(mol: Chem.Mol) -> tuple[Chem.Mol, list[str]]:
    """Largest organic fragment and the SMILES of every other fragment, in input order."""
    fragments = list(Chem.GetMolFrags(mol, asMols=True, sanitizeFrags=True))
    organic = [f for f in fragments if any(a.GetAtomicNum() == 6 for a in f.GetAtoms())]
    if not organic:
        raise ValueError("no organic (carbon-containing) fragment")

    def rank(fragment: Chem.Mol) -> tuple[int, float, str]:
        smiles = Chem.MolToSmiles(fragment)
        return (-fragment.GetNumHeavyAtoms(), -_average_mass(fragment), smiles)

    parent = min(organic, key=rank)
    removed = [Chem.MolToSmiles(f) for f in fragments if f is not parent]
    return parent, removed


def parse_structure(text: str, input_format: StructureFormat | None = None) -> StandardStructure:
    """Parse SMILES or a molfile (format guessed when ``input_format`` is None) into a parent structure.

    Raises StructureParseError for anything that does not give a valid organic structure.
    """
    if not isinstance(text, str) or not text.strip():
        raise StructureParseError(str(text), "empty input")
    fmt: StructureFormat = input_format or ("molfile" if looks_like_molfile(text) else "smiles")
    if len(text) > MAX_INPUT_CHARS:
        raise StructureParseError(text, f"input longer than {MAX_INPUT_CHARS} characters", fmt)

    with rdBase.BlockLogs():  # RDKit would print parse warnings to stderr; we raise instead
        mol = _read(text, fmt)
        if mol is None or mol.GetNumAtoms() == 0:
            raise StructureParseError(text, "invalid syntax or valence", fmt)
        notes: list[str] = []
        try:
            parent, removed = _choose_parent(mol)
        except ValueError as exc:
            raise StructureParseError(text, str(exc), fmt) from exc
        if removed:
            notes.append(f"kept the largest organic fragment; removed {len(removed)}: {', '.join(removed)}")

        parent = rdMolStandardize.Cleanup(parent)
        charge_before = sum(abs(a.GetFormalCharge()) for a in parent.GetAtoms())
        parent = rdMolStandardize.Uncharger(canonicalOrder=True).uncharge(parent)
        net_charge = Chem.GetFormalCharge(parent)
        charge_after = sum(abs(a.GetFormalCharge()) for a in parent.GetAtoms())
        if charge_after < charge_before:
            notes.append("neutralised charges")
        if net_charge != 0:
            notes.append(f"net charge {net_charge:+d} has no neutral form and was kept")

        drawn_smiles = Chem.MolToSmiles(parent)
        canonical = _tautomer_enumerator().Canonicalize(parent)
        canonical_smiles = Chem.MolToSmiles(canonical)
        if canonical_smiles != drawn_smiles:
            notes.append(f"canonical tautomer used for identity (drawn as {drawn_smiles})")

        inchi = Chem.MolToInchi(canonical)
        if not inchi:
            raise StructureParseError(text, "no InChI could be generated", fmt)
        inchikey = Chem.InchiToInchiKey(inchi)

    undefined = [
        idx for idx, label in Chem.FindMolChiralCenters(canonical, includeUnassigned=True) if label == "?"
    ]
    if undefined:
        notes.append(f"{len(undefined)} stereocentre(s) undefined")

    return StandardStructure(
        input_text=text,
        input_format=fmt,
        canonical_smiles=canonical_smiles,
        inchi=inchi,
        inchikey=inchikey,
        connectivity_key=inchikey[:14],
        formula=rdMolDescriptors.CalcMolFormula(canonical),
        exact_mass=round(rdMolDescriptors.CalcExactMolWt(canonical), 6),
        average_mass=round(_average_mass(canonical), 4),
        removed_fragments=tuple(removed),
        notes=tuple(notes),
        mol=canonical,
    )


def same_substance(a: StandardStructure, b: StandardStructure) -> bool:
    return a.inchikey == b.inchikey


def stereo_related(a: StandardStructure, b: StandardStructure) -> bool:
    """Same skeleton (connectivity), whatever the stereo: enantiomers, diastereomers, racemate."""
    return a.connectivity_key == b.connectivity_key
