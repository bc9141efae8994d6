"""Who did what to which claim, when, old → new. Written in the same transaction as the act."""

from __future__ import annotations

from sqlmodel import Session, col, select

from factdb.models import AuditLog


def record(
    session: Session,
    actor_id: int | None,
    action: str,
    claim_id: int | None = None,
    old: object = None,
    new: object = None,
) -> None:
    session.add(
        AuditLog(
            actor_id=actor_id,
            action=action,
            claim_id=claim_id,
            old=None if old is None else str(old),
            new=None if new is None else str(new),
        )
    )


def history(session: Session, claim_id: int, limit: int = 20) -> list[AuditLog]:
    rows = session.exec(
        select(AuditLog).where(AuditLog.claim_id == claim_id).order_by(col(AuditLog.id).desc()).limit(limit)
    ).all()
    return list(reversed(rows))
