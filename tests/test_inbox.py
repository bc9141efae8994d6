"""Telegram forgets an update once we acknowledge it; the inbox makes sure we do not.

The bot runs as a real subprocess (`crowdcheck run` polling, or `crowdcheck serve` taking
webhook pushes) against the emulator in this process, and is killed with SIGKILL after it has
acknowledged citizens' messages but before it has handled them all.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url
from sqlmodel import func, select

from bot import inbox as bot_inbox
from bot.inbox import BURST_HOLD, PRESSURE, DurableInbox, inbox_database
from factdb import inbox as ib
from factdb.db import Database
from factdb.inbox import HEARTBEAT_TIMEOUT
from factdb.models import Claim, InboxUpdate, InboxWorker, Request
from tests.emulator import BotApiEmulator

CITIZENS = list(range(7001, 7007))
STUCK = CITIZENS[:2]  # their replies hang on the wire when the bot is killed
RUMOURS = [
    "The river bridge will be closed for two years starting Monday",
    "Free bus passes are handed out at the town hall to everyone over sixty",
    "A cargo ship leaked poison into the harbour and the fish are unsafe",
    "The stadium concert was cancelled because the singer was arrested",
    "The public library is being sold to a hotel chain next month",
    "Ferry tickets will cost triple during the summer holidays",
    "The museum burned down last night and the paintings were stolen",
    "Schools will switch to a four day week after the elections",
    "Tap water in the north district contains dangerous lead levels",
    "The central bank is printing a new coin with the mayor's face",
    "Petrol stations will run dry this weekend because of a strike",
    "Every phone will receive an emergency alarm test at midnight",
]


def _rumour(citizen: int, n: int) -> str:
    return RUMOURS[CITIZENS.index(citizen) * 2 + n - 1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _start(
    mode: str, emu: BotApiEmulator, db: Database, tmp_path, port: int
) -> asyncio.subprocess.Process:
    env = {
        **os.environ,
        "TELEGRAM_BOT_TOKEN": emu.token,
        "TELEGRAM_API_BASE_URL": emu.base_url,
        "CROWDCHECK_DATABASE_URL": db.url,
        "CROWDCHECK_PUBLIC_URL": f"http://127.0.0.1:{port}",
    }
    args = ["run"] if mode == "polling" else ["serve", "--host", "127.0.0.1", "--port", str(port)]
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        *args,
        env=env,
        stdout=open(tmp_path / "bot.log", "ab"),
        stderr=asyncio.subprocess.STDOUT,
    )


async def _until(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


def _replies(emu: BotApiEmulator, citizen: int) -> int:
    return len(emu.bot_messages(citizen))


def _count(db: Database, model) -> int:
    with db.session() as s:
        return int(s.exec(select(func.count()).select_from(model)).one())


@pytest.mark.timeout(120)
@pytest.mark.parametrize("mode", ["polling", "webhook"])
async def test_messages_acknowledged_before_a_kill_9_are_handled_after_the_restart(
    mode: str, db: Database, emulator: BotApiEmulator, tmp_path
) -> None:
    db.ensure_schema()
    for citizen in CITIZENS:
        emulator.user(citizen, f"C{citizen}")
    for citizen in STUCK:
        emulator.hold("sendMessage", chat_id=citizen)
    port, inbox = _free_port(), inbox_database(db)
    bot = await _start(mode, emulator, db, tmp_path, port)
    try:
        # Everyone sends two messages; a stuck citizen's second waits behind the first.
        for n in (1, 2):
            for citizen in CITIZENS:
                emulator.send_text(citizen, _rumour(citizen, n))
        free = [c for c in CITIZENS if c not in STUCK]
        await _until(lambda: all(_replies(emulator, c) == 2 for c in free), 60, "the free citizens' replies")
        await _until(lambda: emulator.held_calls >= len(STUCK), 30, "the stuck replies to be on the wire")
        await _until(lambda: not emulator.pending_updates, 30, "Telegram to have handed over every update")
        assert _count(db, Request) < 2 * len(CITIZENS), "the stuck citizens' second messages were handled"
        # What was handled is let go (deleted in batches); the stuck citizens' four remain.
        await _until(
            lambda: _count(inbox, InboxUpdate) == len(STUCK) * 2, 10, "handled updates to be deleted"
        )
    finally:
        bot.kill()  # SIGKILL: no cleanup at all
        await bot.wait()
    emulator.release_holds()

    bot = await _start(mode, emulator, db, tmp_path, port)
    try:
        await _until(lambda: _count(db, Request) == 2 * len(CITIZENS), 60, "every message to be recorded")
        # Each stuck citizen hears about both messages (the first perhaps twice: it was in doubt).
        await _until(
            lambda: all(_replies(emulator, c) >= 2 for c in STUCK), 30, "the stuck citizens' replies"
        )
        await _until(lambda: _count(inbox, InboxUpdate) == 0, 10, "the inbox to empty")
    finally:
        bot.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(bot.wait(), 30) == 0
    with db.session() as s:
        counted = int(s.exec(select(func.sum(Claim.request_count))).one())
        recorded = len({r.update_id for r in s.exec(select(Request))})
    assert counted == recorded == 2 * len(CITIZENS), "a message was counted twice or lost"
    assert all(_replies(emulator, c) == 2 for c in CITIZENS if c not in STUCK), (
        "a handled message was replayed"
    )


async def test_a_redelivered_update_is_stored_once_and_let_go_once_handled(db: Database) -> None:
    db.ensure_schema()
    inbox = DurableInbox(db)
    assert await inbox.start() == []
    try:
        first, again = await asyncio.gather(inbox.accept(41, '{"update_id": 41}'), inbox.accept(41, "{}"))
        assert (first, again) == (True, False)
        assert await inbox.accept(41, "{}") is False  # Telegram sends it a third time
        assert _count(inbox.db, InboxUpdate) == 1 and inbox.backlog == 1
        inbox.done(41)
        await _until(lambda: _count(inbox.db, InboxUpdate) == 0, 5, "the handled update to be deleted")
    finally:
        await inbox.stop()


async def test_a_handled_update_leaves_no_copy_in_the_inbox_files(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The inbox holds a raw update (a citizen's words, name and id) only until it is handled:
    the row goes within DELETE_EVERY, and on SQLite its bytes leave the write-ahead log at the
    next checkpoint, CHECKPOINT_EVERY later at most (shortened here)."""
    monkeypatch.setattr(bot_inbox, "CHECKPOINT_EVERY", 0.3, raising=False)
    db.ensure_schema()
    inbox = DurableInbox(db)
    await inbox.start()
    secret = b"Okapi-5150 private words"
    try:
        update = {"update_id": 77, "message": {"chat": {"id": 424242}, "text": secret.decode()}}
        assert await inbox.accept(77, json.dumps(update))
        inbox.done(77)
        await _until(lambda: _count(inbox.db, InboxUpdate) == 0, 5, "the handled update to be deleted")
        if inbox.db.is_postgres:
            return  # rows gone; dead tuples until VACUUM (SECURITY.md)
        files = list(Path(str(make_url(inbox.db.url).database)).parent.glob("*.inbox.*"))
        assert any(p.name.endswith("-wal") for p in files), files

        def nowhere() -> bool:
            return not any(secret in p.read_bytes() for p in files if p.exists())

        await _until(nowhere, 5, "the update's bytes to leave the inbox files")
    finally:
        await inbox.stop()


async def test_a_burst_of_pushes_is_noticed_and_forgotten_when_it_ends(db: Database) -> None:
    db.ensure_schema()
    inbox = DurableInbox(db)
    await inbox.start()
    try:
        assert not inbox.receiving()
        pushes = [asyncio.ensure_future(inbox.accept(100 + i, "{}")) for i in range(PRESSURE)]
        await asyncio.sleep(0)  # the pushes are waiting for their commit
        assert inbox.receiving()
        await asyncio.gather(*pushes)
        assert inbox.receiving(), "a burst stays on for a moment, so handling does not flap"
        await asyncio.sleep(BURST_HOLD + 0.05)
        assert not inbox.receiving()
    finally:
        await inbox.stop()


async def test_updates_left_by_a_stopped_worker_are_adopted_by_a_live_one(db: Database) -> None:
    db.ensure_schema()
    dead = DurableInbox(db, owner="worker-that-died")
    await dead.start()
    assert await dead.accept(7, '{"update_id": 7}') and await dead.accept(8, '{"update_id": 8}')
    dead._stopping = True  # dies: no deletions, no goodbye (its heartbeat just stops)
    dead._wake.set()
    await dead._task  # type: ignore[misc]
    if db.is_postgres:  # a live peer leaves a fresh heartbeat alone; a stale one is adopted
        live = DurableInbox(db, owner="live-worker")
        assert await live.start() == []
        await live.stop()
        with dead.db.session() as s:
            s.exec(
                select(InboxWorker).where(InboxWorker.owner == "worker-that-died")
            ).one().seen_at -= HEARTBEAT_TIMEOUT
            s.commit()
    heir = DurableInbox(db, owner="heir")
    try:
        assert [uid for uid, _ in await heir.start()] == [7, 8]
        assert heir.backlog == 2
    finally:
        await heir.stop()


def test_a_crashed_worker_on_this_host_is_adopted_at_once_a_live_one_is_not(db: Database) -> None:
    """A restart on the same machine replays its predecessor's rows without waiting 20 s."""
    db.ensure_schema()
    own = inbox_database(db)
    own.ensure_schema()
    host = socket.gethostname()[:30]
    finished = subprocess.Popen([sys.executable, "-c", "pass"])
    finished.wait()  # its pid is free now: a worker that ran here and crashed
    owners = {
        f"{host}:{finished.pid}:crashed": 61,
        f"{host}:{os.getpid()}:earlier-life": 62,  # our own pid: a container restarted as pid 1
        f"{host}:{os.getppid()}:sibling": 63,  # a process that runs: alive, whatever its heartbeat
        "another-machine:1:peer": 64,  # cannot be checked from here: its heartbeat decides
    }

    def leave_rows(s) -> None:
        for owner, uid in owners.items():
            ib.store(s, owner, [(uid, f'{{"update_id": {uid}}}')], is_postgres=own.is_postgres)
            ib.beat(s, owner)  # every heartbeat fresh

    own.transaction(leave_rows)
    adopted = own.transaction(lambda s: ib.adopt(s, ib.owner_id()))
    assert [uid for uid, _ in adopted] == [61, 62]
    if own is not db:
        own.dispose()


async def test_a_shutdown_while_the_database_is_away_does_not_hang(db: Database) -> None:
    db.ensure_schema()
    inbox = DurableInbox(db)
    await inbox.start()
    assert await inbox.accept(51, '{"update_id": 51}')
    inbox.done(51)  # a deletion is owed when the database goes away
    own_db = inbox.db
    inbox.db = Database("postgresql+psycopg://crowdcheck@127.0.0.1:1/gone")  # nothing listens there
    try:
        await asyncio.wait_for(inbox.stop(), 30)  # SIGTERM must still end the process
    finally:
        inbox.db.dispose()
    assert _count(own_db, InboxUpdate) == 1  # not deleted: replayed (once) at the next start
