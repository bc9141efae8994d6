"""Who may act: active reviewers in the database, plus the admins named in configuration."""

from __future__ import annotations

from collections.abc import Collection

from sqlmodel import Session, col, select

from factdb import audit, locks
from factdb.models import Reviewer, SeenUser, utcnow


def is_reviewer(session: Session, user_id: int, admin_ids: Collection[int]) -> bool:
    if user_id in admin_ids:
        return True
    reviewer = session.get(Reviewer, user_id)
    return reviewer is not None and reviewer.active


def is_admin(session: Session, user_id: int, admin_ids: Collection[int]) -> bool:
    if user_id in admin_ids:
        return True
    reviewer = session.get(Reviewer, user_id)
    return reviewer is not None and reviewer.active and reviewer.role == "admin"


def add(
    session: Session,
    user_id: int,
    *,
    name: str | None = None,
    username: str | None = None,
    role: str = "reviewer",
    added_by: int | None = None,
) -> Reviewer:
    reviewer = session.get(Reviewer, user_id)
    seen = session.get(SeenUser, user_id)
    if reviewer is None:
        reviewer = Reviewer(telegram_user_id=user_id, role=role, added_by=added_by)
    reviewer.active = True
    reviewer.role = role
    reviewer.name = name or reviewer.name or (seen.name if seen else None)
    reviewer.username = username or reviewer.username or (seen.username if seen else None)
    session.add(reviewer)
    audit.record(session, added_by, "reviewer_add", None, None, user_id)
    return reviewer


def remove(session: Session, user_id: int, *, removed_by: int | None = None) -> bool:
    reviewer = session.get(Reviewer, user_id)
    if reviewer is None or not reviewer.active:
        return False
    reviewer.active = False
    session.add(reviewer)
    audit.record(session, removed_by, "reviewer_remove", None, user_id, None)
    # Claims they were writing go back to the queue: nobody else could take them otherwise.
    locks.release_all(session, user_id, actor_id=removed_by, reason="reviewer removed")
    return True


def list_active(session: Session) -> list[Reviewer]:
    return list(
        session.exec(select(Reviewer).where(col(Reviewer.active)).order_by(Reviewer.telegram_user_id)).all()
    )


def display_name(session: Session, user_id: int) -> str:
    reviewer = session.get(Reviewer, user_id)
    if reviewer and (reviewer.name or reviewer.username):
        return reviewer.name or f"@{reviewer.username}"
    seen = session.get(SeenUser, user_id)
    if seen and (seen.name or seen.username):
        return seen.name or f"@{seen.username}"
    return f"reviewer {user_id}"


def remember_user(session: Session, user_id: int, username: str | None, name: str | None) -> None:
    seen = session.get(SeenUser, user_id) or SeenUser(telegram_user_id=user_id)
    seen.username = username.lower() if username else None
    seen.name = name
    seen.seen_at = utcnow()
    session.add(seen)


def find_by_username(session: Session, username: str) -> int | None:
    username = username.lstrip("@").lower()
    seen = session.exec(select(SeenUser).where(SeenUser.username == username)).first()
    return seen.telegram_user_id if seen else None
