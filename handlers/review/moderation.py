"""Closing and correcting claims: spam, merge, retract, edit, translate."""

from __future__ import annotations

from sqlmodel import Session
from telegram import Update
from telegram.ext import ContextTypes

from factdb import closing, public_face, publishing
from factdb import review as rv
from factdb.models import Claim
from factdb.privacy import mask_personal
from handlers.common import command_ids, reply, send, services, tell
from handlers.review.draft_steps import _show, reworded
from handlers.review.guard import explain, reviewer_only
from handlers.views import callbacks as cb
from handlers.views import review_texts
from handlers.views.i18n import Translator


async def _act(update: Update, context: ContextTypes.DEFAULT_TYPE, t: Translator, fn, done) -> bool:
    """Run one reviewer's action on a claim; tell them what it did, or why it could not."""
    svc = services(context)
    user = update.effective_user
    assert user is not None
    try:
        result = await svc.db.run(lambda s: fn(s, user.id), commit=True)
    except rv.ReviewError as err:
        await tell(update, context, explain(t, err))
        return False
    svc.wake_outbox()
    await tell(update, context, done(t, result), pop_up=False)
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


@reviewer_only
async def on_spam(
    update: Update, context: ContextTypes.DEFAULT_TYPE, action: cb.Callback, *, t: Translator
) -> None:
    await _act(update, context, t, lambda s, uid: closing.mark_spam(s, action.int(0), uid), _spam_done)


@reviewer_only
async def spam_command(update: Update, context: ContextTypes.DEFAULT_TYPE, *, t: Translator) -> None:
    ids = await command_ids(update, context, t._("Usage: /spam ID"))
    if ids is None:
        return
    await _act(update, context, t, lambda s, uid: closing.mark_spam(s, ids[0], uid), _spam_done)


@reviewer_only
async def on_public_list(
    update: Update, context: ContextTypes.DEFAULT_TYPE, action: cb.Callback, *, t: Translator
) -> None:
    """[Hide from public list] / [Show in public list] on an open claim's card."""
    hidden = action.int(1) == 1

    def done(t: Translator, _changed: bool) -> str:
        if hidden:
            return t._("Hidden from the public waiting list.")
        return t._("It may appear on the public waiting list again.")

    await _act(
        update, context, t, lambda s, uid: public_face.set_public_hidden(s, action.int(0), uid, hidden), done
    )


@reviewer_only
async def on_merge_menu(
    update: Update, context: ContextTypes.DEFAULT_TYPE, action: cb.Callback, *, t: Translator
) -> None:
    """[Merge into…]: offer the most similar claims as targets."""
    svc = services(context)
    query = update.callback_query
    assert query is not None
    source_id = action.int(0)

    def find(session: Session) -> list[tuple[Claim, float]]:
        claim = session.get(Claim, source_id)
        return review_texts.similar_claims(session, claim, svc.index, limit=5) if claim else []

    similar = await svc.db.run(find)
    await query.answer()
    if not similar:
        await reply(
            update, context, t._("No similar claims found. Use /merge {id} TARGET_ID.").format(id=source_id)
        )
        return
    rows = [
        [
            (
                f"#{c.id} {review_texts.texts.excerpt(mask_personal(c.text), 40)}",
                cb.make(cb.Code.MERGE_INTO, source_id, c.id),
            )
        ]
        for c, _ in similar
    ]  # type: ignore[arg-type]
    await reply(update, context, t._("Merge #{id} into which claim?").format(id=source_id), rows)


@reviewer_only
async def on_merge(
    update: Update, context: ContextTypes.DEFAULT_TYPE, action: cb.Callback, *, t: Translator
) -> None:
    ok = await _act(
        update,
        context,
        t,
        lambda s, uid: closing.merge(s, action.int(0), action.int(1), uid),
        _merge_done,
    )
    if ok and update.callback_query:
        await update.callback_query.edit_message_reply_markup(None)


@reviewer_only
async def merge_command(update: Update, context: ContextTypes.DEFAULT_TYPE, *, t: Translator) -> None:
    ids = await command_ids(update, context, t._("Usage: /merge DUPLICATE_ID TARGET_ID"), 2)
    if ids is None:
        return
    await _act(
        update,
        context,
        t,
        lambda s, uid: closing.merge(s, ids[0], ids[1], uid),
        _merge_done,
    )


@reviewer_only
async def retract_command(update: Update, context: ContextTypes.DEFAULT_TYPE, *, t: Translator) -> None:
    ids = await command_ids(update, context, t._("Usage: /retract ID reason citizens will read"))
    if ids is None:
        return
    reason = " ".join((context.args or [])[1:])
    await _act(
        update,
        context,
        t,
        lambda s, uid: publishing.retract(s, ids[0], uid, reason),
        _retract_done,
    )


async def _start_draft(update: Update, context: ContextTypes.DEFAULT_TYPE, t: Translator, starter) -> None:
    ids = await command_ids(update, context, t._("Usage: /edit ID or /translate ID"))
    if ids is None:
        return
    svc = services(context)
    user = update.effective_user
    assert user is not None
    try:
        draft_id = await svc.db.run(lambda s: starter(s, ids[0], user.id).id, commit=True)
    except rv.ReviewError as err:
        await reply(update, context, explain(t, err))
        return
    await _show(update, context, svc, t, draft_id)


@reviewer_only
async def edit_command(update: Update, context: ContextTypes.DEFAULT_TYPE, *, t: Translator) -> None:
    await _start_draft(update, context, t, rv.start_edit)


@reviewer_only
async def translate_command(update: Update, context: ContextTypes.DEFAULT_TYPE, *, t: Translator) -> None:
    await _start_draft(update, context, t, rv.start_translate)


@reviewer_only
async def reword_command(update: Update, context: ContextTypes.DEFAULT_TYPE, *, t: Translator) -> None:
    """/reword ID new wording, or /reword ID and then the wording as the next message."""
    ids = await command_ids(update, context, t._("Usage: /reword ID, or /reword ID new wording"))
    if ids is None:
        return
    wording = " ".join((context.args or [])[1:])
    svc = services(context)
    user = update.effective_user
    assert user is not None
    if wording:
        await _act(update, context, t, lambda s, uid: public_face.reword(s, ids[0], uid, wording), reworded)
        return

    def start(session: Session) -> str:
        draft = public_face.start_reword(session, ids[0], user.id)
        claim = session.get(Claim, draft.claim_id)
        assert claim is not None
        return review_texts.reword_prompt(t, claim)

    try:
        prompt = await svc.db.run(start, commit=True)
    except rv.ReviewError as err:
        await reply(update, context, explain(t, err))
        return
    # The original may hold what a citizen pasted: it goes to the reviewer's private chat only.
    await send(context, user.id, prompt)
