"""In-memory structure search: exact (InChIKey), similarity (Tanimoto top-k) and substructure (SMARTS).

Fingerprints are Morgan (radius 2, 2048 bits) packed into a ``(n, 32)`` uint64 matrix; Tanimoto uses
a vectorised popcount (``numpy.bitwise_count`` when numpy ≥ 2.0, else a 16-bit lookup table). Top-k
search is exact but reads only the rows that can still win: rows are kept sorted by bit count and
bounded per 128-bit block before the full popcount (see ``StructureLibrary.top_k``). Substructure
search screens candidates with RDKit pattern fingerprints (a sound necessary condition for a
substructure match), packed the same way, before the exact match.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
from rdkit import Chem, DataStructs, rdBase
from rdkit.Chem import rdFingerprintGenerator

FP_BITS = 2048
FP_WORDS = FP_BITS // 64
MORGAN_RADIUS = 2

FingerprintMatrix = npt.NDArray[np.uint64]


def morgan_generator() -> rdFingerprintGenerator.FingerprintGenerator64:
    return rdFingerprintGenerator.GetMorganGenerator(radius=MORGAN_RADIUS, fpSize=FP_BITS)


def fingerprint_words(
    mol: Chem.Mol, generator: rdFingerprintGenerator.FingerprintGenerator64 | None = None
) -> FingerprintMatrix:
    """Morgan fingerprint of one molecule as 32 little-endian uint64 words (bit i = word i//64, bit i%64)."""
    gen = generator or morgan_generator()
    as_bytes = np.frombuffer(gen.GetFingerprintAsNumPy(mol).astype(np.uint8), dtype=np.uint8)
    return np.packbits(as_bytes, bitorder="little").view(np.uint64).copy()


def fingerprint_matrix(mols: Iterable[Chem.Mol]) -> FingerprintMatrix:
    gen = morgan_generator()
    rows = [fingerprint_words(m, gen) for m in mols]
    if not rows:
        return np.zeros((0, FP_WORDS), dtype=np.uint64)
    return np.vstack(rows)


def words_to_bitvect(words: FingerprintMatrix) -> DataStructs.ExplicitBitVect:
    """Back to an RDKit bit vector (for the RDKit baseline and for interoperability)."""
    bits = np.unpackbits(words.view(np.uint8), bitorder="little")
    vect = DataStructs.ExplicitBitVect(FP_BITS)
    vect.SetBitsFromList(np.flatnonzero(bits).tolist())
    return vect


_POPCOUNT16 = np.array([bin(i).count("1") for i in range(1 << 16)], dtype=np.uint8)


def popcount_rows(matrix: FingerprintMatrix) -> npt.NDArray[np.int32]:
    """Number of set bits per row."""
    if hasattr(np, "bitwise_count"):
        return np.bitwise_count(matrix).sum(axis=1, dtype=np.int32)
    halves = matrix.view(np.uint16)  # fallback for numpy < 2.0: 16-bit lookup table
    return _POPCOUNT16[halves].sum(axis=1, dtype=np.int32)


BLOCK_WORDS = 2  # 16 blocks of 128 bits: per-block bit counts give a cheap upper bound on Tanimoto
N_BLOCKS = FP_WORDS // BLOCK_WORDS


def block_popcounts(matrix: FingerprintMatrix) -> npt.NDArray[np.uint8]:
    """Bits set in each 128-bit block of each row, shape (n, 16); a block holds at most 128 bits."""
    n = matrix.shape[0]
    out = np.empty((n, N_BLOCKS), dtype=np.uint8)
    for start in range(0, n, 65536):  # chunked so the temporary stays small
        chunk = matrix[start : start + 65536]
        if hasattr(np, "bitwise_count"):
            per_word = np.bitwise_count(chunk)
        else:
            per_word = _POPCOUNT16[chunk.view(np.uint16)].reshape(chunk.shape[0], FP_WORDS, 4).sum(axis=2)
        blocks = per_word.reshape(chunk.shape[0], N_BLOCKS, BLOCK_WORDS).sum(axis=2)
        out[start : start + 65536] = blocks
    return out


_BYTE_SUM = np.uint64(0x0101010101010101)  # x * this >> 56 adds the 8 bytes of x (if the sum < 256)


def tanimoto(
    query: FingerprintMatrix, library: FingerprintMatrix, library_counts: npt.NDArray[np.int32] | None = None
) -> npt.NDArray[np.float64]:
    """Tanimoto of one query (32 words) against every row; two empty fingerprints count as identical."""
    counts = popcount_rows(library) if library_counts is None else library_counts
    common = popcount_rows(library & query[np.newaxis, :])
    query_count = int(popcount_rows(query[np.newaxis, :])[0])
    union = counts + query_count - common
    with np.errstate(invalid="ignore", divide="ignore"):
        scores = np.where(union > 0, common / np.maximum(union, 1), 1.0)
    return scores.astype(np.float64)


def _ratio(common: npt.NDArray[np.int32], union: npt.NDArray[np.int32]) -> npt.NDArray[np.float64]:
    """common / union, with 0/0 (two empty fingerprints) defined as 1.0 like RDKit."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(union > 0, common / np.maximum(union, 1), 1.0).astype(np.float64)


@dataclass(frozen=True)
class SimilarityHit:
    index: int  # row in this library object (rows are stored sorted by bit count)
    identifier: str
    inchikey: str
    smiles: str
    similarity: float

    def as_dict(self) -> dict[str, object]:
        return {
            "identifier": self.identifier,
            "inchikey": self.inchikey,
            "smiles": self.smiles,
            "similarity": round(self.similarity, 4),
        }


class StructureLibrary:
    """Immutable-by-convention library of structures with their fingerprints and identities."""

    def __init__(
        self,
        identifiers: Sequence[str],
        inchikeys: Sequence[str],
        smiles: Sequence[str],
        fingerprints: FingerprintMatrix,
    ) -> None:
        n = len(identifiers)
        if not (len(inchikeys) == len(smiles) == n == fingerprints.shape[0]):
            raise ValueError("identifiers, inchikeys, smiles and fingerprints must have the same length")
        if fingerprints.ndim != 2 or fingerprints.shape[1] != FP_WORDS or fingerprints.dtype != np.uint64:
            raise ValueError(f"fingerprints must be a (n, {FP_WORDS}) uint64 matrix")
        # Rows are stored sorted by fingerprint bit count, so the rows that can reach a Tanimoto
        # cut-off c (bit count between c*q and q/c) form one contiguous slice. Callers identify rows
        # by identifier; a row index is only meaningful within this library object.
        counts = popcount_rows(fingerprints)
        order = np.argsort(counts, kind="stable")
        self.identifiers = np.asarray(identifiers, dtype=object)[order]
        self.inchikeys = np.asarray(inchikeys, dtype=object)[order]
        self.smiles = np.asarray(smiles, dtype=object)[order]
        self.fingerprints = np.ascontiguousarray(fingerprints[order])
        self.bit_counts = counts[order]
        self.block_counts = block_popcounts(self.fingerprints)
        self._pattern_fps: FingerprintMatrix | None = None
        self._mols: dict[int, Chem.Mol | None] = {}  # per-instance parse cache for substructure search
        self._by_inchikey: dict[str, list[int]] = {}
        self._by_connectivity: dict[str, list[int]] = {}
        for index, key in enumerate(self.inchikeys):
            if key:  # enumerated benchmark libraries carry no InChIKey
                self._by_inchikey.setdefault(key, []).append(index)
                self._by_connectivity.setdefault(key[:14], []).append(index)

    def __len__(self) -> int:
        return int(self.fingerprints.shape[0])

    @classmethod
    def from_molecules(cls, entries: Iterable[tuple[str, Chem.Mol]]) -> StructureLibrary:
        """Build from (identifier, standardised molecule) pairs."""
        ids: list[str] = []
        keys: list[str] = []
        smis: list[str] = []
        mols: list[Chem.Mol] = []
        for identifier, mol in entries:
            ids.append(identifier)
            keys.append(Chem.MolToInchiKey(mol))
            smis.append(Chem.MolToSmiles(mol))
            mols.append(mol)
        return cls(ids, keys, smis, fingerprint_matrix(mols))

    # --- exact -----------------------------------------------------------------------------------
    def lookup_inchikey(self, inchikey: str) -> list[int]:
        """Row indices with exactly this InChIKey (several rows when a library holds duplicates)."""
        return list(self._by_inchikey.get(inchikey, []))

    def lookup_connectivity(self, connectivity_key: str) -> list[int]:
        """Rows sharing the InChIKey skeleton block: stereo variants of one connectivity."""
        return list(self._by_connectivity.get(connectivity_key[:14], []))

    # --- similarity ------------------------------------------------------------------------------
    def similarity_scores(self, query: Chem.Mol | FingerprintMatrix) -> npt.NDArray[np.float64]:
        words = query if isinstance(query, np.ndarray) else fingerprint_words(query)
        return tanimoto(words, self.fingerprints, self.bit_counts)

    def top_k(
        self, query: Chem.Mol | FingerprintMatrix, k: int = 10, threshold: float = 0.0
    ) -> list[SimilarityHit]:
        """The k most similar rows with Tanimoto ≥ threshold, best first (ties by row index). Exact.

        Pruning never changes the answer: (1) Tanimoto ≤ min(a, b) / max(a, b) for bit counts a, b,
        so only the slice of rows whose count lies in [c*q, q/c] can reach a cut-off c; (2) inside
        the slice, common bits cannot exceed, block by block, the smaller block count. A first pass
        over a narrow slice gives a provisional k-th score; the second pass scores only rows whose
        bound reaches it.
        """
        if k <= 0 or len(self) == 0:
            return []
        words = query if isinstance(query, np.ndarray) else fingerprint_words(query)
        query_blocks = block_popcounts(words[np.newaxis, :])[0]
        query_count = int(query_blocks.sum())
        floor = max(threshold, 0.0)

        # pass 1: widen a narrow count window until it holds at least k scored candidates
        scored_rows = np.zeros(0, dtype=np.intp)
        scored = np.zeros(0, dtype=np.float64)
        first_lo, first_hi, first_bound = 0, 0, np.zeros(0, dtype=np.float32)
        for provisional in (0.9, 0.75, 0.5, 0.0):
            first_lo, first_hi = self._count_window(query_count, max(provisional, floor))
            if first_hi - first_lo < k and provisional > 0:
                continue
            first_bound = self._upper_bounds(query_blocks, query_count, first_lo, first_hi)
            scored_rows = first_lo + self._best_bounded(first_bound, max(64 * k, 2048))
            scored = self._exact(words, query_count, scored_rows)
            break
        kth = float(np.partition(scored, -k)[-k]) if scored.size >= k else 0.0
        cutoff = max(kth, floor)

        # pass 2: every unscored row whose bound reaches the cut-off may still enter the top k;
        # bounds already computed for the first window are reused, only its margins are new
        lo, hi = self._count_window(query_count, cutoff)
        bound = self._window_bounds(query_blocks, query_count, lo, hi, first_lo, first_hi, first_bound)
        pending = bound >= np.float32(cutoff) - np.float32(1e-6)
        already = scored_rows[(scored_rows >= lo) & (scored_rows < hi)] - lo
        pending[already] = False
        rest = lo + np.flatnonzero(pending)
        rows = np.concatenate([scored_rows, rest])
        scores = np.concatenate([scored, self._exact(words, query_count, rest)])
        keep = scores >= floor
        rows, scores = rows[keep], scores[keep]
        order = np.lexsort((rows, -scores))[:k]
        return [self._hit(int(rows[i]), float(scores[i])) for i in order]

    def _count_window(self, query_count: int, cutoff: float) -> tuple[int, int]:
        """Slice [lo, hi) of rows whose bit count allows Tanimoto ≥ cutoff with the query."""
        if cutoff <= 0:
            return 0, len(self)
        # plain ints: a float probe would make numpy convert the whole count array first; a cut-off so
        # small that count / cut-off exceeds the fingerprint width admits every count above the low one
        low_count = int(np.floor(cutoff * query_count - 1e-9))
        high_count = FP_BITS if query_count >= cutoff * FP_BITS else int(np.ceil(query_count / cutoff + 1e-9))
        lo = int(np.searchsorted(self.bit_counts, np.int32(low_count), side="left"))
        hi = int(np.searchsorted(self.bit_counts, np.int32(min(high_count, FP_BITS)), side="right"))
        return lo, hi

    def _window_bounds(
        self,
        query_blocks: npt.NDArray[np.uint8],
        query_count: int,
        lo: int,
        hi: int,
        known_lo: int,
        known_hi: int,
        known: npt.NDArray[np.float32],
    ) -> npt.NDArray[np.float32]:
        overlap_lo, overlap_hi = max(lo, known_lo), min(hi, known_hi)
        if overlap_lo >= overlap_hi:
            return self._upper_bounds(query_blocks, query_count, lo, hi)
        return np.concatenate(
            [
                self._upper_bounds(query_blocks, query_count, lo, overlap_lo),
                known[overlap_lo - known_lo : overlap_hi - known_lo],
                self._upper_bounds(query_blocks, query_count, overlap_hi, hi),
            ]
        )

    def _upper_bounds(
        self, query_blocks: npt.NDArray[np.uint8], query_count: int, lo: int, hi: int
    ) -> npt.NDArray[np.float32]:
        minima = np.minimum(self.block_counts[lo:hi], query_blocks)  # (m, 16) bytes, one vectorised pass
        halves = query_blocks.reshape(2, 8).sum(axis=1, dtype=np.int32)
        if halves.max() < 256:
            # SWAR: each row's 16 minima are two uint64 words; a multiply adds a word's 8 bytes in its
            # top byte, which cannot overflow because each sum is at most the query half's count.
            words = minima.view(np.uint64)
            summed = (words * _BYTE_SUM) >> np.uint64(56)
            common = (summed[:, 0] + summed[:, 1]).astype(np.float32)
        else:  # very large query fingerprints: plain reduction
            common = minima.sum(axis=1, dtype=np.int32).astype(np.float32)
        union = self.bit_counts[lo:hi].astype(np.float32) + np.float32(query_count) - common
        empty = union == 0  # two empty fingerprints: Tanimoto 1 by convention
        np.maximum(union, np.float32(1), out=union)
        bound = common / union
        bound[empty] = 1.0
        return bound

    @staticmethod
    def _best_bounded(bound: npt.NDArray[np.float32], size: int) -> npt.NDArray[np.intp]:
        """About `size` positions with the highest bounds, found by a histogram, not a sort."""
        if bound.size <= size:
            return np.arange(bound.size)
        histogram = np.bincount((bound * 1023).astype(np.int16), minlength=1024)
        from_top = np.cumsum(histogram[::-1])
        level = 1023 - int(np.searchsorted(from_top, size))
        return np.flatnonzero(bound >= np.float32(level / 1023))

    def _exact(
        self, words: FingerprintMatrix, query_count: int, rows: npt.NDArray[np.intp]
    ) -> npt.NDArray[np.float64]:
        if rows.size == 0:
            return np.zeros(0, dtype=np.float64)
        common = popcount_rows(self.fingerprints[rows] & words[np.newaxis, :])
        return _ratio(common, self.bit_counts[rows] + query_count - common)

    def _hit(self, index: int, score: float) -> SimilarityHit:
        return SimilarityHit(
            index=index,
            identifier=str(self.identifiers[index]),
            inchikey=str(self.inchikeys[index]),
            smiles=str(self.smiles[index]),
            similarity=score,
        )

    # --- substructure ----------------------------------------------------------------------------
    def substructure(self, smarts: str, limit: int | None = None) -> list[int]:
        """Rows containing the SMARTS pattern, in row order; raises ValueError on a bad pattern.

        Screen: RDKit pattern fingerprints (built for substructure screening: every bit of the query
        is set in any molecule that contains it), packed like the Morgan matrix and tested for all
        query bits at once; only the survivors get the exact (slow) match.
        """
        with rdBase.BlockLogs():
            pattern = Chem.MolFromSmarts(smarts)
        if pattern is None:
            raise ValueError(f"invalid SMARTS {smarts!r}")
        screen = self.pattern_fingerprints()
        query_words = _pattern_words(pattern)
        survivors = np.flatnonzero(((screen & query_words[np.newaxis, :]) == query_words).all(axis=1))
        hits: list[int] = []
        for index in survivors:
            mol = self._molecule(int(index))
            if mol is not None and mol.HasSubstructMatch(pattern):
                hits.append(int(index))
                if limit is not None and len(hits) >= limit:
                    break
        return hits

    def pattern_fingerprints(self) -> FingerprintMatrix:
        """Substructure-screen fingerprints, computed on first use (costly: ~0.2 ms per molecule)."""
        if self._pattern_fps is None:
            rows = [
                _pattern_words(m) if m is not None else _EMPTY_PATTERN
                for m in map(self._molecule, range(len(self)))
            ]
            self._pattern_fps = np.vstack(rows) if rows else np.zeros((0, FP_WORDS), dtype=np.uint64)
        return self._pattern_fps

    def _molecule(self, index: int) -> Chem.Mol | None:
        mol = self._mols.get(index)
        if mol is None:
            mol = Chem.MolFromSmiles(str(self.smiles[index]))
            self._mols[index] = mol
        return mol

    # --- persistence -----------------------------------------------------------------------------
    def save(self, path: Path | str) -> None:
        """Write one compressed .npz file (fingerprints, identities); no pickled objects."""
        np.savez_compressed(
            Path(path),
            fingerprints=self.fingerprints,
            identifiers=np.asarray(self.identifiers, dtype=str),
            inchikeys=np.asarray(self.inchikeys, dtype=str),
            smiles=np.asarray(self.smiles, dtype=str),
        )

    @classmethod
    def load(cls, path: Path | str) -> StructureLibrary:
        with np.load(Path(path), allow_pickle=False) as data:
            return cls(
                data["identifiers"].tolist(),
                data["inchikeys"].tolist(),
                data["smiles"].tolist(),
                data["fingerprints"].astype(np.uint64, copy=False),
            )


_EMPTY_PATTERN = np.zeros(FP_WORDS, dtype=np.uint64)


def _pattern_words(mol: Chem.Mol) -> FingerprintMatrix:
    vect = Chem.PatternFingerprint(mol, fpSize=FP_BITS)
    bits = np.zeros(FP_BITS, dtype=np.uint8)
    DataStructs.ConvertToNumpyArray(vect, bits)
    return np.packbits(bits, bitorder="little").view(np.uint64).copy()
