"""Claim cards in the moderators' group go through the outbox, paced like every bulk message."""

from __future__ import annotations

import uuid

from sqlalchemy import update
from sqlmodel import Session, col, select

from factdb import outbox
from factdb.media.pictures import Picture
from factdb.models import OPEN_STATUSES, Claim, Outbox, OutboxKind, OutboxStatus, utcnow

# Cards waiting for the moderators' group (Telegram lets a bot post 20 a minute there) at which
# they are sent as one digest instead: in a surge, a wall of cards minutes behind the news
# helps nobody, a short list of the most asked with Take buttons does.
DIGEST_AFTER = 5


def post(session: Session, claim: Claim, review_chat_id: int | None) -> None:
    if review_chat_id is None or claim.id is None:
        return
    outbox.enqueue(
        session,
        dedupe_key=f"card:{claim.id}",
        kind=OutboxKind.CARD,
        chat_id=review_chat_id,
        claim_id=claim.id,
    )


def post_picture(session: Session, claim: Claim, review_chat_id: int | None) -> None:
    """Show reviewers the claim's first picture, under its card, once. (Later copies are
    recognised by hash and need no reviewer; a merged claim keeps its own picture message.)"""
    if review_chat_id is None or claim.id is None:
        return
    first = session.exec(
        select(Picture.id).where(Picture.claim_id == claim.id).order_by(col(Picture.id))
    ).first()
    if first is None:
        return
    outbox.enqueue(
        session,
        dedupe_key=f"picture:{first}",
        kind=OutboxKind.PICTURE,
        chat_id=review_chat_id,
        claim_id=claim.id,
        payload={"picture_id": first},
    )


def take_down_pictures(session: Session, picture_ids: list[int]) -> None:
    """Erased pictures leave the moderators' group too: a message posted is deleted, one not
    yet sent is never sent."""
    if not picture_ids:
        return
    # Held until this transaction ends: a sender finishing the same row waits, then finds the
    # picture gone and takes its message down itself (bot/delivery.py `_finish`).
    rows = session.exec(
        select(Outbox)
        .where(col(Outbox.dedupe_key).in_([f"picture:{pid}" for pid in picture_ids]))
        .with_for_update()
    ).all()
    for row in rows:
        if row.telegram_message_id is not None:
            take_down(session, row.chat_id, row.telegram_message_id)
        session.delete(row)


def take_down(session: Session, chat_id: int, message_id: int) -> None:
    """Delete a message the bot posted in the moderators' group (for an erased claim or picture)."""
    outbox.enqueue(
        session,
        dedupe_key=f"card_delete:{chat_id}:{message_id}",
        kind=OutboxKind.CARD_DELETE,
        chat_id=chat_id,
        payload={"message_id": message_id},
    )


def refresh(session: Session, claim: Claim) -> None:
    """Ask for the card to be edited to the claim's current state (coalesced: one pending edit).

    Only a pending row covers the change: it is rendered when it is sent. A row on its way was
    rendered before, so it does not count.
    """
    if claim.id is None:
        return
    pending = session.exec(
        select(Outbox.id).where(
            Outbox.claim_id == claim.id,
            Outbox.status == OutboxStatus.PENDING,
            Outbox.kind.in_([OutboxKind.CARD, OutboxKind.CARD_EDIT]),  # type: ignore[attr-defined]
        )
    ).first()
    if pending is not None:
        return  # the pending card or edit renders the state at send time
    card = session.exec(select(Outbox).where(Outbox.dedupe_key == f"card:{claim.id}")).first()
    if (
        card is None
        or card.kind != OutboxKind.CARD
        or card.status in (OutboxStatus.FAILED, OutboxStatus.DROPPED, OutboxStatus.IN_DOUBT)
    ):
        return  # no card message to edit; /queue still shows the claim
    outbox.enqueue(
        session,
        dedupe_key=f"card_edit:{claim.id}:{uuid.uuid4().hex[:12]}",
        kind=OutboxKind.CARD_EDIT,
        chat_id=card.chat_id,
        claim_id=claim.id,
    )


def collapse(
    session: Session, job_id: int, claim_id: int, chat_id: int, *, at_least: int = DIGEST_AFTER
) -> list[Claim]:
    """If `at_least` cards (this one included) are due for the chat, fold them into a digest.

    The other cards are dropped and this job's row becomes the digest, so no card edit is ever
    owed for them (see `refresh`); returns the open claims, most asked first, or [] to post the
    card as usual.
    """
    waiting = session.exec(
        select(Outbox).where(
            Outbox.chat_id == chat_id,
            Outbox.kind == OutboxKind.CARD,
            Outbox.status == OutboxStatus.PENDING,
            col(Outbox.next_attempt_at) <= utcnow(),
        )
    ).all()
    if len(waiting) + 1 < at_least:
        return []
    open_claims = select(Claim.id).where(col(Claim.status).in_(OPEN_STATUSES))
    # RETURNING: only the rows this call dropped; a card another sender took meanwhile is its.
    dropped = (
        session.execute(
            update(Outbox)
            .where(
                col(Outbox.id).in_([row.id for row in waiting]),
                col(Outbox.status) == OutboxStatus.PENDING,
                col(Outbox.claim_id).in_(open_claims),
            )
            .values(status=OutboxStatus.DROPPED, last_error="sent as part of a digest")
            .returning(col(Outbox.claim_id))
        )
        .scalars()
        .all()
    )
    if len(dropped) + 1 < at_least:
        session.rollback()
        return []
    session.execute(update(Outbox).where(col(Outbox.id) == job_id).values(kind=OutboxKind.DIGEST))
    claims = session.exec(select(Claim).where(col(Claim.id).in_([*dropped, claim_id]))).all()
    session.commit()
    return sorted(claims, key=lambda c: (-c.request_count, c.id))
