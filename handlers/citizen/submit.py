"""A citizen sends something to check: text, a caption, a forward. The bot's main path."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from sqlmodel import Session
from telegram import (
    Message,
    MessageOriginChannel,
    MessageOriginChat,
    MessageOriginHiddenUser,
    MessageOriginUser,
    Update,
)
from telegram.ext import ContextTypes

from factdb import cards, clarifications, intake
from handlers.common import reply, services
from handlers.services import Services
from handlers.views import callbacks as cb
from handlers.views import texts
from handlers.views.keyboards import Buttons, answer_buttons, wait_button

log = logging.getLogger(__name__)


def submission_from(update: Update, message: Message, *, replayed: bool = False) -> intake.Submission:
    user = message.from_user
    assert user is not None
    fwd_type = fwd_from = None
    fwd_date = None
    origin = message.forward_origin
    if origin is not None:
        fwd_date = origin.date
        if isinstance(origin, MessageOriginChannel):
            fwd_type, fwd_from = "channel", origin.chat.title
        elif isinstance(origin, MessageOriginChat):
            fwd_type, fwd_from = "chat", origin.sender_chat.title
        elif isinstance(origin, MessageOriginHiddenUser):
            fwd_type = "hidden_user"  # a private person: we keep that it was forwarded, not who
        elif isinstance(origin, MessageOriginUser):
            fwd_type = "user"
    return intake.Submission(
        user_id=user.id,
        chat_id=message.chat_id,
        text=message.text or message.caption or "",
        update_id=update.update_id,
        telegram_lang=user.language_code,
        forward_type=fwd_type,
        forward_from=fwd_from,
        forward_date=fwd_date,
        replayed=replayed,
    )


def render(
    svc: Services, session: Session, result: intake.IntakeResult, first_name: str
) -> tuple[str, Buttons | None] | None:
    """The one bubble a citizen gets back for an intake outcome (None: stay silent)."""
    t = svc.t(result.lang)
    if result.outcome == "answer" and result.clarification and result.claim and result.request_id:
        chosen = result.clarification
        link = texts.claim_page(svc.config.public_url, result.claim.id)  # type: ignore[arg-type]
        text = texts.clarification(
            t,
            chosen.clarification,
            clarifications.sources_of(chosen.clarification),
            translated=chosen.translated,
            public_link=link,
            changed=result.changed,
        )
        return text, answer_buttons(t, result.request_id)
    if result.outcome == "choose" and result.request_id:
        lines = [t._("I found messages like yours. Is it one of these?")]
        rows: list[list[tuple[str, str]]] = []
        for i, (claim, _score) in enumerate(result.candidates, start=1):
            lines.append(f"{i}. {texts.isolate(texts.excerpt(claim.text, 160))}")
            rows.append(
                [
                    (
                        f"{i}. {texts.excerpt(claim.text, 40)}",
                        cb.make(cb.Code.PICK, result.request_id, claim.id),
                    )
                ]
            )  # type: ignore[arg-type]
        rows.append([(t._("None of these"), cb.make(cb.Code.NONE_OF_THESE, result.request_id))])
        return "\n".join(lines), rows
    if result.outcome == "under_review" and result.claim:
        return (
            t._(
                "Thanks! Our reviewers are already looking into this message. I'll message you here as soon as there's an answer."
            ),
            wait_button(t, result.claim.id),  # type: ignore[arg-type]
        )
    if result.outcome == "new_claim" and result.claim:
        return (
            t._(
                "Thanks, {name}. Nobody has asked about this yet. Our volunteer reviewers will look at it and I'll message you here when there's an answer."
            ).format(name=texts.isolate(first_name)),
            wait_button(t, result.claim.id),  # type: ignore[arg-type]
        )
    if result.outcome == "empty":
        return t._(
            "I couldn't find any text to check. Please send the message as text, or a photo or video with its caption."
        ), None
    if result.outcome == "quarantined":
        return t._(
            "You've reached today's limit of messages. A reviewer will look at your account; until then I can't check more messages for you."
        ), None
    if result.outcome == "picture_limit":
        return t._(
            "You've sent a lot of pictures today. Please send the text of the message instead, "
            "or try again tomorrow."
        ), None
    if result.outcome == "slow_down":
        return t._(
            "You've sent a lot of messages in a short time. Please slow down — I'll read new ones again in a minute."
        ), None
    return None


def after_intake(svc: Services, session: Session, result: intake.IntakeResult) -> None:
    """The moderators' card (and the claim's picture under it) is owed in the same transaction
    as the claim it shows."""
    if result.claim is None:
        return
    if result.outcome == "new_claim":
        cards.post(session, result.claim, svc.config.review_chat_id)
    elif result.outcome == "under_review":
        cards.refresh(session, result.claim)
    else:
        return
    if result.picture_filed:
        cards.post_picture(session, result.claim, svc.config.review_chat_id)


async def on_message(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    if message is None or message.from_user is None:
        return
    svc = services(context)
    sub = submission_from(update, message, replayed=update.update_id in svc.replayed)
    await answer(update, context, lambda session: intake.submit(session, svc.index, sub))


async def answer(
    update: Update,
    context: ContextTypes.DEFAULT_TYPE,
    decide: Callable[[Session], intake.IntakeResult],
    *,
    started: float | None = None,
) -> None:
    """Decide (text or picture), owe the moderators what they need, reply: one transaction, in a
    worker thread, so other chats' updates go on while this one waits on the database."""
    svc = services(context)
    user = update.effective_user
    first_name = user.first_name if user is not None else ""
    svc.replayed.discard(update.update_id)
    began = time.perf_counter() if started is None else started

    def work(session: Session) -> tuple[str, Buttons | None] | None:
        result = decide(session)
        after_intake(svc, session, result)
        if svc.metrics is not None:
            svc.metrics.intake(result.outcome, time.perf_counter() - began)
        return render(svc, session, result, first_name)

    rendered = await svc.db.run(work, commit=True)
    svc.wake_outbox()
    if rendered is not None:
        await reply(update, context, *rendered)
