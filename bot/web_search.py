"""The public search (/claims?q=): it finds the words the public reads, never others.

A claim a reviewer reworded (`claim.public_text`, factdb/public.py `public_wording`) is shown
in the new words, often because the citizen's original named someone. Searching the original
(`claim.normalized`, what the matcher uses) would let anyone confirm what it said: type the
name, see the claim. So a claim is searched in its public wording:

- not reworded: `claim.normalized LIKE` every word, in SQL, as before;
- reworded: the normalised public wording, which has no column, so each worker keeps it for
  the published reworded claims (a minority: a reviewer wrote each) in memory, `RewordedIndex`,
  reloaded when `max(claim_change.seq)` moves (triggers stamp every change of `public_text` and
  `status`) and at least once a minute (a PostgreSQL transaction can commit a smaller seq
  after a larger one was read).

Substring search (LIKE) rather than the match index: a search box should find what the words
say, predictably, also for one or two words, where the matcher is tuned to decide whether a
whole forwarded message is a known claim. Normalising the query the way claims were normalised
makes case, width, accents-as-typed and CJK behave alike on both databases.
"""

from __future__ import annotations

import math
import threading
import time
from typing import Any

from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from factdb.models import Claim, ClaimChange, ClaimStatus, Clarification
from factdb.normalize import normalize
from factdb.public import excerpt, public_wording

PER_PAGE = 20
MAX_QUERY_TERMS = 8
MAX_AGE_SECONDS = 60.0
EXCERPT_CHARS = 220


def _like_escape(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _reworded() -> Any:
    return (col(Claim.public_text).is_not(None)) & (col(Claim.public_text) != "")


class RewordedIndex:
    """Published reworded claims' normalised public wording, by claim id (see module doc)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()  # searches run in worker threads
        self._texts: dict[int, str] = {}
        self._seq: int | None = None
        self._loaded_at = -math.inf

    def matching(self, session: Session, terms: list[str]) -> list[int]:
        self._refresh(session)
        return [cid for cid, text in self._texts.items() if all(t in text for t in terms)]

    def _refresh(self, session: Session) -> None:
        seq = session.exec(select(func.max(ClaimChange.seq))).one()
        with self._lock:
            if seq == self._seq and time.monotonic() - self._loaded_at < MAX_AGE_SECONDS:
                return
            rows = session.exec(
                select(Claim).where(Claim.status == ClaimStatus.PUBLISHED).where(_reworded())
            ).all()
            # public_wording masks, so a phone number a reviewer left in is not searchable either.
            self._texts = {c.id: normalize(public_wording(c)) for c in rows}  # type: ignore[misc]
            self._seq, self._loaded_at = seq, time.monotonic()


def search(
    session: Session, index: RewordedIndex, q: str, page: int
) -> tuple[list[dict[str, Any]], int, int, int]:
    """Published claims whose public wording contains every normalised search word."""
    query = select(Claim).where(Claim.status == ClaimStatus.PUBLISHED)
    terms = normalize(q).split()[:MAX_QUERY_TERMS]
    if terms:
        plain = ~_reworded()
        for term in terms:
            plain = plain & col(Claim.normalized).like(f"%{_like_escape(term)}%", escape="\\")
        reworded = index.matching(session, terms)
        query = query.where(or_(plain, col(Claim.id).in_(reworded)) if reworded else plain)
    total = int(session.exec(select(func.count()).select_from(query.subquery())).one())
    pages = max(1, math.ceil(total / PER_PAGE))
    page = min(max(page, 1), pages)
    claims = session.exec(
        query.order_by(col(Claim.published_at).desc(), col(Claim.id).desc())
        .offset((page - 1) * PER_PAGE)
        .limit(PER_PAGE)
    ).all()
    verdicts: dict[int, str] = {}
    if claims:
        for claim_id, verdict in session.exec(
            select(Clarification.claim_id, Clarification.verdict)
            .where(col(Clarification.claim_id).in_([c.id for c in claims]))
            .where(col(Clarification.is_current), Clarification.status == "published")
            .order_by(col(Clarification.id).desc())  # the oldest language wins, as on the page
        ):
            verdicts[claim_id] = verdict
    rows = [
        {
            "id": c.id,
            "excerpt": excerpt(public_wording(c), EXCERPT_CHARS),
            "lang": c.lang,
            "verdict": verdicts.get(c.id),  # type: ignore[arg-type]
            "published_at": c.published_at,
        }
        for c in claims
    ]
    return rows, total, page, pages
