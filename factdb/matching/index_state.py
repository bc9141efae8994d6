"""A match index's state as plain arrays, and back (factdb/matching/saved_index.py writes them
to disk): the TermIndex's own fields, read and set here so that index.py stays about indexing
and searching."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from factdb.matching.arrays import Column
from factdb.matching.index import TermIndex

__all__ = ["index_from_state", "state_of"]


def state_of(index: TermIndex) -> dict[str, np.ndarray]:
    """Everything the index holds, as arrays (factdb/matching/saved_index.py writes them to
    disk). What later calls change in place is copied; the packed arrays are only ever
    replaced, never written to, so they are shared: the result stays as it was when taken,
    whatever the index does next, and can be written without the matcher's lock."""
    delta_terms = np.fromiter(index._delta, dtype=np.int64, count=len(index._delta))
    delta_rows = [index._delta[int(t)] for t in delta_terms]
    late = sorted(index._late_text)
    late_texts = [index._late_text[r].encode("utf-8") for r in late]
    late_ids = np.fromiter(index._late_rows, dtype=np.int64, count=len(index._late_rows))
    return {
        # term ids are the dict's insertion order (setdefault(t, len)): the list is the map
        "terms": _joined([t.encode("utf-8") for t in index._term_ids]),
        "df": index._df.view().copy(),
        "stop": index._stop,
        "indptr": index._indptr,
        "postings": index._postings,
        "delta_terms": delta_terms,
        "delta_ptr": _ends(len(r) for r in delta_rows),
        "delta_rows": np.fromiter((x for r in delta_rows for x in r), dtype=np.int32),
        "delta_docs": np.int64(index._delta_docs),
        "row_claim": index._row_claim.view().copy(),
        "row_alive": index._row_alive.view().copy(),
        "row_len": index._row_len.view().copy(),
        "row_mass": index._row_mass.view().copy(),
        "len_sum": np.float64(index._len_sum),
        "blob": np.frombuffer(index._blob, dtype=np.uint8),
        "offsets": index._offsets,
        "late_rows": np.asarray(late, dtype=np.int64),
        "late_text": np.frombuffer(b"".join(late_texts), dtype=np.uint8),
        "late_ends": _ends(len(t) for t in late_texts),
        "base_ids": index._base_ids,
        "base_rows": index._base_rows,
        "late_ids": late_ids,
        "late_id_rows": np.fromiter((index._late_rows[int(c)] for c in late_ids), dtype=np.int64),
        "live": np.int64(index._live),
    }


def index_from_state(state: dict[str, np.ndarray]) -> TermIndex:
    """The index `state()` was taken from. Raises ValueError when the arrays disagree with
    one another (a damaged or foreign file: the caller builds instead)."""
    index = TermIndex()
    terms_blob = state["terms"].tobytes().decode("utf-8")
    term_list = terms_blob.split("\n") if terms_blob else []
    index._term_ids = dict(zip(term_list, range(len(term_list)), strict=True))
    n_terms, n_rows = len(term_list), len(state["row_claim"])
    index._df = Column(np.int32, state["df"].astype(np.int32, copy=False))
    index._stop = state["stop"].astype(bool, copy=False)
    index._indptr = state["indptr"].astype(np.int64, copy=False)
    index._postings = state["postings"].astype(np.int32, copy=False)
    ends = state["delta_ptr"].astype(np.int64, copy=False).tolist()
    rows = state["delta_rows"].astype(np.int32, copy=False).tolist()
    starts = [0, *ends[:-1]] if ends else []  # an index with no late adds has no delta
    index._delta = {
        int(t): rows[a:b] for t, a, b in zip(state["delta_terms"].tolist(), starts, ends, strict=True)
    }
    index._delta_docs = int(state["delta_docs"])
    index._row_claim = Column(np.int64, state["row_claim"].astype(np.int64, copy=False))
    index._row_alive = Column(np.bool_, state["row_alive"].astype(bool, copy=False))
    index._row_len = Column(np.float32, state["row_len"].astype(np.float32, copy=False))
    index._row_mass = Column(np.float32, state["row_mass"].astype(np.float32, copy=False))
    index._len_sum = float(state["len_sum"])
    index._blob = state["blob"].tobytes()
    index._offsets = state["offsets"].astype(np.int64, copy=False)
    late_blob = state["late_text"].tobytes()
    late_ends = state["late_ends"].astype(np.int64, copy=False).tolist()
    index._late_text = {
        int(r): late_blob[a:b].decode("utf-8")
        for r, a, b in zip(
            state["late_rows"].tolist(), [0, *late_ends[:-1]][: len(late_ends)], late_ends, strict=True
        )
    }
    index._base_ids = state["base_ids"].astype(np.int64, copy=False)
    index._base_rows = state["base_rows"].astype(np.int64, copy=False)
    index._late_rows = dict(zip(state["late_ids"].tolist(), state["late_id_rows"].tolist(), strict=True))
    index._live = int(state["live"])
    n_base = len(index._offsets) - 1
    if (
        len(index._df.view()) != n_terms
        or len(index._indptr) - 1 > n_terms
        or len(index._stop) > n_terms
        or (len(index._indptr) and int(index._indptr[-1]) != len(index._postings))
        or not (n_base <= n_rows and len(index._base_ids) == len(index._base_rows) == n_base)
        or int(index._offsets[-1]) != len(index._blob)
        or any(len(a) != n_rows for a in (state["row_alive"], state["row_len"], state["row_mass"]))
        or int(np.count_nonzero(index._row_alive.view())) != index._live
        or any(not n_base <= r < n_rows for r in index._late_text)
    ):
        raise ValueError("the saved index's arrays disagree with one another")
    return index


def _joined(parts: list[bytes]) -> np.ndarray:
    """Byte strings with no newline in them (terms, prepared texts) as one uint8 array."""
    return np.frombuffer(b"\n".join(parts), dtype=np.uint8)


def _ends(lengths: Iterable[int]) -> np.ndarray:
    """Where each of consecutive parts of these lengths ends."""
    return np.cumsum(np.fromiter(lengths, dtype=np.int64), dtype=np.int64)
