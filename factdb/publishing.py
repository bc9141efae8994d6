"""A finished draft goes out: published at once, or (four eyes) after a second reviewer's
approval; and a published answer withdrawn. Each queues, in the same transaction, the notices it
owes the citizens who asked (factdb/outbox.py), and writes its audit rows.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, select

from factdb import audit, citizens, clarifications, outbox
from factdb.models import (
    Citizen,
    ClaimStatus,
    Clarification,
    Draft,
    DraftKind,
    DraftStep,
    OutboxKind,
    Subscription,
    utcnow,
)
from factdb.review import ReviewError, check_open, load_claim, touch


@dataclass(frozen=True)
class Published:
    clarification: Clarification
    notified: int  # notices queued


def request_publish(session: Session, draft: Draft, reviewer_id: int, *, four_eyes: bool) -> Published | None:
    """Publish now, or (four eyes) wait for a different reviewer's approval."""
    if draft.step != DraftStep.PREVIEW:
        raise ReviewError("not_ready")
    if four_eyes:
        check_open(session, draft)
        draft.step = DraftStep.AWAITING_APPROVAL
        session.add(draft)
        audit.record(session, reviewer_id, "submit_for_approval", draft.claim_id)
        return None
    return publish(session, draft, reviewer_id)


def _awaiting(session: Session, draft_id: int, approver_id: int) -> Draft:
    """A draft waiting for a second reviewer, and `approver_id` is one (not its author)."""
    draft = session.get(Draft, draft_id)
    if draft is None or draft.step != DraftStep.AWAITING_APPROVAL:
        raise ReviewError("not_awaiting")
    if draft.reviewer_id == approver_id:
        raise ReviewError("same_reviewer")
    return draft


def approve(session: Session, draft_id: int, approver_id: int) -> Published:
    draft = _awaiting(session, draft_id, approver_id)
    audit.record(session, approver_id, "approve", draft.claim_id)
    return publish(session, draft, draft.reviewer_id, approver_id=approver_id)


def send_back(session: Session, draft_id: int, approver_id: int) -> Draft:
    draft = _awaiting(session, draft_id, approver_id)
    draft.step = DraftStep.PREVIEW
    session.add(draft)
    audit.record(session, approver_id, "send_back", draft.claim_id)
    return draft


def _subscribers(session: Session, claim_id: int, *, told_only: bool) -> list[Citizen]:
    query = (
        select(Citizen)
        .join(Subscription, col(Subscription.citizen_id) == col(Citizen.id))
        .where(Subscription.claim_id == claim_id, col(Subscription.active), ~col(Citizen.blocked_bot))
    )
    if told_only:
        query = query.where(citizens.told_condition(claim_id))
    return list(session.exec(query).all())


def notify(
    session: Session,
    people: Iterable[Citizen],
    kind: OutboxKind,
    claim_id: int,
    clarification_id: int,
    payload: dict[str, Any] | None = None,
) -> int:
    """Queue one `kind` notice about the claim for each citizen (once: the dedupe key names the
    kind, the clarification and the citizen); returns how many were queued."""
    queued = 0
    for citizen in people:
        queued += outbox.enqueue(
            session,
            dedupe_key=f"{kind.value}:{clarification_id}:{citizen.id}",
            kind=kind,
            claim_id=claim_id,
            clarification_id=clarification_id,
            chat_id=citizen.chat_id,
            citizen_id=citizen.id,
            payload=payload,
        )
    return queued


def publish(session: Session, draft: Draft, author_id: int, *, approver_id: int | None = None) -> Published:
    claim = check_open(session, draft)
    if not draft.verdict or not draft.summary or not draft.lang:
        raise ReviewError("not_ready")
    if not claim.text.strip() and not claim.public_text:
        # A picture nobody could read words in: the page, ClaimReview and citizens' notices need
        # words for what was checked, and only a reviewer can give them.
        raise ReviewError("needs_wording", claim_id=claim.id)
    previous = clarifications.current(session, claim.id)  # type: ignore[arg-type]
    same_lang = [c for c in previous if c.lang.lower() == draft.lang.lower()]
    for old in same_lang if draft.kind != DraftKind.NEW else previous:
        old.is_current, old.status = False, "superseded"
        session.add(old)
    version = max((c.version for c in same_lang), default=0) + 1
    clar = Clarification(
        claim_id=claim.id,
        lang=draft.lang,
        verdict=draft.verdict,
        summary=draft.summary,  # type: ignore[arg-type]
        sources=draft.sources,
        author_id=author_id,
        version=version,
    )
    session.add(clar)
    draft.step = DraftStep.DONE
    session.add(draft)
    old_status = claim.status
    claim.status = ClaimStatus.PUBLISHED
    claim.published_at = claim.published_at or utcnow()
    touch(session, claim)
    session.flush()

    notified = 0
    if draft.kind == DraftKind.NEW:
        waiting = _subscribers(session, claim.id, told_only=False)  # type: ignore[arg-type]
        notified = notify(session, waiting, OutboxKind.NOTICE, claim.id, clar.id)  # type: ignore[arg-type]
        audit.record(session, author_id, "publish", claim.id, old_status, f"{clar.verdict} v{version}")
    elif draft.kind == DraftKind.EDIT:
        old_verdict = same_lang[0].verdict if same_lang else None
        if old_verdict != clar.verdict:
            told = _subscribers(session, claim.id, told_only=True)  # type: ignore[arg-type]
            payload = {"old_verdict": old_verdict}
            notified = notify(session, told, OutboxKind.UPDATE, claim.id, clar.id, payload)  # type: ignore[arg-type]
        audit.record(session, author_id, "edit", claim.id, old_verdict, f"{clar.verdict} v{version}")
    else:
        audit.record(session, author_id, "translate", claim.id, None, clar.lang)
    if approver_id is not None:
        audit.record(session, approver_id, "approved_publish", claim.id, None, clar.id)
    return Published(clar, notified)


def retract(session: Session, claim_id: int, reviewer_id: int, reason: str) -> int:
    reason = reason.strip()
    if not reason:
        raise ReviewError("reason_needed")
    claim = load_claim(session, claim_id)
    rows = clarifications.current(session, claim_id)
    if claim.status != ClaimStatus.PUBLISHED or not rows:
        raise ReviewError("not_published", claim_id=claim_id)
    now = utcnow()
    for row in rows:
        row.is_current, row.status, row.retracted_at, row.retract_reason = False, "retracted", now, reason
        session.add(row)
    claim.status, claim.assignee_id = ClaimStatus.RETRACTED, None
    touch(session, claim)
    told = _subscribers(session, claim_id, told_only=True)
    queued = notify(session, told, OutboxKind.RETRACTION, claim_id, rows[0].id, {"reason": reason})  # type: ignore[arg-type]
    audit.record(session, reviewer_id, "retract", claim_id, "published", f"retracted: {reason}")
    return queued
