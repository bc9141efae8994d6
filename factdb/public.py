"""What the public may see: the one place that decides which claims and which words leave the
reviewers' room for the public pages, `/stats` and the feeds. The web server (bot/web/) reads
through these functions and has no SQL of its own.

The promise (README, "What is public"): by default only reviewed, published fact-checks are
public. Citizens' submissions that nobody has checked are not, because a citizen may have
pasted a private message. An operator may opt in to a public "waiting for review" list
(`CROWDCHECK_PUBLIC_QUEUE=1`); even then a claim appears only when it is circulating — at
least `min_askers` different citizens asked about it, counting only citizens still linked to
their request (one who used /forget no longer counts) — with personal data masked, and never
when a reviewer hid it, when it was imported without a verdict, or when it is spam or merged.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from factdb import clarifications as clar_db
from factdb.media.public_pictures import publishable_count
from factdb.models import OPEN_STATUSES, Claim, ClaimChange, ClaimStatus, Clarification, Request
from factdb.normalize import normalize
from factdb.privacy import mask_personal
from factdb.stats import Stats, stats

DEFAULT_MIN_ASKERS = 3
WAITING_LIMIT = 5
EXCERPT_CHARS = 160


def public_wording(claim: Claim) -> str:
    """The words of a claim as the public reads them: the reviewers' public wording when they
    wrote one (`claim.public_text`), else what citizens sent — masked either way, because even
    a reviewer's rewording may quote a number by mistake and masking twice changes nothing."""
    return mask_personal(claim.public_text or claim.text)


def excerpt(text: str, limit: int = EXCERPT_CHARS) -> str:
    """One line of at most `limit` characters (whitespace folded), for lists."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


@dataclass(frozen=True)
class WaitingClaim:
    """A claim on the public "waiting for review" list. No id: it has no public page yet."""

    excerpt: str  # public wording, masked
    askers: int  # distinct citizens still linked to a request about it
    first_seen: datetime
    lang: str | None


def waiting_for_review(
    session: Session, *, min_askers: int = DEFAULT_MIN_ASKERS, limit: int = WAITING_LIMIT
) -> list[WaitingClaim]:
    """The most asked-about open claims that may be shown to the public (see the module's rules).

    Counting distinct `citizen_id`s (not requests) means one person asking ten times is one
    asker; /forget sets `citizen_id` to NULL, so a forgotten citizen drops out of the count and
    a claim only forgotten citizens asked about never appears.
    """
    askers = func.count(func.distinct(Request.citizen_id)).label("askers")
    counted = (
        select(col(Request.claim_id).label("claim_id"), askers)
        .join(Claim, col(Claim.id) == col(Request.claim_id))
        .where(col(Request.citizen_id).is_not(None))
        .where(col(Claim.status).in_(OPEN_STATUSES))  # not published, retracted, spam or merged
        .where(col(Claim.public_hidden).is_not(True))  # a reviewer's "hide from the public"
        # An imported row without a verdict is a partner's working file, not something
        # circulating among our citizens: never on the public list.
        .where(col(Claim.external_id).is_(None))
        .group_by(col(Request.claim_id))
        .having(askers >= max(1, min_askers))
        .subquery()
    )
    rows = session.exec(
        select(Claim, counted.c.askers)
        .join(counted, counted.c.claim_id == col(Claim.id))
        .order_by(counted.c.askers.desc(), col(Claim.last_seen).desc(), col(Claim.id))
        .limit(limit)
    ).all()
    return [
        WaitingClaim(excerpt(public_wording(claim)), int(n), claim.first_seen, claim.lang)
        for claim, n in rows
    ]


# -- one claim's page ------------------------------------------------------------------------
@dataclass(frozen=True)
class PublishedClaim:
    claim: Claim
    chosen: clar_db.Chosen  # in the reader's language, else the original
    rows: list[Clarification]  # every current published clarification, oldest language first


@dataclass(frozen=True)
class Withdrawn:
    at: datetime | None
    reason: str | None


@dataclass(frozen=True)
class Moved:
    """A merged duplicate: its address keeps working by pointing at the claim it joined."""

    claim_id: int


def published_claim(session: Session, claim_id: int, lang: str) -> PublishedClaim | Withdrawn | Moved | None:
    """What `/claims/{id}` shows: the claim and its clarification in `lang` (else the original),
    why it was withdrawn, where a merged duplicate went, or None (unknown, new, in review, spam:
    not public)."""
    claim = session.get(Claim, claim_id)
    if claim is None:
        return None
    if claim.status == ClaimStatus.MERGED and claim.merged_into_id:
        return Moved(claim.merged_into_id)
    if claim.status == ClaimStatus.RETRACTED:
        last = session.exec(
            select(Clarification)
            .where(Clarification.claim_id == claim_id, Clarification.status == "retracted")
            .order_by(col(Clarification.retracted_at).desc(), col(Clarification.id).desc())
        ).first()
        return Withdrawn(last.retracted_at if last else None, last.retract_reason if last else None)
    if claim.status != ClaimStatus.PUBLISHED:
        return None
    # The same choice a citizen's notice makes (handlers/views/notices.py), so the link in the notice
    # opens on the clarification the notice quoted.
    chosen = clar_db.for_language(session, claim_id, lang)
    return PublishedClaim(claim, chosen, clar_db.current(session, claim_id)) if chosen else None


# -- search ----------------------------------------------------------------------------------
# A claim a reviewer reworded (`claim.public_text`) is shown in the new words, often because the
# citizen's original named someone. Searching the original (`claim.normalized`, what the
# matcher uses) would let anyone confirm what it said: type the name, see the claim. So a claim
# is searched in its public wording:
#
# - not reworded: `claim.normalized LIKE` every word, in SQL;
# - reworded: the normalised public wording, which has no column, so each worker keeps it for
#   the published reworded claims (a minority: a reviewer wrote each) in memory,
#   `RewordedIndex`, reloaded when `max(claim_change.seq)` moves (triggers stamp every change of
#   `public_text` and `status`) and at least once a minute (a PostgreSQL transaction can commit
#   a smaller seq after a larger one was read).
#
# Substring search (LIKE) rather than the match index: a search box should find what the words
# say, predictably, also for one or two words, where the matcher is tuned to decide whether a
# whole forwarded message is a known claim. Normalising the query the way claims were normalised
# makes case, width, accents-as-typed and CJK behave alike on both databases.
PER_PAGE = 20
MAX_QUERY_TERMS = 8
REWORDED_MAX_AGE_SECONDS = 60.0
LISTED_EXCERPT_CHARS = 220


def _like_escape(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _reworded() -> Any:
    return (col(Claim.public_text).is_not(None)) & (col(Claim.public_text) != "")


class RewordedIndex:
    """Published reworded claims' normalised public wording, by claim id (see above)."""

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
            if seq == self._seq and time.monotonic() - self._loaded_at < REWORDED_MAX_AGE_SECONDS:
                return
            rows = session.exec(
                select(Claim).where(Claim.status == ClaimStatus.PUBLISHED).where(_reworded())
            ).all()
            # public_wording masks, so a phone number a reviewer left in is not searchable either.
            self._texts = {c.id: normalize(public_wording(c)) for c in rows}  # type: ignore[misc]
            self._seq, self._loaded_at = seq, time.monotonic()


@dataclass(frozen=True)
class ListedClaim:
    id: int
    excerpt: str  # public wording, masked
    lang: str | None
    verdict: str | None  # of the oldest language's current clarification
    published_at: datetime | None


@dataclass(frozen=True)
class SearchPage:
    rows: list[ListedClaim]
    total: int
    page: int  # the page shown: clamped to 1..pages
    pages: int


def search(session: Session, index: RewordedIndex, q: str, page: int) -> SearchPage:
    """Published claims whose public wording contains every normalised search word, newest
    first, `PER_PAGE` a page."""
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
        ListedClaim(
            id=c.id,  # type: ignore[arg-type]
            excerpt=excerpt(public_wording(c), LISTED_EXCERPT_CHARS),
            lang=c.lang,
            verdict=verdicts.get(c.id),  # type: ignore[arg-type]
            published_at=c.published_at,
        )
        for c in claims
    ]
    return SearchPage(rows, total, page, pages)


# -- /stats and the feed ---------------------------------------------------------------------
@dataclass(frozen=True)
class PublicFigures:
    stats: Stats
    waiting: list[WaitingClaim] | None  # None: the operator has not opted in to the list


def public_figures(
    session: Session, *, half_life_hours: float, public_queue: bool, min_askers: int
) -> PublicFigures:
    """The public `/stats` page's figures. `open_claims=False`: the text of unchecked claims is
    not even read; the "waiting for review" list only when the operator opted in."""
    figures = stats(session, half_life_hours=half_life_hours, open_claims=False)
    waiting = waiting_for_review(session, min_askers=min_askers) if public_queue else None
    return PublicFigures(figures, waiting)


def published_fingerprint(session: Session) -> tuple[Any, ...]:
    """Three indexed maxima that move whenever what the feed shows may have changed:
    `claim_change.seq` (triggers: every claim insert, status, text or public wording change,
    delete), `claim.updated_at` (every publish, edit, retraction, import, a picture shown or
    hidden) and `clarification.id` (every new version or translation); and the number of
    publishable pictures (one erased by /forget leaves its claim untouched)."""
    return (
        session.exec(select(func.max(ClaimChange.seq))).one(),
        session.exec(select(func.max(Claim.updated_at))).one(),
        session.exec(select(func.max(Clarification.id))).one(),
        publishable_count(session),
    )
