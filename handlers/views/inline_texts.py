"""Inline results: one article per published clarification, and the compact card it posts."""

from __future__ import annotations

from html import escape

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQueryResultArticle,
    InputTextMessageContent,
)

from factdb.inline import InlineAnswer
from handlers.views.group_texts import deep_link
from handlers.views.i18n import Translator
from handlers.views.texts import claim_page, excerpt, isolate, url_link, verdict_label


def article(
    t: Translator, item: InlineAnswer, public_url: str | None, bot_username: str | None
) -> InlineQueryResultArticle:
    label = verdict_label(t, item.clarification.verdict)
    card = [
        f"<b>{escape(label, quote=False)}</b> — {isolate(excerpt(item.wording, 200))}",
        isolate(excerpt(item.clarification.summary, 400)),
    ]
    page = claim_page(public_url, item.claim_id)
    if page:
        card.append(t._("Full clarification: {link}").format(link=url_link(page)))
    link = deep_link(bot_username, item.claim_id)
    buttons = (
        InlineKeyboardMarkup([[InlineKeyboardButton(t._("Open in the bot"), url=link)]]) if link else None
    )
    return InlineQueryResultArticle(
        id=f"claim-{item.claim_id}",
        title=f"{label}: {excerpt(item.wording, 60)}",
        description=excerpt(item.clarification.summary, 120),
        input_message_content=InputTextMessageContent("\n".join(card), parse_mode="HTML"),
        reply_markup=buttons,
    )
