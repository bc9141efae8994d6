"""What the handlers need, built once at start-up (bot/app.py `build_services`) and kept in
`application.bot_data`.

The handlers do not import the runtime (`bot/`): what they read of its configuration, of its
durable inbox and of its metrics is described here, and the runtime passes in objects that
have it (bot.config.Config, bot.inbox.DurableInbox, bot.metrics.Metrics).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Protocol

from factdb.db import Database
from factdb.floods import Limits
from factdb.matching import Matcher
from factdb.media.pictures import PictureIndex
from factdb.media.reader import PictureReader
from factdb.picture_intake import PictureLimits
from handlers.views.i18n import Translator

if TYPE_CHECKING:
    from telegram.ext import ContextTypes


class Settings(Protocol):
    """The configuration values the conversations read (bot.config.Config has them all; the
    handlers only read them)."""

    review_chat_id: int | None
    admin_ids: frozenset[int]
    public_url: str | None
    public_queue: bool
    require_second_review: bool
    org_name: str
    org_url: str | None
    virality_half_life_hours: float
    flood_per_minute: int
    flood_per_day: int
    locales: tuple[str, ...]
    claim_lease_minutes: float
    claim_lease: timedelta
    pictures_per_day: int


class UpdateInbox(Protocol):
    """The durable inbox of raw updates (bot/inbox.py): /forget clears the person's from it."""

    def erase_user(self, user_id: int) -> Awaitable[int]: ...


class IntakeMeter(Protocol):
    """Where a handled submission is counted (bot/metrics.py, for /metrics)."""

    def intake(self, outcome: str, seconds: float) -> None: ...


@dataclass
class Services:
    config: Settings
    db: Database
    index: Matcher = field(default_factory=Matcher)
    outbox_wakeup: asyncio.Event = field(default_factory=asyncio.Event)
    metrics: IntakeMeter | None = None
    # The durable inbox when updates come through one (not in the web pages' own Services).
    inbox: UpdateInbox | None = None
    # Update ids replayed from the inbox after a crash (bot/inbox.py); a handler takes its id out.
    replayed: set[int] = field(default_factory=set)
    # Pictures: the hashes of every stored one, and the bounded pool that reads them.
    pictures: PictureIndex = field(default_factory=PictureIndex)
    reader: PictureReader = field(default_factory=PictureReader)

    @property
    def limits(self) -> Limits:
        return Limits(per_minute=self.config.flood_per_minute, per_day=self.config.flood_per_day)

    @property
    def picture_limits(self) -> PictureLimits:
        return PictureLimits(per_day=self.config.pictures_per_day)

    def t(self, lang: str | None) -> Translator:
        return Translator(lang, self.config.locales)

    def wake_outbox(self) -> None:
        self.outbox_wakeup.set()


def services(context: ContextTypes.DEFAULT_TYPE) -> Services:
    return context.application.bot_data["services"]  # type: ignore[no-any-return]
