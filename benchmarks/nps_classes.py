"""Benchmark: structural class rules against a forensic laboratory's labelled NPS list.

Prints per-class precision and recall on the labels that map to our UNODC groups (mapping and
exclusions documented in observatory/earlywarning/chemistry/class_evaluation.py), the overall
agreement (target >= 95 %), and classification throughput (target >= 5,000 molecules/s), three ways:

1. class assignment on standardised molecules (the molecules are parsed and standardised once, before
   timing): the figure the README has always reported, so before/after stay comparable;
2. SMILES to class: RDKit parses the canonical SMILES of each standardised structure (full
   sanitisation, as ``Chem.MolFromSmiles``) and the rules assign the class; parsing is timed;
3. raw SMILES to class as a user's request runs it: ``parse_structure`` (parent fragment, uncharging,
   canonical tautomer, InChI) then the rules; dominated by standardisation, not by the rules.

Anchors in the same run, over the same molecules: the previous implementation (declared element/ring
prefilters only, as before this change) and the ordered rules with no prefilter at all. Every
throughput is the median of --repeats passes, in wall-clock time (the claim) and in process CPU time
(less sensitive to other load on a shared machine). Results of all implementations are compared.

    .venv/bin/python benchmarks/nps_classes.py [--csv PATH] [--repeats 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

from rdkit import Chem

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from observatory.earlywarning.chemistry.class_evaluation import (  # noqa: E402
    UNMAPPED_LABELS,
    agreement_report,
    read_labelled_csv,
)
from observatory.earlywarning.chemistry.classes import (  # noqa: E402
    ClassRule,
    classify,
    classify_declared_prefilters,
    classify_unscreened,
    default_class_rules,
)
from observatory.earlywarning.chemistry.structures import StructureParseError, parse_structure  # noqa: E402

DEFAULT_CSV = REPO_ROOT.parent / "shared" / "nps" / "labelled_nps_slovenia.csv"
T = TypeVar("T")


def throughput(items: Sequence[T], run: Callable[[T], object], repeats: int) -> tuple[float, float]:
    """Median items/s over ``repeats`` passes: (wall clock, process CPU time)."""
    wall, cpu = [], []
    for _ in range(repeats):
        started, started_cpu = time.perf_counter(), time.process_time()
        for item in items:
            run(item)
        wall.append(len(items) / (time.perf_counter() - started))
        cpu.append(len(items) / max(time.process_time() - started_cpu, 1e-9))
    return statistics.median(wall), statistics.median(cpu)


def _line(label: str, rates: tuple[float, float], note: str = "") -> str:
    return f"  {label:34}: {rates[0]:9,.0f} molecules/s wall  {rates[1]:9,.0f} /s CPU{note}"


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

    raw_smiles = [row.smiles for row in rows]
    structures = []
    for smiles in raw_smiles:
        try:
            structures.append(parse_structure(smiles))
        except StructureParseError:
            continue
    mols = [structure.mol for structure in structures]
    canonical = [structure.canonical_smiles for structure in structures]
    rules = default_class_rules()
    with_screens = [classify(m, rules).rule_id for m in mols]
    previous = [classify_declared_prefilters(m, rules).rule_id for m in mols]
    bare = [classify_unscreened(m, rules).rule_id for m in mols]
    reparsed = [classify(Chem.MolFromSmiles(s), rules).rule_id for s in canonical]
    print(
        f"\nsame rule for all {len(mols)} molecules: screened vs previous"
        f" {sum(a != b for a, b in zip(with_screens, previous, strict=True))} differ;"
        f" vs no prefilter {sum(a != b for a, b in zip(with_screens, bare, strict=True))} differ;"
        f" standardised vs re-parsed canonical SMILES"
        f" {sum(a != b for a, b in zip(with_screens, reparsed, strict=True))} differ"
    )

    print(f"\nclassification throughput, median of {args.repeats} passes (load average {_load()}):")
    print(f" 1. class assignment on {len(mols)} standardised molecules (parsing not timed):")
    ours = throughput(mols, lambda m: classify(m, rules), args.repeats)
    before = throughput(mols, lambda m: classify_declared_prefilters(m, rules), args.repeats)
    anchor = throughput(mols, lambda m: classify_unscreened(m, rules), args.repeats)
    print(_line("rules with derived screens", ours, "  (target >= 5,000)"))
    print(_line("anchor: previous implementation", before))
    print(_line("anchor: no prefilter", anchor))
    print(
        f"  ratio to previous / to no prefilter  : {ours[0] / before[0]:.2f} x / {ours[0] / anchor[0]:.2f} x wall"
    )
    print(
        f" 2. SMILES to class: Chem.MolFromSmiles of {len(canonical)} canonical SMILES + rules (parsing timed):"
    )
    ours_smiles = throughput(canonical, lambda s: classify(Chem.MolFromSmiles(s), rules), args.repeats)
    before_smiles = throughput(
        canonical, lambda s: classify_declared_prefilters(Chem.MolFromSmiles(s), rules), args.repeats
    )
    parse_only = throughput(canonical, Chem.MolFromSmiles, args.repeats)
    print(_line("parse + rules with derived screens", ours_smiles, "  (target >= 5,000)"))
    print(_line("anchor: parse + previous", before_smiles))
    print(_line("parse alone", parse_only))
    passes = max(1, args.repeats // 2)
    print(f" 3. raw SMILES to class as a request runs it: parse_structure + rules, {len(raw_smiles)} rows:")
    user_path = throughput(raw_smiles, _standardise_and_classify(rules), passes)
    print(_line(f"standardise + rules ({passes} passes)", user_path))


def _standardise_and_classify(rules: Sequence[ClassRule]) -> Callable[[str], object]:
    def run(smiles: str) -> object:
        try:
            return classify(parse_structure(smiles).mol, rules)
        except StructureParseError:
            return None

    return run


def _load() -> str:
    try:
        return " ".join(f"{value:.2f}" for value in os.getloadavg())
    except OSError:
        return "unknown"


if __name__ == "__main__":
    main()
