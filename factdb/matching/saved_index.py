"""The lexical match index saved on disk with the change-feed position it reflects, so that a
restart at national scale restores it in seconds and reads only the claims changed since,
instead of building it again (~5 minutes at 10^6 claims on a 2-core box; docs/matching.md).

One file, `claim-terms.npz`, in the directory the vector index's snapshot uses
(factdb/saved_files.py: `CROWDCHECK_VECTOR_INDEX_DIR`, by default next to the SQLite file or
under $CROWDCHECK_HOME/vector-index/ for PostgreSQL): the TermIndex's arrays (index_state.py)
and a JSON header with the format, the code version, the backend and the feed position.
It is written to a temporary file, synced, and renamed into place: the rename is the commit
point, so a reader sees the previous file or the new one, whole. A flock keeps two workers
sharing the directory from writing at once (the second does not wait: it skips its save).

The position is exact on both backends (factdb/changes.py): `claim_change` holds one row per
claim stamped by its latest writer, so "stamped since the position" is every claim whose row
changed since the index was taken, in its state now. On SQLite the stamp is MAX(seq) + 1 under
the write lock and rows are never deleted, so seq only grows; on PostgreSQL the saved position
is the snapshot (xmax, in-progress xids) the build started from, and a transaction that was in
progress then is read when it commits, however late.

Restoring trusts what it can check (Matcher.refresh does the checking against the claim table):
another format, another code version (the prepared texts and terms depend on normalize.py,
text.py, index.py and the matcher's build: a hash of their source, so any edit rebuilds once),
another backend, a position the database has not reached (a database made again), arrays that
disagree, or claims that disagree with the table after catching up: one log line, and the
index is built as before.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import logging
import threading
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sqlalchemy.engine import Connection

from factdb import normalize as normalize_module
from factdb.changes import ChangeFeed
from factdb.matching import index as index_module
from factdb.matching import index_state as index_state_module
from factdb.matching import text as text_module
from factdb.matching.index import TermIndex
from factdb.matching.index_state import index_from_state, state_of
from factdb.saved_files import locked, write_arrays

log = logging.getLogger(__name__)

FORMAT = 1  # bump when the file's layout or what Matcher indexes a claim by changes
FILE = "claim-terms.npz"
LOCK = "claim-terms.lock"
# Claims from which a built index is saved: below, a build takes seconds (~4 s at 10^5).
SAVE_FROM = 50_000


def save_after(size: int) -> int:
    """Changes a start may catch up with before it saves again: 1 % of the index, at least
    1,000 (each costs a re-index at the next start until then, ~0.1 ms)."""
    return max(1_000, size // 100)


def code_version(*functions: Callable[..., object]) -> str | None:
    """A hash of the code that decides what the index holds (normalize.py, text.py, index.py, index_state.py,
    this module, and `functions`: the matcher's build), with the Unicode tables' version
    (normalisation reads them); None when the source cannot be read (then nothing is saved)."""
    digest = hashlib.blake2b(digest_size=8)
    digest.update(f"{FORMAT}:{unicodedata.unidata_version}".encode())
    try:
        for module in (normalize_module, text_module, index_module, index_state_module):
            digest.update(Path(module.__file__ or "").read_bytes())
        digest.update(Path(__file__).read_bytes())
        for function in functions:
            digest.update(inspect.getsource(function).encode())
    except (OSError, TypeError):
        return None
    return digest.hexdigest()


# -- saving --------------------------------------------------------------------------------------


@dataclass
class Taken:
    """An index's state and the feed position it reflects, taken together under the matcher's
    lock; written to disk later, without it."""

    state: dict[str, np.ndarray]
    postgres: bool
    position: dict[str, object]
    version: str
    claims: int


def take(index: TermIndex, feed: ChangeFeed, version: str, claims: int) -> Taken:
    return Taken(state_of(index), feed.postgres, feed.position(), version, claims)


def save(where: Path, taken: Taken) -> bool:
    """Write `taken` as the saved index in `where`; False (logged) if it could not be written
    or another process is writing one. Never raises: the bot runs on without it."""
    started = time.perf_counter()
    try:
        where.mkdir(parents=True, exist_ok=True)
        with locked(where / LOCK, shared=False, wait=False) as mine:
            if not mine:
                log.info("match index: another process is saving the index in %s; not saving", where)
                return False
            meta = {
                "format": FORMAT,
                "version": taken.version,
                "postgres": taken.postgres,
                "position": taken.position,
                "claims": taken.claims,
                "saved": time.time(),
            }
            size = write_arrays(where / FILE, meta, taken.state)  # its rename: the commit point
    except Exception as exc:  # a full disk, a read-only directory: the bot runs on without one
        log.warning("match index: could not save the index in %s (%s: %s)", where, type(exc).__name__, exc)
        return False
    log.info(
        "match index: saved %d claims' index in %s (%.0f MB, %.1f s)",
        taken.claims,
        where,
        size / 2**20,
        time.perf_counter() - started,
    )
    return True


def save_in_background(where: Path, taken: Taken) -> threading.Thread:
    """`save` in a thread of its own (not a daemon: a process that exits meanwhile waits for
    the file to be whole, rather than leave a half-written one behind)."""
    thread = threading.Thread(target=save, args=(where, taken), name="save-match-index")
    thread.start()
    return thread


# -- restoring -----------------------------------------------------------------------------------


@dataclass
class Restored:
    index: TermIndex
    feed: ChangeFeed  # positioned where the index was taken
    claims: int  # matchable claims when it was taken
    seconds: float  # reading the file
    changed: int = 0  # claims read from the change feed to catch up (set by the matcher)


def restore(where: Path, conn: Connection, version: str | None) -> Restored | None:
    """The saved index in `where` and a feed at its position, if there is one, whole, made by
    this code for this database; None (one log line, unless there is no file) if not."""
    path = where / FILE
    if version is None or not path.exists():
        return None
    started = time.perf_counter()
    postgres = conn.dialect.name == "postgresql"
    try:
        with np.load(path, allow_pickle=False) as files:
            meta = json.loads(str(files["meta"]))
            if meta.get("format") != FORMAT:
                raise ValueError(f"format {meta.get('format')}, not {FORMAT}")
            if meta.get("version") != version:
                raise ValueError("made by other normalisation or index code (a new version)")
            if meta.get("postgres") is not postgres:
                raise ValueError("made for another kind of database")
            position = meta["position"]
            if not ChangeFeed.reached(conn, position, postgres):
                raise ValueError("its change-feed position is ahead of this database (made again?)")
            feed = ChangeFeed.at(position, postgres)
            # Reading a member checks its CRC-32 (zipfile): a damaged file raises here.
            index = index_from_state({name: files[name] for name in files.files if name != "meta"})
    except Exception as exc:  # any doubt (a bad zip, a missing field, arrays that disagree)
        log.warning("match index: saved index in %s not used (%s); building the index", where, exc)
        return None
    return Restored(index, feed, int(meta.get("claims", 0)), time.perf_counter() - started)


def doubt(where: Path, why: str) -> None:
    """The restored index disagreed with the claim table: say so once; the caller builds."""
    log.warning("match index: saved index in %s not used (%s); building the index", where, why)
