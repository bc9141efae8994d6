"""Who may act, and what a reviewer reads when an action cannot happen."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from telegram import Update
from telegram.ext import ContextTypes

from factdb.review import ReviewError
from handlers.common import alert, is_admin, is_reviewer, reply, reviewer_translator, services
from handlers.services import Services
from handlers.views import texts
from handlers.views.i18n import Translator


async def _require(
    update: Update,
    context: ContextTypes.DEFAULT_TYPE,
    allowed: Callable[[Services, int], Awaitable[bool]],
    refusal: Callable[[Translator], str],
    *,
    refuse_in_groups: bool,
) -> Translator | None:
    """The presser's translator when `allowed`; else None after telling them `refusal` (a pop-up
    on a button; a reply to a command, in groups too only when `refuse_in_groups`)."""
    svc = services(context)
    t = reviewer_translator(svc, update)
    user = update.effective_user
    if user is not None and await allowed(svc, user.id):
        return t
    chat = update.effective_chat
    if update.callback_query is not None:
        await alert(update, refusal(t))
    elif refuse_in_groups or (chat is not None and chat.type == "private"):
        await reply(update, context, refusal(t))
    return None


async def require_reviewer(update: Update, context: ContextTypes.DEFAULT_TYPE) -> Translator | None:
    """The reviewer's translator, or None after telling a non-reviewer (and changing nothing)."""
    return await _require(
        update, context, is_reviewer, lambda t: t._("Only reviewers can do this."), refuse_in_groups=False
    )


async def require_admin(update: Update, context: ContextTypes.DEFAULT_TYPE) -> Translator | None:
    """The admin's translator, or None after telling anyone else (and changing nothing)."""
    return await _require(
        update, context, is_admin, lambda t: t._("Only admins can do this."), refuse_in_groups=True
    )


Handler = Callable[..., Awaitable[None]]


def _only(require: Callable[[Update, ContextTypes.DEFAULT_TYPE], Awaitable[Translator | None]]):
    def decorate(fn: Handler) -> Handler:
        @functools.wraps(fn)
        async def guarded(update: Update, context: ContextTypes.DEFAULT_TYPE, *args: Any) -> None:
            t = await require(update, context)
            if t is not None:
                await fn(update, context, *args, t=t)

        return guarded

    return decorate


# `@reviewer_only` / `@admin_only` on a handler: it runs for a reviewer (an admin) only, and gets
# their translator as the keyword `t`; anyone else is told as `require_reviewer` (`require_admin`)
# tells them, and nothing changes.
reviewer_only = _only(require_reviewer)
admin_only = _only(require_admin)


def explain(t: Translator, err: ReviewError) -> str:
    p = err.params
    messages = {
        "not_found": t._("There is no claim #{claim_id}."),
        "merged": t._("Claim #{claim_id} was merged into #{target}; work on that one instead."),
        "spam": t._("Claim #{claim_id} was closed as spam."),
        "taken": t._("{by} is already writing this one (took it {when}); an admin can /release {claim_id}."),
        "lost": t._(
            "You no longer hold claim #{claim_id}: it was released, or taken over after you left it idle. Nothing was published."
        ),
        "not_held": t._("Nobody is writing claim #{claim_id}; there is nothing to release."),
        "not_open": t._("Claim #{claim_id} was just published; use /edit {claim_id} to change it."),
        "not_published": t._("Claim #{claim_id} has no published clarification."),
        "published": t._("Claim #{claim_id} is published; retract it first."),
        "bad_verdict": t._("That verdict is not one I know."),
        "summary_empty": t._("The summary is empty. Please write one or two sentences."),
        "summary_too_long": t._(
            "That's {length} characters; citizens read this in one bubble, so please keep it under {limit}."
        ),
        "bad_sources": t._(
            "I couldn't find a link in that. Send links starting with http:// or https://, or - for none."
        ),
        "sources_needed": t._("A clarification with this verdict needs at least one source link."),
        "lang_exists": t._("There is already a clarification in {lang}; use /edit to change it."),
        "not_ready": t._("This draft isn't finished yet."),
        "not_awaiting": t._("This draft is not waiting for approval any more."),
        "same_reviewer": t._("A different reviewer has to approve this."),
        "reason_needed": t._("Please give the reason citizens will read: /retract ID reason"),
        "merge_self": t._("A claim can't be merged into itself."),
        "merge_target_closed": t._("Claim #{claim_id} is closed; choose another target."),
        "wording_empty": t._(
            "That's empty. Send the wording the public should read, or - for the citizens' words."
        ),
        "wording_too_long": t._("That's {length} characters; please keep the public wording under {limit}."),
        "needs_wording": t._(
            "Claim #{claim_id} is a picture without words. Describe it for the public first with /reword {claim_id}, then press Publish again."
        ),
        "no_draft": t._("You have no draft in progress. Press Take on a claim to start one."),
    }
    if "since" in p:
        since = p["since"]
        p = {
            **p,
            "when": t.ago(since) if isinstance(since, datetime) else "?",
            "by": texts.isolate(str(p["by"])),
        }
    return messages.get(err.code, err.code).format(**p)
