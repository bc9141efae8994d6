"""The right to be forgotten: /forget, an admin's /erase and `crowdcheck citizens erase` delete
everything that ties a person to us (SECURITY.md, "Erase means erased")."""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import delete, or_, update
from sqlmodel import Session, col, select

from factdb import audit, cards, citizens
from factdb.media.pictures import Picture, erase_citizen_pictures
from factdb.models import (
    AuditLog,
    Claim,
    ClaimStatus,
    Clarification,
    Draft,
    Feedback,
    MatchLog,
    Outbox,
    RateEvent,
    Request,
    SeenUser,
    Subscription,
)
from factdb.reach_models import ChannelPost, ClaimReach, DigestSubscriber, GroupAnswer

# What in a request they leave behind (as an anonymous count on a kept claim) could name them.
_NAMING = ("citizen_id", "text", "update_id", "forward_type", "forward_from", "forward_date")


@dataclass(frozen=True)
class Forgotten:
    """What /forget (or an admin's erase) did, in counts only: fit for an audit line."""

    claims_deleted: int
    claims_kept: int


def erase(
    session: Session, telegram_user_id: int, *, admin_id: int | None = None, audited: bool = False
) -> Forgotten | None:
    """`forget`, and with `audited` (an admin or the shell asked) an audit line of counts only:
    the audit log must not become the place where the person is remembered."""
    result = forget(session, telegram_user_id)
    if audited:
        what = (
            f"{result.claims_deleted} claims deleted, {result.claims_kept} kept" if result else "nothing held"
        )
        audit.record(session, admin_id, "erase_citizen", None, None, what)
    return result


def forget(session: Session, telegram_user_id: int) -> Forgotten | None:
    """Delete everything that ties a person to us; None when we hold nothing about them.

    A claim only they asked about, that no reviewer has touched and no partner supplied, goes
    with them (through the ORM: the change-feed trigger records the deletion, so every worker's
    match index drops it). Any other claim is the public record or someone else's question: it
    stays, and only their link to it goes; where its text was their message and no reviewer
    has worked on it, it takes another requester's wording instead. Their requests on kept
    claims stay as anonymous counts, without their text, forward or update id.

    What the database engine keeps of deleted rows is the caller's to clear (`Database.
    checkpoint` on SQLite; SECURITY.md on PostgreSQL), as are the raw updates in the inbox.
    """
    citizen = citizens.get(session, telegram_user_id)
    if citizen is None:
        return None
    cid = citizen.id
    assert cid is not None
    # Their pictures first (a claim deleted below must have none left), and their messages in
    # the moderators' group with them.
    cards.take_down_pictures(session, erase_citizen_pictures(session, cid))
    mine = session.exec(select(Request).where(Request.citizen_id == cid)).all()
    claim_ids = sorted({r.claim_id for r in mine if r.claim_id is not None})
    deleted = kept = 0
    for claim_id in claim_ids:
        claim = session.get(Claim, claim_id)
        if claim is None:
            continue
        if _touched_by_reviewers(session, claim):
            kept += 1
        elif _others_waiting(session, claim_id, cid):
            _reword_without(session, claim, [r for r in mine if r.claim_id == claim_id], cid)
            kept += 1
        else:
            _delete_claim(session, claim)
            deleted += 1
    # Requests still waiting for their choice among near matches belong to nobody else.
    pending = [r.id for r in mine if r.claim_id is None]
    if pending:
        session.execute(delete(MatchLog).where(col(MatchLog.request_id).in_(pending)))
        session.execute(delete(Request).where(col(Request.id).in_(pending)))
    session.execute(update(Request).where(col(Request.citizen_id) == cid).values(dict.fromkeys(_NAMING)))
    session.execute(delete(Subscription).where(col(Subscription.citizen_id) == cid))
    session.execute(delete(DigestSubscriber).where(col(DigestSubscriber.citizen_id) == cid))
    session.execute(update(Feedback).where(col(Feedback.citizen_id) == cid).values(citizen_id=None))
    session.execute(delete(RateEvent).where(col(RateEvent.citizen_id) == cid))
    # Deleted, not kept as dropped rows: their keys name our row id, which SQLite may hand to
    # the next new citizen, who must not find their notices already "sent".
    mine_out = col(Outbox.citizen_id) == cid
    if citizen.chat_id > 0:  # their private chat (never a group's negative id)
        mine_out = or_(mine_out, col(Outbox.chat_id) == citizen.chat_id)
    session.execute(delete(Outbox).where(mine_out))
    # a name and @username seen in the moderators' group, if they were ever there
    session.execute(delete(SeenUser).where(col(SeenUser.telegram_user_id) == telegram_user_id))
    session.delete(citizen)
    session.flush()
    return Forgotten(deleted, kept)


def _touched_by_reviewers(session: Session, claim: Claim) -> bool:
    """A reviewer or a partner has made the claim part of the record."""
    if (
        claim.status != ClaimStatus.NEW
        or claim.external_id is not None
        or claim.assignee_id is not None
        or claim.public_text is not None
        or claim.public_hidden
        or claim.published_at is not None
    ):
        return True
    return any(
        session.exec(query).first() is not None
        for query in (
            select(Clarification.id).where(Clarification.claim_id == claim.id),
            select(Draft.id).where(Draft.claim_id == claim.id),
            select(AuditLog.id).where(AuditLog.claim_id == claim.id),
            select(Claim.id).where(Claim.merged_into_id == claim.id),
        )
    )


def _others_waiting(session: Session, claim_id: int, cid: int) -> bool:
    """Someone else (not forgotten) asked about the claim or follows it."""
    asked = select(Request.id).where(
        Request.claim_id == claim_id, col(Request.citizen_id).is_not(None), Request.citizen_id != cid
    )
    follows = select(Subscription.id).where(Subscription.claim_id == claim_id, Subscription.citizen_id != cid)
    return session.exec(asked).first() is not None or session.exec(follows).first() is not None


def _reword_without(session: Session, claim: Claim, theirs: list[Request], cid: int) -> None:
    """The claim stays for others: if it reads as this person's message, let it read as the
    next requester's own (no reviewer has adopted the wording yet)."""
    if claim.text not in {r.text for r in theirs if r.text}:
        return
    heir = session.exec(
        select(Request)
        .where(
            Request.claim_id == claim.id,
            col(Request.citizen_id).is_not(None),
            Request.citizen_id != cid,
            col(Request.text).is_not(None),
        )
        .order_by(col(Request.id))
    ).first()
    if heir is None or heir.text is None:
        return
    claim.text = heir.text  # `normalized` follows (models.py); the change feed re-indexes it
    claim.lang = heir.lang or claim.lang
    claim.provenance = _provenance(heir)
    session.add(claim)
    session.flush()
    cards.refresh(session, claim)  # the moderators' card shows the wording it now has


def _provenance(request: Request) -> str | None:
    if not request.forward_type:
        return None
    return json.dumps(
        {
            "type": request.forward_type,
            "from": request.forward_from,
            "date": request.forward_date.isoformat() if request.forward_date else None,
        },
        ensure_ascii=False,
    )


def _delete_claim(session: Session, claim: Claim) -> None:
    """A claim nobody else asked about and nobody reviewed: it and all that hangs on it."""
    requests = select(Request.id).where(Request.claim_id == claim.id)
    session.execute(delete(MatchLog).where(col(MatchLog.request_id).in_(requests)))
    session.execute(delete(Feedback).where(col(Feedback.claim_id) == claim.id))
    session.execute(delete(Subscription).where(col(Subscription.claim_id) == claim.id))
    for table in (ChannelPost, ClaimReach, GroupAnswer):  # never published, so normally none
        session.execute(delete(table).where(col(table.claim_id) == claim.id))
    pictures = list(session.exec(select(Picture.id).where(Picture.claim_id == claim.id)).all())
    cards.take_down_pictures(session, [pid for pid in pictures if pid is not None])
    session.execute(delete(Picture).where(col(Picture.claim_id) == claim.id))
    session.execute(delete(Outbox).where(col(Outbox.claim_id) == claim.id))  # its card, card edits
    if claim.card_chat_id is not None and claim.card_message_id is not None:
        # The card posted to the moderators quotes the text: take it down too.
        cards.take_down(session, claim.card_chat_id, claim.card_message_id)
    session.execute(delete(Request).where(col(Request.claim_id) == claim.id))
    session.delete(claim)
    session.flush()
