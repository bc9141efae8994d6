"""Buttons under a citizen's answer: helpful, not my message, which candidate, how long."""

from __future__ import annotations

from sqlmodel import Session
from telegram import Update
from telegram.ext import ContextTypes

from factdb import choices
from factdb import queue as claim_queue
from factdb.merges import current_claim
from factdb.models import Claim, ClaimStatus
from handlers.citizen.submit import after_intake, render
from handlers.common import citizen_translator, reply, services
from handlers.services import Services
from handlers.views import callbacks as cb
from handlers.views.i18n import Translator
from handlers.views.keyboards import Buttons


async def _intake_followup(update: Update, context: ContextTypes.DEFAULT_TYPE, action: cb.Callback) -> None:
    svc: Services = services(context)
    query = update.callback_query
    assert query is not None and update.effective_user is not None
    user = update.effective_user

    def work(session: Session) -> tuple[str, tuple[str, Buttons | None] | None]:
        if action.action == cb.Code.PICK:
            result = choices.pick_candidate(session, user.id, action.int(0), action.int(1), svc.index)
        elif action.action == cb.Code.NONE_OF_THESE:
            result = choices.pick_candidate(session, user.id, action.int(0), None, svc.index)
        else:
            result = choices.not_my_message(session, user.id, action.int(0), svc.index)
        after_intake(svc, session, result)
        if result.outcome in ("duplicate", "ignored"):
            return result.outcome, None
        return result.outcome, render(svc, session, result, user.first_name or "")

    # In a worker thread, like a message: other chats go on while this one waits on the database.
    outcome, rendered = await svc.db.run(work, commit=True)
    t = await citizen_translator(svc, update)
    if outcome == "duplicate":
        # Pressed before (or twice at once): it acted the first time; a word, and nothing else.
        await query.answer(t._("Already done: this button works once."))
        return
    if rendered is None:
        await query.answer(
            t._("This button no longer works. Please send the message again."), show_alert=True
        )
        return
    await query.answer()
    if query.message is not None:
        # Take the choice buttons away so nobody picks twice.
        await query.edit_message_reply_markup(None)
    svc.wake_outbox()
    await reply(update, context, *rendered)


async def on_choice(update: Update, context: ContextTypes.DEFAULT_TYPE, action: cb.Callback) -> None:
    await _intake_followup(update, context, action)


async def on_feedback(update: Update, context: ContextTypes.DEFAULT_TYPE, action: cb.Callback) -> None:
    svc = services(context)
    query = update.callback_query
    assert query is not None and update.effective_user is not None
    user_id = update.effective_user.id
    value = "helpful" if action.word(0) == "h" else "not_helpful"
    outcome = await svc.db.run(
        lambda s: choices.record_feedback(s, user_id, action.int(1), value), commit=True
    )
    t = await citizen_translator(svc, update)
    if outcome == "ignored":
        await query.answer(t._("This button no longer works."), show_alert=True)
    elif outcome == "duplicate":
        await query.answer(t._("You already told us what you think. Thank you!"))
    else:
        await query.answer(
            t._("Thank you for telling us!")
            if value == "helpful"
            else t._("Thanks — we'll use this to do better.")
        )


async def on_wait(update: Update, context: ContextTypes.DEFAULT_TYPE, action: cb.Callback) -> None:
    svc = services(context)
    query = update.callback_query
    assert query is not None and update.effective_user is not None
    user_id, claim_id = update.effective_user.id, action.int(0)
    t = await citizen_translator(svc, update)

    def work(session: Session) -> str | None:
        if not choices.asked_about(session, user_id, claim_id):
            return None
        return wait_text(session, t, claim_id, svc.config.virality_half_life_hours)

    text = await svc.db.run(work)
    if text is None:
        # A forged button (or one from before /forget): where someone else's claim stands in the
        # queue is not this person's to learn.
        await query.answer(t._("This button no longer works."), show_alert=True)
        return
    await query.answer()
    await reply(update, context, text)


def wait_text(session: Session, t: Translator, claim_id: int, half_life_hours: float) -> str:
    """How long a claim's answer may take, in the citizen's words (a view over the queue)."""
    claim = session.get(Claim, claim_id)
    if claim is not None:
        claim = current_claim(session, claim)
    if claim is None or claim.merged_into_id is not None or claim.status == ClaimStatus.SPAM:
        return t._("We couldn't check this message.")
    if claim.status == ClaimStatus.PUBLISHED:
        return t._("There's an answer already: send me the message again to see it.")
    wait = claim_queue.expected_wait(session, claim.id, half_life_hours)  # type: ignore[arg-type]
    if wait is None:
        return t._("Our reviewers are on it. It usually takes about a day, sometimes longer.")
    place = t._("Your message is number {position} of {total} waiting for a reviewer.").format(
        position=t.number(wait.position), total=t.number(wait.queue_length)
    )
    if wait.hours is None:
        guess = t._("Reviewers are volunteers, so we can't promise a time, but we'll message you here.")
    elif wait.hours < 2:
        guess = t._(
            "Lately that has meant an answer within a couple of hours. Not a promise, but a fair guide."
        )
    elif wait.hours < 30:
        guess = t._("Lately that has meant an answer within about a day. Not a promise, but a fair guide.")
    else:
        guess = t._("Lately that has meant a few days. We'll message you here as soon as there's an answer.")
    return place + "\n" + guess
