"""The semantic stage as the matcher uses it: vectors loaded from the database at start, kept
up to date as claims change, and queried for a message's nearest claims.

Start-up costs what the database holds, not the model: vectors are read back (float16 → float32;
bench/semantic.py), and only claims without a current vector are embedded (sync_vectors).
"""

from __future__ import annotations

import ctypes
import logging
import threading
from collections.abc import Callable

import numpy as np
from sqlalchemy.engine import Engine

from factdb.normalize import normalize
from factdb.semantic import index as vector_index
from factdb.semantic import snapshot
from factdb.semantic.embedder import DIM, Embedder, message_for_model, shared_embedder
from factdb.semantic.index import ApproximateIndex, VectorIndex, build_index
from factdb.semantic.store import load_vectors, sync_vectors

__all__ = ["SemanticStage", "one_blas_thread", "sync_with_progress_bar"]

# Vector keys are claim ids, and -id for a claim's second wording (as in the lexical index and the
# claim_vector table); inside the vector index, whose keys must not be negative, the second
# wording is id | SECOND.
SECOND = 1 << 40


def _index_key(key: int) -> int:
    return key if key >= 0 else -key | SECOND


def _index_keys(keys: np.ndarray) -> np.ndarray:
    """_index_key over an array of vector keys (the snapshot's)."""
    keys = np.asarray(keys, dtype=np.int64)
    return np.where(keys >= 0, keys, -keys | SECOND).astype(np.uint64)


def _claim_of(index_key: int) -> int:
    return index_key & (SECOND - 1)


log = logging.getLogger(__name__)

# numpy's OpenBLAS (as its wheels ship it) and its set-threads entry points, newest names first
_BLAS_SETTERS = (
    "scipy_openblas_set_num_threads64_",
    "openblas_set_num_threads64_",
    "openblas_set_num_threads",
)


def one_blas_thread() -> bool:
    """Make numpy's OpenBLAS use one thread (process-wide); True if it was found and set.

    The exact index's search is one matrix-vector product. With two OpenBLAS threads, the
    helper thread keeps spinning after each product and takes the core the model needs to embed
    the next message. On this 2-core box busy with other work (load 3.2-3.4), embedding + exact
    search at 10^5 claims took 61-125 ms of wall time at the median with two threads (as the
    other core happened to be free or not), 59-61 ms with one; the search alone takes 15 ms on
    one thread, 8 ms on two when the second core is free (docs/semantic.md).
    """
    try:
        with open("/proc/self/maps") as maps:
            paths = {line.split()[-1] for line in maps if "openblas" in line.lower() and "/" in line}
    except OSError:
        return False
    for path in sorted(paths):
        try:
            lib = ctypes.CDLL(path)  # already loaded by numpy: the same handle
        except OSError:
            continue
        for name in _BLAS_SETTERS:
            setter = getattr(lib, name, None)
            if setter is not None:
                setter(1)
                return True
    log.info("numpy's OpenBLAS not found: its thread count is left as it is")
    return False


class SemanticStage:
    """An embedder and a vector index over the matchable claims."""

    restored: snapshot.CatchUp | None = None  # from_database's start from a snapshot, if it was one

    def __init__(self, embedder: Embedder | None = None, index: VectorIndex | None = None) -> None:
        self.embedder = embedder or shared_embedder()
        one_blas_thread()
        self.index: VectorIndex = index if index is not None else build_index([], np.zeros((0, DIM)), DIM)
        self._lock = threading.Lock()

    @classmethod
    def from_database(
        cls,
        engine: Engine,
        embed_missing: bool = True,
        progress: Callable[[int, int], None] | None = None,
        embedder: Embedder | None = None,
        texts: dict[int, str] | None = None,
    ) -> SemanticStage:
        """Embed what lacks a current vector (in batches, with progress), then load them all;
        with `texts` (claim id -> normalised text: the matchable claims), only those claims'
        vectors made from those texts (not a merged claim's, not an edited claim's old one).

        With `texts` at the approximate index's scale, the index is restored from its snapshot
        on disk and caught up with the claims changed since (factdb/semantic/snapshot.py), or
        built and then saved there; `restored` tells what a restore did."""
        embedder = embedder or shared_embedder()
        if embed_missing:
            sync_vectors(engine, embedder, progress)
        large = texts is not None and len(texts) >= vector_index.APPROXIMATE_FROM
        where = snapshot.directory(engine) if large else None
        if where is not None and texts is not None:
            started = snapshot.start(engine, embedder.model_id, texts, DIM, where, _index_keys)
            if started is not None:
                stage = cls(embedder, started[0])
                stage.restored = started[1]
                return stage
        ids, vectors = load_vectors(engine, embedder.model_id, texts)
        index = build_index([_index_key(k) for k in ids], vectors, DIM)
        if where is not None and texts is not None and isinstance(index, ApproximateIndex):
            snapshot.save(where, embedder.model_id, index, *snapshot.hashes_of({k: texts[k] for k in ids}))
        return cls(embedder, index)

    def __len__(self) -> int:
        """Vectors held (a claim with a second wording has two)."""
        return len(self.index)

    def __contains__(self, key: object) -> bool:
        """Whether the vector of `key` (claim id, or -id for its second wording) is held."""
        return isinstance(key, int) and _index_key(key) in self.index

    def add_vectors(self, keys: list[int], vectors: np.ndarray) -> None:
        """Add or replace vectors by key (claim id, or -id for the claim's second wording)."""
        with self._lock:
            self.index.add([_index_key(k) for k in keys], vectors)

    def add(self, claim_id: int, text: str) -> None:
        """(Re-)embed one claim's text (~35 ms of CPU); -id for its second wording."""
        self.add_vectors([claim_id], self.embedder.passages([normalize(text)]))

    def remove(self, claim_id: int) -> None:
        """Forget a claim's vectors (both wordings)."""
        with self._lock:
            self.index.remove([claim_id, claim_id | SECOND])

    def remove_second(self, claim_id: int) -> None:
        """Forget the vector of a claim's second wording (the wording was taken away)."""
        with self._lock:
            self.index.remove([claim_id | SECOND])

    def query_vector(self, text: str) -> np.ndarray:
        """A message's vector (~40-90 ms of CPU here): the matcher computes it outside its lock."""
        return self.embedder.query(message_for_model(normalize(text)))

    def search(self, vector: np.ndarray, k: int = 20) -> list[tuple[int, float]]:
        """(claim id, cosine) of the k claims nearest to `vector`, best first; a claim found
        by both wordings is listed once, at its nearer one."""
        return [(cid, similarity) for cid, similarity, _ in self.nearest(vector, k)]

    def nearest(self, vector: np.ndarray, k: int = 20) -> list[tuple[int, float, float | None]]:
        """As `search`, with each claim's own text's cosine (its first wording's), None when
        that vector is not among the 2k nearest: the matcher asks whether a claim found
        through its second wording would be answered by its own text alone."""
        if len(self.index) == 0:
            return []
        best: dict[int, float] = {}
        own: dict[int, float] = {}
        for key, similarity in self.index.search(vector, 2 * k):  # two wordings: 2k keys ≥ k claims
            cid = _claim_of(key)
            best.setdefault(cid, similarity)
            if key == cid:
                own[cid] = similarity
        return [(cid, similarity, own.get(cid)) for cid, similarity in list(best.items())[:k]]

    def candidates(self, text: str, k: int = 20) -> list[tuple[int, float]]:
        """(claim id, cosine) of the k nearest claims to a message, best first."""
        if len(self.index) == 0:
            return []
        return self.search(self.query_vector(text), k)


def sync_with_progress_bar(engine: Engine, embedder: Embedder | None = None) -> int:
    """sync_vectors with a progress bar on the terminal (import, publication, `db upgrade`):
    10^5 new claims take ~2 CPU-hours at ~70 ms each (read twice), so the operator sees it move."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    columns = (TextColumn("embedding claims"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, transient=True) as bar:
        task = bar.add_task("embed", total=None)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        return sync_vectors(engine, embedder or shared_embedder(), progress)
