"""`crowdcheck citizens erase`: what /forget does (handlers/erasure.py), from the shell.

Safe beside a running bot or without one: its match index catches up by itself through the
claim change feed.
"""

from __future__ import annotations

from bot.inbox import erase_user_from_inbox
from factdb import forgetting
from factdb.db import Database


def erase_offline(db: Database, user_id: int, *, audited: bool = True) -> forgetting.Forgotten | None:
    result = db.transaction(lambda s: forgetting.erase(s, user_id, audited=audited))
    erase_user_from_inbox(db, user_id)
    db.checkpoint()
    return result
