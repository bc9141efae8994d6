"""Find stored pictures whose hash is within a few bits of a new one, fast.

The coarse 64-bit hashes sit in one numpy uint64 array; a lookup XORs the query against all of
them and counts bits (numpy's bitwise_count, a POPCNT per hash). At 10^5 pictures that is one
pass over 800 kB, well under a millisecond (bench/media.py measures it against a BK-tree), and
it needs no tuning, no rebuilding and no extra memory per entry, unlike a BK-tree or
multi-index hashing, which pay off only at far larger collections.

Candidates within the coarse radius are then checked on the fine 256-bit hash where the rule
asks for it (flat pictures: screenshots of text); see `Thresholds`.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np

from factdb.media.hashing import PictureHash

__all__ = ["HashIndex", "Hit", "Thresholds"]


@dataclass(frozen=True)
class Thresholds:
    """Largest Hamming distances that still mean "the same picture", chosen by bench/media.py
    on its tuning half with a safety margin (docs/media.md has the figures: no false match on
    either half at these values, and none 3 coarse / 8 fine bits above them on the tuning half)."""

    coarse: int = 16  # of 64 bits, pictures that are not flat
    fine_flat: int = 14  # of 256 bits, when either picture is flat...
    flat_prefilter: int = 16  # ...and their coarse hashes are at most this far apart


@dataclass(frozen=True, slots=True)
class Hit:
    key: int  # what the caller stored with the hash (a picture's row id)
    coarse: int  # distances
    fine: int


class HashIndex:
    """Packed hashes in memory; add and search are safe from several threads."""

    def __init__(self, thresholds: Thresholds | None = None) -> None:
        self.thresholds = thresholds or Thresholds()
        self._lock = threading.Lock()
        self._keys = np.zeros(0, dtype=np.int64)
        self._coarse = np.zeros(0, dtype=np.uint64)
        self._fine = np.zeros((0, 4), dtype=np.uint64)
        self._flat = np.zeros(0, dtype=bool)

    def __len__(self) -> int:
        return int(self._keys.size)

    def add_many(self, items: list[tuple[int, PictureHash]]) -> None:
        if not items:
            return
        keys = np.array([k for k, _ in items], dtype=np.int64)
        coarse = np.array([_word(h.coarse) for _, h in items], dtype=np.uint64)
        fine = np.array([_words(h.fine) for _, h in items], dtype=np.uint64).reshape(-1, 4)
        flat = np.array([h.flat for _, h in items], dtype=bool)
        with self._lock:  # arrays are replaced, never changed in place: readers need no lock
            self._keys = np.concatenate([self._keys, keys])
            self._coarse = np.concatenate([self._coarse, coarse])
            self._fine = np.concatenate([self._fine, fine])
            self._flat = np.concatenate([self._flat, flat])

    def add(self, key: int, h: PictureHash) -> None:
        self.add_many([(key, h)])

    def remove(self, key: int) -> None:
        with self._lock:
            keep = self._keys != key
            self._keys, self._coarse = self._keys[keep], self._coarse[keep]
            self._fine, self._flat = self._fine[keep], self._flat[keep]

    def search(self, h: PictureHash, *, limit: int = 5) -> list[Hit]:
        """Stored pictures that count as the same as `h`, nearest first."""
        keys, coarse, fine, flat = self._keys, self._coarse, self._fine, self._flat
        t = self.thresholds
        # Flat pictures are judged on the fine hash, among those the coarse one lets through:
        # the pre-filter keeps the fine comparison to a few per cent of the collection.
        radius = max(t.coarse, t.flat_prefilter)
        dist = np.bitwise_count(coarse ^ np.uint64(_word(h.coarse)))
        near = np.flatnonzero(dist <= radius)
        if near.size == 0:
            return []
        fine_dist = np.bitwise_count(fine[near] ^ np.array(_words(h.fine), dtype=np.uint64)).sum(axis=1)
        # If either side is flat (a borderline picture can be flat in one copy and not in
        # another), the fine hash decides; otherwise the coarse one.
        either_flat = flat[near] | h.flat
        ok = np.where(
            either_flat, (fine_dist <= t.fine_flat) & (dist[near] <= t.flat_prefilter), dist[near] <= t.coarse
        )
        found = near[ok]
        order = np.lexsort((fine_dist[ok], dist[found]))[:limit]
        return [Hit(int(keys[found[i]]), int(dist[found[i]]), int(fine_dist[ok][i])) for i in order]


def _word(b: bytes) -> int:
    return int.from_bytes(b, "big")


def _words(b: bytes) -> list[int]:
    return [int.from_bytes(b[i : i + 8], "big") for i in range(0, len(b), 8)]
