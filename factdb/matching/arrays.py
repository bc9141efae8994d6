"""The index's arrays: an append-only numpy column, and the candidates one query found."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


class Column:
    """An append-only numpy array with amortised O(1) appends (capacity doubling)."""

    __slots__ = ("data", "size")

    def __init__(self, dtype: type | np.dtype, values: np.ndarray | None = None) -> None:
        self.data = np.zeros(16, dtype=dtype) if values is None else values
        self.size = 0 if values is None else len(values)

    def append(self, value: float | int | bool) -> None:
        if self.size == len(self.data):
            grown = np.zeros(max(16, 2 * self.size), dtype=self.data.dtype)
            grown[: self.size] = self.data
            self.data = grown
        self.data[self.size] = value
        self.size += 1

    def view(self) -> np.ndarray:
        return self.data[: self.size]


@dataclass(frozen=True, slots=True)
class Found:
    """Candidate rows for one query, best BM25 first, with what scoring needs of each."""

    rows: np.ndarray  # row numbers (TermIndex.text_at gives their texts)
    keys: np.ndarray  # the caller's key of each row (claim id, or -id for a second wording)
    shared: np.ndarray  # IDF mass of the terms each shares with the query
    claim_mass: np.ndarray  # IDF mass of each row's own terms
    query_mass: float  # IDF mass of the query's terms (unknown terms at the rarest weight)
    query_terms: int = 0  # distinct terms in the query

    @classmethod
    def none(cls) -> Found:
        empty = np.zeros(0, dtype=np.int64)
        return cls(empty, empty, np.zeros(0), np.zeros(0), 0.0)

    def best(self, n: int) -> Found:
        """The first `n` candidates (the best by BM25)."""
        return Found(
            self.rows[:n],
            self.keys[:n],
            self.shared[:n],
            self.claim_mass[:n],
            self.query_mass,
            self.query_terms,
        )

    def __len__(self) -> int:
        return len(self.rows)
