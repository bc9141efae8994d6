"""/reviewers, /addreviewer, /removereviewer: admins manage who may act."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from factdb import reviewers
from handlers.common import actor_id, reply, services
from handlers.review.guard import admin_only
from handlers.views import texts
from handlers.views.i18n import Translator


async def _target(
    update: Update, context: ContextTypes.DEFAULT_TYPE, usage: str
) -> tuple[int | None, str | None, str | None]:
    """Who the admin means: a user id, a reply to their message, or an @username we have seen;
    no id (after replying `usage`) when none of those says who."""
    found = await _named(update, context)
    if found[0] is None:
        await reply(update, context, usage)
    return found


async def _named(
    update: Update, context: ContextTypes.DEFAULT_TYPE
) -> tuple[int | None, str | None, str | None]:
    message = update.effective_message
    if message is not None and message.reply_to_message is not None and message.reply_to_message.from_user:
        user = message.reply_to_message.from_user
        return user.id, user.full_name, user.username
    args = context.args or []
    if not args:
        return None, None, None
    arg = args[0]
    if arg.lstrip("-").isdigit():
        return int(arg), None, None
    if arg.startswith("@"):
        svc = services(context)
        found = await svc.db.run(lambda s: reviewers.find_by_username(s, arg))
        return found, None, arg.lstrip("@")
    return None, None, None


@admin_only
async def list_reviewers(update: Update, context: ContextTypes.DEFAULT_TYPE, *, t: Translator) -> None:
    svc = services(context)
    rows = await svc.db.run(reviewers.list_active)
    lines = [t._("Reviewers:")]
    from_config = t._("admin (from configuration)")
    for admin_id in sorted(svc.config.admin_ids):
        lines.append(f"• {admin_id} — {from_config}")
    for r in rows:
        name = r.name or (f"@{r.username}" if r.username else "")
        lines.append(f"• {r.telegram_user_id} {texts.isolate(name)} — {r.role}")
    await reply(update, context, "\n".join(lines))


@admin_only
async def add_reviewer(update: Update, context: ContextTypes.DEFAULT_TYPE, *, t: Translator) -> None:
    user_id, name, username = await _target(
        update,
        context,
        t._(
            "Who? Reply to their message with /addreviewer, or give a user id or an @username I have seen in this group."
        ),
    )
    if user_id is None:
        return
    svc = services(context)
    actor = actor_id(update)
    await svc.db.run(
        lambda s: reviewers.add(s, user_id, name=name, username=username, added_by=actor), commit=True
    )
    await reply(
        update,
        context,
        t._("{who} is now a reviewer.").format(who=texts.isolate(name or username or str(user_id))),
    )


@admin_only
async def remove_reviewer(update: Update, context: ContextTypes.DEFAULT_TYPE, *, t: Translator) -> None:
    user_id, name, username = await _target(
        update,
        context,
        t._("Who? Reply to their message with /removereviewer, or give a user id or an @username."),
    )
    if user_id is None:
        return
    svc = services(context)
    actor = actor_id(update)
    removed = await svc.db.run(lambda s: reviewers.remove(s, user_id, removed_by=actor), commit=True)
    who = texts.isolate(name or username or str(user_id))
    if user_id in svc.config.admin_ids:
        await reply(
            update,
            context,
            t._("{who} is an admin in the configuration; change CROWDCHECK_ADMIN_IDS to remove them.").format(
                who=who
            ),
        )
    elif removed:
        await reply(update, context, t._("{who} is no longer a reviewer.").format(who=who))
    else:
        await reply(update, context, t._("{who} was not a reviewer.").format(who=who))
