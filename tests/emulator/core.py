"""What every part of the emulator shares: the lock, waking waiters, the event log, parameters.

Threading model: all HTTP handling happens on the loop the emulator was started on (the test's
own loop, or a private thread via ``start_in_thread``). Every piece of state is guarded by one
re-entrant lock, so the user-side and reading API may be called from any thread. Waiters are
woken through an asyncio event on the emulator loop and a ``threading.Condition`` for everyone
else.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from tests.emulator.errors import bad_request
from tests.emulator.objects import JSON

T = TypeVar("T")

# Calls that post a message: they count towards Telegram's flood limits.
MESSAGE_SENDING_METHODS = frozenset(
    {"sendmessage", "senddocument", "sendphoto", "copymessage", "forwardmessage"}
)


class EmulatorCore:
    """State and helpers the concern mixins (chats, messages, files, updates, …) build on."""

    token: str
    bot_user: JSON
    latency: float
    _max_log: int
    _lock: threading.RLock
    _cv: threading.Condition
    _loop: asyncio.AbstractEventLoop | None
    _loop_thread_id: int | None
    _event: asyncio.Event | None
    _stopping: bool
    _sent_log: list[JSON]
    _requests_log: list[JSON]
    # (seq, chat_id, message_id) for each bot send/edit; seq also advances on user actions.
    _bot_events: list[tuple[int, int, int]]
    _seq: int
    _chat_cursor: dict[int, int]
    _in_flight: int
    _last_activity: float

    def _init_core(self, token: str, bot_name: str, bot_username: str, max_log_entries: int) -> None:
        self.token = token
        self.bot_user = {
            "id": int(token.split(":", 1)[0]),
            "is_bot": True,
            "first_name": bot_name,
            "username": bot_username,
        }
        self._max_log = max_log_entries
        self._lock = threading.RLock()
        self._cv = threading.Condition(self._lock)
        self._loop = None
        self._loop_thread_id = None
        self._event = None
        self._stopping = False
        self._sent_log = []
        self._requests_log = []
        self._bot_events = []
        self._seq = 0
        self._chat_cursor = {}
        self._in_flight = 0
        self._last_activity = time.monotonic()

    def _notify(self) -> None:
        with self._lock:
            self._last_activity = time.monotonic()
            self._cv.notify_all()
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        if threading.get_ident() == self._loop_thread_id:
            self._wake_async()
        else:
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(self._wake_async)

    def _wake_async(self) -> None:
        # Swapping in a fresh event makes every current waiter re-check exactly once.
        event = self._event
        self._event = asyncio.Event()
        if event is not None:
            event.set()

    async def _wait_for(
        self, check: Callable[[], T | None], timeout: float, poll: float | None = None
    ) -> T | None:
        loop = asyncio.get_running_loop()
        if loop is not self._loop:
            return await asyncio.to_thread(self._wait_for_blocking, check, timeout, poll)
        deadline = loop.time() + timeout
        while True:
            event = self._event
            result = check()
            if result is not None:
                return result
            remaining = deadline - loop.time()
            if remaining <= 0 or event is None:
                return None
            wait = remaining if poll is None else min(remaining, poll)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), wait)

    def _wait_for_blocking(
        self, check: Callable[[], T | None], timeout: float, poll: float | None = None
    ) -> T | None:
        deadline = time.monotonic() + timeout
        with self._cv:
            while True:
                result = check()
                if result is not None:
                    return result
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return None
                self._cv.wait(remaining if poll is None else min(remaining, poll))

    async def _sleep(self, seconds: float) -> None:
        # Sleeps end early on stop() so a delayed fault never holds up shutdown.
        deadline = time.monotonic() + seconds
        while not self._stopping and time.monotonic() < deadline:
            await asyncio.sleep(min(0.05, deadline - time.monotonic()))

    @staticmethod
    def _maybe_int(value: Any) -> int | None:
        if isinstance(value, bool):
            return None
        if isinstance(value, int):
            return value
        if isinstance(value, str) and re.fullmatch(r"-?\d+", value.strip()):
            return int(value)
        return None

    def _int(self, params: JSON, name: str, *, required: bool = True, default: int = 0) -> int:
        value = params.get(name)
        if value is None or value == "":
            if required:
                raise bad_request(f"{name} is empty")
            return default
        parsed = self._maybe_int(value)
        if parsed is None:
            raise bad_request(f"invalid {name} specified")
        return parsed

    @staticmethod
    def _bool(params: JSON, name: str) -> bool:
        value = params.get(name)
        if isinstance(value, str):
            return value.lower() in ("true", "1")
        return bool(value)

    def _record_sent(self, method: str, chat_id: int, message_id: int | None) -> None:
        now = time.monotonic()
        self._sent_log.append(
            {
                "method": method,
                "chat_id": chat_id,
                "message_id": message_id,
                "timestamp": now,
                "wall_time": time.time(),
                "counts_for_limits": method.lower() in MESSAGE_SENDING_METHODS,
            }
        )
        if len(self._sent_log) > self._max_log:
            del self._sent_log[: len(self._sent_log) - self._max_log]
        if message_id is not None:
            self._seq += 1
            self._bot_events.append((self._seq, chat_id, message_id))
