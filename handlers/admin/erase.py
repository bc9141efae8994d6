"""/erase USER_ID: an admin does for a person what /forget does (a request by e-mail, a court).

Two steps, with nothing kept in between: the first shows what will happen, `/erase ID confirm`
does it. An audit line records that an admin erased someone, never whom.
"""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from handlers import erasure
from handlers.common import actor_id, reply, services
from handlers.review.guard import admin_only
from handlers.views.i18n import Translator


@admin_only
async def erase_command(update: Update, context: ContextTypes.DEFAULT_TYPE, *, t: Translator) -> None:
    args = context.args or []
    if not args or not args[0].isdigit() or len(args) > 2:
        await reply(
            update,
            context,
            t._(
                "Usage: /erase USER_ID — deletes everything I hold about that Telegram user, as /forget does."
            ),
        )
        return
    user_id = int(args[0])
    if len(args) == 1 or args[1].lower() != "confirm":
        await reply(
            update,
            context,
            t._(
                "This deletes everything I hold about Telegram user {user_id}: their requests, "
                "their texts, the claims only they asked about that no reviewer has touched, and "
                "their messages waiting to be handled. It cannot be undone. To go ahead, send: "
                "/erase {user_id} confirm"
            ).format(user_id=user_id),
        )
        return
    svc = services(context)
    admin = actor_id(update)
    result = await erasure.erase(svc, user_id, admin_id=admin, audited=True)
    if result is None:
        await reply(
            update,
            context,
            t._(
                "I held no data about that person; any of their messages waiting to be handled are gone too."
            ),
        )
        return
    await reply(
        update,
        context,
        t._("Erased. Claims deleted: {deleted}; claims kept without a link to them: {kept}.").format(
            deleted=t.number(result.claims_deleted), kept=t.number(result.claims_kept)
        ),
    )
