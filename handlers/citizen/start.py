"""/start and /help: what the bot does, what it keeps, how to delete it."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from handlers.common import citizen_translator, reply, services


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    t = await citizen_translator(services(context), update)
    await reply(
        update,
        context,
        "\n".join(
            [
                t._(
                    "Hi! Forward me a message you're not sure about, and I'll tell you what fact-checkers found."
                ),
                t._(
                    "I keep the messages you send and your language so I can answer you; reviewers never see who you are."
                ),
                t._("Send /forget at any time to delete your data. /help shows everything I can do."),
            ]
        ),
    )


async def help_(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    t = await citizen_translator(services(context), update)
    await reply(
        update,
        context,
        "\n".join(
            [
                t._(
                    "Forward or paste a message (text, or a photo or video with a caption) and I'll check it."
                ),
                t._("/mychecks — what you asked and where it stands"),
                t._("/language — choose your language"),
                t._("/stop — stop notifications"),
                t._("/forget — delete your data"),
            ]
        ),
    )
