"""Files the match indexes are saved in (factdb/matching/saved_index.py, the lexical index;
factdb/semantic/snapshot.py, the vector index): where they live, the writer's lock, and writes
that are whole or absent after a crash."""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from sqlalchemy.engine import Engine

__all__ = ["SETTING", "directory", "fsync", "locked", "write_arrays"]

SETTING = "CROWDCHECK_VECTOR_INDEX_DIR"


def directory(engine: Engine) -> Path | None:
    """Where the saved indexes live: CROWDCHECK_VECTOR_INDEX_DIR (`off` for none); by default
    next to a SQLite file (`crowdcheck.sqlite3.vector-index/`), and for PostgreSQL under
    $CROWDCHECK_HOME/vector-index/, one directory per database (each machine keeps its own)."""
    setting = os.environ.get(SETTING)
    if setting is not None:
        if setting.strip().lower() in ("", "0", "off", "no", "false"):
            return None
        return Path(setting.strip()).expanduser()
    url = engine.url
    if url.get_backend_name() == "sqlite":
        name = url.database or ""
        if name in ("", ":memory:") or name.startswith("file:"):
            return None
        path = Path(name)
        return path.with_name(path.name + ".vector-index")
    home = Path(os.environ.get("CROWDCHECK_HOME") or Path.home() / ".local/share/crowdcheck")
    # a database is its URL (host, name, search path), not its password
    tag = hashlib.blake2b(url.render_as_string(hide_password=True).encode(), digest_size=4).hexdigest()
    return home / "vector-index" / f"{url.database or 'db'}-{tag}"


@contextmanager
def locked(lock_file: Path, shared: bool, wait: bool = True) -> Iterator[bool]:
    """flock on `lock_file`; yields False when `wait` is off and it is taken."""
    with open(lock_file, "a+b") as lock:
        mode = (fcntl.LOCK_SH if shared else fcntl.LOCK_EX) | (0 if wait else fcntl.LOCK_NB)
        try:
            fcntl.flock(lock, mode)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def fsync(path: Path) -> None:
    """Flush a file's or a directory's entry to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_arrays(target: Path, meta: dict[str, object], arrays: dict[str, np.ndarray]) -> int:
    """Write `meta` (as JSON) and `arrays` to `target` as one .npz, whole or not at all: to
    `target`.tmp, synced, renamed over `target` (the commit point), the directory synced.
    The caller holds the directory's writer lock. Returns the file's size."""
    written = target.with_name(target.name + ".tmp")
    with open(written, "wb") as f:
        np.savez(f, meta=np.array(json.dumps(meta)), **arrays)
        f.flush()
        os.fsync(f.fileno())
    size = written.stat().st_size
    os.replace(written, target)
    fsync(target.parent)
    return size
