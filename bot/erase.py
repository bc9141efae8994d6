"""Erase means erased: /forget, an admin's /erase and `crowdcheck citizens erase` do the same.

The rows go (factdb.citizens.forget), then the raw updates that name the person go from the
inbox, then SQLite's write-ahead logs are emptied so no old page still holds what was deleted
(secure_delete zeroes it in the files themselves). PostgreSQL keeps dead row versions until
VACUUM reclaims them: SECURITY.md says what an operator does about that.
"""

from __future__ import annotations

import asyncio
import logging

from sqlmodel import Session

from bot.inbox import erase_user_from_inbox
from bot.services import Services
from factdb import audit, citizens
from factdb.db import Database

log = logging.getLogger(__name__)


def _forget(session: Session, user_id: int, admin_id: int | None, audited: bool) -> citizens.Forgotten | None:
    result = citizens.forget(session, user_id)
    if audited:
        # Counts only: the audit log must not become the place where the person is remembered.
        what = (
            f"{result.claims_deleted} claims deleted, {result.claims_kept} kept" if result else "nothing held"
        )
        audit.record(session, admin_id, "erase_citizen", None, None, what)
    return result


async def erase(
    svc: Services, user_id: int, *, admin_id: int | None = None, audited: bool = False
) -> citizens.Forgotten | None:
    """Forget `user_id` in the running bot. `audited`: an admin asked (an audit line, no data)."""
    result = await asyncio.to_thread(svc.db.transaction, lambda s: _forget(s, user_id, admin_id, audited))
    if svc.inbox is not None:  # the update that asked for this is one of the rows it removes
        await svc.inbox.erase_user(user_id)
    await asyncio.to_thread(svc.db.checkpoint)
    await asyncio.to_thread(_refresh_index, svc)  # a deleted claim is no longer matched here
    log.info("erased a citizen's data on request")
    return result


def erase_offline(db: Database, user_id: int, *, audited: bool = True) -> citizens.Forgotten | None:
    """The same from the shell, beside a running bot or not (its index catches up by itself)."""
    result = db.transaction(lambda s: _forget(s, user_id, None, audited))
    erase_user_from_inbox(db, user_id)
    db.checkpoint()
    return result


def _refresh_index(svc: Services) -> None:
    with svc.db.session() as session:
        svc.index.refresh(session)
