"""Benchmark: top-10 Tanimoto similarity search over a library of up to 1,000,000 NPS-like structures.

Library: the labelled NPS list (read from ../shared at run time, never copied) plus substituent
variants of each structure: H → F, Cl, Br, I, CH3, OCH3, CF3, OH, C2H5 on aromatic CH positions (one
and two positions) and chain extension of terminal methyl groups; NH2, CN, SCH3, iPr and OEt too. The built fingerprint matrix is
cached under benchmarks/out/ (gitignored), keyed by size.

Anchor, in the same run over the same fingerprints: RDKit ``DataStructs.BulkTanimotoSimilarity``
followed by a top-10 selection. Prints medians over the queries and the ratio.

    .venv/bin/python benchmarks/nps_search.py --size 1000000 --queries 50
    .venv/bin/python benchmarks/nps_search.py --size 100000    # quick run
"""

from __future__ import annotations

import argparse
import csv
import heapq
import itertools
import statistics
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from rdkit import Chem, DataStructs, rdBase

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

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


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=30)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--csv", type=Path, default=DEFAULT_CSV)
    parser.add_argument("--build-only", action="store_true", help="build and cache the library, then stop")
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


if __name__ == "__main__":
    main()
