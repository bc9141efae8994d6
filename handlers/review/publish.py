"""[Publish] on the preview, and the four-eyes approval in the moderators' group."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from sqlmodel import Session
from telegram import Update
from telegram.ext import ContextTypes

from factdb import clarifications, publishing
from factdb import review as rv
from factdb.models import Draft
from handlers.common import reply, send, services
from handlers.review.guard import explain, reviewer_only
from handlers.views import callbacks as cb
from handlers.views import review_texts, texts
from handlers.views.i18n import Translator

T = TypeVar("T")


async def _press(
    update: Update, context: ContextTypes.DEFAULT_TYPE, t: Translator, work: Callable[[Session], T]
) -> T | None:
    """Run a draft button's `work` in one transaction, then take the buttons off the message;
    None when it was refused (the presser reads why in a pop-up)."""
    svc = services(context)
    query = update.callback_query
    assert query is not None
    try:
        result = await svc.db.run(work, commit=True)
    except rv.ReviewError as err:
        await query.answer(explain(t, err), show_alert=True)
        return None
    svc.wake_outbox()
    await query.answer()
    await query.edit_message_reply_markup(None)
    return result


@reviewer_only
async def on_publish(
    update: Update, context: ContextTypes.DEFAULT_TYPE, action: cb.Callback, *, t: Translator
) -> None:
    svc = services(context)
    user = update.effective_user
    assert user is not None
    four_eyes = svc.config.require_second_review

    def work(session: Session) -> tuple[publishing.Published | None, str, str]:
        draft = session.get(Draft, action.int(0))
        if draft is None or draft.reviewer_id != user.id:
            raise rv.ReviewError("no_draft")
        result = publishing.request_publish(session, draft, user.id, four_eyes=four_eyes)
        clar = review_texts.draft_as_clarification(draft)
        body = texts.clarification(svc.t(draft.lang), clar, clarifications.sources_of(clar), translated=True)
        return result, body, str(draft.claim_id)

    done = await _press(update, context, t, work)
    if done is None:
        return
    published, body, claim_id = done
    if published is None:
        await reply(
            update, context, t._("Sent for approval: another reviewer has to check it before it goes out.")
        )
        if svc.config.review_chat_id is not None:
            await send(
                context,
                svc.config.review_chat_id,
                t._("Draft for #{id} by {name} needs a second reviewer:").format(
                    id=claim_id, name=texts.isolate(user.full_name)
                )
                + "\n\n"
                + body,
                [
                    [
                        (t._("Approve"), cb.make(cb.Code.APPROVE, action.int(0))),
                        (t._("Send back"), cb.make(cb.Code.SEND_BACK, action.int(0))),
                    ]
                ],
            )
        return
    await reply(
        update,
        context,
        t.ngettext(
            "Published. {n} person will be told.", "Published. {n} people will be told.", published.notified
        ).format(n=t.number(published.notified)),
    )


@reviewer_only
async def on_approval(
    update: Update, context: ContextTypes.DEFAULT_TYPE, action: cb.Callback, *, t: Translator
) -> None:
    user = update.effective_user
    assert user is not None
    approving = action.action == cb.Code.APPROVE

    def work(session: Session) -> tuple[publishing.Published | None, int]:
        if approving:
            return publishing.approve(session, action.int(0), user.id), 0
        draft = publishing.send_back(session, action.int(0), user.id)
        return None, draft.reviewer_id

    done = await _press(update, context, t, work)
    if done is None:
        return
    published, author = done
    if published is not None:
        await reply(
            update,
            context,
            t.ngettext(
                "Approved and published. {n} person will be told.",
                "Approved and published. {n} people will be told.",
                published.notified,
            ).format(n=t.number(published.notified)),
        )
    else:
        await reply(update, context, t._("Sent back to its author."))
        await send(
            context,
            author,
            t._("A reviewer sent your draft back. Open it with the Edit button on its preview, or /cancel."),
        )
