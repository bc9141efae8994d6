"""The outbox: messages we owe people, written in the same transaction as the act that owes them.

A row moves pending → sending → sent. `sending` is committed *before* the message is handed to
Telegram, so a worker that dies mid-send leaves a row we know is in doubt; such rows are never
sent again (a doubled notice is the failure people notice), they are counted for admins. Rows a
worker had not started are simply pending, and any worker picks them up after a crash.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, update
from sqlmodel import Session, col, select

from factdb.models import Citizen, Outbox, OutboxStatus, utcnow

MAX_ATTEMPTS = 8


@dataclass(frozen=True)
class Job:
    id: int
    kind: str
    chat_id: int
    citizen_id: int | None
    claim_id: int | None
    clarification_id: int | None
    payload: dict[str, Any]
    attempts: int


def enqueue(
    session: Session,
    *,
    dedupe_key: str,
    kind: str,
    chat_id: int,
    citizen_id: int | None = None,
    claim_id: int | None = None,
    clarification_id: int | None = None,
    payload: dict[str, Any] | None = None,
) -> bool:
    """Add a row unless one with the same key exists; True when added."""
    if session.exec(select(Outbox.id).where(Outbox.dedupe_key == dedupe_key)).first() is not None:
        return False
    session.add(
        Outbox(
            dedupe_key=dedupe_key,
            kind=kind,
            chat_id=chat_id,
            citizen_id=citizen_id,
            claim_id=claim_id,
            clarification_id=clarification_id,
            payload=json.dumps(payload or {}, ensure_ascii=False),
        )
    )
    return True


def claim_next(
    session: Session,
    worker: str,
    *,
    is_postgres: bool,
    skip_chats: Iterable[int] = (),
    batch: int = 1,
    now: datetime | None = None,
) -> list[Job]:
    """Take due rows and mark them `sending`, committing before anything is sent.

    On PostgreSQL `FOR UPDATE SKIP LOCKED` lets several workers take disjoint rows; SQLite has a
    single writer, so the select-then-update below is already exclusive there. `now` is the
    delivery loop's clock (tests freeze it to see a backoff without racing the machine).
    """
    now = now or utcnow()
    query = (
        select(Outbox)
        .where(Outbox.status == OutboxStatus.PENDING, col(Outbox.next_attempt_at) <= now)
        .order_by(col(Outbox.next_attempt_at), col(Outbox.id))
        .limit(batch)
    )
    skip = list(skip_chats)
    if skip:
        query = query.where(col(Outbox.chat_id).not_in(skip))
    if is_postgres:
        query = query.with_for_update(skip_locked=True)
    rows = session.exec(query).all()
    jobs: list[Job] = []
    for row in rows:
        # Conditional on the row still being pending: on SQLite two workers can read the same
        # row before either writes, and only one of them may win it.
        won = session.execute(
            update(Outbox)
            .where(col(Outbox.id) == row.id, col(Outbox.status) == OutboxStatus.PENDING)
            .values(status=OutboxStatus.SENDING, locked_by=worker, locked_at=now, attempts=row.attempts + 1)
        )
        if not won.rowcount:  # type: ignore[attr-defined]
            continue
        jobs.append(
            Job(
                row.id,
                row.kind,
                row.chat_id,
                row.citizen_id,
                row.claim_id,
                row.clarification_id,  # type: ignore[arg-type]
                json.loads(row.payload or "{}"),
                row.attempts + 1,
            )
        )
    session.commit()
    return jobs


def mark_sent(session: Session, job_id: int, message_id: int | None) -> None:
    row = session.get(Outbox, job_id)
    if row is not None:
        row.status, row.sent_at, row.telegram_message_id = OutboxStatus.SENT, utcnow(), message_id
        row.locked_by = None
        session.add(row)
    session.commit()


def mark_retry(
    session: Session, job_id: int, error: str, delay: float | None = None, now: datetime | None = None
) -> None:
    """Back off and try again later: 5xx, timeouts, network errors, 429."""
    row = session.get(Outbox, job_id)
    if row is None:
        return
    if delay is None:
        if row.attempts >= MAX_ATTEMPTS:
            row.status = OutboxStatus.FAILED
        delay = min(2**row.attempts, 600) * (0.5 + random.random())
    if row.status != OutboxStatus.FAILED:
        row.status = OutboxStatus.PENDING
        row.next_attempt_at = (now or utcnow()) + timedelta(seconds=delay)
    row.last_error, row.locked_by = error[:500], None
    session.add(row)
    session.commit()


def mark_failed(session: Session, job_id: int, error: str) -> None:
    """A permanent error (e.g. 400 chat not found): retrying cannot help."""
    row = session.get(Outbox, job_id)
    if row is not None:
        row.status, row.last_error, row.locked_by = OutboxStatus.FAILED, error[:500], None
        session.add(row)
    session.commit()


def mark_blocked(session: Session, job_id: int, citizen_id: int | None, chat_id: int) -> int:
    """403: the person blocked the bot. Stop sending them anything, now and later."""
    row = session.get(Outbox, job_id)
    if row is not None:
        row.status, row.last_error, row.locked_by = OutboxStatus.DROPPED, "blocked by the user", None
        session.add(row)
    if citizen_id is not None:
        citizen = session.get(Citizen, citizen_id)
        if citizen is not None:
            citizen.blocked_bot = True
            session.add(citizen)
    result = session.execute(
        update(Outbox)
        .where(col(Outbox.chat_id) == chat_id, col(Outbox.status) == OutboxStatus.PENDING)
        .values(status=OutboxStatus.DROPPED, last_error="blocked by the user")
    )
    session.commit()
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def sweep_in_doubt(session: Session, lease: timedelta) -> int:
    """Rows left `sending` longer than any send can take belonged to a worker that died."""
    result = session.execute(
        update(Outbox)
        .where(col(Outbox.status) == OutboxStatus.SENDING, col(Outbox.locked_at) < utcnow() - lease)
        .values(status=OutboxStatus.IN_DOUBT, last_error="worker stopped during the send")
    )
    session.commit()
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def backlog(session: Session) -> dict[str, int]:
    rows = session.exec(select(Outbox.status, func.count()).group_by(Outbox.status)).all()
    return {status: int(n) for status, n in rows}
