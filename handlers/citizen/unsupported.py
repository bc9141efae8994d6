"""Stickers, voice notes, locations…: one kind line saying what the bot can read."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from handlers.common import citizen_translator, reply, services


async def unsupported(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    t = await citizen_translator(services(context), update)
    await reply(
        update,
        context,
        t._(
            "I can only read text for now. Please forward the message as text, "
            "or a photo or video with its caption."
        ),
    )
