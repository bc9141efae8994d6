"""Claim cards in the moderators' group go through the outbox, paced like every bulk message."""

from __future__ import annotations

import uuid

from sqlmodel import Session, select

from factdb import outbox
from factdb.models import Claim, Outbox, OutboxStatus


def post(session: Session, claim: Claim, review_chat_id: int | None) -> None:
    if review_chat_id is None or claim.id is None:
        return
    outbox.enqueue(
        session, dedupe_key=f"card:{claim.id}", kind="card", chat_id=review_chat_id, claim_id=claim.id
    )


def refresh(session: Session, claim: Claim, *, force: bool = False) -> None:
    """Ask for the card to be edited to the claim's current state (coalesced: one pending edit).

    `force`: the card in flight was rendered before the latest change, so a pending row that
    is being sent does not count as covering it.
    """
    if claim.id is None:
        return
    pending = (
        None
        if force
        else session.exec(
            select(Outbox.id).where(
                Outbox.claim_id == claim.id,
                Outbox.status == OutboxStatus.PENDING,
                Outbox.kind.in_(["card", "card_edit"]),  # type: ignore[attr-defined]
            )
        ).first()
    )
    if pending is not None:
        return  # the pending card or edit renders the state at send time
    card = session.exec(select(Outbox).where(Outbox.dedupe_key == f"card:{claim.id}")).first()
    if card is None or card.status in (OutboxStatus.FAILED, OutboxStatus.DROPPED, OutboxStatus.IN_DOUBT):
        return  # no card message to edit; /queue still shows the claim
    outbox.enqueue(
        session,
        dedupe_key=f"card_edit:{claim.id}:{uuid.uuid4().hex[:12]}",
        kind="card_edit",
        chat_id=card.chat_id,
        claim_id=claim.id,
    )
