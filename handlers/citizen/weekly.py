"""/subscribe and /unsubscribe: the weekly digest of the most asked fact-checks (factdb/digest.py)."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from factdb import citizens, digest
from factdb.models import utcnow
from handlers.common import citizen_translator, reply, services


async def subscribe(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    svc = services(context)
    user, chat = update.effective_user, update.effective_chat
    if user is None or chat is None:
        return
    t = await citizen_translator(svc, update)

    def work(s):  # type: ignore[no-untyped-def]
        citizen = citizens.get_or_create(s, user.id, chat.id, user.language_code)
        s.flush()
        return digest.subscribe(s, citizen, utcnow())

    new = await svc.db.run(work, commit=True)
    await reply(
        update,
        context,
        t._(
            "Done: every week I'll send you the most asked fact-checks, in your language. /unsubscribe stops it."
        )
        if new
        else t._("You're already subscribed to the weekly digest. /unsubscribe stops it."),
    )


async def unsubscribe(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    svc = services(context)
    user = update.effective_user
    if user is None:
        return
    t = await citizen_translator(svc, update)

    def work(s):  # type: ignore[no-untyped-def]
        citizen = citizens.get(s, user.id)
        return citizen is not None and digest.unsubscribe(s, citizen.id)  # type: ignore[arg-type]

    was = await svc.db.run(work, commit=True)
    await reply(
        update,
        context,
        t._("Done: no more weekly digests. /subscribe brings them back.")
        if was
        else t._("You're not subscribed to the weekly digest. /subscribe starts it."),
    )
