"""`Matcher`: the one object callers use to match a message against the known claims.

It holds the claims' candidate index (factdb/matching/index.py), keeps it in step with the
claim table, ranks candidates (scoring.py) and decides (decision.py).

Each worker holds its own. The first `refresh` builds the index from every matchable claim;
later ones apply only the claims changed since (factdb/changes.py: a change feed written by
database triggers), so catching up costs what changed, not what exists or what was written in
the last seconds. Several processes on one PostgreSQL see the same claims: a claim added,
edited, merged, retracted or deleted by one worker is found (or no longer found) by the others
at their next message, even when its transaction commits late.

A claim is indexed by its text and, once a reviewer gives it one, also by its public wording
(key -id in the index; found as claim id, listed once with its best score).

Without a database (benchmarks, tests): `Matcher.from_items((id, text), ...)`, then `match(text)`.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

from sqlalchemy import select
from sqlmodel import Session, col

from factdb.changes import Change, ChangeFeed
from factdb.matching.decision import Candidate, MatchResult, Thresholds, decide
from factdb.matching.index import TermIndex
from factdb.matching.scoring import rank
from factdb.matching.text import prepare
from factdb.models import MATCHABLE_STATUSES, Claim


class Matcher:
    def __init__(self, thresholds: Thresholds | None = None) -> None:
        self.thresholds = thresholds or Thresholds()
        self._index = TermIndex()
        self._feed: ChangeFeed | None = None
        self._worded: set[int] = set()  # claims indexed with a public wording too (key -id)
        # Reentrant: match() refreshes under the same lock. Handlers run in worker threads, and
        # the index's arrays must not change under a search.
        self._lock = threading.RLock()

    @classmethod
    def from_items(cls, items: Iterable[tuple[int, str]], thresholds: Thresholds | None = None) -> Matcher:
        """A matcher over (claim_id, raw text) pairs, built in one pass, with no database
        behind it (later ids win); keep it current with `add` and `remove`."""
        matcher = cls(thresholds)
        matcher._index = TermIndex.from_items(items)
        return matcher

    # -- keeping up with the claim table -------------------------------------------------------

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
        index = TermIndex.from_normalized(items)
        for cid, public in worded:
            index.add(-cid, public)
        self._index = index
        self._worded = {cid for cid, _ in worded}

    def _apply(self, change: Change) -> None:
        cid = change.claim_id
        if change.text is None or change.status not in MATCHABLE_STATUSES:
            self.remove(cid)
            return
        # Re-adding costs a normalisation and postings; most changes (a status between two
        # matchable ones, this worker's own new claim) leave the text as it is.
        if self._index.text_of(cid) != prepare(change.text):
            self._index.add(cid, change.text)
        if change.public_text:
            if self._index.text_of(-cid) != prepare(change.public_text):
                self._index.add(-cid, change.public_text)
            self._worded.add(cid)
        elif cid in self._worded:
            self._index.remove(-cid)
            self._worded.discard(cid)

    def add(self, claim_id: int, text: str) -> None:
        """Make a claim matchable at once (a worker's own new claim, before the next refresh);
        re-adding an id replaces its text."""
        with self._lock:
            self._index.add(claim_id, text)

    def remove(self, claim_id: int) -> None:
        """Stop matching a claim (both its wordings); unknown ids are ignored."""
        with self._lock:
            self._index.remove(claim_id)
            if claim_id in self._worded:
                self._index.remove(-claim_id)
                self._worded.discard(claim_id)

    def compact(self) -> None:
        """Fold claims added since the bulk build into the index's packed arrays now (it also
        happens by itself once enough have been added)."""
        with self._lock:
            self._index.compact()

    # -- matching ------------------------------------------------------------------------------

    def match(self, text: str, session: Session | None = None, limit: int = 5) -> MatchResult:
        """Decide whether `text` is a known claim, after catching up with the claim table when
        given a session. Never raises on odd input."""
        with self._lock:
            if session is not None:
                self.refresh(session)
            prepared = prepare(text)
            ranking = rank(self._index, prepared, max(limit, 1))
            return decide(text, prepared, ranking, self._wordings, self.thresholds, limit)

    def search(self, text: str, limit: int = 5) -> list[Candidate]:
        """The ranking alone (no decision): the best `limit` claims, best first, 0..100."""
        with self._lock:
            return [Candidate(cid, s) for cid, s in rank(self._index, prepare(text), limit)]

    def _wordings(self, claim_id: int) -> list[str]:
        """The claim's indexed text and, if it has one, its second (public) wording."""
        texts = (self._index.text_of(claim_id), self._index.text_of(-claim_id))
        return [w for w in texts if w is not None]

    def text_of(self, claim_id: int) -> str | None:
        """The prepared text indexed for `claim_id`, or None."""
        return self._index.text_of(claim_id)

    def __len__(self) -> int:
        """Matchable claims (a claim with a public wording counts once)."""
        return len(self._index) - len(self._worded)

    def __contains__(self, claim_id: object) -> bool:
        return claim_id in self._index
