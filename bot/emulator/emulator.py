"""An in-process Telegram Bot API server for tests and the offline demo.

The real bot talks HTTP to it exactly as to Telegram
(``Application.builder().token(TOKEN).base_url(emu.base_url)``), while tests act
as users through plain Python calls and read back what the bot sent.

Threading model: all HTTP handling happens on the loop the emulator was started
on (the test's own loop, or a private thread via ``start_in_thread``).  Every
piece of state is guarded by one re-entrant lock, so the user-side and reading
API may be called from any thread.  Waiters are woken through an asyncio event
on the emulator loop and a ``threading.Condition`` for everyone else.

Deliberate deviations from Telegram, documented because tests rely on them:

* ``setWebhook`` accepts plain ``http://`` URLs on loopback (Telegram requires
  HTTPS) so tests can run a receiver without certificates.
* A second concurrent ``getUpdates`` terminates the first with 409
  ``Conflict: terminated by other getUpdates request; ...`` as Telegram does.
* Rate limits are off unless ``enforce_limits`` is called.
* A user counts as having started the bot (so the bot may write to them) unless
  registered with ``user(..., started=False)``; then sends answer 403 "bot can't
  initiate conversation with a user" until the user writes to the bot in private.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import math
import mimetypes
import random
import re
import socket
import threading
import time
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import aiohttp
from aiohttp import web

from bot.emulator.errors import (
    ApiError,
    EntityParseError,
    bad_request,
    forbidden,
    too_many_requests,
)
from bot.emulator.html_entities import ParsedText, parse_html, strip_text, utf16_len
from bot.emulator.markdown import parse_markdown, parse_markdown_v2
from bot.emulator.objects import (
    JSON,
    MEDIA_KINDS,
    ChatMessage,
    DocumentView,
    build_view,
    detect_entities,
    media_default,
    photo_sizes,
    render_transcript,
)

T = TypeVar("T")

MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
MAX_CALLBACK_DATA_BYTES = 64
MAX_UPLOAD_BYTES = 50 * 1024 * 1024

# Telegram delivers everything except these unless allowed_updates asks for them.
_NOT_DEFAULT_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
_MESSAGE_SENDING_METHODS = frozenset(
    {"sendmessage", "senddocument", "sendphoto", "copymessage", "forwardmessage"}
)
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
_CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
_COMMAND_RE = re.compile(r"^[a-z0-9_]{1,32}$")
_SECRET_RE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
_TOKEN_RE = re.compile(r"^\d+:[A-Za-z0-9_-]+$")
_CONFLICT_WEBHOOK = (
    "Conflict: can't use getUpdates method while webhook is active; "
    "use deleteWebhook to delete the webhook first"
)
_CONFLICT_POLLING = (
    "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"
)
_NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are "
    "exactly the same as a current content and reply markup of the message"
)
_TEXT_BUTTONS_UNALLOWED = (
    "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
)
_QUERY_TOO_OLD = "query is too old and response timeout expired or query ID is invalid"
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

# Parameters that arrive JSON-encoded in form posts (PTB json.dumps non-str values).
_JSON_FIELDS = frozenset(
    {
        "reply_markup",
        "link_preview_options",
        "reply_parameters",
        "entities",
        "caption_entities",
        "commands",
        "scope",
        "allowed_updates",
        "media",
    }
)


@dataclass
class UploadedFile:
    filename: str
    data: bytes
    content_type: str


@dataclass
class _Stored:
    message: JSON
    from_bot: bool
    edited: bool = False
    deleted: bool = False
    document: DocumentView | None = None


# The bot's own standing in a group, as getChatMember and my_chat_member report it.
BOT_STATUSES = ("member", "administrator", "restricted", "left", "kicked")
_IN_CHAT = frozenset({"member", "administrator", "restricted"})


@dataclass
class _Chat:
    data: JSON
    messages: dict[int, _Stored] = field(default_factory=dict)
    next_message_id: int = 1
    bot_status: str = "member"
    # Only meaningful while restricted: an admin may take away the right to post.
    bot_can_send: bool = True
    members: set[int] = field(default_factory=set)
    # A basic group upgraded to a supergroup lives on under this id; the old id answers 400.
    migrated_to: int | None = None

    @property
    def bot_is_member(self) -> bool:
        return self.bot_status in _IN_CHAT


@dataclass
class _Pending:
    update: JSON
    delivered: bool = False
    redelivery: bool = False


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


def _update_type(update: JSON) -> str:
    return next((key for key in update if key != "update_id"), "")


class BotApiEmulator:
    """Telegram Bot API look-alike on 127.0.0.1; see the module docstring."""

    def __init__(
        self,
        token: str = "123456:TEST-token_emulator",
        *,
        bot_name: str = "CrowdCheck",
        bot_username: str = "crowdcheck_test_bot",
        port: int = 0,
        fault_timeout_delay: float = 6.0,
        webhook_retry_delay: float = 0.05,
        webhook_max_retry_delay: float = 2.0,
        callback_query_ttl: float | None = None,
        max_log_entries: int = 200_000,
        latency: float = 0.0,
    ) -> None:
        if not _TOKEN_RE.match(token):
            raise ValueError("token must look like a Telegram token: '<digits>:<secret>'")
        self.token = token
        self.port = port
        self.fault_timeout_delay = fault_timeout_delay
        self.webhook_retry_delay = webhook_retry_delay
        self.webhook_max_retry_delay = webhook_max_retry_delay
        self.callback_query_ttl = callback_query_ttl
        self._max_log = max_log_entries
        # Seconds added to every answer except getUpdates: loopback answers in well under a
        # millisecond, Telegram's servers in tens of milliseconds, and that changes how a bot
        # spends its time.
        self.latency = latency
        self.bot_user: JSON = {
            "id": int(token.split(":", 1)[0]),
            "is_bot": True,
            "first_name": bot_name,
            "username": bot_username,
        }

        self._lock = threading.RLock()
        self._cv = threading.Condition(self._lock)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread_id: int | None = None
        self._event: asyncio.Event | None = None
        self._runner: web.AppRunner | None = None
        self._stopping = False
        self._thread: threading.Thread | None = None
        self._thread_loop: asyncio.AbstractEventLoop | None = None

        self._users: dict[int, JSON] = {}
        self._chats: dict[int, _Chat] = {}
        self._blocked: set[int] = set()
        self._not_started: set[int] = set()
        self._updates: list[_Pending] = []
        self._update_history: dict[int, JSON] = {}
        self._next_update_id = 100_001
        self._allowed_updates: list[str] | None = None
        self._poll_generation = 0
        self._webhook: JSON | None = None
        self._webhook_task: asyncio.Task[None] | None = None
        self._webhook_session: aiohttp.ClientSession | None = None
        self._webhook_error: tuple[int, str] | None = None
        self._callback_queries: dict[str, JSON] = {}
        self._query_ids = itertools.count(4_000_000_000_000_001)
        self._file_ids = itertools.count(1)
        self._files: dict[str, DocumentView] = {}
        self._commands: dict[str, list[JSON]] = {}

        self._faults: list[_Fault] = []
        self._holds: set[tuple[str, int | None]] = set()
        self.held_calls = 0  # calls that reached a hold (they may since have been released)
        self._random_faults: _RandomFaults | None = None
        self._limits: _Limits | None = None

        self._sent_log: list[JSON] = []
        self._requests_log: list[JSON] = []
        self._callback_answers: list[JSON] = []
        # (seq, chat_id, message_id) for each bot send/edit; seq also advances on user actions.
        self._bot_events: list[tuple[int, int, int]] = []
        self._seq = 0
        self._chat_cursor: dict[int, int] = {}
        self._in_flight = 0
        self._last_activity = time.monotonic()

    # ------------------------------------------------------------------ lifecycle

    @property
    def base_url(self) -> str:
        """What to pass to PTB's ``ApplicationBuilder.base_url``."""
        if self._runner is None:
            raise RuntimeError("emulator is not running")
        return f"http://127.0.0.1:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/file/bot"

    async def start(self) -> BotApiEmulator:
        if self._runner is not None:
            raise RuntimeError("emulator already started")
        self._loop = asyncio.get_running_loop()
        self._loop_thread_id = threading.get_ident()
        self._event = asyncio.Event()
        self._stopping = False
        app = web.Application(client_max_size=MAX_UPLOAD_BYTES + 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_get("/file/bot{token}/{path:.+}", self._serve_file)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", self.port))
        self.port = sock.getsockname()[1]
        site = web.SockSite(runner, sock)
        await site.start()
        self._runner = runner
        return self

    async def stop(self) -> None:
        if self._runner is None:
            return
        self._stopping = True
        self._notify()
        task = self._webhook_task
        self._webhook_task = None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self._webhook_session is not None:
            await self._webhook_session.close()
            self._webhook_session = None
        runner = self._runner
        self._runner = None
        await runner.cleanup()
        self._loop = None
        self._loop_thread_id = None

    async def __aenter__(self) -> BotApiEmulator:
        return await self.start()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    def start_in_thread(self, timeout: float = 10.0) -> str:
        """Run the emulator on a private loop in a daemon thread; returns ``base_url``."""
        ready = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            asyncio.set_event_loop(loop)
            self._thread_loop = loop
            try:
                loop.run_until_complete(self.start())
            except BaseException as exc:
                failure.append(exc)
                ready.set()
                loop.close()
                return
            ready.set()
            loop.run_forever()
            pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
            for task in pending:
                task.cancel()
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

        self._thread = threading.Thread(target=run, name="bot-api-emulator", daemon=True)
        self._thread.start()
        if not ready.wait(timeout):
            raise RuntimeError("emulator thread did not start in time")
        if failure:
            raise failure[0]
        return self.base_url

    def stop_thread(self, timeout: float = 10.0) -> None:
        loop, thread = self._thread_loop, self._thread
        if loop is None or thread is None:
            return
        asyncio.run_coroutine_threadsafe(self.stop(), loop).result(timeout)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout)
        self._thread = None
        self._thread_loop = None

    # ------------------------------------------------------------- notification

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

    # ------------------------------------------------------------------ HTTP layer

    async def _handle(self, request: web.Request) -> web.Response:
        token = request.match_info["token"]
        method = request.match_info["method"]
        started = time.monotonic()
        counted = method.lower() != "getupdates"
        if counted:
            with self._lock:
                self._in_flight += 1
        params: JSON = {}
        try:
            if token != self.token:
                # Telegram: 401 for a well-formed but wrong token, 404 for garbage.
                if _TOKEN_RE.match(token):
                    raise ApiError(401, "Unauthorized")
                raise ApiError(404, "Not Found")
            params = await self._read_params(request)
            handler = self._methods().get(method.lower())
            if handler is None:
                raise ApiError(404, "Not Found")
            await self._wait_while_held(method.lower(), params)
            if self.latency and counted:
                await self._sleep(self.latency)
            execute_then_delay = await self._apply_faults(method.lower(), params)
            result = await handler(params)
            if execute_then_delay:
                await self._sleep(execute_then_delay)
            body: JSON = {"ok": True, "result": result}
            if isinstance(result, bool) and method.lower() in ("setwebhook", "deletewebhook"):
                body["description"] = self._webhook_description
            status = 200
        except ApiError as exc:
            body = exc.to_json()
            status = exc.error_code
        except Exception as exc:  # a bug in the emulator must not look like a hang
            body = {
                "ok": False,
                "error_code": 500,
                "description": f"Internal Server Error: {exc!r}",
            }
            status = 500
        finally:
            if counted:
                with self._lock:
                    self._in_flight -= 1
        self._log_request(method, params, status, body, started)
        self._notify()
        return web.json_response(body, status=status)

    async def _read_params(self, request: web.Request) -> JSON:
        params: JSON = dict(request.query)
        if request.can_read_body:
            ctype = request.content_type
            if ctype == "application/json":
                raw = await request.read()
                if raw.strip():
                    try:
                        body = json.loads(raw)
                    except ValueError as exc:
                        raise bad_request("can't parse JSON") from exc
                    if not isinstance(body, dict):
                        raise bad_request("JSON object expected")
                    params.update(body)
            elif ctype in ("application/x-www-form-urlencoded", "multipart/form-data"):
                form = await request.post()
                for key, value in form.items():
                    if isinstance(value, web.FileField):
                        params[key] = UploadedFile(
                            filename=value.filename or key,
                            data=value.file.read(),
                            content_type=value.content_type or "application/octet-stream",
                        )
                    else:
                        params[key] = value
        for key in _JSON_FIELDS & params.keys():
            value = params[key]
            if isinstance(value, str):
                try:
                    params[key] = json.loads(value)
                except ValueError as exc:
                    if key == "reply_markup":
                        raise bad_request("can't parse reply keyboard markup JSON object") from exc
                    raise bad_request(f"can't parse {key} JSON object") from exc
        return params

    def _log_request(self, method: str, params: JSON, status: int, body: JSON, started: float) -> None:
        shown = {
            key: (f"<file {value.filename} {len(value.data)}B>" if isinstance(value, UploadedFile) else value)
            for key, value in params.items()
        }
        entry = {
            "method": method,
            "params": shown,
            "status": status,
            "ok": body.get("ok", False),
            "description": body.get("description"),
            "error_code": body.get("error_code"),
            "timestamp": started,
            "duration": time.monotonic() - started,
        }
        with self._lock:
            self._requests_log.append(entry)
            if len(self._requests_log) > self._max_log:
                del self._requests_log[: len(self._requests_log) - self._max_log]

    async def _sleep(self, seconds: float) -> None:
        # Sleeps end early on stop() so a delayed fault never holds up shutdown.
        deadline = time.monotonic() + seconds
        while not self._stopping and time.monotonic() < deadline:
            await asyncio.sleep(min(0.05, deadline - time.monotonic()))

    def _methods(self) -> dict[str, Callable[[JSON], Any]]:
        return {
            "getme": self._m_get_me,
            "getfile": self._m_get_file,
            "getupdates": self._m_get_updates,
            "setwebhook": self._m_set_webhook,
            "deletewebhook": self._m_delete_webhook,
            "getwebhookinfo": self._m_get_webhook_info,
            "sendmessage": self._m_send_message,
            "editmessagetext": self._m_edit_message_text,
            "editmessagereplymarkup": self._m_edit_message_reply_markup,
            "editmessagecaption": self._m_edit_message_caption,
            "answercallbackquery": self._m_answer_callback_query,
            "senddocument": self._m_send_document,
            "sendphoto": self._m_send_photo,
            "deletemessage": self._m_delete_message,
            "setmycommands": self._m_set_my_commands,
            "getmycommands": self._m_get_my_commands,
            "deletemycommands": self._m_delete_my_commands,
            "sendchataction": self._m_send_chat_action,
            "leavechat": self._m_leave_chat,
            "getchat": self._m_get_chat,
            "getchatmember": self._m_get_chat_member,
            "close": self._m_harmless,
            "logout": self._m_harmless,
        }

    # ------------------------------------------------------------ fault injection

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
    ) -> None:
        """Answer 429 like Telegram when the bot sends faster than these limits."""
        with self._lock:
            self._limits = _Limits(per_chat_per_second, overall_per_second, group_per_minute)

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
            checks.append((60.0, limits.group_per_minute, lambda r: r["chat_id"] == chat_id))
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

    # ------------------------------------------------------------- param helpers

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

    def _resolve_chat(self, params: JSON, *, for_sending: bool = True) -> _Chat:
        raw = params.get("chat_id")
        if raw is None or raw == "":
            raise bad_request("chat_id is empty")
        chat_id = self._maybe_int(raw)
        chat: _Chat | None = None
        if chat_id is not None:
            chat = self._chats.get(chat_id)
        elif isinstance(raw, str) and raw.startswith("@"):
            wanted = raw[1:].lower()
            chat = next(
                (c for c in self._chats.values() if str(c.data.get("username", "")).lower() == wanted),
                None,
            )
        if chat is None:
            raise bad_request("chat not found")
        if for_sending:
            self._check_can_write(chat)
        return chat

    def _check_can_write(self, chat: _Chat) -> None:
        chat_type = chat.data["type"]
        if chat_type == "private":
            if chat.data["id"] in self._blocked:
                raise forbidden("bot was blocked by the user")
            if chat.data["id"] in self._not_started:
                raise forbidden("bot can't initiate conversation with a user")
            return
        self._check_in_chat(chat)
        if chat.bot_status == "restricted" and not chat.bot_can_send:
            raise bad_request("not enough rights to send text messages to the chat")

    @staticmethod
    def _check_in_chat(chat: _Chat) -> None:
        if chat.migrated_to is not None:
            raise ApiError(
                400,
                "Bad Request: group chat was upgraded to a supergroup chat",
                {"migrate_to_chat_id": chat.migrated_to},
            )
        if chat.data["type"] == "private" or chat.bot_is_member:
            return
        if chat.bot_status == "kicked":
            raise forbidden(f"bot was kicked from the {chat.data['type']} chat")
        raise forbidden(f"bot is not a member of the {chat.data['type']} chat")

    def _parse_formatted(
        self,
        text: Any,
        parse_mode: Any,
        explicit_entities: Any,
        *,
        caption: bool = False,
    ) -> ParsedText:
        source = "" if text is None else str(text)
        mode = str(parse_mode).lower() if parse_mode else ""
        try:
            if mode == "html":
                parsed = parse_html(source)
            elif mode == "markdownv2":
                parsed = parse_markdown_v2(source)
            elif mode == "markdown":
                parsed = parse_markdown(source)
            elif mode:
                raise bad_request("unsupported parse_mode")
            else:
                entities = explicit_entities if isinstance(explicit_entities, list) else []
                parsed = ParsedText(source, [dict(e) for e in entities])
        except EntityParseError as exc:
            raise bad_request(f"can't parse entities: {exc}") from exc
        parsed = strip_text(parsed.text, parsed.entities)
        limit = MAX_CAPTION_LENGTH if caption else MAX_TEXT_LENGTH
        if not caption and not parsed.text:
            raise bad_request("message text is empty")
        if utf16_len(parsed.text) > limit:
            raise bad_request("message caption is too long" if caption else "message is too long")
        for entity in parsed.entities:
            if entity["type"] == "text_mention":
                user = self._users.get(entity["user"]["id"])
                if user is not None:
                    entity["user"] = dict(user)
        parsed.entities.extend(detect_entities(parsed.text, parsed.entities))
        parsed.entities.sort(key=lambda e: (e["offset"], -e["length"]))
        return parsed

    @staticmethod
    def _check_markup(markup: Any) -> JSON | None:
        """Validate reply_markup; return it if it is an inline keyboard (shown in Message)."""
        if markup is None or markup == "":
            return None
        if not isinstance(markup, dict):
            raise bad_request("can't parse reply keyboard markup JSON object")
        if "inline_keyboard" not in markup:
            return None
        rows = markup["inline_keyboard"]
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise bad_request("can't parse inline keyboard button: InlineKeyboardButton must be an Object")
        clean_rows: list[list[JSON]] = []
        for row in rows:
            clean_row: list[JSON] = []
            for button in row:
                if not isinstance(button, dict) or not button.get("text"):
                    raise bad_request(_TEXT_BUTTONS_UNALLOWED)
                if "callback_data" in button:
                    size = len(str(button["callback_data"]).encode("utf-8"))
                    if not 1 <= size <= MAX_CALLBACK_DATA_BYTES:
                        raise bad_request("BUTTON_DATA_INVALID")
                elif not any(
                    key in button
                    for key in (
                        "url",
                        "switch_inline_query",
                        "switch_inline_query_current_chat",
                        "switch_inline_query_chosen_chat",
                        "web_app",
                        "login_url",
                        "pay",
                        "callback_game",
                        "copy_text",
                    )
                ):
                    raise bad_request(_TEXT_BUTTONS_UNALLOWED)
                clean_row.append(dict(button))
            clean_rows.append(clean_row)
        return {"inline_keyboard": clean_rows}

    # ------------------------------------------------------------ message store

    def _new_message(self, chat: _Chat, sender: JSON | None, content: JSON) -> JSON:
        message_id = chat.next_message_id
        chat.next_message_id += 1
        message: JSON = {"message_id": message_id}
        if sender is not None:
            message["from"] = dict(sender)
        if chat.data["type"] == "channel":
            message["sender_chat"] = dict(chat.data)
        message["date"] = int(time.time())
        message["chat"] = dict(chat.data)
        message.update(content)
        return message

    def _store_bot_message(
        self, chat: _Chat, method: str, content: JSON, document: DocumentView | None = None
    ) -> JSON:
        sender = None if chat.data["type"] == "channel" else self.bot_user
        message = self._new_message(chat, sender, content)
        chat.messages[message["message_id"]] = _Stored(message, from_bot=True, document=document)
        self._record_sent(method, chat.data["id"], message["message_id"])
        return message

    def _record_sent(self, method: str, chat_id: int, message_id: int | None) -> None:
        now = time.monotonic()
        self._sent_log.append(
            {
                "method": method,
                "chat_id": chat_id,
                "message_id": message_id,
                "timestamp": now,
                "wall_time": time.time(),
                "counts_for_limits": method.lower() in _MESSAGE_SENDING_METHODS,
            }
        )
        if len(self._sent_log) > self._max_log:
            del self._sent_log[: len(self._sent_log) - self._max_log]
        if message_id is not None:
            self._seq += 1
            self._bot_events.append((self._seq, chat_id, message_id))

    def _reply_content(self, chat: _Chat, params: JSON) -> JSON:
        reply = params.get("reply_parameters")
        reply_id: int | None = None
        allow_missing = self._bool(params, "allow_sending_without_reply")
        if isinstance(reply, dict):
            reply_id = self._maybe_int(reply.get("message_id"))
            allow_missing = allow_missing or bool(reply.get("allow_sending_without_reply"))
        elif params.get("reply_to_message_id") is not None:
            reply_id = self._maybe_int(params.get("reply_to_message_id"))
        if reply_id is None:
            return {}
        stored = chat.messages.get(reply_id)
        if stored is None or stored.deleted:
            if allow_missing:
                return {}
            raise bad_request("message to be replied not found")
        original = {k: v for k, v in stored.message.items() if k != "reply_to_message"}
        return {"reply_to_message": original}

    def _get_bot_message_for_edit(self, params: JSON) -> tuple[_Chat, _Stored]:
        if params.get("inline_message_id"):
            raise bad_request("MESSAGE_ID_INVALID")
        chat = self._resolve_chat(params, for_sending=False)
        message_id = self._int(params, "message_id")
        stored = chat.messages.get(message_id)
        if stored is None or stored.deleted:
            raise bad_request("message to edit not found")
        if not stored.from_bot:
            raise bad_request("message can't be edited")
        self._check_can_write(chat)
        return chat, stored

    def _finish_edit(self, chat: _Chat, stored: _Stored, method: str) -> JSON:
        stored.edited = True
        stored.message["edit_date"] = int(time.time())
        self._record_sent(method, chat.data["id"], stored.message["message_id"])
        return dict(stored.message)

    # --------------------------------------------------------------- bot methods

    async def _m_harmless(self, params: JSON) -> bool:
        return True

    async def _m_get_me(self, params: JSON) -> JSON:
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def _m_send_message(self, params: JSON) -> JSON:
        with self._lock:
            parsed = self._parse_formatted(
                params.get("text"), params.get("parse_mode"), params.get("entities")
            )
            markup = self._check_markup(params.get("reply_markup"))
            chat = self._resolve_chat(params)
            content: JSON = {"text": parsed.text}
            if parsed.entities:
                content["entities"] = parsed.entities
            content.update(self._reply_content(chat, params))
            if isinstance(params.get("link_preview_options"), dict):
                content["link_preview_options"] = params["link_preview_options"]
            if markup is not None:
                content["reply_markup"] = markup
            self._check_rate(chat.data["id"])
            return self._store_bot_message(chat, "sendMessage", content)

    async def _m_edit_message_text(self, params: JSON) -> JSON:
        with self._lock:
            parsed = self._parse_formatted(
                params.get("text"), params.get("parse_mode"), params.get("entities")
            )
            markup = self._check_markup(params.get("reply_markup"))
            chat, stored = self._get_bot_message_for_edit(params)
            message = stored.message
            if "text" not in message:
                raise bad_request("there is no text in the message to edit")
            if (
                message["text"] == parsed.text
                and message.get("entities", []) == parsed.entities
                and message.get("reply_markup") == markup
            ):
                raise bad_request(_NOT_MODIFIED)
            message["text"] = parsed.text
            message.pop("entities", None)
            if parsed.entities:
                message["entities"] = parsed.entities
            # Like Telegram, an edit without reply_markup removes the inline keyboard.
            message.pop("reply_markup", None)
            if markup is not None:
                message["reply_markup"] = markup
            return self._finish_edit(chat, stored, "editMessageText")

    async def _m_edit_message_caption(self, params: JSON) -> JSON:
        with self._lock:
            parsed = self._parse_formatted(
                params.get("caption"),
                params.get("parse_mode"),
                params.get("caption_entities"),
                caption=True,
            )
            markup = self._check_markup(params.get("reply_markup"))
            chat, stored = self._get_bot_message_for_edit(params)
            message = stored.message
            if "text" in message:
                raise bad_request("there is no caption in the message to edit")
            if (
                message.get("caption", "") == parsed.text
                and message.get("caption_entities", []) == parsed.entities
                and message.get("reply_markup") == markup
            ):
                raise bad_request(_NOT_MODIFIED)
            for key in ("caption", "caption_entities", "reply_markup"):
                message.pop(key, None)
            if parsed.text:
                message["caption"] = parsed.text
            if parsed.entities:
                message["caption_entities"] = parsed.entities
            if markup is not None:
                message["reply_markup"] = markup
            return self._finish_edit(chat, stored, "editMessageCaption")

    async def _m_edit_message_reply_markup(self, params: JSON) -> JSON:
        with self._lock:
            markup = self._check_markup(params.get("reply_markup"))
            chat, stored = self._get_bot_message_for_edit(params)
            if stored.message.get("reply_markup") == markup:
                raise bad_request(_NOT_MODIFIED)
            stored.message.pop("reply_markup", None)
            if markup is not None:
                stored.message["reply_markup"] = markup
            return self._finish_edit(chat, stored, "editMessageReplyMarkup")

    async def _m_delete_message(self, params: JSON) -> bool:
        with self._lock:
            chat = self._resolve_chat(params, for_sending=False)
            message_id = self._int(params, "message_id")
            stored = chat.messages.get(message_id)
            if stored is None or stored.deleted:
                raise bad_request("message to delete not found")
            if not stored.from_bot and chat.data["type"] != "private" and not chat.bot_is_member:
                raise bad_request("message can't be deleted")
            stored.deleted = True
            self._record_sent("deleteMessage", chat.data["id"], None)
            self._seq += 1
            return True

    async def _m_answer_callback_query(self, params: JSON) -> bool:
        with self._lock:
            query_id = str(params.get("callback_query_id") or "")
            query = self._callback_queries.get(query_id)
            expired = (
                query is not None
                and self.callback_query_ttl is not None
                and time.monotonic() - query["created"] > self.callback_query_ttl
            )
            if query is None or query["answered"] or expired:
                raise bad_request(_QUERY_TOO_OLD)
            text = params.get("text")
            if text is not None and len(str(text)) > 200:
                raise bad_request("MESSAGE_TOO_LONG")
            query["answered"] = True
            self._callback_answers.append(
                {
                    "query_id": query_id,
                    "text": text,
                    "show_alert": self._bool(params, "show_alert"),
                    "url": params.get("url"),
                    "cache_time": self._maybe_int(params.get("cache_time")),
                    "timestamp": time.monotonic(),
                }
            )
            self._record_sent("answerCallbackQuery", query["chat_id"], None)
            return True

    def _take_file(self, params: JSON, name: str) -> tuple[str, bytes, str, str]:
        """Return (filename, bytes, mime type, file_id) for an uploaded or reused file."""
        value = params.get(name)
        if isinstance(value, str) and value.startswith("attach://"):
            value = params.get(value[len("attach://") :])
        if isinstance(value, UploadedFile):
            if not value.data:
                raise bad_request("file must be non-empty")
            file_id = f"BQACAgIAAxkDAAI{next(self._file_ids):06d}"
            mime = value.content_type
            if mime in ("application/octet-stream", ""):
                mime = mimetypes.guess_type(value.filename)[0] or "application/octet-stream"
            return value.filename, value.data, mime, file_id
        if isinstance(value, str) and value:
            known = self._files.get(value)
            if known is not None:
                return known.filename, known.data, known.mime_type, known.file_id
            if value.startswith(("http://", "https://")):
                filename = value.rstrip("/").rsplit("/", 1)[-1] or "file"
                file_id = f"BQACAgIAAxkDAAI{next(self._file_ids):06d}"
                mime = mimetypes.guess_type(filename)[0] or "application/octet-stream"
                return filename, b"", mime, file_id
            raise bad_request("wrong file identifier/HTTP URL specified")
        raise bad_request(f"there is no {name} in the request")

    async def _m_get_file(self, params: JSON) -> JSON:
        file_id = str(params.get("file_id") or "")
        with self._lock:
            known = self._files.get(file_id)
        if known is None:
            raise bad_request("invalid file_id")
        return {
            "file_id": known.file_id,
            "file_unique_id": "AgAD" + known.file_id[-6:],
            "file_size": len(known.data),
            "file_path": f"documents/{known.file_id}/{known.filename}",
        }

    async def _serve_file(self, request: web.Request) -> web.Response:
        """Bot API file downloads: /file/bot<token>/<file_path from getFile>."""
        if request.match_info["token"] != self.token:
            return web.Response(status=401, text="Unauthorized")
        parts = request.match_info["path"].split("/")
        with self._lock:
            known = self._files.get(parts[1]) if len(parts) >= 2 else None
        if known is None:
            return web.Response(status=404, text="Not Found")
        return web.Response(body=known.data, content_type=known.mime_type)

    def send_document(
        self,
        user_id: int,
        filename: str,
        data: bytes,
        *,
        chat_id: int | None = None,
        caption: str | None = None,
        mime_type: str | None = None,
    ) -> JSON:
        """The user sends a file; the bot can fetch its bytes with getFile and a download."""
        file_id = f"BQACAgIAAxkBAAI{next(self._file_ids):06d}"
        mime = mime_type or mimetypes.guess_type(filename)[0] or "application/octet-stream"
        with self._lock:
            self._files[file_id] = DocumentView(filename=filename, data=data, mime_type=mime, file_id=file_id)
        content: JSON = {
            "document": {
                "file_id": file_id,
                "file_unique_id": "AgAD" + file_id[-6:],
                "file_name": filename,
                "mime_type": mime,
                "file_size": len(data),
            }
        }
        if caption:
            content.update(self._text_content(caption, "caption"))
        return self._user_message(user_id, chat_id, content)

    async def _m_send_document(self, params: JSON) -> JSON:
        return await self._send_file(params, "document", "sendDocument")

    async def _m_send_photo(self, params: JSON) -> JSON:
        return await self._send_file(params, "photo", "sendPhoto")

    async def _send_file(self, params: JSON, kind: str, method: str) -> JSON:
        with self._lock:
            caption = self._parse_formatted(
                params.get("caption"),
                params.get("parse_mode"),
                params.get("caption_entities"),
                caption=True,
            )
            markup = self._check_markup(params.get("reply_markup"))
            chat = self._resolve_chat(params)
            filename, data, mime, file_id = self._take_file(params, kind)
            document = DocumentView(filename=filename, data=data, mime_type=mime, file_id=file_id)
            self._files[file_id] = document
            unique = "AgAD" + file_id[-6:]
            content: JSON = {}
            if kind == "photo":
                content["photo"] = photo_sizes(file_id, unique, len(data))
            else:
                content["document"] = {
                    "file_id": file_id,
                    "file_unique_id": unique,
                    "file_name": filename,
                    "mime_type": mime,
                    "file_size": len(data),
                }
            if caption.text:
                content["caption"] = caption.text
            if caption.entities:
                content["caption_entities"] = caption.entities
            content.update(self._reply_content(chat, params))
            if markup is not None:
                content["reply_markup"] = markup
            self._check_rate(chat.data["id"])
            return self._store_bot_message(chat, method, content, document)

    async def _m_send_chat_action(self, params: JSON) -> bool:
        with self._lock:
            action = params.get("action")
            if action not in _CHAT_ACTIONS:
                raise bad_request("wrong parameter action in request")
            chat = self._resolve_chat(params)
            self._record_sent("sendChatAction", chat.data["id"], None)
            return True

    async def _m_leave_chat(self, params: JSON) -> bool:
        with self._lock:
            chat = self._resolve_chat(params, for_sending=False)
            if chat.data["type"] == "private":
                raise bad_request("chat member status can't be changed in private chats")
            self._check_in_chat(chat)
            old = self._bot_member(chat)
            chat.bot_status, chat.bot_can_send = "left", True
            self._enqueue_locked(
                {"my_chat_member": self._chat_member_update(chat, self.bot_user, old, self._bot_member(chat))}
            )
            return True

    async def _m_get_chat(self, params: JSON) -> JSON:
        with self._lock:
            chat = self._resolve_chat(params, for_sending=False)
            # Telegram tells a bot nothing about a group it is not in.
            self._check_in_chat(chat)
            info = dict(chat.data)
            info.update(
                {
                    "accent_color_id": 0,
                    "max_reaction_count": 11,
                    "accepted_gift_types": {
                        "unlimited_gifts": True,
                        "limited_gifts": True,
                        "unique_gifts": True,
                        "premium_subscription": True,
                        "gifts_from_channels": True,
                    },
                }
            )
            return info

    async def _m_get_chat_member(self, params: JSON) -> JSON:
        with self._lock:
            chat = self._resolve_chat(params, for_sending=False)
            self._check_in_chat(chat)
            user_id = self._int(params, "user_id")
            if user_id == self.bot_user["id"]:
                return self._bot_member(chat)
            user = self._users.get(user_id)
            if user is None:
                raise bad_request("user not found")
            in_chat = user_id == chat.data["id"] or user_id in chat.members
            return {"status": "member" if in_chat else "left", "user": dict(user)}

    def _bot_member(self, chat: _Chat) -> JSON:
        """The bot's ChatMember in ``chat``, with the fields Telegram sends for its status."""
        status = chat.bot_status
        body: JSON = {"status": status, "user": dict(self.bot_user)}
        if status == "administrator":
            body.update(
                {
                    "can_be_edited": False,
                    "is_anonymous": False,
                    "can_manage_chat": True,
                    "can_delete_messages": True,
                    "can_manage_video_chats": True,
                    "can_restrict_members": True,
                    "can_promote_members": False,
                    "can_change_info": True,
                    "can_invite_users": True,
                    "can_post_stories": False,
                    "can_edit_stories": False,
                    "can_delete_stories": False,
                    "can_pin_messages": True,
                }
            )
        elif status == "restricted":
            send = chat.bot_can_send
            body.update(
                {
                    "is_member": True,
                    "can_send_messages": send,
                    "can_send_audios": send,
                    "can_send_documents": send,
                    "can_send_photos": send,
                    "can_send_videos": send,
                    "can_send_video_notes": send,
                    "can_send_voice_notes": send,
                    "can_send_polls": send,
                    "can_send_other_messages": send,
                    "can_add_web_page_previews": send,
                    "can_react_to_messages": send,
                    "can_change_info": False,
                    "can_invite_users": False,
                    "can_pin_messages": False,
                    "can_manage_topics": False,
                    "can_edit_tag": False,
                    "until_date": 0,
                }
            )
        elif status == "kicked":
            body["until_date"] = 0
        return body

    @staticmethod
    def _commands_key(params: JSON) -> str:
        scope = params.get("scope") or {"type": "default"}
        language = params.get("language_code") or ""
        return json.dumps([scope, language], sort_keys=True)

    async def _m_set_my_commands(self, params: JSON) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise bad_request("can't parse commands JSON object")
        if len(commands) > 100:
            raise bad_request("too many commands specified")
        for command in commands:
            if not isinstance(command, dict) or not _COMMAND_RE.match(str(command.get("command", ""))):
                raise bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", ""))) <= 256:
                raise bad_request(
                    "command description is empty"
                    if not command.get("description")
                    else "BOT_COMMAND_DESCRIPTION_INVALID"
                )
        with self._lock:
            self._commands[self._commands_key(params)] = [
                {"command": c["command"], "description": c["description"]} for c in commands
            ]
        return True

    async def _m_get_my_commands(self, params: JSON) -> list[JSON]:
        with self._lock:
            return list(self._commands.get(self._commands_key(params), []))

    async def _m_delete_my_commands(self, params: JSON) -> bool:
        with self._lock:
            self._commands.pop(self._commands_key(params), None)
        return True

    # ------------------------------------------------------- updates & webhooks

    def _enqueue_locked(self, body: JSON, update_id: int | None = None, *, redelivery: bool = False) -> JSON:
        if update_id is None:
            update_id = self._next_update_id
            self._next_update_id += 1
        else:
            self._next_update_id = max(self._next_update_id, update_id + 1)
        update = {"update_id": update_id, **body}
        self._update_history[update_id] = update
        self._updates.append(_Pending(update, redelivery=redelivery))
        self._seq += 1
        return update

    def _enqueue(self, body: JSON, update_id: int | None = None, *, redelivery: bool = False) -> JSON:
        with self._lock:
            update = self._enqueue_locked(body, update_id, redelivery=redelivery)
        self._notify()
        return update

    def _allowed(self, update: JSON, allowed: list[str] | None) -> bool:
        kind = _update_type(update)
        if not allowed:
            return kind not in _NOT_DEFAULT_UPDATES
        return kind in allowed

    def _take_updates_locked(self, limit: int, allowed: list[str] | None) -> list[JSON]:
        kept: list[_Pending] = []
        for pending in self._updates:
            if self._allowed(pending.update, allowed):
                kept.append(pending)
        # Telegram drops updates of types the bot said it does not want.
        self._updates = kept
        batch = kept[:limit]
        for pending in batch:
            pending.delivered = True
        return [json.loads(json.dumps(p.update)) for p in batch]

    def _confirm_locked(self, offset: int) -> None:
        if offset > 0:
            # A redelivered copy survives confirmations until it has been handed out once.
            self._updates = [
                p
                for p in self._updates
                if p.update["update_id"] >= offset or (p.redelivery and not p.delivered)
            ]
        elif offset < 0:
            self._updates = self._updates[offset:]

    async def _m_get_updates(self, params: JSON) -> list[JSON]:
        with self._lock:
            if self._webhook is not None:
                raise ApiError(409, _CONFLICT_WEBHOOK)
            offset = self._int(params, "offset", required=False)
            limit = max(1, min(100, self._int(params, "limit", required=False, default=100)))
            timeout = max(0, self._int(params, "timeout", required=False))
            allowed = params.get("allowed_updates")
            if isinstance(allowed, list):
                self._allowed_updates = [str(a) for a in allowed] or None
            self._confirm_locked(offset)
            self._poll_generation += 1
            generation = self._poll_generation
        self._notify()

        def check() -> list[JSON] | ApiError | None:
            with self._lock:
                if self._webhook is not None:
                    return ApiError(409, _CONFLICT_WEBHOOK)
                if self._poll_generation != generation:
                    return ApiError(409, _CONFLICT_POLLING)
                if self._stopping:
                    return []
                batch = self._take_updates_locked(limit, self._allowed_updates)
                return batch or None

        result = await self._wait_for(check, float(timeout))
        if isinstance(result, ApiError):
            raise result
        if result is None:
            with self._lock:
                # The long poll ran out: one last look, as Telegram answers at the deadline.
                if self._poll_generation != generation:
                    raise ApiError(409, _CONFLICT_POLLING)
                return self._take_updates_locked(limit, self._allowed_updates)
        return result

    _webhook_description = "Webhook was set"

    async def _m_set_webhook(self, params: JSON) -> bool:
        url = str(params.get("url") or "")
        if not url:
            return await self._m_delete_webhook(params)
        if not (
            url.startswith("https://")
            or url.startswith(("http://127.0.0.1", "http://localhost", "http://[::1]"))
        ):
            raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        secret = params.get("secret_token")
        if secret is not None and secret != "" and not _SECRET_RE.match(str(secret)):
            raise bad_request("secret token contains unallowed characters")
        allowed = params.get("allowed_updates")
        with self._lock:
            if self._bool(params, "drop_pending_updates"):
                self._updates.clear()
            was_set = self._webhook is not None and self._webhook["url"] == url
            self._webhook = {
                "url": url,
                "secret_token": str(secret) if secret else None,
                "max_connections": self._maybe_int(params.get("max_connections")) or 40,
                "allowed_updates": [str(a) for a in allowed] if isinstance(allowed, list) else None,
            }
            self._webhook_error = None
            self._webhook_description = "Webhook is already set" if was_set else "Webhook was set"
            # A long poll in progress must end with a conflict, as on Telegram.
            self._poll_generation += 1
        if self._webhook_task is None or self._webhook_task.done():
            self._webhook_task = asyncio.get_running_loop().create_task(self._webhook_worker())
        return True

    async def _m_delete_webhook(self, params: JSON) -> bool:
        with self._lock:
            was_set = self._webhook is not None
            self._webhook = None
            if self._bool(params, "drop_pending_updates"):
                self._updates.clear()
            self._webhook_description = "Webhook was deleted" if was_set else "Webhook is already deleted"
        return True

    async def _m_get_webhook_info(self, params: JSON) -> JSON:
        with self._lock:
            info: JSON = {
                "url": self._webhook["url"] if self._webhook else "",
                "has_custom_certificate": False,
                "pending_update_count": len(self._updates),
            }
            if self._webhook is not None:
                info["max_connections"] = self._webhook["max_connections"]
                if self._webhook["allowed_updates"] is not None:
                    info["allowed_updates"] = self._webhook["allowed_updates"]
            if self._webhook_error is not None:
                info["last_error_date"], info["last_error_message"] = self._webhook_error
            return info

    async def _webhook_worker(self) -> None:
        """Push pending updates one at a time, in order, retrying until accepted."""
        delay = self.webhook_retry_delay
        while not self._stopping:
            with self._lock:
                hook = self._webhook
                if hook is None:
                    return
                kept = [p for p in self._updates if self._allowed(p.update, hook["allowed_updates"])]
                self._updates = kept
                pending = kept[0] if kept else None
                if pending is not None:
                    self._in_flight += 1
            if pending is None:
                await self._wait_for(
                    lambda: True if (self._updates or self._webhook is None or self._stopping) else None,
                    3600.0,
                )
                continue
            try:
                error = await self._post_update(hook, pending.update)
            finally:
                with self._lock:
                    self._in_flight -= 1
            with self._lock:
                if error is None:
                    with contextlib.suppress(ValueError):
                        self._updates.remove(pending)
                    delay = self.webhook_retry_delay
                else:
                    self._webhook_error = (int(time.time()), error)
            self._notify()
            if error is not None:
                await self._sleep(delay)
                delay = min(delay * 2, self.webhook_max_retry_delay)

    async def _post_update(self, hook: JSON, update: JSON) -> str | None:
        if self._webhook_session is None or self._webhook_session.closed:
            self._webhook_session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))
        headers = {"Content-Type": "application/json"}
        if hook["secret_token"]:
            headers["X-Telegram-Bot-Api-Secret-Token"] = hook["secret_token"]
        try:
            async with self._webhook_session.post(
                hook["url"], data=json.dumps(update), headers=headers
            ) as response:
                await response.read()
                if 200 <= response.status < 300:
                    return None
                return f"Wrong response from the webhook: {response.status} {response.reason}"
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            if isinstance(exc, TimeoutError):
                return "Read timeout expired"
            return "Connection refused"

    # ------------------------------------------------------------ user-side API

    def user(
        self,
        user_id: int,
        first_name: str | None = None,
        *,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = None,
        is_premium: bool | None = None,
        started: bool | None = None,
    ) -> JSON:
        """Register (or update) a user and their private chat with the bot.

        ``started=False``: the user never opened a private chat with the bot, so the bot's
        messages to them fail with 403 until they write to it (see the module docstring).
        """
        if user_id <= 0:
            raise ValueError("user ids are positive")
        with self._lock:
            if started is False:
                self._not_started.add(user_id)
            elif started:
                self._not_started.discard(user_id)
            user = self._users.setdefault(
                user_id, {"id": user_id, "is_bot": False, "first_name": f"User{user_id}"}
            )
            for key, value in (
                ("first_name", first_name),
                ("last_name", last_name),
                ("username", username),
                ("language_code", language_code),
                ("is_premium", is_premium),
            ):
                if value is not None:
                    user[key] = value
            chat_data = {"id": user_id, "type": "private", "first_name": user["first_name"]}
            for key in ("last_name", "username"):
                if key in user:
                    chat_data[key] = user[key]
            chat = self._chats.get(user_id)
            if chat is None:
                self._chats[user_id] = _Chat(chat_data)
            else:
                chat.data = chat_data
            return dict(user)

    def create_group(
        self,
        chat_id: int,
        title: str = "Test group",
        members: Iterable[int] = (),
        *,
        type: str = "supergroup",
        username: str | None = None,
        bot_is_member: bool = True,
    ) -> JSON:
        """Create a group/supergroup (negative id) the bot is a member of."""
        if chat_id >= 0:
            raise ValueError("group chat ids are negative")
        if type not in ("group", "supergroup"):
            raise ValueError("type must be 'group' or 'supergroup'")
        data: JSON = {"id": chat_id, "type": type, "title": title}
        if username:
            data["username"] = username
        with self._lock:
            member_ids = set(members)
            for member in member_ids:
                if member not in self._users:
                    self.user(member)
            chat = self._chats.get(chat_id)
            status = "member" if bot_is_member else "left"
            if chat is None:
                self._chats[chat_id] = _Chat(data, bot_status=status, members=member_ids)
            else:
                chat.data = data
                chat.members |= member_ids
                chat.bot_status = status
            return dict(data)

    def create_channel(self, chat_id: int, title: str = "Test channel", username: str | None = None) -> JSON:
        if chat_id >= 0:
            raise ValueError("channel ids are negative")
        data: JSON = {"id": chat_id, "type": "channel", "title": title}
        if username:
            data["username"] = username
        with self._lock:
            if chat_id not in self._chats:
                self._chats[chat_id] = _Chat(data)
            return dict(self._chats[chat_id].data)

    def _user_chat(self, user_id: int, chat_id: int | None) -> tuple[JSON, _Chat]:
        if user_id not in self._users:
            self.user(user_id)
        target = user_id if chat_id is None else chat_id
        chat = self._chats.get(target)
        if chat is None:
            if target < 0:
                self.create_group(target, members=[user_id])
                chat = self._chats[target]
            else:
                raise ValueError(f"user {user_id} cannot write in chat {target}")
        chat.members.add(user_id)
        return self._users[user_id], chat

    def _user_message(self, user_id: int, chat_id: int | None, content: JSON) -> JSON:
        with self._lock:
            sender, chat = self._user_chat(user_id, chat_id)
            if chat.data["id"] == user_id:
                self._not_started.discard(user_id)  # writing to the bot starts it
            message = self._new_message(chat, sender, content)
            chat.messages[message["message_id"]] = _Stored(message, from_bot=False)
            self._enqueue_locked({"message": json.loads(json.dumps(message))})
            self._chat_cursor[chat.data["id"]] = self._seq
            result = json.loads(json.dumps(message))
        self._notify()
        return result

    @staticmethod
    def _text_content(text: str, key: str = "text") -> JSON:
        entities = detect_entities(text, [])
        content: JSON = {key: text}
        if entities:
            content["entities" if key == "text" else "caption_entities"] = entities
        return content

    def send_text(
        self,
        user_id: int,
        text: str,
        *,
        chat_id: int | None = None,
        first_name: str | None = None,
        username: str | None = None,
        language_code: str | None = None,
        reply_to_message_id: int | None = None,
    ) -> JSON:
        """The user sends ``text`` (private chat by default); returns the Message dict."""
        if first_name is not None or username is not None or language_code is not None:
            self.user(user_id, first_name, username=username, language_code=language_code)
        content = self._text_content(text)
        if reply_to_message_id is not None:
            content["reply_to_message"] = self._message_dict(
                user_id if chat_id is None else chat_id, reply_to_message_id
            )
        return self._user_message(user_id, chat_id, content)

    def forward(self, user_id: int, text: str, *, origin: JSON, chat_id: int | None = None) -> JSON:
        """The user forwards a text message; ``origin`` is a Bot API MessageOrigin dict."""
        kind = origin.get("type")
        required = {
            "user": "sender_user",
            "hidden_user": "sender_user_name",
            "chat": "sender_chat",
            "channel": "chat",
        }
        if kind not in required:
            raise ValueError(f"origin type must be one of {sorted(required)}")
        if required[kind] not in origin:
            raise ValueError(f"origin of type {kind!r} needs {required[kind]!r}")
        if kind == "channel" and "message_id" not in origin:
            raise ValueError("channel origin needs 'message_id'")
        full_origin = {"date": int(time.time()) - 3600, **origin}
        content = self._text_content(text)
        content["forward_origin"] = full_origin
        return self._user_message(user_id, chat_id, content)

    def send_message(self, user_id: int, chat_id: int | None = None, **fields: Any) -> JSON:
        """Send any kind of message; ``sticker=True`` etc. fill in a plausible object.

        Media kinds: sticker, voice, video_note, video, audio, animation, document,
        photo, location, contact, dice, venue, poll.  Pass a dict to override fields
        of the default object; ``caption`` gets auto-detected caption_entities.
        """
        content: JSON = {}
        for key, value in fields.items():
            if key in MEDIA_KINDS:
                number = next(self._file_ids)
                default = media_default(key, f"AgACAgIAAxkBAAI{number:06d}", f"AQAD{number:06d}")
                if isinstance(value, dict) and isinstance(default, dict):
                    default.update(value)
                elif isinstance(value, list):
                    default = value
                content[key] = default
            elif key == "text":
                content.update(self._text_content(str(value)))
            elif key == "caption":
                content.update(self._text_content(str(value), "caption"))
            else:
                content[key] = value
        if not content:
            raise ValueError("send_message needs at least one field")
        return self._user_message(user_id, chat_id, content)

    def _message_dict(self, chat_id: int, message_id: int) -> JSON:
        with self._lock:
            chat = self._chats.get(chat_id)
            stored = chat.messages.get(message_id) if chat else None
            if stored is None or stored.deleted:
                raise ValueError(f"no message {message_id} in chat {chat_id}")
            return json.loads(json.dumps(stored.message))

    def press_button(
        self,
        user_id: int,
        chat_id: int,
        message_id: int,
        callback_data: str,
        *,
        forge: bool = False,
    ) -> str:
        """The user presses an inline button; returns the callback query id."""
        with self._lock:
            sender, chat = self._user_chat(user_id, chat_id)
            stored = chat.messages.get(message_id)
            if not forge:
                if stored is None or stored.deleted:
                    raise ValueError(f"no message {message_id} in chat {chat_id}")
                markup = stored.message.get("reply_markup") or {}
                datas = [b.get("callback_data") for row in markup.get("inline_keyboard", []) for b in row]
                if callback_data not in datas:
                    raise ValueError(
                        f"message {message_id} has no button with callback_data "
                        f"{callback_data!r}; it has {datas}"
                    )
            query_id = str(next(self._query_ids))
            query: JSON = {
                "id": query_id,
                "from": dict(sender),
                "chat_instance": str(abs(hash((self.token, chat_id))) % 10**18),
                "data": callback_data,
            }
            if stored is not None and not stored.deleted:
                query["message"] = json.loads(json.dumps(stored.message))
            else:
                # A forged press on a missing message still needs a message for PTB.
                query["message"] = {
                    "message_id": message_id,
                    "date": 0,
                    "chat": dict(chat.data),
                }
            self._callback_queries[query_id] = {
                "answered": False,
                "created": time.monotonic(),
                "chat_id": chat_id,
            }
            self._enqueue_locked({"callback_query": query})
            self._chat_cursor[chat_id] = self._seq
        self._notify()
        return query_id

    def edit_text(self, user_id: int, chat_id: int, message_id: int, new_text: str) -> JSON:
        """The user edits their own earlier message; enqueues ``edited_message``."""
        with self._lock:
            chat = self._chats.get(chat_id)
            stored = chat.messages.get(message_id) if chat else None
            if chat is None or stored is None or stored.deleted:
                raise ValueError(f"no message {message_id} in chat {chat_id}")
            if stored.from_bot or stored.message.get("from", {}).get("id") != user_id:
                raise ValueError("users can only edit their own messages")
            stored.message.update(self._text_content(new_text))
            if "entities" not in self._text_content(new_text):
                stored.message.pop("entities", None)
            stored.message["edit_date"] = int(time.time())
            stored.edited = True
            message = json.loads(json.dumps(stored.message))
            self._enqueue_locked({"edited_message": message})
            self._chat_cursor[chat_id] = self._seq
        self._notify()
        return message

    def channel_post(self, chat_id: int, text: str, *, title: str = "Test channel") -> JSON:
        with self._lock:
            if chat_id not in self._chats:
                self.create_channel(chat_id, title)
            chat = self._chats[chat_id]
            if chat.data["type"] != "channel":
                raise ValueError(f"chat {chat_id} is not a channel")
            message = self._new_message(chat, None, self._text_content(text))
            chat.messages[message["message_id"]] = _Stored(message, from_bot=False)
            self._enqueue_locked({"channel_post": json.loads(json.dumps(message))})
            self._chat_cursor[chat_id] = self._seq
        self._notify()
        return json.loads(json.dumps(message))

    def _chat_member_update(self, chat: _Chat, actor: JSON, old: JSON | str, new: JSON | str) -> JSON:
        """A ChatMemberUpdated about the bot; ``old``/``new`` are ChatMember dicts or statuses."""

        def member(status: JSON | str) -> JSON:
            if isinstance(status, dict):
                return status
            body: JSON = {"status": status, "user": dict(self.bot_user)}
            if status == "kicked":
                body["until_date"] = 0
            return body

        return {
            "chat": dict(chat.data),
            "from": dict(actor),
            "date": int(time.time()),
            "old_chat_member": member(old),
            "new_chat_member": member(new),
        }

    def add_bot_to_group(
        self,
        user_id: int,
        chat_id: int,
        title: str = "Test group",
        *,
        type: str = "supergroup",
        status: str = "member",
    ) -> JSON:
        """``user_id`` adds the bot to a group (``status`` "administrator" to add it as an
        admin); returns the my_chat_member update, old status "left" as Telegram sends it."""
        with self._lock:
            if user_id not in self._users:
                self.user(user_id)
            if chat_id not in self._chats:
                self.create_group(chat_id, title, [user_id], type=type, bot_is_member=False)
            self._chats[chat_id].members.add(user_id)
        return self.set_bot_status(chat_id, status, by=user_id)

    def set_bot_status(self, chat_id: int, status: str, *, by: int, can_send_messages: bool = True) -> JSON:
        """A group member ``by`` changes the bot's standing in a group: adds it ("member",
        "administrator"), restricts it ("restricted", optionally without the right to post),
        removes ("left") or bans ("kicked") it. Enqueues and returns the my_chat_member update."""
        if status not in BOT_STATUSES:
            raise ValueError(f"status must be one of {BOT_STATUSES}")
        with self._lock:
            chat = self._chats.get(chat_id)
            if chat is None or chat.data["type"] == "private":
                raise ValueError(f"no group {chat_id}")
            if by not in self._users:
                self.user(by)
            old = self._bot_member(chat)
            chat.bot_status = status
            chat.bot_can_send = can_send_messages if status == "restricted" else True
            update = self._enqueue_locked(
                {
                    "my_chat_member": self._chat_member_update(
                        chat, self._users[by], old, self._bot_member(chat)
                    )
                }
            )
            self._chat_cursor[chat_id] = self._seq
        self._notify()
        return update

    def upgrade_group(self, chat_id: int, new_chat_id: int, *, by: int) -> None:
        """``by`` turns a basic group into a supergroup, as Telegram does when, for instance, a
        member is made an admin with some rights: the chat gets a new id (-100…), the old id
        answers 400 with ``migrate_to_chat_id``, and the bot receives the two service messages
        (``migrate_to_chat_id`` in the old chat, ``migrate_from_chat_id`` in the new one)."""
        with self._lock:
            old = self._chats.get(chat_id)
            if old is None or old.data["type"] != "group":
                raise ValueError(f"chat {chat_id} is not a basic group")
            if new_chat_id in self._chats:
                raise ValueError(f"chat {new_chat_id} already exists")
            if by not in self._users:
                self.user(by)
            data = {**old.data, "id": new_chat_id, "type": "supergroup"}
            new = _Chat(
                data, bot_status=old.bot_status, bot_can_send=old.bot_can_send, members=set(old.members)
            )
            self._chats[new_chat_id] = new
            user = self._users[by]
            for chat, content in (
                (old, {"migrate_to_chat_id": new_chat_id}),
                (new, {"migrate_from_chat_id": chat_id}),
            ):
                message = self._new_message(chat, user, content)
                chat.messages[message["message_id"]] = _Stored(message, from_bot=False)
                self._enqueue_locked({"message": json.loads(json.dumps(message))})
            old.migrated_to = new_chat_id
            self._chat_cursor[new_chat_id] = self._seq
        self._notify()

    def block(self, user_id: int, *, emit_update: bool = True) -> None:
        """The user blocks the bot: sends fail with 403 (and the bot gets my_chat_member)."""
        with self._lock:
            if user_id not in self._users:
                self.user(user_id)
            already = user_id in self._blocked
            self._blocked.add(user_id)
            if emit_update and not already:
                self._enqueue_locked(
                    {
                        "my_chat_member": self._chat_member_update(
                            self._chats[user_id],
                            self._users[user_id],
                            "member",
                            "kicked",
                        )
                    }
                )
        self._notify()

    def unblock(self, user_id: int, *, emit_update: bool = True) -> None:
        with self._lock:
            was_blocked = user_id in self._blocked
            self._blocked.discard(user_id)
            if emit_update and was_blocked:
                self._enqueue_locked(
                    {
                        "my_chat_member": self._chat_member_update(
                            self._chats[user_id],
                            self._users[user_id],
                            "kicked",
                            "member",
                        )
                    }
                )
        self._notify()

    def send_raw_update(self, update: JSON) -> int:
        """Enqueue an arbitrary update dict (update_id assigned unless given)."""
        body = {k: v for k, v in update.items() if k != "update_id"}
        given = update.get("update_id")
        return self._enqueue(body, int(given) if given is not None else None)["update_id"]

    def redeliver(self, update_id: int) -> JSON:
        """Deliver an earlier update again with the same update_id, as Telegram may."""
        with self._lock:
            original = self._update_history.get(update_id)
            if original is None:
                raise KeyError(f"no update {update_id} was ever enqueued")
            body = {k: v for k, v in original.items() if k != "update_id"}
        return self._enqueue(json.loads(json.dumps(body)), update_id, redelivery=True)

    # -------------------------------------------------------------- reading API

    def chat(self, chat_id: int) -> list[ChatMessage]:
        """Messages in display order with edits applied and deleted ones gone."""
        with self._lock:
            chat = self._chats.get(chat_id)
            if chat is None:
                return []
            return [
                build_view(json.loads(json.dumps(s.message)), s.from_bot, s.edited, s.document)
                for s in sorted(chat.messages.values(), key=lambda s: s.message["message_id"])
                if not s.deleted
            ]

    def bot_messages(self, chat_id: int) -> list[ChatMessage]:
        return [m for m in self.chat(chat_id) if m.from_bot]

    def last_bot_message(self, chat_id: int) -> ChatMessage | None:
        messages = self.bot_messages(chat_id)
        return messages[-1] if messages else None

    @property
    def callback_answers(self) -> list[JSON]:
        with self._lock:
            return [dict(a) for a in self._callback_answers]

    @property
    def sent_log(self) -> list[JSON]:
        """Every accepted bot call that touched a chat: method, chat_id, timestamp."""
        with self._lock:
            return [dict(r) for r in self._sent_log]

    @property
    def requests_log(self) -> list[JSON]:
        """Every HTTP call, failed ones included: method, params, status, description."""
        with self._lock:
            return [dict(r) for r in self._requests_log]

    @property
    def pending_updates(self) -> list[JSON]:
        with self._lock:
            return [dict(p.update) for p in self._updates]

    def is_blocked(self, user_id: int) -> bool:
        with self._lock:
            return user_id in self._blocked

    def has_started(self, user_id: int) -> bool:
        """Whether the bot may write to the user (they opened a private chat with it)."""
        with self._lock:
            return user_id in self._users and user_id not in self._not_started

    def bot_status(self, chat_id: int) -> str:
        """The bot's standing in a group: member, administrator, restricted, left or kicked."""
        with self._lock:
            return self._chats[chat_id].bot_status

    def transcript(self, chat_id: int) -> str:
        with self._lock:
            names = {uid: u.get("first_name") or str(uid) for uid, u in self._users.items()}
        return render_transcript(self.chat(chat_id), names)

    def mark(self) -> int:
        """Current event position; pass as ``since=`` to wait only for later messages."""
        with self._lock:
            return self._seq

    # --------------------------------------------------------------- waiting API

    def _matching(
        self,
        chat_id: int,
        since: int,
        count: int,
        predicate: Callable[[ChatMessage], bool] | None,
    ) -> list[ChatMessage] | None:
        with self._lock:
            candidates: dict[int, int] = {}
            for seq, event_chat, message_id in self._bot_events:
                if event_chat == chat_id and seq > since:
                    candidates[message_id] = seq
            if not candidates:
                return None
            views = {m.message_id: m for m in self.bot_messages(chat_id)}
            chosen: list[tuple[int, ChatMessage]] = []
            for message_id, seq in sorted(candidates.items(), key=lambda item: item[1]):
                view = views.get(message_id)
                if view is not None and (predicate is None or predicate(view)):
                    chosen.append((seq, view))
                if len(chosen) >= count:
                    break
            if len(chosen) < count:
                return None
            self._chat_cursor[chat_id] = max(self._chat_cursor.get(chat_id, 0), chosen[-1][0])
            return [view for _, view in chosen]

    def _timeout_error(self, chat_id: int, what: str, timeout: float) -> AssertionError:
        return AssertionError(
            f"timed out after {timeout}s waiting for {what} in chat {chat_id}.\n"
            f"--- transcript ---\n{self.transcript(chat_id) or '(empty)'}\n------------------"
        )

    async def wait_for_bot_messages(
        self,
        chat_id: int,
        count: int = 1,
        predicate: Callable[[ChatMessage], bool] | None = None,
        timeout: float = 5.0,
        *,
        since: int | None = None,
    ) -> list[ChatMessage]:
        """Wait until the bot has sent/edited ``count`` distinct matching messages.

        Only activity after ``since`` counts; by default that is the chat's last user
        action or the last message an earlier wait returned, so consecutive waits walk
        forward through the conversation.
        """
        with self._lock:
            start = self._chat_cursor.get(chat_id, 0) if since is None else since
        result = await self._wait_for(lambda: self._matching(chat_id, start, count, predicate), timeout)
        if result is None:
            what = f"{count} bot message(s)" + (" matching the predicate" if predicate else "")
            raise self._timeout_error(chat_id, what, timeout)
        return result

    async def wait_for_bot_message(
        self,
        chat_id: int,
        predicate: Callable[[ChatMessage], bool] | None = None,
        timeout: float = 5.0,
        count: int = 1,
        *,
        since: int | None = None,
    ) -> ChatMessage:
        """Like ``wait_for_bot_messages`` but returns the last of the ``count`` messages."""
        messages = await self.wait_for_bot_messages(chat_id, count, predicate, timeout, since=since)
        return messages[-1]

    def wait_for_bot_message_blocking(
        self,
        chat_id: int,
        predicate: Callable[[ChatMessage], bool] | None = None,
        timeout: float = 5.0,
        count: int = 1,
        *,
        since: int | None = None,
    ) -> ChatMessage:
        """Thread-mode variant for code without an event loop."""
        with self._lock:
            start = self._chat_cursor.get(chat_id, 0) if since is None else since
        result = self._wait_for_blocking(lambda: self._matching(chat_id, start, count, predicate), timeout)
        if result is None:
            raise self._timeout_error(chat_id, f"{count} bot message(s)", timeout)
        return result[-1]

    async def wait_for_callback_answer(self, query_id: str, timeout: float = 5.0) -> JSON:
        def check() -> JSON | None:
            with self._lock:
                return next((dict(a) for a in self._callback_answers if a["query_id"] == query_id), None)

        result = await self._wait_for(check, timeout)
        if result is None:
            raise AssertionError(f"timed out after {timeout}s: callback query {query_id} was never answered")
        return result

    def _idle_check(self, quiet: float) -> bool | None:
        with self._lock:
            undelivered = any(not p.delivered for p in self._updates)
            busy = undelivered or self._in_flight > 0
            if busy:
                return None
            return True if time.monotonic() - self._last_activity >= quiet else None

    async def wait_until_idle(self, timeout: float = 5.0, quiet: float = 0.1) -> None:
        """Wait until every update was handed out and no call happened for ``quiet`` s."""
        result = await self._wait_for(lambda: self._idle_check(quiet), timeout, poll=quiet / 4)
        if result is None:
            with self._lock:
                state = (
                    f"{sum(not p.delivered for p in self._updates)} undelivered updates, "
                    f"{self._in_flight} requests in flight"
                )
            raise AssertionError(f"emulator not idle after {timeout}s: {state}")

    def wait_until_idle_blocking(self, timeout: float = 5.0, quiet: float = 0.1) -> None:
        if self._wait_for_blocking(lambda: self._idle_check(quiet), timeout, quiet / 4) is None:
            raise AssertionError(f"emulator not idle after {timeout}s")
