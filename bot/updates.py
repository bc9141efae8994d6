"""Updates from different chats run side by side; updates from one chat run in order.

PTB's `concurrent_updates` would let a reviewer's "summary" and "sources" messages race, and a
flooding citizen would still hold up everyone behind one queue. This processor keeps a lane per
chat: one user's thousand messages wait in their own lane while other citizens are answered.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor


class PerChatUpdateProcessor(BaseUpdateProcessor):
    # PTB's own semaphore is taken *before* an update reaches us, so a flood waiting in its lane
    # would hold every slot; keep PTB's bound high and limit the work itself below.
    _QUEUED_LIMIT = 10_000

    def __init__(self, max_concurrent_updates: int = 16, burst_concurrency: int = 1) -> None:
        super().__init__(self._QUEUED_LIMIT)
        self._running = asyncio.Semaphore(max_concurrent_updates)
        self._lanes: dict[int, asyncio.Lock] = {}
        self._waiting: dict[int, int] = {}
        # Told each update id once it has been handled, so the inbox can let it go.
        self.on_done: Callable[[int], None] | None = None
        # True while updates are pouring in: handling then steps aside (see do_process_update).
        self.receiving: Callable[[], bool] | None = None
        self._during_burst = asyncio.Semaphore(min(burst_concurrency, max_concurrent_updates))
        # Unset while the bot cannot answer yet (the match index is being built): updates wait
        # here, safe in the inbox and in their lanes' order, without holding a handler slot.
        self.ready: asyncio.Event | None = None
        self.abandoned = False

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        key = _chat_key(update)
        lock = self._lanes.setdefault(key, asyncio.Lock())
        self._waiting[key] = self._waiting.get(key, 0) + 1
        handled = False
        try:
            async with lock:
                if self.ready is not None:
                    await self.ready.wait()
                if self.abandoned:
                    # Stopped before it could be answered: it stays in the inbox for the next
                    # start, so it is neither handled nor reported done here.
                    if inspect.iscoroutine(coroutine):
                        coroutine.close()
                    return
                handled = True
                await self._handle(coroutine)
        finally:
            if handled and self.on_done is not None and isinstance(update, Update):
                self.on_done(update.update_id)
            self._waiting[key] -= 1
            if self._waiting[key] == 0:  # forget idle lanes so the dict does not grow forever
                del self._waiting[key]
                self._lanes.pop(key, None)

    def abandon_waiting(self) -> None:
        """Shutting down before `ready`: release the waiting updates without handling them."""
        self.abandoned = True
        if self.ready is not None:
            self.ready.set()

    async def _handle(self, coroutine: Awaitable[Any]) -> None:
        async with self._running:
            if self.receiving is not None and self.receiving():
                # Storing an update is cheap and is what Telegram waits for; handling is the
                # expensive part and one process has one core for Python. In a burst, few
                # handlers run, so the webhook keeps acknowledging at full speed and the
                # backlog, safe in the inbox, is worked off behind it.
                async with self._during_burst:
                    await coroutine
            else:
                await coroutine

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None


def _chat_key(update: object) -> int:
    if isinstance(update, Update):
        if update.effective_chat is not None:
            return update.effective_chat.id
        if update.effective_user is not None:
            return update.effective_user.id
    return 0
