"""A reviewer decides whether a citizen's picture may be shown to the public.

Pictures are private by default (factdb/media/public_pictures.py). The picture in the
moderators' group carries `keyboards.picture_buttons`; pressing it marks the picture publishable
(or private again), and the button turns into the other one.
"""

from __future__ import annotations

import logging

from telegram import InlineKeyboardMarkup, Update
from telegram.error import BadRequest
from telegram.ext import ContextTypes

from factdb.media import public_pictures
from handlers.common import services
from handlers.review.guard import reviewer_only
from handlers.views import callbacks as cb
from handlers.views.i18n import Translator
from handlers.views.keyboards import markup, picture_buttons

log = logging.getLogger(__name__)


def _new_markup(
    old: InlineKeyboardMarkup | None, fresh: InlineKeyboardMarkup, picture_id: int
) -> InlineKeyboardMarkup:
    """The message's keyboard with this picture's button replaced, any other button kept."""
    mine = {cb.make(cb.Code.PICTURE_PUBLIC, picture_id, state) for state in (0, 1)}
    if old is None or not any(b.callback_data in mine for row in old.inline_keyboard for b in row):
        return fresh
    button = fresh.inline_keyboard[0][0]
    return InlineKeyboardMarkup(
        [[button if b.callback_data in mine else b for b in row] for row in old.inline_keyboard]
    )


@reviewer_only
async def on_picture_public(
    update: Update, context: ContextTypes.DEFAULT_TYPE, action: cb.Callback, *, t: Translator
) -> None:
    """[Show on the public page] / [Make private again] under a citizen's picture."""
    svc = services(context)
    query, user = update.callback_query, update.effective_user
    assert query is not None and user is not None
    picture_id, publishable = action.int(0), action.int(1) == 1
    changed = await svc.db.run(
        lambda s: public_pictures.set_publishable(s, picture_id, user.id, publishable), commit=True
    )
    if changed is None:
        await query.answer(t._("That picture was erased."), show_alert=True)
        return
    if publishable:
        await query.answer(
            t._("This picture will be on the claim's public page while the claim is published.")
        )
    else:
        await query.answer(t._("This picture is private again."))
    fresh = markup(picture_buttons(t, picture_id, publishable))
    assert fresh is not None
    old = query.message.reply_markup if query.message is not None else None  # type: ignore[union-attr]
    try:
        await query.edit_message_reply_markup(_new_markup(old, fresh, picture_id))
    except BadRequest as err:  # "message is not modified" (a stale button), or a deleted message
        log.info("picture %s: buttons not updated: %s", picture_id, err.message)
