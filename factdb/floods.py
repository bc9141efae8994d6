"""The one flood and block check for whatever a citizen sends: a message, a command, a button."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func
from sqlalchemy import text as sql
from sqlmodel import Session, col, select

from factdb import citizens
from factdb.intake import IntakeResult, Outcome
from factdb.models import Citizen, RateEvent, utcnow


@dataclass(frozen=True)
class Limits:
    per_minute: int = 10
    per_day: int = 200


def admit(
    session: Session,
    user_id: int,
    chat_id: int,
    telegram_lang: str | None,
    limits: Limits,
) -> IntakeResult | None:
    """The one flood and block check for whatever a citizen sends us: a message, a command, a
    button press. None: go ahead. Otherwise the update is not handled; "slow_down" and
    "quarantined" are said once, "ignored" is silence. (/forget never comes here: the right to
    be forgotten holds for a blocked citizen too.)
    """
    postgres = session.get_bind().dialect.name == "postgresql"
    if postgres:
        # Every update passes here, and a disk flush per update would double what a message
        # costs. What this transaction writes (a rate event, at most a new citizen row or the
        # quarantine flag) may be lost in a crash at no harm: it is counted again next time.
        session.execute(sql("SET LOCAL synchronous_commit TO OFF"))
    citizen = citizens.get_or_create(session, user_id, chat_id, telegram_lang)
    if postgres:
        # Several workers may handle one citizen's flood side by side: counted one at a time,
        # two cannot both read "nine this minute" and both let a tenth in. (SQLite runs one
        # worker, whose per-chat lanes already take one citizen's updates one at a time.)
        session.exec(select(Citizen.id).where(Citizen.id == citizen.id).with_for_update())
    held = _flood_check(session, citizen, limits)
    return IntakeResult(held, lang=citizen.lang, citizen_id=citizen.id) if held else None


def _flood_check(session: Session, citizen: Citizen, limits: Limits) -> Outcome | None:
    now = utcnow()
    if citizen.blocked_by_reviewer or citizen.quarantined:
        return "ignored"
    last_minute = session.exec(
        select(func.count())
        .select_from(RateEvent)
        .where(RateEvent.citizen_id == citizen.id, col(RateEvent.at) > now - timedelta(minutes=1))
    ).one()
    last_day = session.exec(
        select(func.count())
        .select_from(RateEvent)
        .where(RateEvent.citizen_id == citizen.id, col(RateEvent.at) > now - timedelta(days=1))
    ).one()
    if last_minute > limits.per_minute:
        return "ignored"  # told already; writing nothing keeps a flood cheap for everyone else
    session.add(RateEvent(citizen_id=citizen.id, at=now))  # type: ignore[arg-type]
    if last_day >= limits.per_day:
        citizen.quarantined = True
        session.add(citizen)
        return "quarantined"
    if last_minute == limits.per_minute:
        return "slow_down"  # told once, at the first update over the limit
    return None
