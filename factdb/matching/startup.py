"""How a worker's matcher starts (`Matcher.refresh`'s first call): it restores the index saved on
disk at the last start and catches up with the claims changed since (saved_index.py), or builds
it from every matchable claim and, at national scale, saves it in the background. A mixin of
Matcher (matcher.py), split out to keep that module about matching."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.engine import Connection, Row
from sqlmodel import Session, col

from factdb import saved_files
from factdb.changes import ChangeFeed
from factdb.matching import saved_index
from factdb.matching.index import TermIndex
from factdb.matching.text import claim_wordings, compact, prepare
from factdb.models import CLAIM_SECOND_IS_HEADLINE, CLAIM_SECOND_WORDING, MATCHABLE_STATUSES, Claim

if TYPE_CHECKING:
    from factdb.matching.matcher import Matcher

log = logging.getLogger(__name__)


class StartUp:
    """Matcher's start: `_start` (build or restore), `_catch_up`, `_disagreement`."""

    def _start(self: Matcher, session: Session, conn: Connection) -> int:
        engine = session.get_bind()
        where = saved_files.directory(engine)  # type: ignore[arg-type]
        version = saved_index.code_version(type(self)._build, _matchable_rows)
        if where is not None:
            restored = saved_index.restore(where, conn, version)
            if restored is not None:
                read = self._catch_up(conn, restored, where)
                if read is not None:
                    if self._semantic_auto:
                        self._start_semantic(session, lambda: _wordings_of(_matchable_rows(conn)))
                    if read >= saved_index.save_after(len(self)) and version is not None:
                        self.saving = saved_index.save_in_background(
                            where,
                            saved_index.take(self._index, self._feed, version, len(self)),  # type: ignore[arg-type]
                        )
                    return read
        feed = ChangeFeed.start(conn)  # before the read: nothing falls in between
        rows = _matchable_rows(conn)
        self._build([(cid, norm, second) for cid, norm, second, _, _ in rows])
        self._headlined = {cid for cid, _, second, _, only in rows if second and only}
        self._langs = {cid: lang for cid, _, _, lang, _ in rows}
        self._feed = feed
        self.restored = None
        if where is not None and version is not None and len(rows) >= saved_index.SAVE_FROM:
            # taken now, under the lock, with the position the build started from
            taken = saved_index.take(self._index, feed, version, len(rows))
            self.saving = saved_index.save_in_background(where, taken)
        if self._semantic_auto:
            self._start_semantic(session, lambda: _wordings_of(rows))
        return len(rows)

    def _catch_up(self: Matcher, conn: Connection, restored: saved_index.Restored, where: Path) -> int | None:
        """Take the restored index and apply the claims changed since it was saved; then check
        it against the claim table: the same claims, the same second wordings, and the texts of
        a sample of them. Returns how many changed claims were read, or None (logged) when the
        index disagrees with the table (the caller builds). The claims' languages and headline
        flags are read from the table, not saved: a claim's language can change without a
        stamp in the change feed (a re-import relabelling it)."""
        self._index = restored.index
        keys = restored.index.live_keys()
        self._worded = set((-keys[keys < 0]).tolist())
        self._headlined = set()
        self._langs = {}
        self._version += 1
        feed, read = restored.feed, 0
        # A claim changed between the feed's read and the check's read makes them disagree;
        # the next round reads it. A table written to without pause falls back to a build.
        for _ in range(3):
            changes = feed.read(conn)
            for change in changes:
                self._apply(change)
            read += len(changes)
            why = self._disagreement(conn)
            if why is None:
                break
        else:
            saved_index.doubt(where, why)
            self._index, self._worded, self._headlined, self._langs = TermIndex(), set(), set(), {}
            return None
        self._feed = feed
        restored.changed = read
        self.restored = restored
        log.info(
            "match index: restored %d claims from %s in %.1f s, caught up with %d changed claims",
            len(self),
            where,
            restored.seconds,
            read,
        )
        return read

    def _disagreement(self: Matcher, conn: Connection) -> str | None:
        """How the index disagrees with the claim table now, or None; sets the languages and
        headline flags from the table when they agree."""
        matchable = col(Claim.status).in_([str(s) for s in MATCHABLE_STATUSES])
        second, only = CLAIM_SECOND_WORDING, CLAIM_SECOND_IS_HEADLINE
        rows = conn.execute(select(Claim.id, Claim.lang, second != "", only).where(matchable)).all()
        keys = self._index.live_keys()
        own = np.sort(keys[keys > 0])
        ids = np.sort(np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows)))
        if not np.array_equal(own, ids):
            return f"{len(own)} claims indexed, {len(ids)} matchable in the table, or other ones"
        worded = {int(cid) for cid, _, has, _ in rows if has}
        if worded != self._worded:
            return "other claims have a second wording in the table"
        # The texts: a database made again with the same claims under other words would pass
        # the above. Evenly spread ids, a cheap look-up each.
        sample = ids[np.linspace(0, len(ids) - 1, min(64, len(ids))).astype(np.int64)].tolist()
        texts = conn.execute(
            select(Claim.id, Claim.normalized, second).where(col(Claim.id).in_(sample))
        ).all()
        for cid, norm, wording in texts:
            if self._index.text_of(cid) != compact(norm) or self._index.text_of(-cid) != (
                prepare(wording) if wording else None
            ):
                return f"claim {cid}'s indexed text is not its text in the table"
        self._langs = {int(cid): lang for cid, lang, _, _ in rows}
        self._headlined = {int(cid) for cid, _, has, only_headline in rows if has and only_headline}
        return None


def _matchable_rows(conn: Connection) -> Sequence[Row[Any]]:
    """(id, normalized, second wording, lang, second wording is the headline) of every
    matchable claim: what the index is built from."""
    return conn.execute(
        select(Claim.id, Claim.normalized, CLAIM_SECOND_WORDING, Claim.lang, CLAIM_SECOND_IS_HEADLINE).where(
            col(Claim.status).in_([str(s) for s in MATCHABLE_STATUSES])
        )
    ).all()


def _wordings_of(rows: Sequence[Row[Any]]) -> dict[int, str]:
    """The semantic stage's texts of these claims (claim_wordings: id and -id)."""
    texts: dict[int, str] = {}
    for cid, norm, second, _, _ in rows:
        texts.update(claim_wordings(cid, norm, second))
    return texts
