"""A citizen's own data: /mychecks, /stop, /forget, /language."""

from __future__ import annotations

from sqlmodel import Session
from telegram import Update
from telegram.ext import ContextTypes

from factdb import citizens
from factdb.models import OPEN_STATUSES
from handlers import erasure
from handlers.citizen.feedback import wait_text
from handlers.common import citizen_translator, reply, services
from handlers.views import callbacks as cb
from handlers.views import texts
from handlers.views.i18n import Translator, language_name

STATUS_LABELS = {
    "new": "⏳",
    "in_review": "🔎",
    "published": "📬",  # not ✅: that is the True verdict's mark, and "answered" is not "true"
    "retracted": "↩️",
    "spam": "🚫",
    "merged": "🔗",
}


def _status(t: Translator, status: str) -> str:
    words = {
        "new": t._("waiting for a reviewer"),
        "in_review": t._("a reviewer is on it"),
        "published": t._("answered"),
        "retracted": t._("answer withdrawn, being checked again"),
        "spam": t._("closed"),
        "merged": t._("answered together with a similar message"),
    }
    return f"{STATUS_LABELS.get(status, '•')} {words.get(status, status)}"


async def mychecks(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    svc = services(context)
    user = update.effective_user
    assert user is not None
    t = await citizen_translator(svc, update)

    def work(session: Session) -> list[str]:
        citizen = citizens.get(session, user.id)
        checks = citizens.my_checks(session, citizen) if citizen else []
        if not checks:
            return []
        lines = [t._("Your recent checks:")]
        waiting = next((c.claim_id for c in checks if c.status in OPEN_STATUSES), None)
        lines += [f"• {texts.isolate(texts.excerpt(c.excerpt, 80))} — {_status(t, c.status)}" for c in checks]
        if waiting is not None:
            lines += ["", wait_text(session, t, waiting, svc.config.virality_half_life_hours)]
        return lines

    lines = await svc.db.run(work)
    if not lines:
        await reply(update, context, t._("You haven't sent me anything to check yet."))
        return
    await reply(update, context, "\n".join(lines))


async def stop(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    svc = services(context)
    user = update.effective_user
    assert user is not None
    t = await citizen_translator(svc, update)

    def work(session: Session) -> int:
        citizen = citizens.get(session, user.id)
        return citizens.unsubscribe_all(session, citizen) if citizen else 0

    await svc.db.run(work, commit=True)
    await reply(
        update,
        context,
        t._("Done: I won't send you any more updates. Send me a message any time to check something new."),
    )


async def forget(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    svc = services(context)
    user = update.effective_user
    assert user is not None
    t = await citizen_translator(svc, update)  # before the data (and the chosen language) is gone
    forgotten = await erasure.erase(svc, user.id)
    if forgotten:
        await reply(
            update,
            context,
            t._(
                "Done: I deleted your data. The fact-checks themselves stay public, without any link to you."
            ),
        )
    else:
        await reply(update, context, t._("I don't have any data about you."))


async def language(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    svc = services(context)
    t = await citizen_translator(svc, update)
    rows = [
        [(language_name(tag), cb.make(cb.Code.LANGUAGE, tag.replace("-", "_")))] for tag in svc.config.locales
    ]
    await reply(update, context, t._("Which language should I use?"), rows)


async def on_language(update: Update, context: ContextTypes.DEFAULT_TYPE, action: cb.Callback) -> None:
    svc = services(context)
    query = update.callback_query
    user = update.effective_user
    assert query is not None and user is not None and update.effective_chat is not None
    tag = action.word(0).replace("_", "-")
    if tag not in svc.config.locales:
        await query.answer(svc.t(None)._("This button no longer works."), show_alert=True)
        return
    chat_id = update.effective_chat.id

    def work(session: Session) -> None:
        citizen = citizens.get_or_create(session, user.id, chat_id, user.language_code)
        citizens.choose_language(session, citizen, tag)

    await svc.db.run(work, commit=True)
    t = svc.t(tag)
    await query.answer()
    await reply(update, context, t._("Done! I'll write to you in English from now on."))
