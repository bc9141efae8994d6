"""What the public may see: the one place that decides which claims and which words leave the
reviewers' room for the public pages, `/stats` and the feeds.

The promise (README, "What is public"): by default only reviewed, published fact-checks are
public. Citizens' submissions that nobody has checked are not, because a citizen may have
pasted a private message. An operator may opt in to a public "waiting for review" list
(`CROWDCHECK_PUBLIC_QUEUE=1`); even then a claim appears only when it is circulating — at
least `min_askers` different citizens asked about it, counting only citizens still linked to
their request (one who used /forget no longer counts) — with personal data masked, and never
when a reviewer hid it, when it was imported without a verdict, or when it is spam or merged.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, col, select

from factdb.models import OPEN_STATUSES, Claim, Request
from factdb.privacy import mask_personal

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
