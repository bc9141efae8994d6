"""Writing a clarification, one handler per step. The step lives in the database (`Draft.step`),
so a restart or a second worker picks the conversation up where the reviewer left it."""

from __future__ import annotations

from sqlmodel import Session
from telegram import Update
from telegram.ext import ContextTypes

from factdb import clarifications, public_face
from factdb import review as rv
from factdb.models import Draft, DraftStep
from factdb.privacy import mask_personal
from handlers.common import reply, send, services, tell
from handlers.review.guard import explain, reviewer_only
from handlers.services import Services
from handlers.views import callbacks as cb
from handlers.views import review_texts, texts
from handlers.views.i18n import Translator


async def _show(
    update: Update, context: ContextTypes.DEFAULT_TYPE, svc: Services, t: Translator, draft_id: int
) -> None:
    """Send the prompt for the draft's current step (the preview at the end) to the reviewer's
    private chat, so the moderators' group stays readable."""
    chat_id = update.effective_user.id if update.effective_user else 0

    def render(session: Session) -> tuple[str | None, str, review_texts.Rows]:
        draft = session.get(Draft, draft_id)
        assert draft is not None
        if draft.step == DraftStep.PREVIEW:
            clar = review_texts.draft_as_clarification(draft)
            body = texts.clarification(
                svc.t(draft.lang), clar, clarifications.sources_of(clar), translated=True
            )
            return t._("Preview — exactly what citizens will see:"), body, review_texts.preview_rows(t, draft)
        return None, *review_texts.draft_prompt(t, session, draft, svc.config.locales)

    heading, text, rows = await svc.db.run(render)
    if heading is not None:
        await send(context, chat_id, heading)
    await send(context, chat_id, text, rows)


async def _step(
    update: Update, context: ContextTypes.DEFAULT_TYPE, t: Translator, draft_id: int | None, fn
) -> None:
    """Run one step's domain call for the presser's own active draft, then show the next step."""
    svc = services(context)
    user = update.effective_user
    assert user is not None
    query = update.callback_query

    def work(session: Session) -> int | None:
        draft = rv.active_draft(session, user.id)
        if draft is None or (draft_id is not None and draft.id != draft_id):
            raise rv.ReviewError("no_draft")
        fn(session, draft)
        return draft.id

    try:
        current = await svc.db.run(work, commit=True)
    except rv.ReviewError as err:
        await tell(update, context, explain(t, err))
        return
    if query:
        await query.answer()
        await query.edit_message_reply_markup(None)
    await _show(update, context, svc, t, current)  # type: ignore[arg-type]


@reviewer_only
async def on_verdict(
    update: Update, context: ContextTypes.DEFAULT_TYPE, action: cb.Callback, *, t: Translator
) -> None:
    await _step(update, context, t, action.int(0), lambda s, d: rv.set_verdict(s, d, action.word(1)))


@reviewer_only
async def on_lang(
    update: Update, context: ContextTypes.DEFAULT_TYPE, action: cb.Callback, *, t: Translator
) -> None:
    tag = action.word(1).replace("_", "-")
    await _step(update, context, t, action.int(0), lambda s, d: rv.set_lang(s, d, tag))


@reviewer_only
async def on_edit(
    update: Update, context: ContextTypes.DEFAULT_TYPE, action: cb.Callback, *, t: Translator
) -> None:
    await _step(update, context, t, action.int(0), lambda s, d: rv.back_to(s, d, DraftStep.VERDICT))


@reviewer_only
async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE, draft: Draft, *, t: Translator) -> None:
    """A reviewer's text while a draft waits for the summary or the sources."""
    text = (update.effective_message.text if update.effective_message else "") or ""
    if draft.step == DraftStep.SUMMARY:
        await _step(update, context, t, draft.id, lambda s, d: rv.set_summary(s, d, text))
    elif draft.step == DraftStep.SOURCES:
        await _step(update, context, t, draft.id, lambda s, d: rv.set_sources(s, d, text))
    elif draft.step == DraftStep.WORDING:
        await _wording(update, context, t, draft, text)
    else:
        await reply(update, context, t._("Please use the buttons above, or /cancel to stop this draft."))
        await _show(update, context, services(context), t, draft.id)  # type: ignore[arg-type]


@reviewer_only
async def on_cancel(
    update: Update, context: ContextTypes.DEFAULT_TYPE, action: cb.Callback | None = None, *, t: Translator
) -> None:
    svc = services(context)
    user = update.effective_user
    assert user is not None

    def work(session: Session) -> bool:
        draft = rv.active_draft(session, user.id)
        if draft is None or (action is not None and draft.id != action.int(0)):
            return False
        rv.cancel(session, draft, user.id)
        return True

    cancelled = await svc.db.run(work, commit=True)
    svc.wake_outbox()
    if update.callback_query:
        await update.callback_query.answer()
        if cancelled:
            await update.callback_query.edit_message_reply_markup(None)
    await reply(
        update,
        context,
        t._("Cancelled. Nothing was published.") if cancelled else t._("There's nothing to cancel."),
    )


async def cancel_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await on_cancel(update, context, None)


def reworded(t: Translator, wording: str | None) -> str:
    if wording is None:
        return t._("The public reads the citizens' words again (masked).")
    return t._("Reworded. The public now reads: {text}").format(text=texts.isolate(mask_personal(wording)))


async def _wording(
    update: Update, context: ContextTypes.DEFAULT_TYPE, t: Translator, draft: Draft, text: str
) -> None:
    """The reviewer's next message after /reword ID."""
    svc = services(context)
    try:
        wording = await svc.db.run(
            lambda s: public_face.set_wording(s, s.get(Draft, draft.id), text), commit=True
        )
    except rv.ReviewError as err:
        await reply(update, context, explain(t, err))
        return
    svc.wake_outbox()
    await reply(update, context, reworded(t, wording))
