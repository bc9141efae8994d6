"""What the web app holds (aiohttp `AppKey`s) that every part of it reads: the services, the
metrics, the bot's link, and the webhook when this process receives Telegram's updates.
Keys that only one module reads live in that module (pages, feed, health)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiohttp import web

from bot.metrics import Metrics
from handlers.services import Services


@dataclass
class BotLink:
    """The bot's @username once known (getMe at start), for the pages' "Ask the bot" link."""

    username: str | None = None


SVC: web.AppKey[Services] = web.AppKey("svc", Services)
METRICS: web.AppKey[Metrics] = web.AppKey("metrics", Metrics)
BOT_LINK: web.AppKey[BotLink] = web.AppKey("bot_link", BotLink)
# The python-telegram-bot Application whose update queue the webhook feeds, and (path, secret).
TELEGRAM: web.AppKey[Any] = web.AppKey("telegram", object)
WEBHOOK: web.AppKey[tuple[str, str] | None] = web.AppKey("webhook", object)
# True on `run --metrics-port`'s own listener (make_metrics_app), where /metrics has no
# loopback rule: the operator chose where it listens.
METRICS_PORT: web.AppKey[bool] = web.AppKey("metrics_port", bool)
