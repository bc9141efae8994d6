"""Updates are written down before Telegram is told we have them (see factdb/inbox.py).

One writer task commits whatever has arrived since its last commit in one transaction (group
commit): forty webhook requests at once cost one commit, not forty, which is what lets the
webhook acknowledge well over a thousand updates a second while handling runs behind it.

The webhook (bot/web/webhook.py) answers 200 once `accept` has stored the update. Long polling goes
through `DurableUpdateQueue` and `SettlingRequest` below.
"""

from __future__ import annotations

import asyncio
import collections
import concurrent.futures
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy.engine import make_url
from telegram import Update
from telegram.request import HTTPXRequest

from factdb import inbox as ib
from factdb.db import Database

log = logging.getLogger(__name__)
T = TypeVar("T")

BATCH = 1000
HEARTBEAT_EVERY = 5.0  # seconds; factdb.inbox.HEARTBEAT_TIMEOUT is four beats
ADOPT_EVERY = 10.0  # how often a live worker looks for rows a crashed peer left behind
# Handled updates are deleted in batches: a commit per handled update would compete with the
# commits that acknowledge new ones. An update handled but not yet deleted when the process
# dies is replayed; handlers are idempotent by update id (factdb.intake, review state checks).
DELETE_EVERY = 0.2
# Updates waiting to be stored at which a burst counts as on. A steady stream keeps one or two
# waiting; Telegram pushing a backlog keeps up to its max_connections (40 by default).
PRESSURE = 4
BURST_HOLD = 0.5  # seconds a burst stays on after the pressure was last seen: no flapping
FULL_BATCH = 100  # the most one getUpdates call returns: a full one means Telegram holds more
# How long a deleted update may linger in the SQLite inbox's write-ahead log: the writer empties
# the log this often when it has deleted something since (see `Database.checkpoint`).
CHECKPOINT_EVERY = 60.0


def inbox_database(db: Database) -> Database:
    """Where the inbox lives: beside the claims on PostgreSQL, in a file of its own on SQLite.

    SQLite lets one connection write to a file at a time; in the claims' file the inbox writer
    would queue behind every handler's transaction (and SQLite's busy backoff sleeps up to 100
    ms), so acknowledging an update would wait on handling the ones before it.
    """
    url = make_url(db.url)
    if db.is_postgres or not url.database or url.database == ":memory:":
        return db
    path = Path(url.database)
    return Database(
        url.set(database=str(path.with_name(f"{path.stem}.inbox{path.suffix}"))).render_as_string(False)
    )


def erase_user_from_inbox(db: Database, user_id: int) -> int:
    """For a process that does not run the inbox (the CLI): delete the stored updates naming
    `user_id` and empty the SQLite inbox's write-ahead log. A missing inbox file is not created."""
    inbox = inbox_database(db)
    if inbox is not db:
        path = make_url(inbox.url).database
        if not path or not Path(path).exists():
            inbox.dispose()
            return 0
    try:
        if inbox is not db:
            inbox.upgrade()  # an inbox file from an older version, or one the bot never opened
        removed = inbox.transaction(lambda s: ib.erase_user(s, user_id))
        inbox.checkpoint()
        return removed
    finally:
        if inbox is not db:
            inbox.dispose()


class InboxFull(Exception):
    """More updates are waiting to be handled than we hold; Telegram should send this one later."""


@dataclass
class _Arrival:
    update_id: int
    payload: str
    future: asyncio.Future[bool] = field(repr=False)


class DurableInbox:
    def __init__(self, db: Database, *, max_backlog: int = 20_000, owner: str | None = None) -> None:
        self.db = inbox_database(db)
        self._own_file = self.db is not db
        self.max_backlog = max_backlog
        self.owner = owner or ib.owner_id()
        # Called with rows adopted from a stopped worker (or our own previous life).
        self.on_adopted: Callable[[list[tuple[int, str]]], None] | None = None
        self._arrivals: list[_Arrival] = []
        self._done: list[int] = []
        self._held: set[int] = set()  # stored and not yet handled, in this process
        self._wake = asyncio.Event()
        self._room = asyncio.Event()
        self._room.set()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._accepting = 0  # webhook requests waiting for their update to be stored
        self._burst_until = 0.0
        # Its own thread: in the shared default pool the writer would queue behind the handlers'
        # database work, and the webhook would answer only as fast as updates are handled.
        self._thread = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="inbox")

    # -- what the queue and the update processor call -------------------------------------------
    @property
    def backlog(self) -> int:
        return len(self._held)

    def receiving(self) -> bool:
        """Updates are pouring in (or were a moment ago): a burst is on.

        Webhook pushes queueing up to be stored, or a full `getUpdates` batch (`backlog_ahead`).
        """
        now = time.monotonic()
        if self._accepting >= PRESSURE:
            self._burst_until = now + BURST_HOLD
        return now < self._burst_until

    def backlog_ahead(self) -> None:
        """Long polling got a full batch: Telegram holds more, fetch it before handling at speed."""
        self._burst_until = time.monotonic() + BURST_HOLD

    @property
    def full(self) -> bool:
        return len(self._held) >= self.max_backlog

    def submit(self, update_id: int, payload: str) -> asyncio.Future[bool]:
        """Queue an update for the next commit; the future says True once stored and new."""
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._arrivals.append(_Arrival(update_id, payload, future))
        self._wake.set()
        return future

    async def accept(self, update_id: int, payload: str, *, wait_for_room: bool = True) -> bool:
        """Store an update; True once it is committed and new, False for a redelivery."""
        await self.room(wait=wait_for_room)
        self._accepting += 1
        try:
            return await self.submit(update_id, payload)
        finally:
            self._accepting -= 1

    async def room(self, *, wait: bool = True) -> None:
        while self.full:
            if not wait:
                raise InboxFull(f"{self.backlog} updates are waiting to be handled")
            self._room.clear()
            await self._room.wait()

    def done(self, update_id: int) -> None:
        """The update has been handled (well or not: a poison update must not replay forever)."""
        if update_id in self._held:
            self._held.discard(update_id)
            self._done.append(update_id)  # removed with the next commit, or within DELETE_EVERY
            if len(self._done) == 1:
                asyncio.get_running_loop().call_later(DELETE_EVERY, self._wake.set)
            if not self.full:
                self._room.set()

    def hold(self, update_ids: list[int]) -> None:
        """Adopted rows are ours to handle now, like freshly accepted ones."""
        self._held.update(update_ids)

    async def erase_user(self, user_id: int) -> int:
        """/forget: delete the stored updates naming this person (the /forget itself included)
        and empty the SQLite log, in the writer's thread so no batch of ours is half-way."""

        def erase() -> int:
            removed = self.db.transaction(lambda s: ib.erase_user(s, user_id))
            self.db.checkpoint()
            return removed

        return await self._in_writer(erase)

    # -- lifecycle -------------------------------------------------------------------------------
    async def start(self) -> list[tuple[int, str]]:
        """Beat once and take over what a stopped worker (or our last run) left; returns it."""
        if self._own_file:  # our private file: always safe to bring to the current schema
            await self._in_writer(self.db.upgrade)
        adopted = await self._in_writer(self._adopt)
        self._task = asyncio.create_task(self._run(), name="inbox-writer")
        return adopted

    async def stop(self) -> None:
        """Commit the last deletions and retire the heartbeat; rows left are replayed next start."""
        self._stopping = True
        self._wake.set()  # the last deletions are committed before the writer ends
        if self._task is not None:
            await self._task
        try:
            await self._in_writer(self.db.transaction, lambda s: ib.retire(s, self.owner))
        except Exception as exc:  # the heartbeat then goes stale by itself; peers adopt later
            log.warning("inbox: could not retire this worker's heartbeat: %s", exc)
        self._thread.shutdown(wait=False)
        if self._own_file:
            self.db.dispose()

    async def _in_writer(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._thread, fn, *args)

    def _adopt(self) -> list[tuple[int, str]]:
        def work(session) -> list[tuple[int, str]]:
            ib.beat(session, self.owner)
            return ib.adopt(session, self.owner, everything=not self.db.is_postgres)

        rows = self.db.transaction(work)
        self.hold([uid for uid, _ in rows])
        if rows:
            log.info("inbox: replaying %d update(s) acknowledged but not handled before", len(rows))
        return rows

    # -- the writer ------------------------------------------------------------------------------
    async def _run(self) -> None:
        last_beat = last_adopt = last_checkpoint = time.monotonic()
        deleted = False  # since the last checkpoint
        while True:
            timeout = DELETE_EVERY if self._done else HEARTBEAT_EVERY
            if deleted and self._own_file:  # wake for the checkpoint that is due
                timeout = min(timeout, max(0.0, last_checkpoint + CHECKPOINT_EVERY - time.monotonic()))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=timeout)
            self._wake.clear()
            arrivals, self._arrivals = self._arrivals[:BATCH], self._arrivals[BATCH:]
            done, self._done = self._done, []
            if self._arrivals:
                self._wake.set()
            now = time.monotonic()
            beat = now - last_beat >= HEARTBEAT_EVERY
            if arrivals or done or beat:
                try:
                    fresh = await self._in_writer(self._write, arrivals, done, beat)
                except Exception as exc:  # the database is away: refuse these, keep the deletions
                    log.warning("inbox: could not store %d update(s): %s", len(arrivals), exc)
                    self._done = done + self._done
                    for arrival in arrivals:
                        if not arrival.future.done():
                            arrival.future.set_exception(exc)
                    if self._stopping:  # never hang a shutdown: undeleted rows are replayed, once
                        return
                    await asyncio.sleep(0.2)
                    continue
                last_beat = now if beat else last_beat
                deleted = deleted or bool(done)
                self._resolve(arrivals, fresh)
            if deleted and self._own_file and now - last_checkpoint >= CHECKPOINT_EVERY:
                # Handled updates are deleted (zeroed: secure_delete) but their pages stay in the
                # write-ahead log until a checkpoint; this bounds how long a raw update lingers.
                last_checkpoint, deleted = now, False
                try:
                    await self._in_writer(self.db.checkpoint)
                except Exception as exc:
                    log.warning("inbox: could not empty the write-ahead log: %s", exc)
            if self.db.is_postgres and now - last_adopt >= ADOPT_EVERY and not self._stopping:
                last_adopt = now
                await self._adopt_orphans()
            if self._stopping and not self._arrivals and not self._done:
                return

    def _write(self, arrivals: list[_Arrival], done: list[int], beat: bool) -> set[int]:
        unique = list({a.update_id: (a.update_id, a.payload) for a in reversed(arrivals)}.values())

        def work(session) -> set[int]:
            fresh = ib.store(session, self.owner, unique, is_postgres=self.db.is_postgres)
            ib.remove(session, done)
            if beat:
                ib.beat(session, self.owner)
            return fresh

        return self.db.transaction(work)

    def _resolve(self, arrivals: list[_Arrival], fresh: set[int]) -> None:
        # In arrival order, so updates from one chat reach the queue in the order they came.
        for arrival in arrivals:
            new = arrival.update_id in fresh and arrival.update_id not in self._held
            if new:
                self._held.add(arrival.update_id)
            if not arrival.future.done():
                arrival.future.set_result(new)

    async def _adopt_orphans(self) -> None:
        try:
            rows = await self._in_writer(self._adopt)
        except Exception as exc:
            log.warning("inbox: could not look for updates left by a stopped worker: %s", exc)
            return
        if rows and self.on_adopted is not None:
            self.on_adopted(rows)


class DurableUpdateQueue(asyncio.Queue):  # type: ignore[type-arg]
    """PTB's update queue with the inbox in front, for long polling.

    The Updater puts a whole `getUpdates` batch, then confirms it with its next `getUpdates`
    call. `put` only hands an update to the inbox writer; `settle`, which `SettlingRequest`
    runs before every `getUpdates`, waits until the batch is committed and then queues it for
    handling, in order. So a batch costs one commit and is never confirmed before it is stored.
    """

    inbox: DurableInbox | None = None

    def __init__(self) -> None:
        super().__init__()
        self._storing: collections.deque[tuple[Update, asyncio.Future[bool]]] = collections.deque()

    async def put(self, item: object) -> None:
        if self.inbox is not None and isinstance(item, Update):
            self._storing.append((item, self.inbox.submit(item.update_id, item.to_json())))
            return
        self.put_nowait(item)

    async def settle(self) -> None:
        """Wait until every update put so far is stored (retrying while the database is away)."""
        if self.inbox is not None and len(self._storing) >= FULL_BATCH:
            self.inbox.backlog_ahead()
        delay = 0.5
        while self._storing:
            update, stored = self._storing[0]
            try:
                fresh = await stored
            except Exception:
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10.0)
                assert self.inbox is not None
                self._storing[0] = (update, self.inbox.submit(update.update_id, update.to_json()))
                continue
            self._storing.popleft()
            if fresh:  # not a redelivery of an update we already hold
                self.put_nowait(update)
        if self.inbox is not None:
            await self.inbox.room()  # a long backlog: fetch no more until it shrinks


class SettlingRequest(HTTPXRequest):
    """The connection `getUpdates` uses: settles the update queue before each call."""

    def __init__(self, queue: DurableUpdateQueue, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._queue = queue

    async def do_request(self, *args: Any, **kwargs: Any) -> tuple[int, bytes]:
        await self._queue.settle()
        return await super().do_request(*args, **kwargs)
