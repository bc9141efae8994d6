"""The triage queue: open claims ordered by virality, and an honest expected wait.

virality(claim) = Σ over its requests of 0.5 ** (age_hours / half_life_hours)

so a request now counts 1, one half-life ago 0.5, two ago 0.25. Forty requests last week rank
below five in the last hour, which is what a reviewer with ten minutes should answer first.
Requests older than 12 half-lives add less than 0.03 % each and are left out of the sum.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func
from sqlmodel import Session, col, select

from factdb import reviewers
from factdb.models import OPEN_STATUSES, AuditLog, Claim, ClaimStatus, Clarification, Request, utcnow

DEFAULT_HALF_LIFE_HOURS = 6.0


@dataclass(frozen=True)
class QueueItem:
    claim: Claim
    virality: float


def virality_of(timestamps: list[datetime], now: datetime, half_life_hours: float) -> float:
    return sum(0.5 ** (max((now - ts).total_seconds(), 0.0) / 3600.0 / half_life_hours) for ts in timestamps)


def ranked(
    session: Session, half_life_hours: float = DEFAULT_HALF_LIFE_HOURS, now: datetime | None = None
) -> list[QueueItem]:
    now = now or utcnow()
    horizon = now - timedelta(hours=half_life_hours * 12)
    claims = {c.id: c for c in session.exec(select(Claim).where(col(Claim.status).in_(OPEN_STATUSES))).all()}
    stamps: dict[int, list[datetime]] = defaultdict(list)
    if claims:
        rows = session.exec(
            select(Request.claim_id, Request.created_at).where(
                col(Request.claim_id).in_(list(claims)), col(Request.created_at) >= horizon
            )
        ).all()
        for claim_id, created_at in rows:
            stamps[claim_id].append(created_at)  # type: ignore[index]
    items = [QueueItem(c, virality_of(stamps[cid], now, half_life_hours)) for cid, c in claims.items()]
    items.sort(key=lambda it: (-it.virality, -it.claim.request_count, it.claim.id))
    return items


def page(
    session: Session, page_no: int, per_page: int = 10, half_life_hours: float = DEFAULT_HALF_LIFE_HOURS
) -> tuple[list[QueueItem], int]:
    items = ranked(session, half_life_hours)
    pages = max(1, -(-len(items) // per_page))
    page_no = min(max(page_no, 0), pages - 1)
    return items[page_no * per_page : (page_no + 1) * per_page], pages


def position(
    session: Session, claim_id: int, half_life_hours: float = DEFAULT_HALF_LIFE_HOURS
) -> tuple[int, int] | None:
    """1-based place of an open claim in the queue and the queue's length."""
    items = ranked(session, half_life_hours)
    for i, item in enumerate(items, start=1):
        if item.claim.id == claim_id:
            return i, len(items)
    return None


# Withdrawn clarifications listed after the open claims: a retraction is work owed (the claim
# needs a new answer), so it must not vanish from reviewers' sight with its public page.
RETRACTED_SHOWN = 10


@dataclass(frozen=True)
class RetractedItem:
    claim: Claim
    by: str | None  # who withdrew it (display name), None if the audit has no row (imported)
    at: datetime | None
    reason: str | None


def retracted(session: Session, limit: int = RETRACTED_SHOWN) -> tuple[list[RetractedItem], int]:
    """Claims whose clarification was withdrawn and nobody has taken again, newest first, and
    how many there are in all."""
    where = Claim.status == ClaimStatus.RETRACTED
    total = int(session.exec(select(func.count()).select_from(Claim).where(where)).one())
    claims = session.exec(
        select(Claim).where(where).order_by(col(Claim.updated_at).desc(), col(Claim.id).desc()).limit(limit)
    ).all()
    items = []
    for claim in claims:
        act = session.exec(
            select(AuditLog)
            .where(AuditLog.claim_id == claim.id, AuditLog.action == "retract")
            .order_by(col(AuditLog.id).desc())
        ).first()
        reason = session.exec(
            select(Clarification.retract_reason)
            .where(Clarification.claim_id == claim.id, Clarification.status == "retracted")
            .order_by(col(Clarification.retracted_at).desc(), col(Clarification.id).desc())
        ).first()
        by = reviewers.display_name(session, act.actor_id) if act and act.actor_id is not None else None
        items.append(RetractedItem(claim, by, act.at if act else None, reason))
    return items, total


@dataclass(frozen=True)
class ExpectedWait:
    position: int
    queue_length: int
    published_last_week: int
    hours: float | None  # None: no recent publishing to estimate from


def expected_wait(
    session: Session, claim_id: int, half_life_hours: float = DEFAULT_HALF_LIFE_HOURS
) -> ExpectedWait | None:
    """Position ÷ recent publishing rate. A rough guide, shown as such, never a promise."""
    pos = position(session, claim_id, half_life_hours)
    if pos is None:
        return None
    week_ago = utcnow() - timedelta(days=7)
    published = int(
        session.exec(
            select(func.count())
            .select_from(Claim)
            .where(Claim.status == ClaimStatus.PUBLISHED, col(Claim.published_at) >= week_ago)
        ).one()
    )
    hours = None if published == 0 else pos[0] / (published / (7 * 24))
    return ExpectedWait(pos[0], pos[1], published, hours)
