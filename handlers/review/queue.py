"""/queue (most viral first, paged) and /claim ID (one claim with its history)."""

from __future__ import annotations

from sqlmodel import Session
from telegram import Update
from telegram.ext import ContextTypes

from factdb import audit, clarifications, locks
from factdb import queue as claim_queue
from factdb.models import Claim, utcnow
from handlers.common import command_ids, reply, services
from handlers.review.guard import reviewer_only
from handlers.services import Services
from handlers.views import callbacks as cb
from handlers.views import review_texts, texts
from handlers.views.i18n import Translator
from handlers.views.keyboards import markup


@reviewer_only
async def queue_command(update: Update, context: ContextTypes.DEFAULT_TYPE, *, t: Translator) -> None:
    text, rows = await _page(services(context), t, 0)
    await reply(update, context, text, rows)


async def _page(svc: Services, t: Translator, page: int) -> tuple[str, review_texts.Rows]:
    """One page of the queue (the last page that exists, past the end); the withdrawn claims
    close the last page."""

    def work(session: Session) -> tuple[str, review_texts.Rows]:
        items, pages = claim_queue.page(session, page, half_life_hours=svc.config.virality_half_life_hours)
        page_no = min(page, pages - 1)
        withdrawn = claim_queue.retracted(session) if page_no == pages - 1 else None
        held = review_texts.holders(session, [item.claim for item in items])
        return review_texts.queue_lines(t, items, page_no, pages, withdrawn, held)

    return await svc.db.run(work)


@reviewer_only
async def on_page(
    update: Update, context: ContextTypes.DEFAULT_TYPE, action: cb.Callback, *, t: Translator
) -> None:
    query = update.callback_query
    assert query is not None
    text, rows = await _page(services(context), t, action.int(0))
    await query.answer()
    await query.edit_message_text(text, parse_mode="HTML", reply_markup=markup(rows))


@reviewer_only
async def claim_command(update: Update, context: ContextTypes.DEFAULT_TYPE, *, t: Translator) -> None:
    ids = await command_ids(update, context, t._("Usage: /claim ID"))
    if ids is None:
        return
    svc = services(context)
    claim_id = ids[0]

    def work(session: Session) -> tuple[list[str], review_texts.Rows] | None:
        claim = session.get(Claim, claim_id)
        if claim is None:
            return None
        text, rows = review_texts.card(
            t, session, claim, svc.index, now=utcnow(), public_queue=svc.config.public_queue
        )
        lines = [text]
        if locks.expired(claim, svc.config.claim_lease):
            lines.append(
                "⏳ "
                + t._("Idle for more than {minutes} minutes: anyone may take it over.").format(
                    minutes=t.number(svc.config.claim_lease_minutes)
                )
            )
        for clar in clarifications.current(session, claim_id):
            lines.append(
                f"{clar.lang} v{clar.version}: {texts.verdict_label(t, clar.verdict)} — {texts.isolate(texts.excerpt(clar.summary, 200))}"
            )
        history = audit.history(session, claim_id)
        if history:
            lines.append("")
            lines.append(t._("History:"))
            for entry in history:
                change = f"{entry.old or ''} → {entry.new or ''}" if entry.old or entry.new else ""
                lines.append(
                    f"• {review_texts.ago(t, entry.at)} · {texts.escape(entry.action)} {texts.isolate(change) if change else ''}"
                )
        return lines, rows

    found = await svc.db.run(work)
    if found is None:
        await reply(update, context, t._("There is no claim #{claim_id}.").format(claim_id=claim_id))
        return
    lines, rows = found
    await reply(update, context, "\n".join(lines), rows)
