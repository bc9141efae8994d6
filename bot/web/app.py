"""The aiohttp apps: `make_web_app` (what `crowdcheck serve` and the tests run: pages, feed,
/healthz, /metrics and, with a bot, the webhook) and `make_metrics_app` (only /metrics and
/healthz, beside a polling bot: `MetricsServer`)."""

from __future__ import annotations

import logging
from typing import Any

from aiohttp import web

from bot.config import ConfigError
from bot.metrics import Metrics
from bot.web.feed import FEED_CHECK_SECONDS, FEED_WRITE_SECONDS, add_feed
from bot.web.keys import BOT_LINK, METRICS, METRICS_PORT, SVC, WEBHOOK, BotLink
from bot.web.monitoring import add_monitoring
from bot.web.pages import STATS_CACHE_SECONDS, add_pages, not_found_page
from bot.web.rendering import JINJA, make_jinja
from bot.web.webhook import add_webhook
from handlers.services import Services

log = logging.getLogger(__name__)

# Content-Security-Policy: the pages need no script at all (JSON-LD is data, not executed) and
# only inline CSS, so anything injected despite the escaping still cannot run or load.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
        "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "X-Frame-Options": "DENY",
}


async def _security_headers(_request: web.Request, response: web.StreamResponse) -> None:
    # A signal, not a middleware: it runs for every response aiohttp sends, also the ones no
    # handler made (405, a 404 from the router, 500, a 304) and streamed ones (the feed).
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)


def _base_app(svc: Services, **kw: Any) -> web.Application:
    if not isinstance(svc.metrics, Metrics):
        # /metrics shows what the handlers sharing `svc` count: services come complete
        raise TypeError("the web app needs services with their Metrics: build them with build_services()")
    app = web.Application(**kw)
    app.on_response_prepare.append(_security_headers)
    app[SVC] = svc
    app[METRICS] = svc.metrics
    return app


def make_web_app(
    svc: Services,
    *,
    telegram_app: Any = None,
    webhook_secret: str | None = None,
    stats_cache_seconds: float = STATS_CACHE_SECONDS,
    feed_write_seconds: float = FEED_WRITE_SECONDS,
    feed_check_seconds: float = FEED_CHECK_SECONDS,
) -> web.Application:
    """The aiohttp app. With `telegram_app` (a python-telegram-bot Application fed through the
    durable inbox), POST /telegram/{webhook_path(secret)} takes its updates. `svc` comes from
    bot.services.build_services: its Metrics are the ones /metrics shows.
    """
    if telegram_app is not None and not webhook_secret:
        raise ValueError("a webhook needs a secret: pass webhook_secret (see webhook_secret())")
    app = _base_app(svc, middlewares=[not_found_page], client_max_size=1024**2)
    app[JINJA] = make_jinja()
    app[BOT_LINK] = BotLink()
    app[WEBHOOK] = None
    add_pages(app, stats_cache_seconds=stats_cache_seconds)
    add_feed(app, svc, write_seconds=feed_write_seconds, check_seconds=feed_check_seconds)
    add_monitoring(app, svc.db)
    if telegram_app is not None and webhook_secret:
        add_webhook(app, telegram_app, webhook_secret)
    return app


# -- crowdcheck run --metrics-port -----------------------------------------------------------
def make_metrics_app(svc: Services) -> web.Application:
    """Only /metrics and /healthz, through the handlers `serve` uses: no pages, no webhook."""
    app = _base_app(svc)
    app[METRICS_PORT] = True
    add_monitoring(app, svc.db)
    return app


class MetricsServer:
    """/metrics and /healthz beside a polling bot, started and stopped with it (bot/app.py)."""

    def __init__(self, svc: Services, *, host: str, port: int) -> None:
        self.app = make_metrics_app(svc)
        self.host, self.requested_port = host, port
        self.port: int | None = None
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        self._runner = web.AppRunner(self.app, handle_signals=False)
        await self._runner.setup()
        try:
            await web.TCPSite(self._runner, self.host, self.requested_port).start()
        except OSError as exc:
            await self.stop()
            where = f"{self.host}:{self.requested_port}"
            raise ConfigError(f"cannot serve /metrics on {where}: {exc.strerror or exc}") from None
        self.port = self._runner.addresses[0][1]
        log.info("metrics on http://%s:%d/metrics", self.host, self.port)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
