"""Which claims changed since a worker last looked: the feed the match index catches up from.

Every insert, update of `text`/`public_text`/`headline`/`status`, and delete of a claim row stamps the
claim's row in `claim_change` with a fresh sequence number (and, on PostgreSQL, the writing
transaction's id). Database triggers do the stamping, so no write path can forget it: the ORM,
the importer's executemany, a /forget deletion and hand-written SQL are all caught. The table
holds one row per claim id ever seen (a deleted claim's row is its tombstone), so it does not
grow with the number of changes. The triggers are in migrations 0004 and 0011.

Reading is gap-aware:

- **SQLite** has one writer at a time and the sequence is taken under the write lock, so rows
  commit in sequence order: "seq > the highest seen" misses nothing.
- **PostgreSQL** workers take sequence values in one order and commit in another: a
  transaction that took 10 may commit after one that took 11 was read. So the reader does not
  use the sequence but the writer's transaction id: it keeps the transactions that were not
  yet visible at its last read (those in the snapshot's in-progress list, and all from its
  xmax on) and next time reads exactly the rows written by those. A late commit is picked up
  however late it is; a long-running transaction elsewhere costs nothing until it commits.

Reads use their own connection, so they only ever see committed changes (a transaction of
the caller that later rolls back is never taken for a change that happened).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.engine import Connection


@dataclass(frozen=True, slots=True)
class Change:
    claim_id: int
    text: str | None  # None: the claim is gone
    # the second wording the matcher indexes: the reviewers' public wording, else the headline
    # of the fact-check the claim was imported with
    second_wording: str | None
    status: str | None
    lang: str | None = None  # as stored with the claim (the matcher's cross-language rule)
    # the second wording is the imported headline (no public wording): it finds, never answers
    second_is_headline: bool = False


# -- reading -----------------------------------------------------------------------------------

_CHANGES = """
    SELECT cc.claim_id, c.text, COALESCE(c.public_text, c.headline), c.status, cc.seq, c.lang,
           CASE WHEN c.public_text IS NULL AND c.headline IS NOT NULL THEN 1 ELSE 0 END
    FROM claim_change AS cc LEFT JOIN claim AS c ON c.id = cc.claim_id
    WHERE {where}
"""


@dataclass(frozen=True, slots=True)
class _Snapshot:
    """PostgreSQL transactions not visible to a read: `xip`, and every id from `xmax` on."""

    xmax: int
    xip: tuple[int, ...]

    @classmethod
    def parse(cls, value: str) -> _Snapshot:
        _xmin, xmax, xip = value.split(":")
        return cls(int(xmax), tuple(int(x) for x in xip.split(",") if x))


class ChangeFeed:
    """One reader's position in the change feed. Not thread-safe: the caller serialises."""

    def __init__(self, postgres: bool) -> None:
        self.postgres = postgres
        self._seq = 0  # SQLite: highest sequence read
        self._pending = _Snapshot(0, ())  # PostgreSQL: writers not yet seen

    def position(self) -> dict[str, object]:
        """Where this feed is, as JSON-able values (a saved index keeps it: saved_index.py)."""
        if self.postgres:
            return {"xmax": self._pending.xmax, "xip": list(self._pending.xip)}
        return {"seq": self._seq}

    @classmethod
    def at(cls, position: dict[str, object], postgres: bool) -> ChangeFeed:
        """A feed at a `position` taken before; ValueError (or KeyError) if it is not one."""
        feed = cls(postgres)
        if postgres:
            xip = position["xip"]
            if not isinstance(xip, list):
                raise ValueError("xip is not a list")
            feed._pending = _Snapshot(int(position["xmax"]), tuple(int(x) for x in xip))  # type: ignore[call-overload]
        else:
            feed._seq = int(position["seq"])  # type: ignore[call-overload]
        return feed

    @staticmethod
    def reached(conn: Connection, position: dict[str, object], postgres: bool) -> bool:
        """Whether the database has been where `position` is: false for a database made again
        since (SQLite's sequence starts over; PostgreSQL's transaction ids never go back)."""
        if postgres:
            now = _Snapshot.parse(conn.execute(text("SELECT pg_current_snapshot()::text")).scalar_one())
            return now.xmax >= int(position["xmax"])  # type: ignore[call-overload]
        top = conn.execute(text("SELECT COALESCE(MAX(seq), 0) FROM claim_change")).scalar_one()
        return int(top) >= int(position["seq"])  # type: ignore[call-overload]

    @classmethod
    def start(cls, conn: Connection) -> ChangeFeed:
        """A feed positioned *now*. Call it before reading the claims it should follow: what
        commits in between is read again by the first `read`, which is harmless."""
        feed = cls(conn.dialect.name == "postgresql")
        if feed.postgres:
            feed._pending = _Snapshot.parse(
                conn.execute(text("SELECT pg_current_snapshot()::text")).scalar_one()
            )
        else:
            feed._seq = int(conn.execute(text("SELECT COALESCE(MAX(seq), 0) FROM claim_change")).scalar_one())
        return feed

    def read(self, conn: Connection) -> list[Change]:
        """Claims changed since the last read, in their current state (each at most once)."""
        if self.postgres:
            # The snapshot first: whatever commits between it and the read below is read now
            # and once more next time, never missed.
            now = _Snapshot.parse(conn.execute(text("SELECT pg_current_snapshot()::text")).scalar_one())
            where = "cc.xid >= :xmax OR cc.xid = ANY(CAST(:xip AS bigint[]))"
            rows = conn.execute(
                text(_CHANGES.format(where=where)),
                {"xmax": self._pending.xmax, "xip": list(self._pending.xip)},
            ).all()
            self._pending = now
        else:
            rows = conn.execute(
                text(_CHANGES.format(where="cc.seq > :seq") + " ORDER BY cc.seq"),
                {"seq": self._seq},
            ).all()
            if rows:
                self._seq = int(rows[-1][4])
        return [Change(int(r[0]), r[1], r[2], r[3], r[5], bool(r[6])) for r in rows]
