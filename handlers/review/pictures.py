"""A reviewer decides whether a citizen's picture may be shown to the public.

Pictures are private by default (factdb/media/public_pictures.py). The picture in the
moderators' group carries `keyboards.picture_buttons`; pressing it marks the picture publishable
(or private again), the button turns into the other one and the caption says which it is.
"""

from __future__ import annotations

import logging

from sqlmodel import Session
from telegram import InlineKeyboardMarkup, Message, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest
from telegram.ext import ContextTypes

from factdb.media import public_pictures
from factdb.media.pictures import Picture
from factdb.models import Claim
from handlers.common import services
from handlers.review.guard import reviewer_only
from handlers.services import Services
from handlers.views import callbacks as cb
from handlers.views import review_texts
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


def _flip(
    session: Session, svc: Services, picture_id: int, reviewer_id: int, publishable: bool
) -> tuple[bool | None, str | None]:
    """Set the flag; and the picture's caption in the moderators' group, which says whether it
    is shown (rendered in the group's language, as `notices.render_job` first rendered it)."""
    changed = public_pictures.set_publishable(session, picture_id, reviewer_id, publishable)
    picture = session.get(Picture, picture_id) if changed is not None else None
    claim = session.get(Claim, picture.claim_id) if picture is not None and picture.claim_id else None
    if picture is None or claim is None:
        return changed, None
    return changed, review_texts.picture_caption(svc.t(None), claim, picture)


@reviewer_only
async def on_picture_public(
    update: Update, context: ContextTypes.DEFAULT_TYPE, action: cb.Callback, *, t: Translator
) -> None:
    """[Show on the public page] / [Make private again] under a citizen's picture."""
    svc = services(context)
    query, user = update.callback_query, update.effective_user
    assert query is not None and user is not None
    picture_id, publishable = action.int(0), action.int(1) == 1
    changed, caption = await svc.db.run(
        lambda s: _flip(s, svc, picture_id, user.id, publishable), commit=True
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
    fresh = markup(picture_buttons(svc.t(None), picture_id, publishable))  # the group's language
    assert fresh is not None
    message = query.message if isinstance(query.message, Message) else None
    buttons = _new_markup(message.reply_markup if message else None, fresh, picture_id)
    try:
        if message is not None and message.photo and caption is not None:
            await query.edit_message_caption(caption, parse_mode=ParseMode.HTML, reply_markup=buttons)
        else:
            await query.edit_message_reply_markup(buttons)
    except BadRequest as err:  # "message is not modified" (a stale button), or a deleted message
        log.info("picture %s: message not updated: %s", picture_id, err.message)
