"""Limits and faults: Telegram's flood limits (429 with retry_after), injected errors, random
faults, and calls held unanswered like a hanging connection."""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass

from tests.emulator.core import EmulatorCore
from tests.emulator.errors import ApiError, too_many_requests
from tests.emulator.objects import JSON
from tests.emulator.state import Chat

# Methods random faults hit by default: the ones whose failure a bot must survive.
_DEFAULT_FAULT_METHODS = frozenset(
    {
        "sendmessage",
        "senddocument",
        "sendphoto",
        "editmessagetext",
        "editmessagereplymarkup",
        "editmessagecaption",
        "answercallbackquery",
        "deletemessage",
        "sendchataction",
    }
)
_DEFAULT_DESCRIPTIONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden: bot was blocked by the user",
    404: "Not Found",
    409: "Conflict",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


@dataclass
class _Fault:
    method: str
    error_code: int
    description: str
    retry_after: int | None
    times: int
    chat_id: int | None


@dataclass
class _RandomFaults:
    probability: float
    rng: random.Random
    kinds: tuple[str, ...]
    methods: frozenset[str]
    timeout_delay: float
    retry_after: int


@dataclass
class _Limits:
    per_chat_per_second: float
    overall_per_second: float
    group_per_minute: float
    channel_per_minute: float


class LimitsAndFaults(EmulatorCore):
    """``fail_next``, ``hold``, ``set_random_faults`` and ``enforce_limits``."""

    fault_timeout_delay: float
    held_calls: int
    _faults: list[_Fault]
    _holds: set[tuple[str, int | None]]
    _random_faults: _RandomFaults | None
    _limits: _Limits | None
    _chats: dict[int, Chat]  # the chats mixin's

    def _init_limits(self, fault_timeout_delay: float) -> None:
        self.fault_timeout_delay = fault_timeout_delay
        self._faults = []
        self._holds = set()
        self.held_calls = 0  # calls that reached a hold (they may since have been released)
        self._random_faults = None
        self._limits = None

    async def _apply_faults(self, method: str, params: JSON) -> float:
        """Raise an injected error, or delay; returns a post-execution delay if any."""
        chat_id = self._maybe_int(params.get("chat_id"))
        with self._lock:
            for fault in self._faults:
                if fault.method not in ("*", method):
                    continue
                if fault.chat_id is not None and fault.chat_id != chat_id:
                    continue
                fault.times -= 1
                if fault.times <= 0:
                    self._faults.remove(fault)
                parameters = {"retry_after": fault.retry_after} if fault.retry_after else None
                raise ApiError(fault.error_code, fault.description, parameters)
            chaos = self._random_faults
            if chaos is None or method not in chaos.methods:
                return 0.0
            if chaos.rng.random() >= chaos.probability:
                return 0.0
            kind = chaos.rng.choice(chaos.kinds)
        if kind == "429":
            raise too_many_requests(chaos.retry_after)
        if kind == "5xx":
            raise ApiError(502, "Bad Gateway")
        if kind == "timeout":
            await self._sleep(chaos.timeout_delay)
            raise ApiError(504, "Gateway Timeout")
        if kind == "timeout_after_send":
            return chaos.timeout_delay
        raise ValueError(f"unknown fault kind {kind!r}")

    def fail_next(
        self,
        method: str,
        *,
        error_code: int,
        description: str | None = None,
        retry_after: int | None = None,
        times: int = 1,
        chat_id: int | None = None,
    ) -> None:
        """Make the next ``times`` calls of ``method`` (``"*"`` = any) fail like this."""
        if description is None:
            if error_code == 429:
                description = f"Too Many Requests: retry after {retry_after or 1}"
                retry_after = retry_after or 1
            else:
                description = _DEFAULT_DESCRIPTIONS.get(error_code, "Internal Server Error")
        with self._lock:
            self._faults.append(_Fault(method.lower(), error_code, description, retry_after, times, chat_id))

    def hold(self, method: str, *, chat_id: int | None = None) -> None:
        """Leave calls of ``method`` (for ``chat_id``, or any chat) unanswered until released.

        Like a connection that hangs: the bot cannot tell whether the call will ever land.
        """
        with self._lock:
            self._holds.add((method.lower(), chat_id))

    def release_holds(self) -> None:
        with self._lock:
            self._holds.clear()
        self._notify()

    def _held(self, method: str, chat_id: int | None) -> bool:
        with self._lock:
            return bool(self._holds) and ((method, chat_id) in self._holds or (method, None) in self._holds)

    async def _wait_while_held(self, method: str, params: JSON) -> None:
        chat_id = self._maybe_int(params.get("chat_id"))
        if not self._held(method, chat_id):
            return
        with self._lock:
            self.held_calls += 1
        self._notify()
        await self._wait_for(
            lambda: None if self._held(method, chat_id) and not self._stopping else True, 3600.0
        )

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()
            self._random_faults = None

    def set_random_faults(
        self,
        probability: float,
        seed: int,
        kinds: Sequence[str] = ("429", "5xx", "timeout"),
        *,
        methods: Collection[str] | None = None,
        timeout_delay: float | None = None,
        retry_after: int = 1,
    ) -> None:
        """Fail a random share of calls.

        Kinds: ``"429"`` (with retry_after), ``"5xx"`` (502 Bad Gateway), ``"timeout"``
        (nothing happens, the answer comes after ``timeout_delay`` seconds so the client
        times out first) and ``"timeout_after_send"`` (the call takes effect but the
        answer is late: the client cannot know it succeeded).  ``probability=0`` turns
        faults off.
        """
        for kind in kinds:
            if kind not in ("429", "5xx", "timeout", "timeout_after_send"):
                raise ValueError(f"unknown fault kind {kind!r}")
        with self._lock:
            if probability <= 0:
                self._random_faults = None
                return
            self._random_faults = _RandomFaults(
                probability=probability,
                rng=random.Random(seed),
                kinds=tuple(kinds),
                methods=frozenset(m.lower() for m in methods)
                if methods is not None
                else _DEFAULT_FAULT_METHODS,
                timeout_delay=self.fault_timeout_delay if timeout_delay is None else timeout_delay,
                retry_after=retry_after,
            )

    def enforce_limits(
        self,
        per_chat_per_second: float = 1,
        overall_per_second: float = 30,
        group_per_minute: float = 20,
        channel_per_minute: float = 20,
    ) -> None:
        """Answer 429 like Telegram when the bot sends faster than these limits."""
        with self._lock:
            self._limits = _Limits(
                per_chat_per_second, overall_per_second, group_per_minute, channel_per_minute
            )

    def disable_limits(self) -> None:
        with self._lock:
            self._limits = None

    def _check_rate(self, chat_id: int) -> None:
        limits = self._limits
        if limits is None:
            return
        now = time.monotonic()
        checks: list[tuple[float, float, Callable[[JSON], bool]]] = [
            (1.0, limits.per_chat_per_second, lambda r: r["chat_id"] == chat_id),
            (1.0, limits.overall_per_second, lambda r: True),
        ]
        if chat_id < 0:
            chat = self._chats.get(chat_id)
            per_minute = (
                limits.channel_per_minute
                if chat is not None and chat.data["type"] == "channel"
                else limits.group_per_minute
            )
            checks.append((60.0, per_minute, lambda r: r["chat_id"] == chat_id))
        for window, allowed, matches in checks:
            recent: list[float] = []
            # The log is in time order: walk back only through the window (soak tests
            # accumulate long logs).
            for record in reversed(self._sent_log):
                if now - record["timestamp"] >= window:
                    break
                if record["counts_for_limits"] and matches(record):
                    recent.append(record["timestamp"])
            recent.reverse()
            if len(recent) >= allowed:
                wait = recent[0] + window - now if recent else window
                raise too_many_requests(max(1, math.ceil(wait)))
