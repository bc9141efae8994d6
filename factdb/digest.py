"""The weekly digest: the most asked published clarifications, sent to citizens who /subscribe.

A digest is one outbox row per subscriber and ISO week (dedupe key `weekly:<week>:<citizen>`),
so two workers, or a restart in the middle of a round, never send anyone two digests in a week;
the paced outbox keeps the round within Telegram's limits. What it lists is chosen when the round
is queued (claim ids in the payload) and rendered when sent, in the subscriber's language.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, update
from sqlmodel import Session, col, select

from factdb import clarifications, outbox
from factdb.models import Citizen, Claim, ClaimStatus, OutboxKind, Request
from factdb.reach_models import DigestSubscriber

ITEMS = 5
WEEK = timedelta(days=7)
KIND = OutboxKind.WEEKLY


def iso_week(now: datetime) -> str:
    year, week, _ = now.isocalendar()
    return f"{year}-W{week:02d}"


def subscribe(session: Session, citizen: Citizen, now: datetime | None = None) -> bool:
    """True when the citizen was not subscribed before (so the reply can say "you will get…").
    With `now`, the first digest is next week's: this week's round may already be out, and a
    digest straight after /subscribe would only repeat what they just read."""
    row = session.get(DigestSubscriber, citizen.id)
    if row is not None and row.active:
        return False
    row = row or DigestSubscriber(citizen_id=citizen.id)  # type: ignore[arg-type]
    row.active = True
    if now is not None:
        row.last_week = iso_week(now)
    session.add(row)
    return True


def unsubscribe(session: Session, citizen_id: int) -> bool:
    """True when the citizen was subscribed. Also what a 403 (the bot was blocked) calls."""
    changed = session.execute(
        update(DigestSubscriber)
        .where(col(DigestSubscriber.citizen_id) == citizen_id, col(DigestSubscriber.active))
        .values(active=False)
    )
    return bool(changed.rowcount)  # type: ignore[attr-defined]


def is_subscribed(session: Session, citizen_id: int) -> bool:
    row = session.get(DigestSubscriber, citizen_id)
    return row is not None and row.active


@dataclass(frozen=True)
class DigestItem:
    claim_id: int
    asked: int  # requests in the week
    translated: bool  # a clarification exists in the subscriber's language


def items_for(session: Session, lang: str | None, now: datetime, limit: int = ITEMS) -> list[DigestItem]:
    """The week's most asked published claims, those with a clarification in `lang` first.

    Claims published this week that nobody asked about yet fill the list when the week was
    quiet: a digest is also how people hear of new clarifications.
    """
    since = now - WEEK
    asked = session.exec(
        select(Request.claim_id, func.count())
        .join(Claim, col(Claim.id) == col(Request.claim_id))
        .where(Claim.status == ClaimStatus.PUBLISHED, col(Request.created_at) >= since)
        .group_by(col(Request.claim_id))
        .order_by(func.count().desc(), col(Request.claim_id).desc())
        .limit(limit * 4)
    ).all()
    counts: dict[int, int] = {int(cid): int(n) for cid, n in asked if cid is not None}
    if len(counts) < limit * 4:
        fresh = session.exec(
            select(Claim.id)
            .where(Claim.status == ClaimStatus.PUBLISHED, col(Claim.published_at) >= since)
            .order_by(col(Claim.published_at).desc())
            .limit(limit * 4)
        ).all()
        for cid in fresh:
            counts.setdefault(int(cid), 0)  # type: ignore[arg-type]
    items = []
    for cid, n in counts.items():
        chosen = clarifications.for_language(session, cid, lang)
        if chosen is not None:
            items.append(DigestItem(cid, n, chosen.translated))
    items.sort(key=lambda i: (not i.translated, -i.asked))
    return items[:limit]


def queue_round(session: Session, now: datetime) -> int:
    """Queue this week's digest for every active subscriber who has not had it; returns how many.

    Citizens who blocked the bot are unsubscribed, those reviewers blocked skipped; the list is worked out
    once per language. Safe to call as often as a scheduler likes: the week stamp and the
    outbox's dedupe key make a second call a no-op.
    """
    week = iso_week(now)
    rows: Sequence[tuple[DigestSubscriber, Citizen]] = session.exec(
        select(DigestSubscriber, Citizen)
        .join(Citizen, col(Citizen.id) == col(DigestSubscriber.citizen_id))
        .where(col(DigestSubscriber.active))
        .where((col(DigestSubscriber.last_week).is_(None)) | (col(DigestSubscriber.last_week) != week))
        .where(~col(Citizen.blocked_by_reviewer))
    ).all()
    by_lang: dict[str | None, list[DigestItem]] = {}
    queued = 0
    for sub, citizen in rows:
        if citizen.blocked_bot:  # they blocked the bot (403 or my_chat_member): unsubscribed
            sub.active = False
            session.add(sub)
            continue
        if citizen.lang not in by_lang:
            by_lang[citizen.lang] = items_for(session, citizen.lang, now)
        items = by_lang[citizen.lang]
        sub.last_week = week
        session.add(sub)
        if not items:
            continue  # nothing published yet: no empty digest
        queued += outbox.enqueue(
            session,
            dedupe_key=f"{KIND}:{week}:{citizen.id}",
            kind=KIND,
            chat_id=citizen.chat_id,
            citizen_id=citizen.id,
            payload={"week": week, "claims": [i.claim_id for i in items]},
        )
    return queued


def due(now: datetime, weekday: int, hour: int) -> bool:
    """Whether this ISO week's digest time (ISO `weekday`, 1 = Monday, at `hour` UTC) has come.
    A scheduler may ask at any moment: `queue_round` sends each subscriber one per week."""
    return (now.isoweekday(), now.hour) >= (weekday, hour)
