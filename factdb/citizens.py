"""Citizens: who they are to us (a chat, a language, what they follow). Forgetting them is
factdb/forgetting.py."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, exists, or_, update
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, select

from factdb.merges import current_claim
from factdb.models import (
    Citizen,
    Claim,
    Outbox,
    OutboxKind,
    OutboxStatus,
    RateEvent,
    Request,
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
