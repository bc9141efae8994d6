"""A citizen sends a picture, a screenshot, a GIF or a video: fetch it, read it, answer.

The file comes through getFile (20 MB at most for bots; a bigger video is judged by its
thumbnail), with a timeout and retries; it is read in the bounded picture pool while the
citizen sees "typing…"; then factdb/picture_intake.py decides, on the same path as text.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

from telegram import Bot, Message, Update
from telegram.constants import ChatAction
from telegram.error import BadRequest, NetworkError, TimedOut
from telegram.ext import ContextTypes

from factdb.media.decode import MAX_BYTES, ImageRejected
from factdb.media.pictures import find_claim
from factdb.media.reading import PictureRead
from factdb.picture_intake import held_over_limit, submit_picture
from handlers.citizen.submit import answer, submission_from
from handlers.common import citizen_translator, reply, services
from handlers.services import Services

log = logging.getLogger(__name__)

DOWNLOAD_TIMEOUT_S = 30.0
DOWNLOAD_ATTEMPTS = 3
TYPING_EVERY_S = 4.0  # Telegram shows a chat action for about 5 seconds


@dataclass(frozen=True)
class Incoming:
    kind: str  # photo, document, animation, video, video_note
    file_id: str
    size: int | None
    thumbnail_id: str | None  # Telegram's own still of a video or GIF


def incoming(message: Message) -> Incoming | None:
    """The file in a message that holds a picture; the largest size of a photo."""
    if message.photo:
        largest = max(message.photo, key=lambda p: (p.width * p.height, p.file_size or 0))
        return Incoming("photo", largest.file_id, largest.file_size, None)
    for kind in ("animation", "video", "video_note"):
        media = getattr(message, kind)
        if media is not None:
            thumb = media.thumbnail.file_id if media.thumbnail else None
            return Incoming(kind, media.file_id, media.file_size, thumb)
    document = message.document
    if document is not None:
        thumb = document.thumbnail.file_id if document.thumbnail else None
        return Incoming("document", document.file_id, document.file_size, thumb)
    return None


async def download(bot: Bot, file_id: str) -> bytes:
    """The file's bytes, retried on timeouts and network errors (not on refusals; Telegram's
    "file is too big", over its 20 MB for bots, is ImageRejected("too_big") like a decoded one)."""
    for attempt in range(1, DOWNLOAD_ATTEMPTS + 1):
        try:
            file = await bot.get_file(file_id, read_timeout=DOWNLOAD_TIMEOUT_S)
            data = await file.download_as_bytearray(read_timeout=DOWNLOAD_TIMEOUT_S)
            return bytes(data)
        except BadRequest as exc:
            if "too big" in exc.message.lower():
                raise ImageRejected("too_big", "over the Bot API's download limit") from exc
            raise
        except (TimedOut, NetworkError):
            if attempt == DOWNLOAD_ATTEMPTS:
                raise
            await asyncio.sleep(0.5 * 2**attempt)
    raise AssertionError("unreachable")


@contextlib.asynccontextmanager
async def typing(bot: Bot, chat_id: int) -> AsyncIterator[None]:
    """Show "typing…" until the block ends: reading a picture takes a few seconds."""

    async def keep_typing() -> None:
        while True:
            with contextlib.suppress(Exception):  # a chat action is a courtesy, never a failure
                await bot.send_chat_action(chat_id, ChatAction.TYPING)
            await asyncio.sleep(TYPING_EVERY_S)

    task = asyncio.create_task(keep_typing())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def fetch_and_look(svc: Services, bot: Bot, media: Incoming) -> PictureRead:
    """Download, decode and hash the file (or, for a video too big or unreadable here, its
    thumbnail)."""
    try:
        if media.size is not None and media.size > MAX_BYTES:
            raise ImageRejected("too_big", f"{media.size} bytes")
        return await svc.reader.look(await download(bot, media.file_id), media.kind)
    except ImageRejected as exc:
        if media.thumbnail_id is None or exc.reason not in ("too_big", "no_frames"):
            raise
    return await svc.reader.look(await download(bot, media.thumbnail_id), "thumbnail")


async def read_picture(svc: Services, bot: Bot, media: Incoming, lang_hint: str | None) -> PictureRead:
    """The picture, hashed, with its text read unless its hash already names a claim (the
    common case for a viral picture, and the costly step skipped)."""
    picture = await fetch_and_look(svc, bot, media)
    seen = await svc.db.run(lambda s: find_claim(s, svc.pictures, *picture.hashes))
    if seen is not None:
        return dataclasses.replace(picture, frames=())
    return await svc.reader.read_text(picture, lang_hint=lang_hint)


def _hint(language_code: str | None) -> str | None:
    """Which script to try first in OCR: the Telegram app's language is the best early guess."""
    return "zh-TW" if (language_code or "").lower().startswith("zh") else None


async def on_picture(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    if message is None or message.from_user is None:
        return
    media = incoming(message)
    if media is None:
        return
    svc = services(context)
    started = time.perf_counter()
    user_id = message.from_user.id
    held = await svc.db.run(lambda s: held_over_limit(s, user_id, svc.picture_limits))
    if held is not None:
        await answer(update, context, lambda _s: held)
        return
    try:
        async with typing(context.bot, message.chat_id), svc.reader.slot():
            read = await read_picture(svc, context.bot, media, _hint(message.from_user.language_code))
    except ImageRejected as exc:
        log.info("picture refused: %s", exc.reason)
        await _refuse(update, context, exc.reason)
        return

    sub = submission_from(update, message, replayed=update.update_id in svc.replayed)
    await answer(
        update,
        context,
        lambda s: submit_picture(s, svc.index, svc.pictures, sub, read, svc.picture_limits),
        started=started,
    )


async def _refuse(update: Update, context: ContextTypes.DEFAULT_TYPE, reason: str) -> None:
    t = await citizen_translator(services(context), update)
    if reason == "too_big":
        text = t._(
            "This file is too big for me to open (over 20 MB). Please send a screenshot of it, "
            "or forward the text."
        )
    elif reason in ("not_an_image", "no_frames"):
        text = t._(
            "I can read text and pictures, but not this kind of file. Please send a screenshot, or forward the text."
        )
    else:  # broken, too_many_pixels
        text = t._("I couldn't open this picture. Please send it again as a photo, or forward the text.")
    await reply(update, context, text)
