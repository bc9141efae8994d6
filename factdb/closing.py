"""Closing a claim that gets no answer of its own: spam, or a duplicate merged into the claim it
repeats (its requests and subscribers move there; factdb/merges.py follows a merged claim to
where it now lives).
"""

from __future__ import annotations

from sqlalchemy import update
from sqlmodel import Session, col, select

from factdb import audit, clarifications
from factdb.models import Citizen, Claim, ClaimStatus, Draft, DraftStep, OutboxKind, Request, Subscription
from factdb.publishing import notify
from factdb.review import ACTIVE_STEPS, ReviewError, load_claim, refuse_closed, touch


def mark_spam(session: Session, claim_id: int, reviewer_id: int) -> None:
    claim = load_claim(session, claim_id)
    refuse_closed(claim)
    if claim.status == ClaimStatus.PUBLISHED:
        raise ReviewError("published", claim_id=claim_id)
    old = claim.status
    claim.status, claim.assignee_id = ClaimStatus.SPAM, None
    touch(session, claim)
    session.execute(update(Subscription).where(col(Subscription.claim_id) == claim_id).values(active=False))
    audit.record(session, reviewer_id, "spam", claim_id, old, "spam")


def merge(session: Session, source_id: int, target_id: int, reviewer_id: int) -> int:
    """Fold a duplicate into the claim it repeats; returns how many people are told at once."""
    if source_id == target_id:
        raise ReviewError("merge_self")
    source, target = load_claim(session, source_id), load_claim(session, target_id)
    refuse_closed(source)
    if target.status in (ClaimStatus.MERGED, ClaimStatus.SPAM):
        raise ReviewError("merge_target_closed", claim_id=target_id)
    if source.status == ClaimStatus.PUBLISHED:
        raise ReviewError("published", claim_id=source_id)
    moved_citizens = [
        s.citizen_id
        for s in session.exec(
            select(Subscription).where(Subscription.claim_id == source_id, col(Subscription.active))
        ).all()
    ]
    moved = session.execute(
        update(Request).where(col(Request.claim_id) == source_id).values(claim_id=target_id)
    ).rowcount  # type: ignore[attr-defined]
    for citizen_id in moved_citizens:
        existing = session.exec(
            select(Subscription).where(
                Subscription.claim_id == target_id, Subscription.citizen_id == citizen_id
            )
        ).first()
        if existing is None:
            session.add(Subscription(citizen_id=citizen_id, claim_id=target_id))
        elif not existing.active:
            existing.active = True
            session.add(existing)
    session.execute(update(Subscription).where(col(Subscription.claim_id) == source_id).values(active=False))
    # In SQL, counting what actually moved: intake may be adding requests to the target now.
    session.execute(
        update(Claim).where(col(Claim.id) == target_id).values(request_count=Claim.request_count + moved)
    )
    target.first_seen = min(target.first_seen, source.first_seen)
    target.last_seen = max(target.last_seen, source.last_seen)
    old = source.status
    source.status, source.merged_into_id, source.assignee_id = ClaimStatus.MERGED, target_id, None
    source.request_count = 0
    touch(session, source)
    touch(session, target)
    for draft in session.exec(
        select(Draft).where(Draft.claim_id == source_id, col(Draft.step).in_(ACTIVE_STEPS))
    ):
        draft.step = DraftStep.CANCELLED
        session.add(draft)
    session.flush()
    told = 0
    rows = clarifications.current(session, target_id)
    if target.status == ClaimStatus.PUBLISHED and rows:
        moved_in = session.exec(select(Citizen).where(col(Citizen.id).in_(moved_citizens))).all()
        reachable = [citizen for citizen in moved_in if not citizen.blocked_bot]
        told = notify(session, reachable, OutboxKind.NOTICE, target_id, rows[0].id)  # type: ignore[arg-type]
    audit.record(session, reviewer_id, "merge", source_id, old, f"merged into #{target_id}")
    audit.record(session, reviewer_id, "merge_in", target_id, None, f"#{source_id} merged in")
    return told
