"""Where each update goes. Kept in one place so the whole bot can be read from this file."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from telegram import Update
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    ContextTypes,
    InlineQueryHandler,
    MessageHandler,
    TypeHandler,
    filters,
)

from factdb import review as rv
from factdb import reviewers
from factdb.models import DraftStep
from handlers.admin import erase, figures, imports
from handlers.admin import reviewers as admin_reviewers
from handlers.citizen import account, feedback, pictures, start, submit, unsupported, weekly
from handlers.citizen.gate import gate
from handlers.common import citizen_translator, is_reviewer, services
from handlers.group import quiet
from handlers.inline import answers
from handlers.review import citizens, draft_steps, moderation, publish, queue, take
from handlers.review.pictures import on_picture_public
from handlers.setup import on_group_upgraded, on_my_chat_member, whoami
from handlers.views import callbacks as cb

log = logging.getLogger(__name__)
CallbackFn = Callable[[Update, ContextTypes.DEFAULT_TYPE, cb.Callback], Awaitable[None]]

# Every button code (handlers/views/callbacks.py) and the handler that answers it.
CALLBACKS: dict[cb.Code, CallbackFn] = {
    cb.Code.FEEDBACK: feedback.on_feedback,
    cb.Code.NOT_MINE: feedback.on_choice,
    cb.Code.PICK: feedback.on_choice,
    cb.Code.NONE_OF_THESE: feedback.on_choice,
    cb.Code.WAIT: feedback.on_wait,
    cb.Code.LANGUAGE: account.on_language,
    cb.Code.TAKE: take.on_take,
    cb.Code.SPAM: moderation.on_spam,
    cb.Code.MERGE_MENU: moderation.on_merge_menu,
    cb.Code.MERGE_INTO: moderation.on_merge,
    cb.Code.VERDICT: draft_steps.on_verdict,
    cb.Code.DRAFT_LANG: draft_steps.on_lang,
    cb.Code.EDIT: draft_steps.on_edit,
    cb.Code.CANCEL: draft_steps.on_cancel,
    cb.Code.PUBLISH: publish.on_publish,
    cb.Code.APPROVE: publish.on_approval,
    cb.Code.SEND_BACK: publish.on_approval,
    cb.Code.QUEUE_PAGE: queue.on_page,
    cb.Code.PUBLIC_HIDDEN: moderation.on_public_list,
    cb.Code.PICTURE_PUBLIC: on_picture_public,
}
if set(CALLBACKS) != set(cb.Code):  # a button nobody answers would say "no longer works"
    raise RuntimeError(f"buttons without a handler: {sorted(set(cb.Code) - set(CALLBACKS))}")

# A reviewer's text goes to their draft at these steps (at the others it waits for a button).
TEXT_STEPS = (
    DraftStep.SUMMARY,
    DraftStep.SOURCES,
    DraftStep.VERDICT,
    DraftStep.LANG,
    DraftStep.PREVIEW,
    DraftStep.WORDING,
)

# Only new messages: an edited message was already checked when it was first sent, and channel
# posts are not citizens talking to us.
PRIVATE = filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE
# What a citizen can send that we read: text, or media with a caption.
CHECKABLE = (filters.TEXT & ~filters.COMMAND) | filters.CAPTION
# What holds a picture: read (OCR, hash) before its caption (handlers/citizen/pictures.py).
PICTURES = filters.PHOTO | filters.ANIMATION | filters.VIDEO | filters.VIDEO_NOTE | filters.Document.IMAGE
UNSUPPORTED = PRIVATE & ~CHECKABLE & ~PICTURES & ~filters.COMMAND & ~filters.StatusUpdate.ALL


async def on_callback(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    assert query is not None
    action = cb.parse(query.data)
    handler = CALLBACKS.get(action.action) if action else None
    if action is None or handler is None:
        t = await citizen_translator(services(context), update)
        await query.answer(t._("This button no longer works."), show_alert=True)
        return
    await handler(update, context, action)


async def on_private_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A reviewer with a draft waiting for text is writing it; everyone else is a citizen."""
    svc = services(context)
    user = update.effective_user
    message = update.effective_message
    if user is not None and message is not None and message.text and await is_reviewer(svc, user.id):
        draft = await svc.db.run(lambda s: rv.active_draft(s, user.id))
        if draft is not None and draft.step in TEXT_STEPS:
            await draft_steps.on_text(update, context, draft)
            return
    await submit.on_message(update, context)


async def on_review_group_message(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Remember who is in the moderators' group, so admins can name them by @username."""
    svc = services(context)
    user = update.effective_user
    if user is None or user.is_bot:
        return
    await svc.db.run(
        lambda s: reviewers.remember_user(s, user.id, user.username, user.full_name), commit=True
    )


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    log.error("update failed: %s", type(context.error).__name__, exc_info=context.error)
    if isinstance(update, Update) and update.effective_chat and update.effective_chat.type == "private":
        t = await citizen_translator(services(context), update)
        try:
            await context.bot.send_message(
                update.effective_chat.id,
                t._("Sorry, something went wrong on our side. Please try again in a minute."),
            )
        except Exception:
            log.warning("could not tell the user about the error")


def register(app: Application, review_chat_id: int | None) -> None:
    # First, for every update: citizens' flood and block check (handlers/citizen/gate.py).
    app.add_handler(TypeHandler(Update, gate), group=-1)
    private_commands = {
        "start": start.start,
        "help": start.help_,
        "mychecks": account.mychecks,
        "stop": account.stop,
        "forget": account.forget,
        "language": account.language,
        "subscribe": weekly.subscribe,
        "unsubscribe": weekly.unsubscribe,
        # an admin's, in their private chat only: the id typed is not for the moderators' group
        "erase": erase.erase_command,
    }
    for name, fn in private_commands.items():
        app.add_handler(CommandHandler(name, fn, filters=PRIVATE))
    # Anywhere, for setting up: a group that is not ours gets an answer to this and nothing else.
    app.add_handler(CommandHandler("whoami", whoami, filters=filters.UpdateType.MESSAGE))
    review_scope = PRIVATE
    if review_chat_id is not None:
        review_scope = PRIVATE | filters.Chat(review_chat_id)
    review_commands = {
        "queue": queue.queue_command,
        "claim": queue.claim_command,
        "take": take.take_command,
        "release": take.release_command,
        "cancel": draft_steps.cancel_command,
        "spam": moderation.spam_command,
        "merge": moderation.merge_command,
        "retract": moderation.retract_command,
        "edit": moderation.edit_command,
        "translate": moderation.translate_command,
        "reword": moderation.reword_command,
        "block": citizens.block_command,
        "unblock": citizens.unblock_command,
        "held": citizens.held_command,
        "stats": figures.stats_command,
        "reviewers": admin_reviewers.list_reviewers,
        "addreviewer": admin_reviewers.add_reviewer,
        "removereviewer": admin_reviewers.remove_reviewer,
        "export": figures.export_command,
    }
    for name, fn in review_commands.items():
        app.add_handler(CommandHandler(name, fn, filters=review_scope))
    app.add_handler(CallbackQueryHandler(on_callback))
    app.add_handler(MessageHandler(PRIVATE & PICTURES, pictures.on_picture))
    app.add_handler(MessageHandler(PRIVATE & filters.Document.ALL & ~filters.CAPTION, imports.on_document))
    app.add_handler(MessageHandler(PRIVATE & CHECKABLE, on_private_text))
    app.add_handler(MessageHandler(UNSUPPORTED, unsupported.unsupported))
    if review_chat_id is not None:
        app.add_handler(
            MessageHandler(filters.Chat(review_chat_id) & ~filters.StatusUpdate.ALL, on_review_group_message),
            group=1,
        )
    # Other groups: quiet mode (handlers/group/quiet.py). Group chatter that matches nothing
    # published is dropped unread by anything else.
    in_groups = filters.ChatType.GROUPS
    if review_chat_id is not None:
        in_groups = in_groups & ~filters.Chat(review_chat_id)
    app.add_handler(CommandHandler("groupmode", quiet.groupmode_command, filters=in_groups))
    app.add_handler(CommandHandler("grouplanguage", quiet.grouplanguage_command, filters=in_groups))
    app.add_handler(
        MessageHandler(in_groups & filters.UpdateType.MESSAGE & CHECKABLE, quiet.on_group_message)
    )
    app.add_handler(InlineQueryHandler(answers.on_inline_query))
    app.add_handler(ChatMemberHandler(on_my_chat_member, ChatMemberHandler.MY_CHAT_MEMBER))
    app.add_handler(MessageHandler(filters.StatusUpdate.MIGRATE, on_group_upgraded))
    app.add_error_handler(on_error)
