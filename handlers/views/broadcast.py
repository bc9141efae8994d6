"""Rendering the rows that go to many: a public channel's post and a subscriber's weekly digest."""

from __future__ import annotations

from html import escape

from sqlmodel import Session

from factdb import clarifications
from factdb.models import Citizen, Claim, ClaimStatus
from factdb.outbox import Job
from factdb.public import public_wording
from handlers.views import texts
from handlers.views.group_texts import deep_link
from handlers.views.i18n import Translator


def _claim_url(public_url: str | None, bot_username: str | None, claim_id: int) -> str | None:
    return texts.claim_page(public_url, claim_id) or deep_link(bot_username, claim_id)


def channel_post(
    session: Session, job: Job, locales: tuple[str, ...], public_url: str | None, bot_username: str | None
) -> str | None:
    """A claim's post as the channel should show it now: the clarification while published,
    a withdrawal note once retracted, merged or removed."""
    claim = session.get(Claim, job.claim_id) if job.claim_id else None
    t = Translator(claim.lang if claim else None, locales)
    if claim is None:
        return "↩️ " + t._("This fact-check was withdrawn.")
    wording = texts.isolate(texts.excerpt(public_wording(claim), 300))
    if claim.status != ClaimStatus.PUBLISHED:
        return "\n".join(["↩️ " + t._("This fact-check was withdrawn."), f"<s>{wording}</s>"])
    rows = clarifications.current(session, claim.id)  # type: ignore[arg-type]
    if not rows:
        return None
    clar = clarifications.original(rows, claim.lang)
    t = Translator(clar.lang, locales)
    url = _claim_url(public_url, bot_username, claim.id)  # type: ignore[arg-type]
    lines = [
        f"<b>{escape(texts.verdict_label(t, clar.verdict), quote=False)}</b>",
        t._("Claim: {claim}").format(claim=wording),
        "",
        texts.isolate(clar.summary),
    ]
    if url:
        lines += ["", t._("Full clarification: {link}").format(link=texts.url_link(url))]
    return "\n".join(lines)


def weekly_digest(
    session: Session, job: Job, locales: tuple[str, ...], public_url: str | None, bot_username: str | None
) -> str | None:
    citizen = session.get(Citizen, job.citizen_id) if job.citizen_id else None
    if citizen is None:
        return None  # they used /forget meanwhile
    t = Translator(citizen.lang, locales)
    items = []
    for claim_id in job.payload.get("claims", []):
        found = clarifications.published_for(session, int(claim_id), citizen.lang)
        if found is None:
            continue  # retracted since the round was queued: not in the digest
        claim, chosen = found
        line = (
            f"{len(items) + 1}. <b>{escape(texts.verdict_label(t, chosen.clarification.verdict), quote=False)}</b>"
            f" — {texts.isolate(texts.excerpt(public_wording(claim), 140))}"
        )
        url = _claim_url(public_url, bot_username, claim.id)  # type: ignore[arg-type]
        if url:
            line += f"\n   {texts.url_link(url)}"
        items.append(line)
    if not items:
        return None
    return "\n".join(
        [
            "📰 " + t._("This week's most asked fact-checks:"),
            "",
            *items,
            "",
            t._("You get this because you sent /subscribe. /unsubscribe stops it."),
        ]
    )
