"""Buttons: rows of (label, callback data), and the Telegram keyboard they become."""

from __future__ import annotations

from collections.abc import Sequence

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from handlers.views import callbacks as cb
from handlers.views.i18n import Translator

Buttons = Sequence[Sequence[tuple[str, str]]]  # rows of (label, callback data)


def markup(rows: Buttons | None) -> InlineKeyboardMarkup | None:
    if not rows:
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(label, callback_data=data) for label, data in row] for row in rows]
    )


def answer_buttons(t: Translator, request_id: int) -> Buttons:
    """Under a clarification a citizen reads: was it helpful, and was it their message at all."""
    return [
        [
            (t._("👍 Helpful"), cb.make(cb.Code.FEEDBACK, "h", request_id)),
            (t._("👎 Not helpful"), cb.make(cb.Code.FEEDBACK, "n", request_id)),
        ],
        [(t._("This isn't my message"), cb.make(cb.Code.NOT_MINE, request_id))],
    ]


def wait_button(t: Translator, claim_id: int) -> Buttons:
    return [[(t._("How long will it take?"), cb.make(cb.Code.WAIT, claim_id))]]


def picture_buttons(t: Translator, picture_id: int, publishable: bool) -> Buttons:
    """Under a citizen's picture in the moderators' group: show it on the claim's public page,
    or make it private again. The button names the state it asks for, so a stale one pressed
    twice does not flip it back."""
    if publishable:
        return [[(t._("Make private again"), cb.make(cb.Code.PICTURE_PUBLIC, picture_id, 0))]]
    return [[(t._("Show on the public page"), cb.make(cb.Code.PICTURE_PUBLIC, picture_id, 1))]]
