"""Nearest claims by cosine similarity: an exact numpy index, and an approximate one (usearch
HNSW) for national-scale databases. Both answer `search(vector, k) -> [(claim_id, similarity)]`.

Exact search is one matrix-vector product: ~8 ms at 10^5 claims, ~80-150 ms at 10^6 on this
2-core box (bench/semantic.py), so past APPROXIMATE_FROM claims the approximate index is used.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable

import numpy as np

__all__ = ["APPROXIMATE_FROM", "ApproximateIndex", "ExactIndex", "VectorIndex", "build_index"]

APPROXIMATE_FROM = 200_000


class ExactIndex:
    """All vectors in one float32 matrix; adds append (amortised), removals are tombstones."""

    def __init__(self, dim: int) -> None:
        self.dim = dim
        self._vectors = np.zeros((1024, dim), dtype=np.float32)
        self._ids = np.full(1024, -1, dtype=np.int64)  # -1: empty or removed
        self._rows: dict[int, int] = {}  # claim id -> row
        self._n = 0
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._rows)

    def __contains__(self, claim_id: object) -> bool:
        return claim_id in self._rows

    def add(self, ids: Iterable[int], vectors: np.ndarray) -> None:
        """Add or replace vectors (one row per id, L2-normalised)."""
        ids = list(ids)
        with self._lock:
            for claim_id in ids:
                if claim_id in self._rows:
                    self._ids[self._rows.pop(claim_id)] = -1
            need = self._n + len(ids)
            if need > len(self._ids):
                size = max(need, 2 * len(self._ids))
                grown = np.zeros((size, self.dim), dtype=np.float32)
                grown[: self._n] = self._vectors[: self._n]
                ids_grown = np.full(size, -1, dtype=np.int64)
                ids_grown[: self._n] = self._ids[: self._n]
                self._vectors, self._ids = grown, ids_grown
            self._vectors[self._n : need] = vectors
            self._ids[self._n : need] = ids
            for offset, claim_id in enumerate(ids):
                self._rows[claim_id] = self._n + offset
            self._n = need

    def remove(self, ids: Iterable[int]) -> None:
        with self._lock:
            for claim_id in ids:
                row = self._rows.pop(claim_id, None)
                if row is not None:
                    self._ids[row] = -1

    def search(self, vector: np.ndarray, k: int = 10) -> list[tuple[int, float]]:
        with self._lock:
            n = self._n
            if not self._rows:
                return []
            scores = self._vectors[:n] @ vector
            ids = self._ids[:n].copy()
            if len(self._rows) < n:
                scores[ids < 0] = -np.inf  # removed rows never rank
        take = min(k, len(self._rows))
        best = np.argpartition(-scores, take - 1)[:take] if take < n else np.arange(n)
        best = best[np.argsort(-scores[best], kind="stable")]
        return [(int(ids[i]), float(scores[i])) for i in best if ids[i] >= 0][:k]

    def nbytes(self) -> int:
        return self._vectors.nbytes + self._ids.nbytes


class ApproximateIndex:
    """usearch HNSW over int8-quantised vectors (cosine): ~0.4 KB a claim with the graph.

    Building it costs ~0.5 ms a vector with both cores (561 s at 10^6 claims), so the matcher
    saves it to disk and restores it at the next start (factdb/semantic/snapshot.py)."""

    DTYPE, CONNECTIVITY, EXPANSION_SEARCH = "i8", 16, 64

    def __init__(
        self,
        dim: int,
        dtype: str = DTYPE,
        connectivity: int = CONNECTIVITY,
        expansion_search: int = EXPANSION_SEARCH,
    ):
        from usearch.index import Index

        self.dim = dim
        self._index = Index(
            ndim=dim, metric="cos", dtype=dtype, connectivity=connectivity, expansion_search=expansion_search
        )
        self._lock = threading.Lock()

    @classmethod
    def load(cls, path: str | os.PathLike[str], dim: int) -> ApproximateIndex:
        """An index saved by `save`, read into memory (it keeps changing: a memory-mapped view
        is read-only). ValueError when the file is not such an index of `dim` dimensions."""
        from usearch.index import Index, MetricKind, ScalarKind

        meta = Index.metadata(os.fspath(path))  # raises on a file that is no usearch index
        if not meta or meta["dimensions"] != dim:
            raise ValueError(f"{dim} dimensions expected, the file has {meta and meta['dimensions']}")
        if meta["kind_scalar"] != ScalarKind.I8 or meta["kind_metric"] != MetricKind.Cos:
            raise ValueError(f"not a cosine int8 index ({meta['kind_metric']}, {meta['kind_scalar']})")
        index = cls(dim)
        index._index.load(os.fspath(path))  # takes the file's own dimensions and type: checked above
        index._index.expansion_search = cls.EXPANSION_SEARCH
        return index

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the whole index (graph and int8 vectors) to `path`."""
        with self._lock:
            self._index.save(os.fspath(path))

    def __len__(self) -> int:
        return len(self._index)

    def __contains__(self, claim_id: object) -> bool:
        return isinstance(claim_id, int) and self._index.contains(claim_id)

    def keys(self) -> np.ndarray:
        """Every key held (uint64, in no particular order)."""
        with self._lock:
            return np.asarray(self._index.keys, dtype=np.uint64)

    def add(self, ids: Iterable[int], vectors: np.ndarray) -> None:
        keys = np.asarray(list(ids), dtype=np.uint64)
        with self._lock:
            present = [int(k) for k in keys if self._index.contains(int(k))]
            if present:
                self._index.remove(present)
            # a bulk load (start-up) uses every core; one claim at a time needs no threads
            threads = 0 if len(keys) > 1000 else 1
            self._index.add(keys, np.ascontiguousarray(vectors, dtype=np.float32), threads=threads)

    def remove(self, ids: Iterable[int]) -> None:
        keys = np.asarray(list(ids), dtype=np.uint64)
        if len(keys):
            with self._lock:
                self._index.remove(keys)  # keys not held are skipped

    def search(self, vector: np.ndarray, k: int = 10) -> list[tuple[int, float]]:
        with self._lock:
            if len(self._index) == 0:
                return []
            found = self._index.search(np.asarray(vector, dtype=np.float32), k)
        # usearch's cosine metric is a distance: 1 - similarity
        return [(int(key), 1.0 - float(dist)) for key, dist in zip(found.keys, found.distances, strict=True)]

    def nbytes(self) -> int:
        return int(self._index.memory_usage)


VectorIndex = ExactIndex | ApproximateIndex


def build_index(
    ids: list[int], vectors: np.ndarray, dim: int, approximate: bool | None = None
) -> VectorIndex:
    """The exact index below APPROXIMATE_FROM claims, the approximate one above (or as told)."""
    if approximate is None:
        approximate = len(ids) >= APPROXIMATE_FROM
    index: VectorIndex = ApproximateIndex(dim) if approximate else ExactIndex(dim)
    if ids:
        index.add(ids, vectors)
    return index
