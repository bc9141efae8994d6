"""Wiring: one python-telegram-bot Application, our services, the delivery loop.

`BotRuntime` starts and stops the whole bot the same way for `crowdcheck run`, the offline demo
and the tests, so what the tests drive is what runs in production.
"""

from __future__ import annotations

import asyncio
import json
import logging
import signal
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from telegram import BotCommand, Update
from telegram.ext import Application, ApplicationBuilder

from bot.config import Config
from bot.delivery import DeliveryLoop
from bot.inbox import DurableInbox, DurableUpdateQueue, SettlingRequest
from bot.metrics import Metrics
from bot.services import build_services
from bot.updates import PerChatUpdateProcessor
from factdb import channel, digest
from factdb.db import Database
from factdb.language import detect_language
from factdb.media.ocr import ocr_status
from factdb.models import utcnow
from handlers.router import register
from handlers.services import Services

if TYPE_CHECKING:
    from bot.web import MetricsServer

log = logging.getLogger(__name__)
DIGEST_CHECK = 900.0  # seconds between looks at whether the weekly digest is due

CITIZEN_COMMANDS = [
    ("start", "What this bot does"),
    ("help", "How to use it"),
    ("mychecks", "Your recent checks"),
    ("language", "Choose your language"),
    ("subscribe", "Weekly digest of fact-checks"),
    ("stop", "Stop notifications"),
    ("forget", "Delete your data"),
]


def build_application(svc: Services, *, token: str, long_poll_timeout: float = 10.0) -> Application:
    base = svc.config.api_base_url.rstrip("/")
    queue = DurableUpdateQueue()
    builder: ApplicationBuilder = (
        Application.builder()
        .token(token)
        .base_url(base)
        .base_file_url(base.removesuffix("/bot") + "/file/bot")
        .get_updates_request(
            SettlingRequest(queue, connection_pool_size=1, read_timeout=long_poll_timeout + 5)
        )
        .read_timeout(15)
        .connect_timeout(10)
        .connection_pool_size(32)
        .concurrent_updates(
            PerChatUpdateProcessor(svc.config.handler_concurrency, svc.config.burst_concurrency)
        )
        .update_queue(queue)
    )
    app = builder.build()
    app.bot_data["services"] = svc
    register(app, svc.config.review_chat_id)
    return app


class BotRuntime:
    def __init__(
        self,
        config: Config,
        *,
        db: Database | None = None,
        token: str | None = None,
        delivery: bool = True,
        long_poll_timeout: float = 10.0,
        delivery_concurrency: int = 4,
    ) -> None:
        self.config = config
        self.db = db or Database(config.database_url)
        self.inbox = DurableInbox(self.db)
        self.metrics = Metrics()
        self.svc = build_services(config, self.db, inbox=self.inbox, metrics=self.metrics)
        self.app = build_application(
            self.svc, token=token or config.require_token(), long_poll_timeout=long_poll_timeout
        )
        self.long_poll_timeout = long_poll_timeout
        self._index_task: asyncio.Task[None] | None = None
        self._digest_task: asyncio.Task[None] | None = None
        self._vector_task: asyncio.Task[None] | None = None
        self.inbox.on_adopted = self._replay
        queue, processor = self.app.update_queue, self.app.update_processor
        assert isinstance(queue, DurableUpdateQueue) and isinstance(processor, PerChatUpdateProcessor)
        queue.inbox, processor.on_done = self.inbox, self.inbox.done
        processor.receiving = self.inbox.receiving
        self.processor = processor
        self.delivery = (
            DeliveryLoop(
                self.app.bot,
                self.svc,
                concurrency=delivery_concurrency,
                lease_seconds=config.outbox_lease_seconds,
            )
            if delivery
            else None
        )
        self.metrics_server = self._metrics_server()

    async def start(self, *, polling: bool = True) -> None:
        if polling and self.metrics_server is not None:
            await self.metrics_server.start()  # first: a taken port stops us before anything runs
        self.db.ensure_schema()
        await self.db.run(lambda s: channel.configure(s, self.config.channel_id), commit=True)
        detect_language("warm up the language profiles before the first citizen waits on them")
        # Pictures are matched by hash whatever happens; reading their text needs Tesseract.
        (log.info if self.svc.reader.ocr else log.warning)("pictures: %s", ocr_status().advice)
        # Building the match index takes a while at national scale (about 90 s for 10^6
        # claims): updates are received and stored meanwhile, and handled once it is built.
        ready = self.processor.ready = asyncio.Event()
        self._index_task = asyncio.create_task(self._build_index(ready), name="match-index")
        await self.app.initialize()
        await self.app.start()
        self._replay(await self.inbox.start())
        self.metrics.watch_inbox(lambda: self.inbox.backlog)
        self.metrics.watch_answering(ready.is_set)
        if polling:
            await self.app.bot.delete_webhook()
            assert self.app.updater is not None
            await self.app.updater.start_polling(
                poll_interval=0.0,
                timeout=int(self.long_poll_timeout),
                allowed_updates=Update.ALL_TYPES,
                drop_pending_updates=False,
            )
        try:
            await self.app.bot.set_my_commands([BotCommand(c, d) for c, d in CITIZEN_COMMANDS])
        except Exception:
            log.warning("could not set the command menu")
        if self.delivery is not None:
            self.delivery.start()
            self._digest_task = asyncio.create_task(self._digest_rounds(), name="weekly-digest")
        log.info("crowdcheck is running")

    async def _digest_rounds(self) -> None:
        """Queue the weekly digest once its time has come (factdb/digest.py: once per subscriber
        and week, whichever worker asks first); asked at start and every DIGEST_CHECK seconds."""
        while True:
            now = utcnow()
            if digest.due(now, self.config.digest_weekday, self.config.digest_hour):
                try:
                    queued = await self.db.run(lambda s, at=now: digest.queue_round(s, at), commit=True)
                except Exception:
                    log.exception("weekly digest: could not queue this round; trying again later")
                else:
                    if queued:
                        log.info("weekly digest: %d queued", queued)
                        self.svc.wake_outbox()
            await asyncio.sleep(DIGEST_CHECK)

    async def _build_index(self, ready: asyncio.Event) -> None:
        """Load every matchable claim into the index, retrying while the database is away."""
        started, delay = time.monotonic(), 1.0
        while True:
            try:
                await self.db.run(self.svc.index.refresh)
                await self.db.run(self.svc.pictures.refresh)
                break
            except Exception as exc:
                log.warning(
                    "could not build the match index (%s); retrying in %.0f s", type(exc).__name__, delay
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30.0)
        ready.set()
        log.info(
            "match index ready: %d matchable claims and %d pictures in %.1f s",
            len(self.svc.index),
            len(self.svc.pictures),
            time.monotonic() - started,
        )
        if self.svc.index.semantic is not None:
            # vectors for claims made or edited from now on: embedded beside the bot and stored
            from factdb.semantic.keeper import keep_vectors

            self._vector_task = asyncio.create_task(
                keep_vectors(self.db, self.svc.index), name="claim-vectors"
            )

    async def index_ready(self) -> None:
        """Wait until the bot answers (the match index is built)."""
        await asyncio.shield(self._index_task)

    async def stop(self) -> None:
        for task in (self._digest_task, self._vector_task):
            if task is not None:
                task.cancel()
        if self._index_task is not None and not self._index_task.done():
            self._index_task.cancel()
            self.processor.abandon_waiting()  # the updates waiting stay in the inbox for next time
        if self.metrics_server is not None:
            await self.metrics_server.stop()
        if self.delivery is not None:
            await self.delivery.stop()
        if self.app.updater is not None and self.app.updater.running:
            await self.app.updater.stop()
        if self.app.running:
            await self.app.stop()
        await self.inbox.stop()
        await self.app.shutdown()
        self.svc.reader.close()

    def _replay(self, rows: list[tuple[int, str]]) -> None:
        """Queue updates acknowledged in an earlier life (or by a stopped peer), in update order."""
        for update_id, payload in rows:
            try:
                update = Update.de_json(json.loads(payload), self.app.bot)
            except Exception:
                log.warning("inbox: update %d could not be read back; dropped", update_id)
                self.inbox.done(update_id)
                continue
            self.svc.replayed.add(update_id)
            self.app.update_queue.put_nowait(update)

    def _metrics_server(self) -> MetricsServer | None:
        """`crowdcheck run --metrics-port`: /metrics and /healthz beside polling (bot/web.py's
        handlers), counting from the first update. Webhook mode serves them on its own port and
        does not start this one."""
        if self.config.metrics_port is None:
            return None
        from bot.web import MetricsServer

        server = MetricsServer(self.svc, host=self.config.metrics_host, port=self.config.metrics_port)
        self.metrics.install(self.app)
        return server

    async def run_until_signal(self) -> None:
        await run_until_signal(self.start, self.stop, "stopping: finishing sends in flight")


async def run_until_signal(
    start: Callable[[], Awaitable[None]], stop: Callable[[], Awaitable[None]], farewell: str
) -> None:
    """Start, wait for SIGINT/SIGTERM, stop: finish or release what is held, then exit 0."""
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stopping.set)
    await start()
    try:
        await stopping.wait()
    finally:
        log.info(farewell)
        await stop()
