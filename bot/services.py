"""What the handlers need, built once at start-up and kept in `application.bot_data`."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bot.config import Config
from bot.i18n import Translator
from factdb.db import Database
from factdb.intake import Limits
from factdb.matching import Matcher

if TYPE_CHECKING:
    from telegram.ext import ContextTypes


@dataclass
class Services:
    config: Config
    db: Database
    index: Matcher = field(default_factory=Matcher)
    outbox_wakeup: asyncio.Event = field(default_factory=asyncio.Event)
    metrics: Any = None
    # Update ids replayed from the inbox after a crash (bot/inbox.py); a handler takes its id out.
    replayed: set[int] = field(default_factory=set)
    # The durable inbox (bot.inbox.DurableInbox) when updates come through one: /forget clears
    # the person's raw updates from it.
    inbox: Any = None

    @property
    def limits(self) -> Limits:
        return Limits(per_minute=self.config.flood_per_minute, per_day=self.config.flood_per_day)

    def t(self, lang: str | None) -> Translator:
        return Translator(lang, self.config.locales)

    def wake_outbox(self) -> None:
        self.outbox_wakeup.set()


def services(context: ContextTypes.DEFAULT_TYPE) -> Services:
    return context.application.bot_data["services"]  # type: ignore[no-any-return]
