"""Citizens: who they are to us (a chat, a language) and the right to be forgotten."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, exists, or_, update
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, select

from factdb import audit, cards
from factdb.media.pictures import Picture, erase_citizen_pictures
from factdb.merges import current_claim
from factdb.models import (
    AuditLog,
    ChannelPost,
    Citizen,
    Claim,
    ClaimReach,
    ClaimStatus,
    Clarification,
    DigestSubscriber,
    Draft,
    Feedback,
    GroupAnswer,
    MatchLog,
    Outbox,
    OutboxKind,
    OutboxStatus,
    RateEvent,
    Request,
    SeenUser,
    Subscription,
    utcnow,
)


def get(session: Session, telegram_user_id: int) -> Citizen | None:
    return session.exec(select(Citizen).where(Citizen.telegram_user_id == telegram_user_id)).first()


def chosen_language(session: Session, telegram_user_id: int) -> str | None:
    """The language the person chose (or we settled on) for them; None when we know none."""
    citizen = get(session, telegram_user_id)
    return citizen.lang if citizen and citizen.lang else None


def get_or_create(
    session: Session, telegram_user_id: int, chat_id: int, telegram_lang: str | None = None
) -> Citizen:
    citizen = get(session, telegram_user_id)
    if citizen is None:
        citizen = Citizen(telegram_user_id=telegram_user_id, chat_id=chat_id)
        if telegram_lang:
            citizen.lang, citizen.lang_source = telegram_lang, "telegram"
    elif citizen.blocked_bot:
        citizen.blocked_bot = False  # they wrote to us, so they unblocked the bot
    citizen.telegram_lang = telegram_lang or citizen.telegram_lang
    citizen.chat_id = chat_id
    session.add(citizen)
    session.flush()
    return citizen


def choose_language(session: Session, citizen: Citizen, lang: str) -> None:
    citizen.lang, citizen.lang_source = lang, "chosen"
    session.add(citizen)


def learn_language(session: Session, citizen: Citizen, detected: str | None) -> None:
    """A detected language replaces Telegram's guess, never the citizen's own choice."""
    if detected and citizen.lang_source != "chosen":
        citizen.lang, citizen.lang_source = detected, "detected"
        session.add(citizen)


def subscribe(session: Session, citizen: Citizen, claim_id: int, *, told: bool = False) -> None:
    """Subscribe to a claim's outcome; `told`: they have just been shown its clarification."""
    sub = session.exec(
        select(Subscription).where(Subscription.citizen_id == citizen.id, Subscription.claim_id == claim_id)
    ).first()
    if sub is None:
        sub = Subscription(citizen_id=citizen.id, claim_id=claim_id)  # type: ignore[arg-type]
    sub.active = True
    if told:
        sub.told_at = utcnow()
    session.add(sub)


def mark_told(session: Session, citizen_id: int, claim_id: int) -> None:
    sub = session.exec(
        select(Subscription).where(Subscription.citizen_id == citizen_id, Subscription.claim_id == claim_id)
    ).first()
    if sub is not None:
        sub.told_at = utcnow()
        session.add(sub)


# An answer handed to Telegram counts as told even before its `sent` row commits: a retraction
# or a changed verdict must also reach the people whose answer was on the wire, or in doubt.
_ANSWER_KINDS = (OutboxKind.NOTICE, OutboxKind.UPDATE)
_ON_THE_WAY = (OutboxStatus.SENDING, OutboxStatus.SENT, OutboxStatus.IN_DOUBT)


def told_condition(claim_id: int) -> ColumnElement[bool]:
    """SQL: the subscriber (joined as Citizen/Subscription) may have read an answer on this claim."""
    answered = exists().where(
        col(Outbox.citizen_id) == col(Citizen.id),
        col(Outbox.claim_id) == claim_id,
        col(Outbox.kind).in_(_ANSWER_KINDS),
        col(Outbox.status).in_(_ON_THE_WAY),
    )
    return or_(col(Subscription.told_at).is_not(None), answered)


def latest_request(session: Session, citizen_id: int, claim_id: int) -> int | None:
    """The citizen's last request about this claim: where the buttons under its answer point."""
    return session.exec(
        select(Request.id)
        .where(Request.citizen_id == citizen_id, Request.claim_id == claim_id)
        .order_by(col(Request.id).desc())
    ).first()


def was_told(session: Session, citizen_id: int, claim_id: int) -> bool:
    return (
        session.exec(
            select(Citizen.id)
            .join(Subscription, col(Subscription.citizen_id) == col(Citizen.id))
            .where(Citizen.id == citizen_id, Subscription.claim_id == claim_id, told_condition(claim_id))
        ).first()
        is not None
    )


def unsubscribe_all(session: Session, citizen: Citizen) -> int:
    result = session.execute(
        update(Subscription)
        .where(col(Subscription.citizen_id) == citizen.id, col(Subscription.active))
        .values(active=False)
    )
    session.execute(
        update(Outbox)
        .where(col(Outbox.citizen_id) == citizen.id, col(Outbox.status) == OutboxStatus.PENDING)
        .values(status=OutboxStatus.DROPPED, last_error="unsubscribed")
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


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
    citizen = get(session, telegram_user_id)
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
    session.execute(
        update(Request)
        .where(col(Request.citizen_id) == cid)
        .values(
            citizen_id=None,
            text=None,
            update_id=None,
            forward_type=None,
            forward_from=None,
            forward_date=None,
        )
    )
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


@dataclass(frozen=True)
class MyCheck:
    claim_id: int
    excerpt: str
    status: str
    asked_at: datetime


def my_checks(session: Session, citizen: Citizen, limit: int = 10) -> list[MyCheck]:
    rows = session.exec(
        select(Request, Claim)
        .join(Claim, col(Claim.id) == col(Request.claim_id))
        .where(Request.citizen_id == citizen.id)
        .order_by(col(Request.id).desc())
        .limit(limit * 3)
    ).all()
    seen: set[int] = set()
    checks: list[MyCheck] = []
    for request, claim in rows:
        target = current_claim(session, claim)  # show where a merged claim went
        if target.id in seen:
            continue
        seen.add(target.id)  # type: ignore[arg-type]
        checks.append(MyCheck(target.id, target.text, target.status, request.created_at))  # type: ignore[arg-type]
        if len(checks) == limit:
            break
    return checks


def block(session: Session, citizen_id: int) -> bool:
    """A reviewer stops a citizen's submissions (a troll, a spammer). Refers to our own row id:
    reviewers never learn who the person is."""
    citizen = session.get(Citizen, citizen_id)
    if citizen is None:
        return False
    citizen.blocked_by_reviewer = True
    session.add(citizen)
    return True


def unblock(session: Session, citizen_id: int) -> bool:
    """Lift a reviewer's block and a flood quarantine alike."""
    citizen = session.get(Citizen, citizen_id)
    if citizen is None:
        return False
    citizen.blocked_by_reviewer = False
    citizen.quarantined = False
    session.add(citizen)
    session.execute(delete(RateEvent).where(col(RateEvent.citizen_id) == citizen_id))
    return True


def held(session: Session) -> list[Citizen]:
    """Citizens whose messages we are not taking: quarantined by the flood limit or blocked."""
    return list(
        session.exec(
            select(Citizen)
            .where(col(Citizen.quarantined) | col(Citizen.blocked_by_reviewer))
            .order_by(col(Citizen.id))
        ).all()
    )


def requesters(session: Session, claim_id: int) -> list[int]:
    """Our row ids of the citizens who sent a claim (for blocking the source of spam)."""
    return [
        cid
        for cid in session.exec(
            select(Request.citizen_id).where(Request.claim_id == claim_id).distinct()
        ).all()
        if cid is not None
    ]
