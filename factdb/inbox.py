"""The inbox: Telegram updates we have acknowledged but not yet handled.

Telegram forgets an update once we acknowledge it (200 to a webhook push, or the next
`getUpdates` offset). Writing it here first, in one short transaction per batch, lets us
acknowledge at once and still lose nothing when the process dies: the rows left are replayed
when it (or another worker) starts. A row is removed once its update has been handled.

Several workers share one PostgreSQL inbox: each row names its owner, owners beat a heartbeat,
and the rows of an owner whose heartbeat stopped are adopted by a live worker. An owner that
ran on this host and whose process is gone is adopted at once, without waiting for its
heartbeat to go stale: a worker restarted after a crash replays its own leftovers straight away.
"""

from __future__ import annotations

import os
import re
import socket
import uuid
from collections.abc import Iterable, Sequence
from datetime import timedelta

from sqlalchemy import delete, insert, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from factdb.models import InboxUpdate, InboxWorker, utcnow

# A worker beats every few seconds; one silent for this long has stopped (or crashed).
HEARTBEAT_TIMEOUT = timedelta(seconds=20)


def owner_id() -> str:
    """A new worker's name: host, process id and a random tag (a process may start twice)."""
    return f"{_host()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _host() -> str:
    return socket.gethostname()[:30].replace(":", "-")


def stopped_on_this_host(owner: str) -> bool:
    """Whether `owner` is another worker of this host whose process no longer runs.

    Our own pid under another name is a predecessor too: a restarted container is pid 1 again.
    Workers that share a host name but not a process table (containers given one hostname)
    would look dead to each other; give them distinct hostnames.
    """
    host, _, rest = owner.partition(":")
    pid_text, _, _ = rest.partition(":")
    if host != _host() or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return True
    except OSError:  # exists but belongs to another user, or we may not ask: assume alive
        return False
    return False


def store(session: Session, owner: str, items: Sequence[tuple[int, str]], *, is_postgres: bool) -> set[int]:
    """Insert (update_id, payload) rows; returns the ids that were new (others are redeliveries)."""
    if not items:
        return set()
    now = utcnow()
    rows = [
        {"update_id": uid, "payload": payload, "owner": owner, "received_at": now} for uid, payload in items
    ]
    dialect_insert = postgresql.insert if is_postgres else sqlite.insert
    stmt = (
        dialect_insert(InboxUpdate)
        .values(rows)
        .on_conflict_do_nothing(index_elements=["update_id"])
        .returning(col(InboxUpdate.update_id))
    )
    return {int(uid) for uid in session.execute(stmt).scalars()}


def remove(session: Session, update_ids: Iterable[int]) -> None:
    ids = list(update_ids)
    for start in range(0, len(ids), 500):  # stay under SQLite's bound-parameter limit
        session.execute(delete(InboxUpdate).where(col(InboxUpdate.update_id).in_(ids[start : start + 500])))


def erase_user(session: Session, user_id: int) -> int:
    """Delete every stored update that names `user_id` (a forgotten citizen); returns how many.

    Matched on the id's digits as a number anywhere in the raw update: their messages and button
    presses, a forward of their message by someone else, an admin's `/erase <id>` itself. An
    unrelated update that happens to carry the same number loses only its crash replay (it is
    still handled now), which is the safe side to err on.
    """
    digits = str(abs(user_id))
    alone = re.compile(rf"(?<![0-9]){digits}(?![0-9])")
    rows = session.execute(
        select(InboxUpdate.update_id, InboxUpdate.payload).where(col(InboxUpdate.payload).contains(digits))
    ).all()
    doomed = [int(uid) for uid, payload in rows if alone.search(payload)]
    remove(session, doomed)
    return len(doomed)


def beat(session: Session, owner: str) -> None:
    """Record that `owner` is alive (an upsert that works on both databases)."""
    now = utcnow()
    changed = session.execute(update(InboxWorker).where(col(InboxWorker.owner) == owner).values(seen_at=now))
    if not changed.rowcount:  # type: ignore[attr-defined]
        session.execute(insert(InboxWorker).values(owner=owner, seen_at=now))


def retire(session: Session, owner: str) -> None:
    """A worker stopping cleanly: its heartbeat goes, so a leftover row is adopted at once."""
    session.execute(delete(InboxWorker).where(col(InboxWorker.owner) == owner))


def adopt(session: Session, owner: str, *, everything: bool = False) -> list[tuple[int, str]]:
    """Take over the rows of workers that stopped; returns them in update order.

    `everything`: a single-writer database (SQLite) has no other live worker, so every row left
    is ours to replay, at once, without waiting for a heartbeat to go stale.
    """
    living = select(InboxWorker.owner).where(col(InboxWorker.seen_at) > utcnow() - HEARTBEAT_TIMEOUT)
    owners = session.exec(select(InboxUpdate.owner).distinct()).all()
    alive = set(session.exec(living).all())
    gone = [o for o in owners if o != owner and (everything or o not in alive or stopped_on_this_host(o))]
    session.execute(delete(InboxWorker).where(col(InboxWorker.seen_at) < utcnow() - timedelta(days=1)))
    if not gone:
        return []
    # Conditional on the old owner: if two workers adopt at once, each row moves only once, and
    # only the moved rows come back (not the ones this worker is already handling).
    moved = session.execute(
        update(InboxUpdate)
        .where(col(InboxUpdate.owner).in_(gone))
        .values(owner=owner)
        .returning(col(InboxUpdate.update_id), col(InboxUpdate.payload))
    ).all()
    return sorted((int(uid), str(payload)) for uid, payload in moved)
