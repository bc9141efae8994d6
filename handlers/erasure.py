"""Erase means erased: /forget and an admin's /erase do the same as `crowdcheck citizens erase`
(bot/erase.py).

The rows go (factdb.forgetting.erase), then the raw updates that name the person go from the
inbox, then SQLite's write-ahead logs are emptied so no old page still holds what was deleted
(secure_delete zeroes it in the files themselves). PostgreSQL keeps dead row versions until
VACUUM reclaims them: SECURITY.md says what an operator does about that.
"""

from __future__ import annotations

import asyncio
import logging

from factdb import forgetting
from handlers.services import Services

log = logging.getLogger(__name__)


async def erase(
    svc: Services, user_id: int, *, admin_id: int | None = None, audited: bool = False
) -> forgetting.Forgotten | None:
    """Forget `user_id` in the running bot. `audited`: an admin asked (an audit line, no data)."""
    result = await svc.db.run(
        lambda s: forgetting.erase(s, user_id, admin_id=admin_id, audited=audited), commit=True
    )
    if svc.inbox is not None:  # the update that asked for this is one of the rows it removes
        await svc.inbox.erase_user(user_id)
    await asyncio.to_thread(svc.db.checkpoint)
    await svc.db.run(svc.index.refresh)  # a deleted claim is no longer matched here
    svc.wake_outbox()  # their cards and pictures in the moderators' group are taken down now
    log.info("erased a citizen's data on request")
    return result
