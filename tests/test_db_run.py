"""`Database.run`: the one door from async code to the database runs the work off the event loop."""

from __future__ import annotations

import asyncio
import threading
import time

from sqlalchemy import text
from sqlmodel import Session

from factdb.db import Database
from factdb.models import Claim


async def test_run_works_in_another_thread_while_the_loop_keeps_answering(db: Database) -> None:
    loop_thread = threading.get_ident()
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    def slow(session: Session) -> tuple[int, int]:
        session.exec(text("select 1"))  # type: ignore[call-overload]
        time.sleep(0.3)  # a slow query: the loop must not wait for it
        return threading.get_ident(), 7

    ticker = asyncio.create_task(tick())
    try:
        worker, value = await db.run(slow)
    finally:
        ticker.cancel()
    assert value == 7
    assert worker != loop_thread
    assert ticks >= 5  # ~30 if the loop was free; 0 had the work blocked it


async def test_run_returns_loaded_rows_and_commits_only_what_fn_commits(db: Database) -> None:
    def add(session: Session, commit: bool) -> int:
        claim = Claim(text="the moon is cheese", normalized="the moon is cheese")
        session.add(claim)
        session.flush()
        if commit:
            session.commit()
        return claim.id  # type: ignore[return-value]

    kept = await db.run(lambda s: add(s, True))
    dropped = await db.run(lambda s: add(s, False))
    loaded = await db.run(lambda s: s.get(Claim, kept))
    assert loaded is not None and loaded.text == "the moon is cheese"  # readable after the session closed
    assert await db.run(lambda s: s.get(Claim, dropped)) is None
