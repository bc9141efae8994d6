"""/block, /unblock, /held: reviewers stop a troll or release a quarantined citizen.

Citizens are named by our own row number ("citizen 17"), never by anything that identifies them.
"""

from __future__ import annotations

from sqlmodel import Session
from telegram import Update
from telegram.ext import ContextTypes

from factdb import audit, citizens
from handlers.common import actor_id, command_ids, reply, services
from handlers.review.guard import reviewer_only
from handlers.views.i18n import Translator


@reviewer_only
async def block_command(update: Update, context: ContextTypes.DEFAULT_TYPE, *, t: Translator) -> None:
    """/block CLAIM_ID blocks whoever sent that claim (the source of spam)."""
    ids = await command_ids(
        update,
        context,
        t._("Usage: /block CLAIM_ID — stops the people who sent that claim from sending more."),
    )
    if ids is None:
        return
    claim_id = ids[0]
    svc = services(context)
    actor = actor_id(update)

    def work(session: Session) -> list[int]:
        ids = citizens.requesters(session, claim_id)
        for cid in ids:
            citizens.block(session, cid)
            audit.record(session, actor, "block_citizen", claim_id, None, f"citizen {cid}")
        return ids

    blocked = await svc.db.run(work, commit=True)
    await reply(
        update,
        context,
        t.ngettext("Blocked {n} citizen: {ids}.", "Blocked {n} citizens: {ids}.", len(blocked)).format(
            n=t.number(len(blocked)), ids=", ".join(str(i) for i in blocked) or "—"
        ),
    )


@reviewer_only
async def unblock_command(update: Update, context: ContextTypes.DEFAULT_TYPE, *, t: Translator) -> None:
    ids = await command_ids(update, context, t._("Usage: /unblock CITIZEN_NUMBER (see /held)."))
    if ids is None:
        return
    number = ids[0]
    svc = services(context)
    actor = actor_id(update)

    def work(session: Session) -> bool:
        done = citizens.unblock(session, number)
        if done:
            audit.record(session, actor, "unblock_citizen", None, None, f"citizen {number}")
        return done

    done = await svc.db.run(work, commit=True)
    await reply(
        update,
        context,
        t._("Citizen {n} can send messages again.").format(n=number)
        if done
        else t._("There is no citizen {n}.").format(n=number),
    )


@reviewer_only
async def held_command(update: Update, context: ContextTypes.DEFAULT_TYPE, *, t: Translator) -> None:
    svc = services(context)
    rows = await svc.db.run(citizens.held)
    if not rows:
        await reply(update, context, t._("Nobody is blocked or quarantined."))
        return
    lines = [t._("Not taking messages from:")]
    for c in rows:
        why = t._("blocked by a reviewer") if c.blocked_by_reviewer else t._("over the daily limit")
        who = t._("citizen {n}").format(n=c.id)
        lines.append(f"• {who} — {why}")
    lines.append(t._("/unblock NUMBER lets someone send again."))
    await reply(update, context, "\n".join(lines))
