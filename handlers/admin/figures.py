"""/stats for admins and reviewers, /export for admins (the file comes back as a document)."""

from __future__ import annotations

import asyncio
import io

from telegram import Update
from telegram.ext import ContextTypes

from factdb import stats as st
from factdb.interchange import exporter
from handlers.common import reply, services
from handlers.review.guard import admin_only, reviewer_only
from handlers.views import texts
from handlers.views.i18n import Translator
from handlers.views.texts import STATUS_LABELS

FORMATS = {
    "csv": "crowdcheck-claims.csv",
    "jsonl": "crowdcheck-claims.jsonl",
    "claimreview": "crowdcheck-claimreview.json",
}


@reviewer_only
async def stats_command(update: Update, context: ContextTypes.DEFAULT_TYPE, *, t: Translator) -> None:
    svc = services(context)
    s = await svc.db.run(
        lambda session: st.stats(session, half_life_hours=svc.config.virality_half_life_hours)
    )
    status_words = ", ".join(
        f"{t._(STATUS_LABELS.get(status, status))} {t.number(n)}"
        for status, n in sorted(s.claims_by_status.items())
    )
    lines = [
        "<b>" + t._("This week") + "</b>",
        t._("Claims: {n} ({statuses})").format(n=t.number(s.claims_total), statuses=status_words or "—"),
        t._("Requests today: {today} · last 7 days: {week}").format(
            today=t.number(s.requests_today), week=t.number(s.requests_7d)
        ),
        t._("Median time to publish: {duration}").format(
            duration="—" if s.median_hours_to_publish is None else t.duration(s.median_hours_to_publish)
        ),
    ]
    if s.retractions_7d:
        lines.append(t._("Withdrawn in the last 7 days: {n}").format(n=t.number(s.retractions_7d)))
    if s.helpful_share is not None:
        lines.append(t._("Found helpful: {share}").format(share=t.percent(s.helpful_share)))
    if s.top_viral:
        lines.append(t._("Most viral open claims:"))
        lines += [
            f"#{c.id} 🔥{c.virality:.1f} · {texts.isolate(texts.excerpt(c.excerpt, 70))}" for c in s.top_viral
        ]
    await reply(update, context, "\n".join(lines))


@admin_only
async def export_command(update: Update, context: ContextTypes.DEFAULT_TYPE, *, t: Translator) -> None:
    fmt = (context.args or ["claimreview"])[0].lower()
    if fmt not in FORMATS:
        await reply(update, context, t._("Usage: /export csv, /export jsonl or /export claimreview"))
        return
    svc = services(context)
    buffer = io.StringIO()
    count = await asyncio.to_thread(
        exporter.export,
        svc.db,
        fmt,
        buffer,
        org_name=svc.config.org_name,
        org_url=svc.config.org_url,
        public_url=svc.config.public_url,  # type: ignore[arg-type]
    )
    chat = update.effective_chat
    assert chat is not None
    caption = t.ngettext("{n} published claim.", "{n} published claims.", count).format(n=t.number(count))
    await context.bot.send_document(
        chat.id, io.BytesIO(buffer.getvalue().encode("utf-8")), filename=FORMATS[fmt], caption=caption
    )
