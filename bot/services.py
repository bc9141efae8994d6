"""The handlers' Services (handlers/services.py), built complete from the runtime's parts.

One function, so every process that runs the handlers (`crowdcheck run`, `serve`, the demo,
the tests) hands them the same things, and nothing is attached afterwards.
"""

from __future__ import annotations

from bot.config import Config
from bot.inbox import DurableInbox
from bot.metrics import Metrics
from factdb.db import Database
from factdb.media.reader import PictureReader
from handlers.services import Services


def build_services(
    config: Config, db: Database, *, inbox: DurableInbox | None = None, metrics: Metrics | None = None
) -> Services:
    """Services for `config` and `db`; metrics are counted from the first update (a fresh
    `Metrics` unless one is given); `inbox` when updates come through the durable inbox."""
    return Services(
        config, db, metrics=metrics or Metrics(), inbox=inbox, reader=PictureReader(config.picture_workers)
    )
