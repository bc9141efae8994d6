"""Stickers, voice notes, locations…: one kind line saying what the bot can read."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from handlers.common import citizen_translator, reply, services


async def unsupported(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    t = await citizen_translator(services(context), update)
    message = update.effective_message
    if message is not None and (message.voice or message.audio):
        # No transcription yet: what the citizen can do instead.
        text = t._(
            "I can't listen to voice messages or audio yet. Please forward the text of the "
            "message, or tell me in a few words what it says."
        )
    else:
        text = t._(
            "I can read text and pictures. Please forward the message as text, or send a "
            "screenshot or photo of it."
        )
    await reply(update, context, text)
