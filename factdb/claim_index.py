"""Keeps the in-memory match index in step with the claim table.

Each worker holds its own index. The first `refresh` builds it from every matchable claim;
later ones apply only the claims changed since (factdb/changes.py: a change feed written by
database triggers), so catching up costs what changed, not what exists or what was written in
the last seconds. Several processes on one PostgreSQL see the same claims: a claim added,
edited, merged, retracted or deleted by one worker is found (or no longer found) by the others
at their next message, even when its transaction commits late.

A claim is indexed by its text and, once a reviewer gives it one, also by its public wording.
"""

from __future__ import annotations

import threading

from sqlalchemy import select
from sqlmodel import Session, col

from factdb.changes import Change, ChangeFeed
from factdb.matching import Matcher, MatchIndex, MatchResult, _prepare
from factdb.models import MATCHABLE_STATUSES, Claim


class ClaimIndex:
    def __init__(self) -> None:
        self.index = MatchIndex()
        self.matcher = Matcher(self.index)
        self._feed: ChangeFeed | None = None
        self._worded: set[int] = set()  # claims indexed with a public wording too (key -id)
        # Reentrant: match() refreshes under the same lock. Handlers run in worker threads, and
        # the index's arrays must not change under a search.
        self._lock = threading.RLock()

    def refresh(self, session: Session) -> int:
        """Apply every claim change since the last refresh; returns how many claims were read.

        Reads on a connection of its own (committed changes only), not in `session`'s
        transaction: a change the caller has not committed yet is not a change yet.
        """
        with self._lock:
            with session.get_bind().connect() as conn:  # type: ignore[union-attr]
                if self._feed is None:
                    feed = ChangeFeed.start(conn)  # before the read: nothing falls in between
                    rows = conn.execute(
                        select(Claim.id, Claim.normalized, Claim.public_text).where(
                            col(Claim.status).in_([str(s) for s in MATCHABLE_STATUSES])
                        )
                    ).all()
                    self._build(rows)
                    self._feed = feed
                    return len(rows)
                changes = self._feed.read(conn)
            for change in changes:
                self._apply(change)
            return len(changes)

    def _build(self, rows: list) -> None:  # type: ignore[type-arg]
        # `normalized` is normalize(text), kept so by every writer (intake, importer, and the
        # ORM hook in factdb/models.py for edits): the bulk build skips normalising again.
        items = [(cid, norm) for cid, norm, _ in rows]
        worded = [(cid, public) for cid, _, public in rows if public]
        index = MatchIndex.from_normalized(items)
        for cid, public in worded:
            index.add(-cid, public)
        self.index = index
        self.matcher = Matcher(index, self.matcher.thresholds)
        self._worded = {cid for cid, _ in worded}

    def _apply(self, change: Change) -> None:
        cid = change.claim_id
        if change.text is None or change.status not in MATCHABLE_STATUSES:
            self.remove(cid)
            return
        # Re-adding costs a normalisation and postings; most changes (a status between two
        # matchable ones, this worker's own new claim) leave the text as it is.
        if self.index.text_of(cid) != _prepare(change.text):
            self.index.add(cid, change.text)
        if change.public_text:
            if self.index.text_of(-cid) != _prepare(change.public_text):
                self.index.add(-cid, change.public_text)
            self._worded.add(cid)
        elif cid in self._worded:
            self.index.remove(-cid)
            self._worded.discard(cid)

    def add(self, claim: Claim) -> None:
        """Make a claim this worker just created matchable at once (before the next refresh)."""
        if claim.id is not None:
            with self._lock:
                self.index.add(claim.id, claim.text)

    def remove(self, claim_id: int) -> None:
        with self._lock:
            self.index.remove(claim_id)
            if claim_id in self._worded:
                self.index.remove(-claim_id)
                self._worded.discard(claim_id)

    def match(self, session: Session, text: str) -> MatchResult:
        with self._lock:
            self.refresh(session)
            return self.matcher.match(text)

    def __len__(self) -> int:
        """Matchable claims (a claim with a public wording counts once)."""
        return len(self.index) - len(self._worded)

    def __contains__(self, claim_id: object) -> bool:
        return claim_id in self.index
