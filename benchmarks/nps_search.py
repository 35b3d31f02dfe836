"""Benchmark: top-10 Tanimoto similarity search over a library of up to 1,000,000 NPS-like structures.

Library: the labelled NPS list (read from ../shared at run time, never copied) plus substituent
variants of each structure: H → F, Cl, Br, I, CH3, OCH3, CF3, OH, C2H5 on aromatic CH positions (one
and two positions) and chain extension of terminal methyl groups; NH2, CN, SCH3, iPr and OEt too. The built fingerprint matrix is
cached under benchmarks/out/ (gitignored), keyed by size.

Anchor, in the same run over the same fingerprints: RDKit ``DataStructs.BulkTanimotoSimilarity``
followed by a top-10 selection. Prints medians over the queries and the ratio.

Then classification throughput over a random sample of the library (--classify, default 20,000; 0
skips it): each SMILES is parsed by RDKit (``Chem.MolFromSmiles``, full sanitisation; timed) and the
class rules assign its group (target >= 5,000 molecules/s). Anchor, same run and molecules: the
ordered rules with no prefilter or screen (``classify_unscreened``); the two must agree on every
molecule. Medians of --classify-repeats passes, wall clock and process CPU time. (These variants are
not standardised; benchmarks/nps_classes.py times standardised molecules and the full request path.)

    .venv/bin/python benchmarks/nps_search.py --size 1000000 --queries 50
    .venv/bin/python benchmarks/nps_search.py --size 100000    # quick run
"""

from __future__ import annotations

import argparse
import csv
import heapq
import itertools
import os
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import numpy as np
from rdkit import Chem, DataStructs, rdBase

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from observatory.earlywarning.chemistry.classes import (  # noqa: E402
    classify,
    classify_unscreened,
    default_class_rules,
)
from observatory.earlywarning.chemistry.search import (  # noqa: E402
    FP_WORDS,
    StructureLibrary,
    fingerprint_words,
    morgan_generator,
    words_to_bitvect,
)

DEFAULT_CSV = REPO_ROOT.parent / "shared" / "nps" / "labelled_nps_slovenia.csv"
OUT_DIR = REPO_ROOT / "benchmarks" / "out"
SUBSTITUENTS = ("F", "Cl", "Br", "I", "C", "OC", "C(F)(F)F", "O", "CC", "N", "C#N", "SC", "C(C)C", "OCC")


def parent_structures(csv_path: Path) -> list[Chem.Mol]:
    seen: set[str] = set()
    parents = []
    with rdBase.BlockLogs(), open(csv_path, encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            mol = Chem.MolFromSmiles(row["smiles"])
            if mol is None or mol.GetNumAtoms() == 0:
                continue
            largest = max(Chem.GetMolFrags(mol, asMols=True), key=lambda m: m.GetNumHeavyAtoms())
            smiles = Chem.MolToSmiles(largest)
            if smiles not in seen:
                seen.add(smiles)
                parents.append(largest)
    return parents


def _attach(mol: Chem.Mol, sites: tuple[int, ...], groups: tuple[Chem.Mol, ...]) -> Chem.Mol:
    edited = Chem.RWMol(mol)
    for site, group in zip(sites, groups, strict=True):
        offset = edited.GetNumAtoms()
        edited.InsertMol(group)
        edited.AddBond(site, offset, Chem.BondType.SINGLE)  # group atom 0 is the attachment atom
    # Sites are aromatic CH or terminal CH3, so valences stay valid: a full sanitisation (the
    # slowest step for a million molecules) is replaced by recomputing Hs and rings.
    edited.UpdatePropertyCache(strict=False)
    Chem.FastFindRings(edited)
    return edited.GetMol()


def variants(parent: Chem.Mol) -> Iterator[Chem.Mol]:
    """Single and double aromatic substitutions, chain extensions of terminal methyls.

    Symmetry-equivalent sites (same canonical rank) are enumerated once, so no structure repeats.
    """
    groups = tuple(Chem.MolFromSmiles(s) for s in SUBSTITUENTS)
    ranks = list(Chem.CanonicalRankAtoms(parent, breakTies=False))
    atoms = list(parent.GetAtoms())
    aromatic_ch = [
        a.GetIdx() for a in atoms if a.GetIsAromatic() and a.GetSymbol() == "C" and a.GetTotalNumHs() == 1
    ]
    terminal_methyl = [
        a.GetIdx() for a in atoms if a.GetSymbol() == "C" and not a.GetIsAromatic() and a.GetDegree() == 1
    ]
    seen: set[tuple[tuple[int, int], ...]] = set()

    def fresh(sites: tuple[int, ...], group_ids: tuple[int, ...]) -> bool:
        key = tuple(sorted((ranks[site], gid) for site, gid in zip(sites, group_ids, strict=True)))
        if key in seen:
            return False
        seen.add(key)
        return True

    for site in aromatic_ch:
        for gid, group in enumerate(groups):
            if fresh((site,), (gid,)):
                yield _attach(parent, (site,), (group,))
    for site in terminal_methyl:
        for gid in (4, 8, 12):  # methyl, ethyl, isopropyl: chain lengths and branching
            if fresh((site,), (100 + gid,)):
                yield _attach(parent, (site,), (groups[gid],))
    for a, b in itertools.combinations(aromatic_ch, 2):
        for ga, gb in itertools.product(range(len(groups)), repeat=2):
            if fresh((a, b), (ga, gb)):
                yield _attach(parent, (a, b), (groups[ga], groups[gb]))


def build_library(size: int, csv_path: Path) -> StructureLibrary:
    cache = OUT_DIR / f"nps_library_{size}.npz"
    if cache.exists():
        return StructureLibrary.load(cache)
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    parents = parent_structures(csv_path)
    generator = morgan_generator()
    seen: set[str] = set()
    smiles: list[str] = []
    rows = np.zeros((size, FP_WORDS), dtype=np.uint64)
    streams = [variants(p) for p in parents]
    started = time.perf_counter()

    def accept(mol: Chem.Mol) -> bool:
        # Variants of one parent are distinct by construction; across parents, the SMILES check
        # catches the rare case of two parents' variants coinciding.
        smi = Chem.MolToSmiles(mol)
        if smi in seen:
            return False
        seen.add(smi)
        rows[len(smiles)] = fingerprint_words(mol, generator)
        smiles.append(smi)
        return True

    for parent in parents:
        if len(smiles) < size:
            accept(parent)
    # Round-robin over parents so a scaled-down library still covers every class.
    with rdBase.BlockLogs():
        while len(smiles) < size and streams:
            alive = []
            for stream in streams:
                for mol in stream:
                    if accept(mol):
                        break
                else:
                    continue
                alive.append(stream)
                if len(smiles) >= size:
                    break
            streams = alive
            if len(smiles) % 100_000 < len(streams):
                print(f"  built {len(smiles):,} in {time.perf_counter() - started:.0f} s", flush=True)
    count = len(smiles)
    if count < size:
        print(f"  warning: enumeration exhausted at {count:,} structures (asked for {size:,})")
    library = StructureLibrary(
        identifiers=[f"V{i:07d}" for i in range(count)],
        inchikeys=[""] * count,  # InChI for 1M enumerated variants is too slow and not needed to time search
        smiles=smiles,
        fingerprints=rows[:count],
    )
    library.save(cache)
    return library


def rdkit_top_k(
    query: DataStructs.ExplicitBitVect, bitvects: list[DataStructs.ExplicitBitVect], k: int
) -> list[tuple[float, int]]:
    scores = DataStructs.BulkTanimotoSimilarity(query, bitvects)
    return heapq.nlargest(k, zip(scores, range(len(scores)), strict=True))


def _rates(smiles: Sequence[str], run: Callable[[str], object], repeats: int) -> tuple[float, float]:
    """Median molecules/s over ``repeats`` passes: (wall clock, process CPU time)."""
    wall, cpu = [], []
    for _ in range(repeats):
        started, started_cpu = time.perf_counter(), time.process_time()
        for text in smiles:
            run(text)
        wall.append(len(smiles) / (time.perf_counter() - started))
        cpu.append(len(smiles) / max(time.process_time() - started_cpu, 1e-9))
    return statistics.median(wall), statistics.median(cpu)


def classification_throughput(library: StructureLibrary, count: int, repeats: int) -> None:
    rng = np.random.default_rng(11)
    rows = rng.choice(len(library), size=min(count, len(library)), replace=False)
    rules = default_class_rules()
    sample = []
    with rdBase.BlockLogs():
        for i in rows:
            text = str(library.smiles[i])
            if Chem.MolFromSmiles(text) is not None:
                sample.append(text)
        mols = [Chem.MolFromSmiles(text) for text in sample]
    differ = sum(classify(m, rules) != classify_unscreened(m, rules) for m in mols)
    groups = Counter(classify(m, rules).group.value for m in mols)

    def screened(text: str) -> object:
        return classify(Chem.MolFromSmiles(text), rules)

    def unscreened(text: str) -> object:
        return classify_unscreened(Chem.MolFromSmiles(text), rules)

    with rdBase.BlockLogs():
        ours = _rates(sample, screened, repeats)
        anchor = _rates(sample, unscreened, repeats)
        parse_only = _rates(sample, Chem.MolFromSmiles, repeats)
    load = " ".join(f"{value:.2f}" for value in os.getloadavg())
    print(
        f"\nclassification throughput: parse SMILES + class rules over {len(sample):,} library structures"
        f" (median of {repeats} passes; load average {load}):"
    )
    print(f"  assignments differing from the unscreened rules: {differ}")
    print("  groups: " + ", ".join(f"{group} {n}" for group, n in groups.most_common()))
    print(
        f"  parse + rules with screens : {ours[0]:9,.0f} molecules/s wall  {ours[1]:9,.0f} /s CPU  (target >= 5,000)"
    )
    print(f"  anchor: parse + no screens : {anchor[0]:9,.0f} molecules/s wall  {anchor[1]:9,.0f} /s CPU")
    print(
        f"  parse alone                : {parse_only[0]:9,.0f} molecules/s wall  {parse_only[1]:9,.0f} /s CPU"
    )
    print(f"  ratio to the anchor        : {ours[0] / anchor[0]:9.2f} x")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=30)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--csv", type=Path, default=DEFAULT_CSV)
    parser.add_argument("--build-only", action="store_true", help="build and cache the library, then stop")
    parser.add_argument("--classify", type=int, default=20_000, help="structures to classify (0: skip)")
    parser.add_argument("--classify-repeats", type=int, default=3)
    args = parser.parse_args()
    if not args.csv.exists():
        sys.exit(f"labelled NPS list not found at {args.csv}")

    started = time.perf_counter()
    library = build_library(args.size, args.csv)
    print(f"library: {len(library):,} structures ready in {time.perf_counter() - started:.1f} s")
    if args.build_only:
        return

    rng = np.random.default_rng(7)
    query_rows = rng.choice(len(library), size=min(args.queries, len(library)), replace=False)
    queries = [Chem.MolFromSmiles(str(library.smiles[i])) for i in query_rows]

    started = time.perf_counter()
    bitvects = [words_to_bitvect(row) for row in library.fingerprints]
    print(f"RDKit bit vectors for the baseline built in {time.perf_counter() - started:.1f} s")

    ours, theirs, mismatches = [], [], 0
    generator = morgan_generator()
    for mol in queries:
        words = fingerprint_words(mol, generator)
        t0 = time.perf_counter()
        hits = library.top_k(words, k=args.k)
        t1 = time.perf_counter()
        baseline = rdkit_top_k(generator.GetFingerprint(mol), bitvects, args.k)
        t2 = time.perf_counter()
        ours.append(t1 - t0)
        theirs.append(t2 - t1)
        if [round(h.similarity, 9) for h in hits] != [round(s, 9) for s, _ in baseline]:
            mismatches += 1

    ours_ms = statistics.median(ours) * 1000
    theirs_ms = statistics.median(theirs) * 1000
    print(f"queries: {len(queries)}, k = {args.k}, score mismatches vs RDKit: {mismatches}")
    print(f"median top-{args.k} query, numpy popcount : {ours_ms:8.2f} ms  (target <= 50 ms)")
    print(f"median top-{args.k} query, RDKit bulk     : {theirs_ms:8.2f} ms")
    print(f"speed-up vs RDKit BulkTanimotoSimilarity : {theirs_ms / ours_ms:8.2f} x  (target >= 3 x)")
    if args.classify > 0:
        classification_throughput(library, args.classify, args.classify_repeats)


if __name__ == "__main__":
    main()
