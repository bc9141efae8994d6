"""/start and /help: what the bot does, what it keeps, how to delete it."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from factdb import clarifications
from handlers.common import citizen_translator, reply, services
from handlers.views import texts
from handlers.views.i18n import Translator

DEEP_LINK_PREFIX = "claim_"  # t.me/<bot>?start=claim_<id>, from group replies and inline cards


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    svc = services(context)
    t = await citizen_translator(svc, update)
    payload = (context.args or [""])[0]
    if payload.startswith(DEEP_LINK_PREFIX) and payload[len(DEEP_LINK_PREFIX) :].isdigit():
        await _show_claim(update, context, int(payload[len(DEEP_LINK_PREFIX) :]), t)
        return
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
                t._("/subscribe — a weekly digest of the most asked fact-checks"),
                t._("/stop — stop notifications"),
                t._("/forget — delete your data"),
            ]
        ),
    )


async def _show_claim(
    update: Update, context: ContextTypes.DEFAULT_TYPE, claim_id: int, t: Translator
) -> None:
    """Someone followed a deep link to a fact-check: the clarification, in their language."""
    svc = services(context)
    found = await svc.db.run(lambda s: clarifications.published_for(s, claim_id, t.lang))
    if found is None:
        await reply(
            update,
            context,
            t._("This fact-check is not available any more. Send me the message you saw and I'll check it."),
        )
        return
    claim, chosen = found
    link = texts.claim_page(svc.config.public_url, claim.id)  # type: ignore[arg-type]
    body = texts.clarification(
        t,
        chosen.clarification,
        clarifications.sources_of(chosen.clarification),
        translated=chosen.translated,
        public_link=link,
    )
    await reply(update, context, body)
