"""A public channel of clarifications: every publication posted, edits followed, retractions marked.

The channel is registered at start (`configure`, from CROWDCHECK_CHANNEL_ID) so that every
worker, and the review functions that know nothing of configuration, agree on it. A change to a
claim asks for the channel post to be brought up to date the way a reviewers' card is
(factdb/cards.py): one coalesced pending outbox row of kind `channel`, rendered from the claim's
state when it is sent. Sending posts the message the first time and edits it afterwards
(`ChannelPost` holds the message id); the outbox's at-most-once rule means a post is never
doubled, even when a worker dies mid-send.
"""

from __future__ import annotations

import uuid

from sqlalchemy import update
from sqlmodel import Session, col, select

from factdb import outbox
from factdb.models import Claim, ClaimStatus, Outbox, OutboxKind, OutboxStatus
from factdb.reach_models import ChannelPost, PublicChannel

KIND = OutboxKind.CHANNEL


def configure(session: Session, chat_id: int | None) -> None:
    """Make `chat_id` the one active channel (None: no channel). Posts already made stay linked
    to their channel, so a later edit still finds them."""
    session.execute(update(PublicChannel).where(col(PublicChannel.chat_id) != chat_id).values(active=False))
    if chat_id is not None:
        row = session.get(PublicChannel, chat_id) or PublicChannel(chat_id=chat_id)
        row.active = True
        session.add(row)


def active(session: Session) -> int | None:
    return session.exec(select(PublicChannel.chat_id).where(col(PublicChannel.active))).first()


def post_of(session: Session, claim_id: int, chat_id: int) -> ChannelPost | None:
    return session.get(ChannelPost, (claim_id, chat_id))


def refresh(session: Session, claim: Claim) -> bool:
    """Ask for the channel post of `claim` to match its state; True when a row was queued.

    Nothing is posted for a claim that was never published; a claim that was posted and then
    retracted, merged or marked spam gets its post edited to say so.
    """
    chat_id = active(session)
    if chat_id is None or claim.id is None:
        return False
    if claim.status != ClaimStatus.PUBLISHED and not _posted_or_posting(session, claim.id, chat_id):
        return False
    if _rows(session, claim.id, chat_id, [OutboxStatus.PENDING]):
        return False  # the pending row renders the state at send time
    return outbox.enqueue(
        session,
        dedupe_key=f"{KIND}:{chat_id}:{claim.id}:{uuid.uuid4().hex[:12]}",
        kind=KIND,
        chat_id=chat_id,
        claim_id=claim.id,
    )


def _posted_or_posting(session: Session, claim_id: int, chat_id: int) -> bool:
    """A post exists, or a row that will make one is on its way (a retraction seconds after a
    publication must still reach the post that is being sent)."""
    if post_of(session, claim_id, chat_id) is not None:
        return True
    return bool(
        _rows(session, claim_id, chat_id, [OutboxStatus.PENDING, OutboxStatus.SENDING, OutboxStatus.SENT])
    )


def _rows(
    session: Session, claim_id: int, chat_id: int, statuses: list[OutboxStatus], before: int | None = None
) -> list[str]:
    """The statuses of this claim's channel rows for `chat_id` that are in `statuses` (and
    older than row `before`, when given)."""
    query = select(Outbox.status).where(
        Outbox.claim_id == claim_id,
        Outbox.chat_id == chat_id,
        Outbox.kind == KIND,
        col(Outbox.status).in_(statuses),
    )
    if before is not None:
        query = query.where(col(Outbox.id) < before)
    return list(session.exec(query).all())


def record_post(session: Session, claim_id: int, chat_id: int, message_id: int) -> None:
    row = post_of(session, claim_id, chat_id) or ChannelPost(claim_id=claim_id, chat_id=chat_id)
    row.message_id = message_id
    session.add(row)


WAIT = -1  # `target`: the first post is on its way; try this edit again shortly
IN_DOUBT = -2  # `target`: the first post may or may not have gone out (a worker died sending it)


def target(session: Session, claim_id: int, chat_id: int, job_id: int) -> int | None:
    """Which message a channel row should edit: its message id, None to post anew, or WAIT /
    IN_DOUBT when an earlier row for the same claim is still being sent or was lost mid-send
    (posting again could double the post: the outbox never risks that)."""
    post = post_of(session, claim_id, chat_id)
    if post is not None and post.message_id is not None:
        return post.message_id
    earlier = _rows(session, claim_id, chat_id, [OutboxStatus.SENDING, OutboxStatus.IN_DOUBT], before=job_id)
    if OutboxStatus.IN_DOUBT in earlier:
        return IN_DOUBT
    return WAIT if earlier else None
