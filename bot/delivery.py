"""The delivery loop: drains the outbox to Telegram within its limits, losing and doubling nothing.

Limits (Telegram's Bot FAQ, configurable): about 30 messages a second overall, one a second per
private chat, 20 a minute per group (card edits count too). A 429 pauses everything for its
`retry_after`; a 403 marks the citizen as having blocked us; 5xx and timeouts back off and retry.
Each row is committed as `sending` before its request leaves, so after a crash (even kill -9)
a restarted loop never sends a row twice; see factdb/outbox.py.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import math
import os
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlmodel import Session, select
from telegram import Bot, InlineKeyboardMarkup, Message, ReplyParameters
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut

from factdb import cards, channel, citizens, digest
from factdb import outbox as ob
from factdb.media.pictures import Picture
from factdb.models import Claim, OutboxKind, utcnow
from handlers.services import Services
from handlers.views import review_texts
from handlers.views.keyboards import markup
from handlers.views.notices import render_job

log = logging.getLogger(__name__)


class CardNotPostedYet(Exception):
    """An edit for a card (or a channel post) whose first post is still on its way: try again
    shortly."""


class ChannelPostInDoubt(Exception):
    """The channel post this row would edit may or may not exist (a worker died sending it):
    posting again could double it, so the row is given up and counted."""


class Pacer:
    """Token spacing overall and per chat. Groups get Telegram's slower per-group pace."""

    def __init__(self, per_second: float, per_chat_interval: float, group_per_minute: int) -> None:
        # 5 % under the configured rate: requests leave evenly spaced but arrive with jitter, and
        # Telegram counts arrivals.
        self.interval = 1.05 / per_second
        self.per_chat = per_chat_interval
        self.per_group = 60.0 / max(group_per_minute, 1)
        self.next_slot = 0.0
        self.chat_next: dict[int, float] = {}
        self.paused_until = 0.0
        self.last_send = 0.0
        self._lock = asyncio.Lock()
        self._send_lock = asyncio.Lock()

    def busy_chats(self) -> list[int]:
        now = time.monotonic()
        for chat, at in list(self.chat_next.items()):
            if at <= now:
                del self.chat_next[chat]
        return list(self.chat_next)

    async def wait_global(self) -> None:
        """Wait for the next overall slot (and out any 429 pause) *before* taking a row, so a
        row is only ever marked `sending` right before its request leaves."""
        async with self._lock:
            now = time.monotonic()
            start = max(now, self.next_slot, self.paused_until)
            self.next_slot = start + self.interval
        delay = start - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)

    async def spaced(self) -> None:
        """Keep the overall spacing at the moment a request leaves, not only when its slot was
        taken: rows whose database work (claim, render) took different times would otherwise
        leave in bunches, and Telegram counts arrivals (3 of 1,000 answered 429 at the default
        rate on the shared machine before this)."""
        async with self._send_lock:
            delay = self.last_send + self.interval - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            self.last_send = time.monotonic()

    def hold_chat(self, chat_id: int) -> None:
        """A message to the chat is on its way: its rows wait until `sent_to` plus the interval.

        Counting the interval from the end of the send, not its start, keeps one chat's
        messages in order and spaced even when a call hangs for longer than the interval.
        """
        self.chat_next[chat_id] = math.inf

    def sent_to(self, chat_id: int) -> None:
        self.chat_next[chat_id] = time.monotonic() + (self.per_group if chat_id < 0 else self.per_chat)

    def pause(self, seconds: float) -> None:
        self.paused_until = max(self.paused_until, time.monotonic() + seconds)


Rendered = tuple[str, InlineKeyboardMarkup | None]


class DeliveryLoop:
    def __init__(
        self,
        bot: Bot,
        svc: Services,
        *,
        concurrency: int = 4,
        lease_seconds: float = 120.0,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.bot = bot
        # What is due and when a retry is due are read from this clock, so a test can freeze it
        # and watch a backoff without racing the machine's speed.
        self.clock = clock
        self.svc = svc
        self.worker = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self.concurrency = concurrency
        self.lease = timedelta(seconds=lease_seconds)
        cfg = svc.config
        self.pacer = Pacer(
            cfg.outbox_rate_per_second, cfg.outbox_per_chat_interval, cfg.outbox_group_per_minute
        )
        self._stopping = asyncio.Event()
        self._claiming = asyncio.Lock()
        self._tasks: list[asyncio.Task[None]] = []
        self.sent = 0

    # -- lifecycle ------------------------------------------------------------------------------
    def start(self) -> None:
        self._tasks = [asyncio.create_task(self._run(i), name=f"outbox-{i}") for i in range(self.concurrency)]

    async def stop(self, timeout: float = 10.0) -> None:
        """Finish the sends in flight, take nothing new (SIGTERM, shutdown)."""
        self._stopping.set()
        self.svc.wake_outbox()
        if self._tasks:
            _, pending = await asyncio.wait(self._tasks, timeout=timeout)
            for task in pending:
                task.cancel()
        self._tasks = []

    # -- the loop -------------------------------------------------------------------------------
    async def _run(self, n: int) -> None:
        if n == 0:
            try:
                doubtful = await self.svc.db.run(lambda s: ob.sweep_in_doubt(s, self.lease))
            except Exception:
                log.exception("outbox: could not look for sends a stopped worker left in doubt")
            else:
                if doubtful:
                    log.warning(
                        "%d notices were mid-send when a worker stopped; not resending them", doubtful
                    )
        idle = 0
        while not self._stopping.is_set():
            await self.pacer.wait_global()
            if self._stopping.is_set():
                break
            try:
                # One claim at a time, and its chat held before the next claim reads which chats
                # are busy: two senders must not both take a row for the same group.
                async with self._claiming:
                    job = await self.svc.db.run(self._claim)
                    if job is not None:
                        self.pacer.hold_chat(job.chat_id)
            except Exception:
                log.exception("outbox: could not read the queue")
                await self._sleep(1.0)
                continue
            if job is None:
                idle += 1
                if n == 0 and idle % 300 == 0:
                    await self.svc.db.run(lambda s: ob.sweep_in_doubt(s, self.lease))
                await self._sleep(0.2)
                continue
            idle = 0
            try:
                await self._deliver(job)
            finally:
                self.pacer.sent_to(job.chat_id)

    async def _sleep(self, seconds: float) -> None:
        wake = self.svc.outbox_wakeup
        try:
            await asyncio.wait_for(wake.wait(), timeout=seconds)
        except TimeoutError:
            return
        wake.clear()

    def _claim(self, session: Session) -> ob.Job | None:
        jobs = ob.claim_next(
            session,
            self.worker,
            is_postgres=self.svc.db.is_postgres,
            skip_chats=self.pacer.busy_chats(),
            now=self.clock(),
        )
        return jobs[0] if jobs else None

    def _render(self, session: Session, job: ob.Job) -> tuple[ob.Job, Rendered | None]:
        """The row's text and buttons as of now; a card in a surge becomes the digest."""
        digest = self._as_digest(session, job) if job.kind == OutboxKind.CARD else None
        if digest is not None:
            return dataclasses.replace(job, kind=OutboxKind.DIGEST), digest
        return job, render_job(session, job, self.svc.config, self.svc.index)

    async def _deliver(self, job: ob.Job) -> None:
        db = self.svc.db
        try:
            job, rendered = await db.run(lambda s: self._render(s, job))
            if rendered is None:  # nothing to say any more (claim gone, citizen forgotten)
                await db.run(lambda s: ob.mark_failed(s, job.id, "nothing to render"))
                return
            message = await self._send(job, *rendered)
            sent_text = rendered[0]
        except RetryAfter as exc:
            delay = float(
                exc.retry_after
                if isinstance(exc.retry_after, int | float)
                else exc.retry_after.total_seconds()
            )
            self.pacer.pause(delay)
            await self._retry(job.id, f"429 retry after {delay}", delay)
            self._count("retry_after")
            return
        except ChannelPostInDoubt:
            await db.run(lambda s: ob.mark_failed(s, job.id, "the first channel post is in doubt"))
            return
        except Forbidden:
            await db.run(lambda s: ob.mark_blocked(s, job.id, job.citizen_id, job.chat_id))
            if job.kind == OutboxKind.WEEKLY and job.citizen_id is not None:
                await db.run(lambda s: digest.unsubscribe(s, job.citizen_id), commit=True)
            self._count("blocked")
            return
        except BadRequest as exc:
            # PTB strips "Bad Request: " and capitalises what is left, so compare lowercased.
            if "message is not modified" in exc.message.lower():
                await db.run(lambda s: ob.mark_sent(s, job.id, None))
                self._count("sent")
                return
            refused = exc.message
            log.error("outbox: Telegram refused a %s: %s", job.kind, refused)
            await db.run(lambda s: ob.mark_failed(s, job.id, refused))
            self._count("failed")
            return
        except CardNotPostedYet:
            # Usually the card is a few milliseconds from being posted; if it never is (its own
            # send failed), give up after the usual number of attempts instead of spinning.
            if job.attempts >= ob.MAX_ATTEMPTS:
                await db.run(lambda s: ob.mark_failed(s, job.id, "the card was never posted"))
            else:
                delay = min(0.3 * 2 ** (job.attempts - 1), 30.0)
                await self._retry(job.id, "card not posted yet", delay)
            return
        except (TimedOut, NetworkError) as exc:
            await self._retry(job.id, f"{type(exc).__name__}: {exc}", None)
            self._count("retry")
            return
        except Exception as exc:
            log.exception("outbox: unexpected error on a %s", job.kind)
            await self._retry(job.id, repr(exc), None)
            self._count("error")
            return
        await db.run(lambda s: self._finish(s, job, message, sent_text))
        self.sent += 1
        self._count("sent")

    async def _send(self, job: ob.Job, text: str, markup: object) -> Message | bool:
        await self.pacer.spaced()
        if job.kind == OutboxKind.CARD_DELETE:
            message_id = int(job.payload["message_id"])
            try:
                return await self.bot.delete_message(job.chat_id, message_id)
            except BadRequest:  # a bot may delete its group messages for 48 hours only
                return await self.bot.edit_message_text(text, chat_id=job.chat_id, message_id=message_id)
        if job.kind == OutboxKind.CARD_EDIT:
            target = await self.svc.db.run(lambda s: _card_of(s, job.claim_id))
            if target[1] is None:
                raise CardNotPostedYet
            return await self.bot.edit_message_text(
                text,
                chat_id=target[0],
                message_id=target[1],
                parse_mode=ParseMode.HTML,
                reply_markup=markup,
                disable_web_page_preview=True,  # type: ignore[arg-type]
            )
        if job.kind == OutboxKind.PICTURE:
            return await self._send_picture(job, text, markup)
        if job.kind == OutboxKind.CHANNEL:
            message_id = await self.svc.db.run(
                lambda s: channel.target(s, job.claim_id, job.chat_id, job.id)  # type: ignore[arg-type]
            )
            if message_id == channel.WAIT:
                raise CardNotPostedYet
            if message_id == channel.IN_DOUBT:
                raise ChannelPostInDoubt
            if message_id is not None:
                return await self.bot.edit_message_text(
                    text, chat_id=job.chat_id, message_id=message_id, parse_mode=ParseMode.HTML
                )
        return await self.bot.send_message(
            job.chat_id,
            text,
            parse_mode=ParseMode.HTML,
            reply_markup=markup,  # type: ignore[arg-type]
            disable_web_page_preview=True,
        )

    async def _send_picture(self, job: ob.Job, caption: str, markup: object) -> Message | bool:
        """The claim's picture as a photo, in reply to its card once the card is posted (a card
        folded into a surge's digest has no message to reply to: the caption names the claim)."""
        picture_id = int(job.payload["picture_id"])
        jpeg, card_message_id = await self.svc.db.run(
            lambda s: _picture_and_card(s, picture_id, job.claim_id)
        )
        if jpeg is None:
            return False  # erased between rendering and sending
        if card_message_id is None and job.attempts < 5:
            raise CardNotPostedYet  # usually a few milliseconds behind: wait a little for it
        return await self.bot.send_photo(
            job.chat_id,
            photo=jpeg,
            caption=caption,
            parse_mode=ParseMode.HTML,
            reply_markup=markup,  # type: ignore[arg-type]
            reply_parameters=(
                ReplyParameters(card_message_id, allow_sending_without_reply=True)
                if card_message_id is not None
                else None
            ),
        )

    def _as_digest(self, session: Session, job: ob.Job) -> tuple[str, InlineKeyboardMarkup | None] | None:
        """In a surge of new claims, this card goes out as a digest of every card waiting."""
        claims = cards.collapse(session, job.id, job.claim_id, job.chat_id)  # type: ignore[arg-type]
        if not claims:
            return None
        text, rows = review_texts.digest(self.svc.t(None), claims)
        return text, markup(rows)

    def _finish(self, session: Session, job: ob.Job, message: Message | bool, sent_text: str) -> None:
        message_id = message.message_id if isinstance(message, Message) else None
        if job.kind == OutboxKind.CARD and message_id is not None:
            claim = session.get(Claim, job.claim_id)
            if claim is not None:
                claim.card_chat_id, claim.card_message_id = job.chat_id, message_id
                session.add(claim)
        if job.kind in (OutboxKind.CARD, OutboxKind.CARD_EDIT):
            # The claim may have moved on while this card was on its way (a new request
            # between render and send): if it would read differently now, edit it again,
            # unless that change already queued an edit (one is enough, it renders late).
            fresh = render_job(session, job, self.svc.config, self.svc.index)
            claim = session.get(Claim, job.claim_id)
            if fresh is not None and fresh[0] != sent_text and claim is not None:
                session.flush()
                cards.refresh(session, claim)
        if job.kind == OutboxKind.CHANNEL and message_id is not None and job.claim_id is not None:
            channel.record_post(session, job.claim_id, job.chat_id, message_id)
        if job.kind == OutboxKind.NOTICE and job.citizen_id is not None and job.claim_id is not None:
            citizens.mark_told(session, job.citizen_id, job.claim_id)
        ob.mark_sent(session, job.id, message_id)
        if message_id is not None and _erased_meanwhile(session, job):
            # /forget ran while this card or picture was on its way (it could not know the
            # message id yet): what the message shows goes too.
            cards.take_down(session, job.chat_id, message_id)
            session.commit()

    async def _retry(self, job_id: int, error: str, delay: float | None) -> None:
        await self.svc.db.run(lambda s: ob.mark_retry(s, job_id, error, delay, now=self.clock()))

    def _count(self, result: str) -> None:
        if self.svc.metrics is not None:
            self.svc.metrics.delivery(result)


def _picture_and_card(
    session: Session, picture_id: int, claim_id: int | None
) -> tuple[bytes | None, int | None]:
    picture = session.get(Picture, picture_id)
    return (picture.data if picture is not None else None), _card_of(session, claim_id)[1]


def _erased_meanwhile(session: Session, job: ob.Job) -> bool:
    """Read after the row is marked sent: an erasure that held the row (factdb/cards.py
    `take_down_pictures`) has committed by then, one that comes later sees the message id."""
    if job.kind == OutboxKind.PICTURE:
        picture_id = int(job.payload.get("picture_id", 0))
        return session.exec(select(Picture.id).where(Picture.id == picture_id)).first() is None
    if job.kind == OutboxKind.CARD and job.claim_id is not None:
        return session.exec(select(Claim.id).where(Claim.id == job.claim_id)).first() is None
    return False


def _card_of(session: Session, claim_id: int | None) -> tuple[int | None, int | None]:
    """Where the claim's card stands in the moderators' group (None, None before it is posted)."""
    claim = session.get(Claim, claim_id)
    return (claim.card_chat_id, claim.card_message_id) if claim else (None, None)
