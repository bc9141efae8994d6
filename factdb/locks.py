"""Claim locks: who is writing the clarification of an open claim, and until when.

Take makes a reviewer the claim's holder (`status` in_review, `assignee_id`, `assigned_at`),
so two people do not write two answers. A hold must never freeze the queue, so it ends when
the holder cancels, takes another claim, is removed as a reviewer, when an admin releases it,
or when it has been idle longer than the lease (each step of the draft renews it).

Taking and renewing are single conditional UPDATEs: whether a hold has expired is decided by
the row as the database writes it, not by what a handler read a moment before, so two
reviewers can never both hold a claim (on PostgreSQL the second UPDATE waits for the first and
re-checks the row it wrote; SQLite writes one at a time).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Update, or_, update
from sqlmodel import Session, col, select

from factdb import audit, cards
from factdb.models import Claim, ClaimStatus, Clarification, Draft, DraftKind, DraftStep, utcnow

DEFAULT_LEASE = timedelta(minutes=30)
TAKEABLE = (ClaimStatus.NEW, ClaimStatus.IN_REVIEW, ClaimStatus.RETRACTED)
# drafts that hold their claim: a first answer being written or waiting for approval
DRAFT_STEPS = (
    DraftStep.VERDICT,
    DraftStep.SUMMARY,
    DraftStep.SOURCES,
    DraftStep.LANG,
    DraftStep.PREVIEW,
    DraftStep.AWAITING_APPROVAL,
)


def acquire(session: Session, claim_id: int, reviewer_id: int, *, lease: timedelta, now: datetime) -> bool:
    """Make `reviewer_id` the holder if the claim is free, theirs, or its hold is stale.

    A hold without `assigned_at` (taken before leases existed) counts as stale: it is exactly
    the kind of lock that froze claims for ever.
    """
    result = session.execute(
        update(Claim)
        .where(
            col(Claim.id) == claim_id,
            col(Claim.status).in_(TAKEABLE),
            or_(
                col(Claim.status) != ClaimStatus.IN_REVIEW,
                col(Claim.assignee_id).is_(None),
                col(Claim.assignee_id) == reviewer_id,
                col(Claim.assigned_at).is_(None),
                col(Claim.assigned_at) < now - lease,
            ),
        )
        .values(status=ClaimStatus.IN_REVIEW, assignee_id=reviewer_id, assigned_at=now, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]


def renew(session: Session, claim_id: int, reviewer_id: int, now: datetime | None = None) -> bool:
    """The holder worked on the claim: the idle time starts again. False if they no longer hold
    it (released, or taken over after their hold went stale)."""
    result = session.execute(_while_held(claim_id, reviewer_id).values(assigned_at=now or utcnow()))
    return result.rowcount == 1  # type: ignore[attr-defined]


def _while_held(claim_id: int, holder_id: int) -> Update:
    """An UPDATE of the claim that changes it only while `holder_id` still holds it."""
    return (
        update(Claim)
        .where(
            col(Claim.id) == claim_id,
            col(Claim.status) == ClaimStatus.IN_REVIEW,
            col(Claim.assignee_id) == holder_id,
        )
        .execution_options(synchronize_session=False)
    )


def _reopened_status(session: Session, claim_id: int) -> ClaimStatus:
    """Where a released claim goes back to: the withdrawn list if its answer was withdrawn
    (so it keeps who withdrew it and why), else the queue of new claims."""
    withdrawn = session.exec(
        select(Clarification.id).where(
            Clarification.claim_id == claim_id, Clarification.status == "retracted"
        )
    ).first()
    return ClaimStatus.RETRACTED if withdrawn is not None else ClaimStatus.NEW


def release(
    session: Session,
    claim_id: int,
    holder_id: int,
    *,
    actor_id: int | None,
    reason: str,
) -> bool:
    """End `holder_id`'s hold on the claim, if they still have it; their drafts of it end too.

    Conditional on the holder, so a release racing a take-over never frees the new holder's claim.
    """
    reopened = _reopened_status(session, claim_id)
    released = session.execute(
        _while_held(claim_id, holder_id).values(
            status=reopened, assignee_id=None, assigned_at=None, updated_at=utcnow()
        )
    ).rowcount  # type: ignore[attr-defined]
    end_drafts(session, claim_id, holder_id)
    if not released:
        return False
    claim = session.get(Claim, claim_id)
    if claim is not None:
        session.refresh(claim)
        cards.refresh(session, claim)
    audit.record(session, actor_id, "release", claim_id, f"held by {holder_id}", reason)
    return True


def end_drafts(session: Session, claim_id: int, reviewer_id: int) -> None:
    """Cancel `reviewer_id`'s unfinished first-answer drafts of the claim."""
    _cancel_drafts(session, claim_id, Draft.reviewer_id == reviewer_id)


def end_others_drafts(session: Session, claim_id: int, holder_id: int) -> int:
    """The claim changed hands: the former holder's draft of it can no longer be published."""
    return _cancel_drafts(session, claim_id, Draft.reviewer_id != holder_id)


def _cancel_drafts(session: Session, claim_id: int, whose: ColumnElement[bool]) -> int:
    """Cancel the unfinished first-answer drafts of the claim that `whose` selects; how many."""
    drafts = session.exec(
        select(Draft).where(
            Draft.claim_id == claim_id, whose, Draft.kind == DraftKind.NEW, col(Draft.step).in_(DRAFT_STEPS)
        )
    ).all()
    for draft in drafts:
        draft.step = DraftStep.CANCELLED
        session.add(draft)
    return len(drafts)


def release_all(session: Session, holder_id: int, *, actor_id: int | None, reason: str) -> list[int]:
    """End every hold of `holder_id` (they were removed as a reviewer); the claims released."""
    held = session.exec(
        select(Claim.id).where(Claim.status == ClaimStatus.IN_REVIEW, Claim.assignee_id == holder_id)
    ).all()
    return [cid for cid in held if release(session, cid, holder_id, actor_id=actor_id, reason=reason)]


def expired(claim: Claim, lease: timedelta, now: datetime | None = None) -> bool:
    """Whether the claim's hold is stale (anyone may take it over); for what reviewers read."""
    if claim.status != ClaimStatus.IN_REVIEW or claim.assignee_id is None:
        return False
    return claim.assigned_at is None or claim.assigned_at < (now or utcnow()) - lease
