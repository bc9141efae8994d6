"""`crowdcheck serve`: the bot in webhook mode plus the public pages, on one aiohttp server.

The bot itself (`bot.app.BotRuntime`) is built by whoever starts the server (the CLI, the
tests, the bench) and passed in: the web side serves it and never builds it, so `bot.app`
(which starts a `MetricsServer` from here) and `bot.web` do not import each other.
"""

from __future__ import annotations

import logging
from typing import Any, Protocol

from aiohttp import web

from bot.config import Config
from bot.services import build_services
from bot.web.app import make_web_app
from bot.web.keys import BOT_LINK, METRICS
from bot.web.webhook import webhook_path, webhook_secret
from factdb.db import Database
from handlers.services import Services

log = logging.getLogger(__name__)


class Runtime(Protocol):
    """What the server needs of the bot it carries (`bot.app.BotRuntime` is one)."""

    svc: Services
    app: Any  # the python-telegram-bot Application

    async def start(self, *, polling: bool = True) -> None: ...

    async def stop(self) -> None: ...


class WebServer:
    """Pages, feed, /healthz and /metrics; with a `runtime`, also Telegram's webhook.

    Without one it serves only the pages, e.g. beside a `crowdcheck run` that polls: the two
    must not both receive updates, because setting a webhook makes Telegram refuse getUpdates.
    """

    def __init__(
        self, config: Config, *, host: str = "127.0.0.1", port: int = 8080, runtime: Runtime | None = None
    ) -> None:
        self.config, self.host, self.requested_port = config, host, port
        self.runtime = runtime
        self.svc = runtime.svc if runtime else build_services(config, Database(config.database_url))
        self.secret = webhook_secret(config) if runtime else None
        self.app = make_web_app(
            self.svc, telegram_app=runtime.app if runtime else None, webhook_secret=self.secret
        )
        self._runner: web.AppRunner | None = None
        self.port: int | None = None

    @property
    def webhook_url(self) -> str | None:
        if self.runtime is None or not self.config.public_url or self.secret is None:
            return None
        return f"{self.config.public_url}/telegram/{webhook_path(self.secret)}"

    async def start(self) -> None:
        if self.runtime is not None:
            await self.runtime.start(polling=False)
            self.app[METRICS].install(self.runtime.app)
            # initialize() asked Telegram getMe: the pages can now link to the bot.
            self.app[BOT_LINK].username = self.runtime.app.bot.username
        else:
            self.svc.db.ensure_schema()
        self._runner = web.AppRunner(self.app, handle_signals=False)
        try:
            await self._runner.setup()
            await web.TCPSite(self._runner, self.host, self.requested_port).start()
        except BaseException:
            await self.stop()  # e.g. the port is taken: do not leave the bot half started
            raise
        self.port = self._runner.addresses[0][1]
        log.info("serving on http://%s:%d", self.host, self.port)
        if self.runtime is not None:
            await self._register_webhook()

    async def _register_webhook(self) -> None:
        assert self.runtime is not None
        url = self.webhook_url
        if url is None:
            log.warning(
                "CROWDCHECK_PUBLIC_URL is not set: the webhook is not registered with Telegram; "
                "set it (https://…) so Telegram can reach /telegram/…"
            )
            return
        from telegram import Update

        await self.runtime.app.bot.set_webhook(
            url=url, secret_token=self.secret, allowed_updates=Update.ALL_TYPES
        )
        log.info("webhook registered at %s/telegram/…", self.config.public_url)

    async def stop(self) -> None:
        # Stop taking requests first, then let the bot finish what it queued and sends in flight.
        # The webhook stays registered: Telegram keeps updates until a worker answers again.
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self.runtime is not None:
            await self.runtime.stop()
        else:
            self.svc.db.dispose()
