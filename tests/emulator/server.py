"""The HTTP side: the aiohttp server on loopback, its lifecycle, and dispatching Bot API calls.

A Bot API method ``fooBar`` is served by the mixin method ``_m_foo_bar`` (method names are
case-insensitive, as on Telegram); there is no separate table to keep in step.
"""

from __future__ import annotations

import asyncio
import json
import re
import socket
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Any, Self

from aiohttp import web

from tests.emulator.core import EmulatorCore
from tests.emulator.errors import ApiError, bad_request
from tests.emulator.objects import JSON
from tests.emulator.state import UploadedFile

MAX_UPLOAD_BYTES = 50 * 1024 * 1024
TOKEN_RE = re.compile(r"^\d+:[A-Za-z0-9_-]+$")

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
        "results",
        "button",
    }
)

Handler = Callable[[JSON], Awaitable[Any]]


class HttpServer(EmulatorCore):
    """Serves ``/bot<token>/<method>`` and ``/file/bot<token>/<path>`` on 127.0.0.1."""

    port: int
    _runner: web.AppRunner | None
    _thread: threading.Thread | None
    _thread_loop: asyncio.AbstractEventLoop | None
    _handlers: dict[str, Handler]

    def _init_server(self, port: int) -> None:
        self.port = port
        self._runner = None
        self._thread = None
        self._thread_loop = None
        self._handlers = {
            name[len("_m_") :].replace("_", ""): getattr(self, name)
            for name in dir(type(self))
            if name.startswith("_m_")
        }

    # Hooks the concern mixins implement.
    async def _wait_while_held(self, method: str, params: JSON) -> None:
        raise NotImplementedError

    async def _apply_faults(self, method: str, params: JSON) -> float:
        raise NotImplementedError

    async def _serve_file(self, request: web.Request) -> web.Response:
        raise NotImplementedError

    async def _stop_webhook(self) -> None:
        raise NotImplementedError

    def _result_description(self, method: str) -> str | None:
        raise NotImplementedError

    @property
    def base_url(self) -> str:
        """What to pass to PTB's ``ApplicationBuilder.base_url``."""
        if self._runner is None:
            raise RuntimeError("emulator is not running")
        return f"http://127.0.0.1:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/file/bot"

    async def start(self) -> Self:
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
        await self._stop_webhook()
        runner = self._runner
        self._runner = None
        await runner.cleanup()
        self._loop = None
        self._loop_thread_id = None

    async def __aenter__(self) -> Self:
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
                if TOKEN_RE.match(token):
                    raise ApiError(401, "Unauthorized")
                raise ApiError(404, "Not Found")
            params = await self._read_params(request)
            handler = self._handlers.get(method.lower())
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
            description = self._result_description(method.lower())
            if isinstance(result, bool) and description is not None:
                body["description"] = description
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
