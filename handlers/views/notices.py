"""Rendering an outbox row at send time, in the recipient's language as it is *now*.

Rendering late (not when the row is written) means a citizen who switched /language meanwhile
gets the notice in the new language, and a card shows the claim's latest state.
"""

from __future__ import annotations

from typing import Protocol

from sqlmodel import Session
from telegram import InlineKeyboardMarkup

from factdb import citizens, clarifications
from factdb.matching import Matcher
from factdb.media.pictures import Picture
from factdb.models import Citizen, Claim, OutboxKind
from factdb.outbox import Job
from factdb.public import public_wording
from handlers.views import broadcast, review_texts, texts
from handlers.views.i18n import Translator
from handlers.views.keyboards import answer_buttons, markup, picture_buttons


class NoticeSettings(Protocol):
    """What rendering reads of the configuration (bot.config.Config has it)."""

    public_url: str | None
    public_queue: bool
    locales: tuple[str, ...]
    bot_username: str | None


def render_job(
    session: Session, job: Job, config: NoticeSettings, index: Matcher
) -> tuple[str, InlineKeyboardMarkup | None] | None:
    if job.kind in (OutboxKind.CARD, OutboxKind.CARD_EDIT):
        claim = session.get(Claim, job.claim_id)
        if claim is None:
            return None
        t = Translator(None, config.locales)
        text, rows = review_texts.card(t, session, claim, index, public_queue=config.public_queue)
        return text, markup(rows)
    if job.kind == OutboxKind.CHANNEL:
        text = broadcast.channel_post(session, job, config.locales, config.public_url, config.bot_username)
        return (text, None) if text is not None else None
    if job.kind == OutboxKind.WEEKLY:
        text = broadcast.weekly_digest(session, job, config.locales, config.public_url, config.bot_username)
        return (text, None) if text is not None else None
    if job.kind == OutboxKind.PICTURE:
        picture = session.get(Picture, int(job.payload.get("picture_id", 0)))
        claim = session.get(Claim, job.claim_id)
        if picture is None or claim is None:
            return None  # erased meanwhile (/forget)
        t = Translator(None, config.locales)
        buttons = picture_buttons(t, picture.id, picture.publishable)  # type: ignore[arg-type]
        return review_texts.picture_caption(t, claim, picture), markup(buttons)
    if job.kind == OutboxKind.TEXT:
        return str(job.payload.get("text", "")), None
    if job.kind == OutboxKind.CARD_DELETE:  # the claim is gone (/forget): its card goes, or says so
        t = Translator(None, config.locales)
        return t._("(Erased: the person who sent this asked us to delete their data.)"), None

    citizen = session.get(Citizen, job.citizen_id) if job.citizen_id else None
    claim = session.get(Claim, job.claim_id) if job.claim_id else None
    if citizen is None or claim is None:
        return None  # the person used /forget, or the claim is gone
    t = Translator(citizen.lang, config.locales)
    # the reviewers' public wording when there is one, as everywhere outside the reviewers' room
    asked = t._("You asked us about: {excerpt}").format(
        excerpt=texts.isolate(texts.excerpt(public_wording(claim), 120))
    )
    link = texts.claim_page(config.public_url, claim.id)  # type: ignore[arg-type]

    if job.kind == OutboxKind.RETRACTION:
        if not citizens.was_told(session, citizen.id, claim.id):  # type: ignore[arg-type]
            return None  # their answer was withdrawn before it went out: nothing to take back
        reason = str(job.payload.get("reason", ""))
        return "\n".join(
            [
                "↩️ " + t._("We have withdrawn our answer about a message you sent us."),
                asked,
                t._("Why: {reason}").format(reason=texts.isolate(reason)),
                t._(
                    "Sorry for the confusion. Our reviewers are checking it again and I'll message you when there's a new answer."
                ),
            ]
        ), None

    chosen = clarifications.for_language(session, claim.id, citizen.lang)  # type: ignore[arg-type]
    if chosen is None:
        return None  # retracted before this notice went out: nothing true to say
    body = texts.clarification(
        t,
        chosen.clarification,
        clarifications.sources_of(chosen.clarification),
        translated=chosen.translated,
        public_link=link,
    )
    request_id = citizens.latest_request(session, citizen.id, claim.id)  # type: ignore[arg-type]
    buttons = markup(answer_buttons(t, request_id)) if request_id else None
    if job.kind == OutboxKind.UPDATE:
        old = str(job.payload.get("old_verdict") or "")
        head = "🔄 " + t._("Update: we changed our verdict from {old} to {new}.").format(
            old=texts.verdict_label(t, old), new=texts.verdict_label(t, chosen.clarification.verdict)
        )
        return "\n".join([head, asked, "", body]), buttons
    head = "🔔 " + t._("There's an answer about a message you sent us.")
    return "\n".join([head, asked, "", body]), buttons
