"""Keeps the in-memory match index in step with the claim table.

Each worker holds its own index and catches up from `claim.updated_at` before matching, so
several processes on one PostgreSQL see the same claims: a claim added, merged or retracted by
one worker is visible to the others at their next message.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from sqlmodel import Session, col, select

from factdb.matching import Matcher, MatchIndex, MatchResult
from factdb.models import MATCHABLE_STATUSES, Claim

# Commits can land slightly out of timestamp order across workers; re-reading a short window
# is cheap because re-adding a claim to the index is idempotent.
_CLOCK_SKEW = timedelta(seconds=5)


class ClaimIndex:
    def __init__(self) -> None:
        self.index = MatchIndex()
        self.matcher = Matcher(self.index)
        self._watermark: datetime | None = None
        # Reentrant: match() refreshes under the same lock. Handlers run in worker threads, and
        # the index's arrays must not change under a search.
        self._lock = threading.RLock()

    def refresh(self, session: Session) -> int:
        """Apply every claim change since the last refresh; returns how many rows were read."""
        with self._lock:
            query = select(Claim.id, Claim.text, Claim.status, Claim.updated_at)
            if self._watermark is not None:
                query = query.where(col(Claim.updated_at) >= self._watermark - _CLOCK_SKEW)
            rows = session.exec(query).all()
            if self._watermark is None:
                items = [(cid, text) for cid, text, status, _ in rows if status in MATCHABLE_STATUSES]
                self.index = MatchIndex.from_items(items)
                self.matcher = Matcher(self.index)
            else:
                for cid, text, status, _ in rows:
                    if status in MATCHABLE_STATUSES:
                        if cid not in self.index:
                            self.index.add(cid, text)
                    else:
                        self.index.remove(cid)
            for *_, updated_at in rows:
                if self._watermark is None or updated_at > self._watermark:
                    self._watermark = updated_at
            if self._watermark is None:
                self._watermark = datetime(2000, 1, 1, tzinfo=UTC)
            return len(rows)

    def add(self, claim: Claim) -> None:
        """Make a claim this worker just created matchable at once (before the next refresh)."""
        if claim.id is not None:
            with self._lock:
                self.index.add(claim.id, claim.text)

    def remove(self, claim_id: int) -> None:
        with self._lock:
            self.index.remove(claim_id)

    def match(self, session: Session, text: str) -> MatchResult:
        with self._lock:
            self.refresh(session)
            return self.matcher.match(text)

    def __len__(self) -> int:
        return len(self.index)

    def __contains__(self, claim_id: object) -> bool:
        return claim_id in self.index
