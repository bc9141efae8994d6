"""Prometheus metrics for `/metrics`.

Each `Metrics` owns its own `CollectorRegistry` instead of the process-global one, so tests (and
a process that runs two bots) can build several without "Duplicated timeseries" errors.

Counters and the histogram are updated by the code that does the work (handlers call
`intake()`, the delivery loop `delivery()`); the gauges describe the database (queue size,
outbox backlog) and are read at scrape time, so every worker reports the same shared truth and
nothing polls the database between scrapes.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from sqlalchemy import func
from sqlmodel import Session, select

from factdb.models import MATCHABLE_STATUSES, OPEN_STATUSES, Claim, OutboxStatus
from factdb.outbox import backlog

log = logging.getLogger(__name__)

CONTENT_TYPE = CONTENT_TYPE_LATEST
# Intake is normalise + match + a few writes: milliseconds normally, seconds when the DB is slow.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


def update_kind(update: Any) -> str:
    """`message`, `command`, `callback_query`, `my_chat_member`, …: the field Telegram filled."""
    message = getattr(update, "message", None)
    if message is not None:
        return "command" if (message.text or "").startswith("/") else "message"
    for key in update.to_dict():
        if key != "update_id":
            return str(key)
    return "unknown"


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.updates = Counter(
            "crowdcheck_updates", "Telegram updates handled, by kind.", ["kind"], registry=r
        )
        self.intakes = Counter(
            "crowdcheck_intake", "Citizen submissions handled, by outcome.", ["outcome"], registry=r
        )
        self.intake_seconds = Histogram(
            "crowdcheck_intake_seconds",
            "Time to normalise, match and record one citizen submission.",
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.deliveries = Counter("crowdcheck_deliveries", "Outbox sends, by result.", ["result"], registry=r)
        self.queue_size = Gauge(
            "crowdcheck_queue_size", "Open claims waiting for reviewers (new or in review).", registry=r
        )
        self.matchable_claims = Gauge(
            "crowdcheck_matchable_claims", "Claims a citizen's message can be matched against.", registry=r
        )
        self.outbox = Gauge(
            "crowdcheck_outbox_messages",
            "Outbox rows by status (read at scrape time).",
            ["status"],
            registry=r,
        )
        self.outbox_backlog = Gauge(
            "crowdcheck_outbox_backlog", "Messages still owed: pending or being sent.", registry=r
        )
        self.inbox_updates = Gauge(
            "crowdcheck_inbox_updates",
            "Updates this worker has acknowledged to Telegram and not yet handled (docs/inbox.md).",
            registry=r,
        )
        self.answering = Gauge(
            "crowdcheck_answering",
            "0 while the match index is being built at start (updates are stored, not yet answered).",
            registry=r,
        )
        self.database_up = Gauge(
            "crowdcheck_database_up", "1 when the last scrape could read the database.", registry=r
        )
        # One scrape at a time: the gauges are set, then rendered, as one consistent picture.
        self._scrape_lock = threading.Lock()

    # -- called by the bot ----------------------------------------------------------------------
    def update(self, kind: str) -> None:
        self.updates.labels(kind=kind).inc()

    def intake(self, outcome: str, seconds: float) -> None:
        self.intakes.labels(outcome=outcome).inc()
        self.intake_seconds.observe(seconds)

    def delivery(self, result: str) -> None:
        self.deliveries.labels(result=result).inc()

    def watch_inbox(self, count: Callable[[], float]) -> None:
        self.inbox_updates.set_function(count)

    def watch_answering(self, answering: Callable[[], bool]) -> None:
        self.answering.set_function(lambda: float(answering()))

    def install(self, application: Any) -> None:
        """Count every update a python-telegram-bot Application receives (polling or webhook).

        A TypeHandler in its own early group sees each update before the real handlers and
        does not stop them; idempotent, so build_application and `serve` may both call it.
        """
        from telegram import Update
        from telegram.ext import TypeHandler

        if application.bot_data.get("_metrics_installed") is self:
            return
        application.bot_data["_metrics_installed"] = self

        async def count(update: Update, _context: Any) -> None:
            self.update(update_kind(update))

        application.add_handler(TypeHandler(Update, count, block=False), group=-100)

    # -- scrape ---------------------------------------------------------------------------------
    def collect_database(self, session: Session) -> None:
        by_status = {
            str(s): int(n) for s, n in session.exec(select(Claim.status, func.count()).group_by(Claim.status))
        }
        rows = backlog(session)
        self.queue_size.set(sum(by_status.get(str(s), 0) for s in OPEN_STATUSES))
        self.matchable_claims.set(sum(by_status.get(str(s), 0) for s in MATCHABLE_STATUSES))
        for status in OutboxStatus:  # every status, so a drained backlog shows 0, not a stale value
            self.outbox.labels(status=str(status)).set(rows.get(str(status), 0))
        self.outbox_backlog.set(rows.get(OutboxStatus.PENDING, 0) + rows.get(OutboxStatus.SENDING, 0))

    def render(self, session: Session | None = None) -> bytes:
        """The Prometheus text exposition, with the gauges read through `session` when given.
        Blocking (reads the database): from async code, `await db.run(metrics.render)`."""
        with self._scrape_lock:
            if session is not None:
                try:
                    self.collect_database(session)
                    self.database_up.set(1)
                except Exception:
                    # The counters are still worth scraping when the database is away.
                    log.warning("metrics: could not read the database", exc_info=True)
                    self.database_up.set(0)
            return generate_latest(self.registry)
