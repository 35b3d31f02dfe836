"""Agreement of the class rules with an external labelled list (a forensic laboratory's NPS list).

The laboratory's labels map onto our UNODC groups where they mean the same thing. Labels that do not
correspond to one of our groups are excluded from the measure (and counted, so nothing is hidden):

* "Others", "x_miscellaneous", "NPS-related (building blocks)": catch-alls without a structural meaning;
* "Arylalkylamines": benzofurans, thiophenes and aminoalkyl-indoles that UNODC files under
  phenethylamines, tryptamines or "other" case by case;
* "Piperidines & pyrrolidines": methylphenidate analogues, diphenidine, prolintane: UNODC has no such
  group (they are "other" stimulants or dissociatives).

"Opioids" maps to both our opioid groups (fentanyl analogues and other synthetic opioids; nitazenes),
because the laboratory does not split them.
"""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from observatory.earlywarning.chemistry.classes import (
    ClassAssignment,
    ClassRule,
    SubstanceGroup,
    classify,
)
from observatory.earlywarning.chemistry.structures import StructureParseError, parse_structure

G = SubstanceGroup
LAB_LABEL_GROUPS: dict[str, frozenset[SubstanceGroup]] = {
    "Cannabinoids": frozenset({G.SYNTHETIC_CANNABINOIDS}),
    "Cathinones": frozenset({G.SYNTHETIC_CATHINONES}),
    "Opioids": frozenset({G.FENTANYL_AND_OPIOIDS, G.NITAZENES}),
    "Phenethylamines": frozenset({G.PHENETHYLAMINES}),
    "Indolalkylamines (fe tryptamines)": frozenset({G.TRYPTAMINES}),
    "Benzodiazepines": frozenset({G.BENZODIAZEPINES}),
    "Arylcyclohexylamines": frozenset({G.PHENCYCLIDINE_TYPE}),
    "Piperazine derivates": frozenset({G.PIPERAZINES}),
    "Aminoindanes": frozenset({G.AMINOINDANES}),
    "Plants & extracts": frozenset({G.PLANT_BASED}),
}
UNMAPPED_LABELS = frozenset(
    {
        "Others",
        "x_miscellaneous",
        "NPS-related (building blocks)",
        "Arylalkylamines",
        "Piperidines & pyrrolidines",
    }
)


@dataclass(frozen=True)
class LabelledStructure:
    name: str
    smiles: str
    label: str


@dataclass(frozen=True)
class ClassScore:
    label: str
    support: int
    predicted: int
    agreed: int

    @property
    def precision(self) -> float:
        return self.agreed / self.predicted if self.predicted else 0.0

    @property
    def recall(self) -> float:
        return self.agreed / self.support if self.support else 0.0


@dataclass(frozen=True)
class AgreementReport:
    rows: int
    unparsable: tuple[str, ...]
    duplicates: int
    unmapped: dict[str, int]
    evaluated: int
    agreed: int
    per_class: tuple[ClassScore, ...]
    disagreements: tuple[tuple[LabelledStructure, ClassAssignment], ...] = field(repr=False)

    @property
    def agreement(self) -> float:
        return self.agreed / self.evaluated if self.evaluated else 0.0


def read_labelled_csv(path: Path | str) -> list[LabelledStructure]:
    with open(path, encoding="utf-8", newline="") as handle:
        return [LabelledStructure(r["name"], r["smiles"], r["category"]) for r in csv.DictReader(handle)]


def agreement_report(
    rows: Iterable[LabelledStructure], rules: Sequence[ClassRule] | None = None
) -> AgreementReport:
    """Classify each distinct structure (by InChIKey, first label kept) and compare with its label."""
    all_rows = list(rows)
    unparsable: list[str] = []
    unmapped: Counter[str] = Counter()
    seen: set[str] = set()
    duplicates = 0
    support: Counter[str] = Counter()
    predicted: Counter[str] = Counter()
    agreed: Counter[str] = Counter()
    disagreements = []
    for row in all_rows:
        try:
            structure = parse_structure(row.smiles)
        except StructureParseError:
            unparsable.append(row.name)
            continue
        if structure.inchikey in seen:
            duplicates += 1
            continue
        seen.add(structure.inchikey)
        if row.label not in LAB_LABEL_GROUPS:
            unmapped[row.label] += 1
            continue
        assignment = classify(structure.mol, rules)
        support[row.label] += 1
        for label, groups in LAB_LABEL_GROUPS.items():
            if assignment.group in groups:
                predicted[label] += 1
        if assignment.group in LAB_LABEL_GROUPS[row.label]:
            agreed[row.label] += 1
        else:
            disagreements.append((row, assignment))
    per_class = tuple(
        ClassScore(label, support[label], predicted[label], agreed[label])
        for label in LAB_LABEL_GROUPS
        if support[label] or predicted[label]
    )
    return AgreementReport(
        rows=len(all_rows),
        unparsable=tuple(unparsable),
        duplicates=duplicates,
        unmapped=dict(unmapped),
        evaluated=sum(support.values()),
        agreed=sum(agreed.values()),
        per_class=per_class,
        disagreements=tuple(disagreements),
    )
