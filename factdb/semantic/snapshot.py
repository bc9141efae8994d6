"""The approximate vector index saved on disk, so that a restart restores it in seconds and
catches up only with the claims that changed, instead of building it again (561 s at 10^6
claims on this 2-core box, plus reading 1.5 GB of vectors; docs/semantic.md).

A snapshot is two files in one directory (`directory`): the usearch index, and a sidecar
(`claim-vectors.npz`) recording the model, the usearch version, the index file's name, size and
checksum, and for every vector key (claim id, or -id for a second wording) the hash of the text
its vector was made from. The sidecar is the commit point: the index is written under a fresh
name and synced, then the sidecar is replaced by a rename, so a crash mid-save leaves the
previous snapshot whole. A flock serialises workers sharing the directory.

Restoring trusts nothing it cannot check: a vector is kept only if the text it was made from is
the claim's text now (the vector depends on the model and the text alone, so a snapshot is
right for any database, at worst with more to catch up). Keys gone or changed are removed; keys
missing or changed get the vector stored in claim_vector, if one was made from their current
text, and the others are left to the keeper (factdb/semantic/keeper.py) as after a full build.
Any doubt (no sidecar, another model or usearch version, a bad checksum, dimensions, keys that
disagree with the sidecar) logs one line and the caller builds the index as before.
"""

from __future__ import annotations

import json
import logging
import os
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sqlalchemy import select
from sqlalchemy.engine import Engine

from factdb.saved_files import SETTING, directory, fsync, locked, write_arrays
from factdb.semantic.index import ApproximateIndex
from factdb.semantic.store import claim_vector, text_hash

__all__ = [
    "SETTING",
    "CatchUp",
    "Snapshot",
    "catch_up",
    "directory",
    "hashes_of",
    "restore",
    "save",
    "save_after",
    "start",
]

log = logging.getLogger(__name__)

FORMAT = 1
SIDECAR = "claim-vectors.npz"
LOCK = "claim-vectors.lock"
PREFIX = "claim-vectors."
CHUNK = 500  # ids per IN (...) when reading vectors by id
SCAN_FROM = 20_000  # more keys than this to look up: one pass over (claim_id, text_hash) instead


def hashes_of(texts: dict[int, str]) -> tuple[np.ndarray, np.ndarray]:
    """(keys int64 sorted, their texts' store.text_hash as uint64): ~1 s for 10^6 texts."""
    keys = np.fromiter(sorted(texts), dtype=np.int64, count=len(texts))
    hashes = np.fromiter((int(text_hash(texts[int(k)]), 16) for k in keys), dtype=np.uint64, count=len(keys))
    return keys, hashes


@dataclass
class Snapshot:
    """A restored index and, for each of its keys (sorted), the hash of its vector's text."""

    index: ApproximateIndex
    keys: np.ndarray  # int64, vector keys as in claim_vector
    hashes: np.ndarray  # uint64


@dataclass
class CatchUp:
    """What a start from a snapshot did."""

    kept: int  # vectors restored and still current
    removed: int  # vectors of claims gone, or made from an older text
    added: int  # vectors read from claim_vector (missing or changed keys with a current vector)
    seconds: float  # restore and catch-up together

    @property
    def changed(self) -> int:
        return self.removed + self.added


class _Doubt(Exception):
    pass


def _checksum(path: Path) -> tuple[int, int]:
    """(size, crc32) of a file, read in 16 MB blocks (~0.5 s for 760 MB from the page cache)."""
    crc, size = 0, 0
    with open(path, "rb") as f:
        while block := f.read(1 << 24):
            crc, size = zlib.crc32(block, crc), size + len(block)
    return size, crc


def _usearch_version() -> str:
    import usearch

    return str(usearch.__version__)


def restore(
    where: Path, model: str, dim: int, index_keys: Callable[[np.ndarray], np.ndarray]
) -> Snapshot | None:
    """The snapshot in `where` if it is whole and made by `model`; None (one log line) if not.
    `index_keys` maps vector keys to the index's own keys (arrays)."""
    sidecar = where / SIDECAR
    if not sidecar.exists():
        log.info("vector index: no snapshot in %s yet; building the index", where)
        return None
    try:
        with locked(where / LOCK, shared=True):
            with np.load(sidecar, allow_pickle=False) as files:
                meta = json.loads(str(files["meta"]))
                keys, hashes = files["keys"].astype(np.int64), files["hashes"].astype(np.uint64)
            if meta.get("format") != FORMAT:
                raise _Doubt(f"format {meta.get('format')}, not {FORMAT}")
            if meta.get("model") != model:
                raise _Doubt(f"made by model {meta.get('model')}, not {model}")
            if meta.get("usearch") != _usearch_version():
                raise _Doubt(f"made by usearch {meta.get('usearch')}, this is {_usearch_version()}")
            if meta.get("dim") != dim or len(keys) != meta.get("count") or len(hashes) != len(keys):
                raise _Doubt("dimensions or key count disagree with the sidecar")
            path = where / meta["index"]
            if _checksum(path) != (meta["size"], meta["crc32"]):
                raise _Doubt(f"{path.name} is not the file the sidecar describes (size or checksum)")
            index = ApproximateIndex.load(path, dim)
    except Exception as exc:  # any doubt (a bad zip, a missing field...): build as before
        log.warning("vector index: snapshot in %s not used (%s); building the index", where, exc)
        return None
    held = np.sort(index.keys())
    if len(held) != len(keys) or not np.array_equal(held, np.sort(index_keys(keys))):
        log.warning("vector index: snapshot in %s not used (its keys disagree with the sidecar)", where)
        return None
    order = np.argsort(keys, kind="stable")
    return Snapshot(index, keys[order], hashes[order])


def start(
    engine: Engine,
    model: str,
    texts: dict[int, str],
    dim: int,
    where: Path,
    index_keys: Callable[[np.ndarray], np.ndarray],
) -> tuple[ApproximateIndex, CatchUp] | None:
    """The index restored from the snapshot in `where` and caught up with `texts` (vector key
    -> normalised text: what the matcher indexes), or None if there is no usable snapshot. A
    start that caught up with many changes saves a fresh snapshot (`save_after`)."""
    began = time.perf_counter()
    snapshot = restore(where, model, dim, index_keys)
    if snapshot is None:
        return None
    keys, hashes, report = catch_up(engine, model, snapshot, hashes_of(texts), index_keys)
    report.seconds = time.perf_counter() - began
    log.info(
        "vector index: restored from %s in %.1f s: %d vectors kept, %d removed, %d read from the database",
        where,
        report.seconds,
        report.kept,
        report.removed,
        report.added,
    )
    if report.changed >= save_after(len(keys)):
        save(where, model, snapshot.index, keys, hashes)
    return snapshot.index, report


def catch_up(
    engine: Engine,
    model: str,
    snapshot: Snapshot,
    wanted: tuple[np.ndarray, np.ndarray],
    index_keys: Callable[[np.ndarray], np.ndarray],
) -> tuple[np.ndarray, np.ndarray, CatchUp]:
    """Bring the restored index to the `wanted` (keys, hashes) (`hashes_of`): remove what is
    gone or changed, add the stored vectors of what is missing or changed. Reads no vector of
    an unchanged key. Returns the index's (keys, hashes) now, and what was done."""
    snap_keys, snap_hashes = snapshot.keys, snapshot.hashes
    want_keys, want_hashes = wanted
    same = np.zeros(len(want_keys), dtype=bool)
    kept = np.zeros(len(snap_keys), dtype=bool)
    if len(snap_keys):
        at = np.minimum(np.searchsorted(snap_keys, want_keys), len(snap_keys) - 1)
        same = (snap_keys[at] == want_keys) & (snap_hashes[at] == want_hashes)
        kept[at[same]] = True
    stale = snap_keys[~kept]
    snapshot.index.remove(index_keys(stale).tolist())
    need = dict(zip(want_keys[~same].tolist(), want_hashes[~same].tolist(), strict=True))
    ids, vectors = _current_vectors(engine, model, need)
    if ids:
        snapshot.index.add(index_keys(np.asarray(ids, dtype=np.int64)).tolist(), vectors)
    keys = np.concatenate([want_keys[same], np.asarray(ids, dtype=np.int64)])
    hashes = np.concatenate([want_hashes[same], np.asarray([need[i] for i in ids], dtype=np.uint64)])
    order = np.argsort(keys, kind="stable")
    report = CatchUp(kept=int(same.sum()), removed=len(stale), added=len(ids), seconds=0.0)
    return keys[order], hashes[order], report


def _current_vectors(engine: Engine, model: str, need: dict[int, int]) -> tuple[list[int], np.ndarray]:
    """The stored vectors of `need` (key -> wanted text hash) made by `model` from that text.
    First which rows are current (claim_id, text_hash: no vector), then only their vectors."""
    if not need:
        return [], np.zeros((0, 0), dtype=np.float32)

    def current(rows: object) -> list[int]:
        return [int(cid) for cid, h in rows if need.get(int(cid)) == int(h, 16)]  # type: ignore[attr-defined]

    table = claim_vector.c
    found: list[int] = []
    vectors: list[np.ndarray] = []
    with engine.connect() as conn:
        hashes = select(table.claim_id, table.text_hash).where(table.model == model)
        if len(need) > SCAN_FROM:
            ids = current(conn.execute(hashes))
        else:
            ask = sorted(need)
            ids = []
            for start in range(0, len(ask), CHUNK):
                ids += current(conn.execute(hashes.where(table.claim_id.in_(ask[start : start + CHUNK]))))
        query = select(table.claim_id, table.text_hash, table.vector).where(table.model == model)
        for start in range(0, len(ids), CHUNK):
            for cid, h, vector in conn.execute(query.where(table.claim_id.in_(ids[start : start + CHUNK]))):
                if need.get(int(cid)) == int(h, 16):  # re-embedded meanwhile: left to the keeper
                    found.append(int(cid))
                    vectors.append(np.frombuffer(bytes(vector), dtype=np.float16))
    if not found:
        return [], np.zeros((0, 0), dtype=np.float32)
    return found, np.stack(vectors).astype(np.float32)


def save_after(size: int) -> int:
    """Changes a start may catch up with before it saves a fresh snapshot: 1 % of the index,
    at least 1,000 (at 10^6: ~0.25 ms a change to catch up, 1.2 s to save the whole index)."""
    return max(1_000, size // 100)


def save(where: Path, model: str, index: ApproximateIndex, keys: np.ndarray, hashes: np.ndarray) -> bool:
    """Write a snapshot of `index` (whose vector keys and text hashes are `keys`, `hashes`);
    False (logged) if it could not be written or another process is writing one."""
    started = time.perf_counter()
    try:
        where.mkdir(parents=True, exist_ok=True)
        with locked(where / LOCK, shared=False, wait=False) as mine:
            if not mine:
                log.info("vector index: another process is saving a snapshot in %s; not saving", where)
                return False
            name = f"{PREFIX}{time.time_ns():x}-{os.getpid()}.usearch"
            written = where / (name + ".tmp")
            index.save(written)
            fsync(written)
            size, crc = _checksum(written)
            os.replace(written, where / name)
            meta = {
                "format": FORMAT,
                "model": model,
                "usearch": _usearch_version(),
                "dim": index.dim,
                "count": len(keys),
                "index": name,
                "size": size,
                "crc32": crc,
            }
            arrays = {"keys": keys.astype(np.int64), "hashes": hashes.astype(np.uint64)}
            write_arrays(where / SIDECAR, meta, arrays)  # the sidecar's rename: the commit point
            for old in where.glob(PREFIX + "*.usearch*"):
                if old.name != name:
                    old.unlink(missing_ok=True)
    except Exception as exc:  # a full disk, a read-only directory: the bot runs on without one
        log.warning("vector index: could not save a snapshot in %s (%s: %s)", where, type(exc).__name__, exc)
        return False
    log.info(
        "vector index: snapshot of %d vectors saved in %s (%.0f MB, %.1f s)",
        len(keys),
        where,
        size / 2**20,
        time.perf_counter() - started,
    )
    return True
