"""A database as the reviewers' workflow leaves it, for the benchmarks and tests that need one.

The review flow itself (take → verdict → summary → sources → publish) is tested end to end
through the bot; these helpers skip to its end state when the subject is what comes after it:
delivery, crashes, faults, load.
"""

from __future__ import annotations

import json

from sqlmodel import Session

from factdb import locks, publishing
from factdb.models import Citizen, Claim, ClaimStatus, Clarification, Draft, Subscription, utcnow
from factdb.normalize import normalize


def published_claim(
    session: Session,
    text: str,
    *,
    lang: str = "en",
    verdict: str = "false",
    summary: str = "This is not true.",
    sources: list[str] | None = None,
) -> Claim:
    """A claim with a published clarification, as reviewers or an import leave it (flushed, so
    it has its id). `sources`: by default one source; [] for none."""
    claim = Claim(
        text=text, normalized=normalize(text), lang=lang, status=ClaimStatus.PUBLISHED, published_at=utcnow()
    )
    session.add(claim)
    session.flush()
    cited = ["https://factcheck.example.org/a"] if sources is None else sources
    assert claim.id is not None
    session.add(
        Clarification(
            claim_id=claim.id, lang=lang, verdict=verdict, summary=summary, sources=json.dumps(cited)
        )
    )
    return claim


def publish_ready(
    session: Session, claim_id: int, reviewer_id: int, *, summary: str, source: str
) -> publishing.Published:
    """Publish a false verdict in English, as a reviewer's finished draft would: the reviewer
    holds the claim (Take), as publishing a first answer requires."""
    locks.acquire(session, claim_id, reviewer_id, lease=locks.DEFAULT_LEASE, now=utcnow())
    draft = Draft(
        claim_id=claim_id,
        reviewer_id=reviewer_id,
        step="preview",
        verdict="false",
        lang="en",
        summary=summary,
        sources=json.dumps([source]),
    )
    session.add(draft)
    session.flush()
    return publishing.publish(session, draft, reviewer_id)


def claim_with_subscribers(session: Session, text: str, first_user_id: int, n: int) -> int:
    """A claim in review that n citizens (user ids from `first_user_id`) asked about."""
    claim = Claim(
        text=text, normalized=normalize(text), lang="en", status=ClaimStatus.IN_REVIEW, request_count=n
    )
    session.add(claim)
    session.flush()
    people = [
        Citizen(telegram_user_id=first_user_id + i, chat_id=first_user_id + i, lang="en") for i in range(n)
    ]
    session.add_all(people)
    session.flush()
    session.add_all([Subscription(citizen_id=c.id, claim_id=claim.id) for c in people])
    return claim.id  # type: ignore[return-value]
