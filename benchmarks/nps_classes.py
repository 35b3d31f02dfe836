"""Benchmark: structural class rules against a forensic laboratory's labelled NPS list.

Prints per-class precision and recall on the labels that map to our UNODC groups (mapping and
exclusions documented in observatory/earlywarning/chemistry/class_evaluation.py), the overall
agreement (target >= 95 %), and classification throughput on standardised molecules (target >= 5,000
molecules/s). Anchor, same run: the same ordered rules tried without the element/ring prefilter.

    .venv/bin/python benchmarks/nps_classes.py [--csv PATH] [--repeats 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from rdkit import Chem

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from observatory.earlywarning.chemistry.class_evaluation import (  # noqa: E402
    UNMAPPED_LABELS,
    agreement_report,
    read_labelled_csv,
)
from observatory.earlywarning.chemistry.classes import ClassRule, classify, default_class_rules  # noqa: E402
from observatory.earlywarning.chemistry.structures import StructureParseError, parse_structure  # noqa: E402

DEFAULT_CSV = REPO_ROOT.parent / "shared" / "nps" / "labelled_nps_slovenia.csv"


def classify_without_prefilter(mol: Chem.Mol, rules: Sequence[ClassRule]) -> str:
    for rule in rules:
        for candidate in rule.any_of:
            if mol.HasSubstructMatch(candidate.pattern):
                if any(mol.HasSubstructMatch(ex.pattern) for ex in rule.none_of):
                    break
                return rule.id
    return "fallback.other"


def throughput(mols: list[Chem.Mol], run: object, repeats: int) -> float:
    rates = []
    for _ in range(repeats):
        started = time.perf_counter()
        for mol in mols:
            run(mol)  # type: ignore[operator]
        rates.append(len(mols) / (time.perf_counter() - started))
    return statistics.median(rates)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--csv", type=Path, default=DEFAULT_CSV)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    if not args.csv.exists():
        sys.exit(f"labelled NPS list not found at {args.csv}")

    rows = read_labelled_csv(args.csv)
    report = agreement_report(rows)
    print(
        f"rows {report.rows}; unparsable {len(report.unparsable)} ({', '.join(report.unparsable)});"
        f" duplicate InChIKeys collapsed {report.duplicates}"
    )
    print(
        f"excluded (labels with no corresponding group: {', '.join(sorted(UNMAPPED_LABELS))}): "
        + ", ".join(f"{k} {v}" for k, v in sorted(report.unmapped.items()))
    )
    print(f"\n{'laboratory label':36} {'support':>7} {'predicted':>9} {'precision':>9} {'recall':>7}")
    for score in report.per_class:
        print(
            f"{score.label:36} {score.support:7d} {score.predicted:9d} {score.precision:9.3f} {score.recall:7.3f}"
        )
    print(
        f"\noverall agreement on mapped labels: {report.agreed}/{report.evaluated} = {report.agreement:.2%}"
        f"  (target >= 95 %)"
    )
    for row, assignment in report.disagreements:
        print(
            f"  disagree: {row.name!r} lab={row.label!r} rules={assignment.group.value} ({assignment.rule_id})"
        )

    mols = []
    for row in rows:
        try:
            mols.append(parse_structure(row.smiles).mol)
        except StructureParseError:
            continue
    rules = default_class_rules()
    ours = throughput(mols, lambda m: classify(m, rules), args.repeats)
    anchor = throughput(mols, lambda m: classify_without_prefilter(m, rules), args.repeats)
    print(
        f"\nclassification throughput (median of {args.repeats} passes over {len(mols)} standardised molecules):"
    )
    print(f"  rules with prefilter    : {ours:9.0f} molecules/s  (target >= 5,000)")
    print(f"  anchor, no prefilter    : {anchor:9.0f} molecules/s")
    print(f"  ratio                   : {ours / anchor:9.2f} x")


if __name__ == "__main__":
    main()
