"""Closing and correcting claims: spam, merge, retract, edit, translate."""

from __future__ import annotations

from collections.abc import Callable

from sqlmodel import Session
from telegram import Update
from telegram.ext import ContextTypes

from factdb import review as rv
from factdb.models import Claim
from factdb.privacy import mask_personal
from handlers.common import reply, send, services
from handlers.review.draft_steps import _show, reworded
from handlers.review.guard import explain, require_reviewer
from handlers.views import callbacks as cb
from handlers.views import review_texts
from handlers.views.i18n import Translator


async def _act(update: Update, context: ContextTypes.DEFAULT_TYPE, fn, done: str) -> bool:
    t = await require_reviewer(update, context)
    if t is None:
        return False
    svc = services(context)
    user = update.effective_user
    assert user is not None
    try:
        result = svc.db.transaction(lambda s: fn(s, user.id))
    except rv.ReviewError as err:
        if update.callback_query:
            await update.callback_query.answer(explain(t, err), show_alert=True)
        else:
            await reply(update, context, explain(t, err))
        return False
    svc.wake_outbox()
    message = done(t, result)
    if update.callback_query:
        await update.callback_query.answer(message)
    else:
        await reply(update, context, message)
    return True


def _spam_done(t: Translator, _result: object) -> str:
    return t._("Closed as spam")


def _merge_done(t: Translator, told: int) -> str:
    return t.ngettext("Merged. {n} person told at once.", "Merged. {n} people told at once.", told).format(
        n=t.number(told)
    )


def _retract_done(t: Translator, told: int) -> str:
    return t.ngettext(
        "Withdrawn. {n} person will be told why.", "Withdrawn. {n} people will be told why.", told
    ).format(n=t.number(told))


async def _usage(
    update: Update, context: ContextTypes.DEFAULT_TYPE, words: Callable[[Translator], str]
) -> None:
    """Tell a reviewer how the command is written (and a non-reviewer only that they can't)."""
    t = await require_reviewer(update, context)
    if t:
        await reply(update, context, words(t))


def _ids(context: ContextTypes.DEFAULT_TYPE, count: int) -> list[int] | None:
    args = context.args or []
    if len(args) < count:
        return None
    try:
        return [int(a.lstrip("#")) for a in args[:count]]
    except ValueError:
        return None


async def on_spam(update: Update, context: ContextTypes.DEFAULT_TYPE, action: cb.Callback) -> None:
    await _act(update, context, lambda s, uid: rv.mark_spam(s, action.int(0), uid), _spam_done)


async def spam_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    ids = _ids(context, 1)
    if ids is None:
        await _usage(update, context, lambda t: t._("Usage: /spam ID"))
        return
    await _act(update, context, lambda s, uid: rv.mark_spam(s, ids[0], uid), _spam_done)


async def on_public_list(update: Update, context: ContextTypes.DEFAULT_TYPE, action: cb.Callback) -> None:
    """[Hide from public list] / [Show in public list] on an open claim's card."""
    hidden = action.int(1) == 1

    def done(t: Translator, _changed: bool) -> str:
        if hidden:
            return t._("Hidden from the public waiting list.")
        return t._("It may appear on the public waiting list again.")

    await _act(update, context, lambda s, uid: rv.set_public_hidden(s, action.int(0), uid, hidden), done)


async def on_merge_menu(update: Update, context: ContextTypes.DEFAULT_TYPE, action: cb.Callback) -> None:
    """[Merge into…]: offer the most similar claims as targets."""
    t = await require_reviewer(update, context)
    if t is None:
        return
    svc = services(context)
    query = update.callback_query
    assert query is not None
    source_id = action.int(0)
    with svc.db.session() as session:
        claim = session.get(Claim, source_id)
        similar = review_texts.similar_claims(session, claim, svc.index, limit=5) if claim else []
    await query.answer()
    if not similar:
        await reply(
            update, context, t._("No similar claims found. Use /merge {id} TARGET_ID.").format(id=source_id)
        )
        return
    rows = [
        [(f"#{c.id} {review_texts.texts.excerpt(mask_personal(c.text), 40)}", cb.make("mi", source_id, c.id))]
        for c, _ in similar
    ]  # type: ignore[arg-type]
    await reply(update, context, t._("Merge #{id} into which claim?").format(id=source_id), rows)


async def on_merge(update: Update, context: ContextTypes.DEFAULT_TYPE, action: cb.Callback) -> None:
    ok = await _act(
        update,
        context,
        lambda s, uid: rv.merge(s, action.int(0), action.int(1), uid),
        _merge_done,
    )
    if ok and update.callback_query:
        await update.callback_query.edit_message_reply_markup(None)


async def merge_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    ids = _ids(context, 2)
    if ids is None:
        await _usage(update, context, lambda t: t._("Usage: /merge DUPLICATE_ID TARGET_ID"))
        return
    await _act(
        update,
        context,
        lambda s, uid: rv.merge(s, ids[0], ids[1], uid),
        _merge_done,
    )


async def retract_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    ids = _ids(context, 1)
    reason = " ".join((context.args or [])[1:])
    if ids is None:
        await _usage(update, context, lambda t: t._("Usage: /retract ID reason citizens will read"))
        return
    await _act(
        update,
        context,
        lambda s, uid: rv.retract(s, ids[0], uid, reason),
        _retract_done,
    )


async def _start_draft(update: Update, context: ContextTypes.DEFAULT_TYPE, starter) -> None:
    t = await require_reviewer(update, context)
    if t is None:
        return
    ids = _ids(context, 1)
    if ids is None:
        await reply(update, context, t._("Usage: /edit ID or /translate ID"))
        return
    svc = services(context)
    user = update.effective_user
    assert user is not None
    try:
        draft_id = svc.db.transaction(lambda s: starter(s, ids[0], user.id).id)
    except rv.ReviewError as err:
        await reply(update, context, explain(t, err))
        return
    await _show(update, context, svc, t, draft_id)


async def edit_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await _start_draft(update, context, rv.start_edit)


async def translate_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await _start_draft(update, context, rv.start_translate)


async def reword_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/reword ID new wording, or /reword ID and then the wording as the next message."""
    t = await require_reviewer(update, context)
    if t is None:
        return
    ids = _ids(context, 1)
    if ids is None:
        await reply(update, context, t._("Usage: /reword ID, or /reword ID new wording"))
        return
    wording = " ".join((context.args or [])[1:])
    svc = services(context)
    user = update.effective_user
    assert user is not None
    if wording:
        await _act(update, context, lambda s, uid: rv.reword(s, ids[0], uid, wording), reworded)
        return

    def start(session: Session) -> str:
        draft = rv.start_reword(session, ids[0], user.id)
        claim = session.get(Claim, draft.claim_id)
        assert claim is not None
        return review_texts.reword_prompt(t, claim)

    try:
        prompt = svc.db.transaction(start)
    except rv.ReviewError as err:
        await reply(update, context, explain(t, err))
        return
    # The original may hold what a citizen pasted: it goes to the reviewer's private chat only.
    await send(context, user.id, prompt)
