"""What reviewers read: claim cards, queue lines, draft prompts. Personal data masked."""

from __future__ import annotations

import json
from datetime import datetime

from sqlmodel import Session

from factdb import clarifications, reviewers
from factdb.matching import Matcher
from factdb.media.pictures import Picture
from factdb.models import OPEN_STATUSES, Claim, ClaimStatus, Clarification, Draft, DraftStep, utcnow
from factdb.privacy import mask_personal
from handlers.views import callbacks as cb
from handlers.views import texts
from handlers.views.i18n import Translator, language_name

Rows = list[list[tuple[str, str]]]


def ago(t: Translator, when: datetime) -> str:
    return t.ago(when)


def masked(text: str, limit: int = texts.EXCERPT) -> str:
    return texts.isolate(texts.excerpt(mask_personal(text), limit))


def provenance(t: Translator, claim: Claim) -> str | None:
    if not claim.provenance:
        return None
    try:
        prov = json.loads(claim.provenance)
    except ValueError:
        return None
    kind, source = prov.get("type"), prov.get("from")
    if kind in ("channel", "chat") and source:
        return t._("Forwarded from “{source}”").format(source=texts.isolate(mask_personal(source)))
    return t._("Forwarded from a person")


def held_since(t: Translator, claim: Claim, now: datetime | None = None) -> str:
    """When the holder took the claim or last worked on it: "5 minutes ago" when the text is
    rendered on request (`now`), else an absolute time (see `card`)."""
    if claim.assigned_at is None:
        return "?"
    return t.ago(claim.assigned_at, now) if now is not None else t.short_datetime(claim.assigned_at)


def public_wording_line(t: Translator, claim: Claim) -> list[str]:
    """The reviewers' public wording under the citizens' words, when there is one."""
    if not claim.public_text or claim.public_text == claim.text:
        return []
    return ["🌐 " + t._("Public wording: {text}").format(text=masked(claim.public_text))]


def status_line(t: Translator, session: Session, claim: Claim, now: datetime | None = None) -> str:
    status = claim.status
    if status == ClaimStatus.IN_REVIEW and claim.assignee_id:
        return "🔎 " + t._("Taken by {name} · {since}").format(
            name=texts.isolate(reviewers.display_name(session, claim.assignee_id)),
            since=held_since(t, claim, now),
        )
    if status == ClaimStatus.PUBLISHED:
        rows = clarifications.current(session, claim.id)  # type: ignore[arg-type]
        verdict = texts.verdict_label(t, rows[0].verdict) if rows else ""
        author = reviewers.display_name(session, rows[0].author_id) if rows and rows[0].author_id else ""
        return "✅ " + t._("Published by {name} · {verdict}").format(
            name=texts.isolate(author), verdict=verdict
        )
    if status == ClaimStatus.MERGED:
        return "🔗 " + t._("Merged into #{id}").format(id=claim.merged_into_id)
    if status == ClaimStatus.SPAM:
        return "🚫 " + t._("Closed as spam")
    if status == ClaimStatus.RETRACTED:
        return "↩️ " + t._("Clarification withdrawn, needs a new review")
    return "🆕 " + t._("New, waiting for a reviewer")


def card(
    t: Translator,
    session: Session,
    claim: Claim,
    index: Matcher | None,
    *,
    now: datetime | None = None,
    public_queue: bool = False,
) -> tuple[str, Rows]:
    """A claim as reviewers see it. The card posted in the group passes no `now`: its times are
    absolute, so it renders the same until the claim changes (a "5 minutes ago" would differ
    at each render and every delivery would schedule another edit, see bot/delivery.py);
    /claim, rendered when asked, passes `now` and reads "taken 5 minutes ago".

    `public_queue`: the operator publishes a "waiting for review" list (factdb/public.py), so an
    open claim's card offers to hide it from that list, or to show it again."""
    lines = [
        f"<b>#{claim.id}</b> · {status_line(t, session, claim, now)}",
        masked(claim.text) if claim.text else "📷 " + t._("A picture with no text we could read (below)."),
        *public_wording_line(t, claim),
        t.ngettext(
            "{lang} · {n} request · first seen {when}",
            "{lang} · {n} requests · first seen {when}",
            claim.request_count,
            # An absolute time, not "5 minutes ago": a card must render the same until the claim
            # changes, or each delivery would schedule another edit (see bot/delivery.py).
        ).format(
            lang=claim.lang or "?", n=t.number(claim.request_count), when=t.short_datetime(claim.first_seen)
        ),
    ]
    prov = provenance(t, claim)
    if prov:
        lines.append(prov)
    similar = similar_claims(session, claim, index)
    if similar:
        lines.append(
            t._("Similar:")
            + " "
            + "; ".join(f"#{c.id} ({score:.0f}) {masked(c.text, 60)}" for c, score in similar)
        )
    rows: Rows = []
    if claim.status in (ClaimStatus.NEW, ClaimStatus.IN_REVIEW, ClaimStatus.RETRACTED):
        rows.append(
            [
                (t._("Take"), cb.make(cb.Code.TAKE, claim.id)),  # type: ignore[arg-type]
                (t._("Spam"), cb.make(cb.Code.SPAM, claim.id)),  # type: ignore[arg-type]
                (t._("Merge into…"), cb.make(cb.Code.MERGE_MENU, claim.id)),  # type: ignore[arg-type]
            ]
        )
    if public_queue and claim.status in OPEN_STATUSES:
        if claim.public_hidden:
            lines.append("🙈 " + t._("Hidden from the public waiting list"))
            rows.append([(t._("Show in public list"), cb.make(cb.Code.PUBLIC_HIDDEN, claim.id, 0))])  # type: ignore[arg-type]
        else:
            rows.append([(t._("Hide from public list"), cb.make(cb.Code.PUBLIC_HIDDEN, claim.id, 1))])  # type: ignore[arg-type]
    return "\n".join(lines), rows


def picture_caption(t: Translator, claim: Claim, picture: Picture) -> str:
    """The caption of a claim's picture in the moderators' group (Telegram allows 1,024
    characters): which claim, and the text read from it, masked like any submission."""
    lines = ["📷 " + t._("Picture sent with claim #{id}").format(id=claim.id)]
    if picture.ocr_text:
        lines.append(t._("Text read from it: {text}").format(text=masked(picture.ocr_text, 600)))
    lines.append(
        t._("Shown on the public page.")
        if picture.publishable
        else t._("Private: not shown on the public page unless a reviewer chooses to.")
    )
    return "\n".join(lines)


def holders(session: Session, claims: list[Claim]) -> dict[int, str]:
    """Who is writing each of these claims (claim id → display name), for `queue_lines`."""
    return {
        c.id: reviewers.display_name(session, c.assignee_id)  # type: ignore[misc]
        for c in claims
        if c.status == ClaimStatus.IN_REVIEW and c.assignee_id is not None
    }


def similar_claims(
    session: Session, claim: Claim, index: Matcher | None, limit: int = 3
) -> list[tuple[Claim, float]]:
    if index is None:
        return []
    found: list[tuple[Claim, float]] = []
    floor = index.thresholds.maybe  # below "maybe" a claim is not similar, just nearest
    for cand in index.search(claim.text, limit=limit + 1):
        if cand.claim_id == claim.id or cand.score < floor:
            continue
        other = session.get(Claim, cand.claim_id)
        if other is not None and other.status != ClaimStatus.MERGED:
            found.append((other, cand.score))
        if len(found) == limit:
            break
    return found


def draft_prompt(t: Translator, session: Session, draft: Draft, locales: tuple[str, ...]) -> tuple[str, Rows]:
    claim = session.get(Claim, draft.claim_id)
    head = f"<b>#{draft.claim_id}</b> {masked(claim.text, 200) if claim else ''}"
    cancel = (t._("Cancel"), cb.make(cb.Code.CANCEL, draft.id))  # type: ignore[arg-type]
    if draft.step == DraftStep.VERDICT:
        buttons = [
            (texts.verdict_label(t, v), cb.make(cb.Code.VERDICT, draft.id, v)) for v in texts.REVIEW_VERDICTS
        ]  # type: ignore[arg-type]
        rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)] + [[cancel]]
        return head + "\n\n" + t._("What's the verdict?"), rows
    if draft.step == DraftStep.SUMMARY:
        ask = (
            head
            + "\n\n"
            + t._("Now write the summary citizens will read: one or two sentences, up to 600 characters.")
        )
        if draft.summary:
            # <code>: one tap copies it in Telegram, so an edit changes words instead of retyping
            ask += "\n\n" + t._("The current summary (tap to copy, then change it):") + "\n"
            ask += f"<code>{texts.escape(draft.summary, quote=False)}</code>"
        return ask, [[cancel]]
    if draft.step == DraftStep.SOURCES:
        ask = t._(
            "Now the sources: send one or more links (http…). Send - if there are none (allowed only for unproven, satire, missing context or not a claim)."
        )
        current = json.loads(draft.sources or "[]")
        if current:  # an edit, or Edit on a preview: start from the links it has
            ask += "\n\n" + t._("The current sources (tap to copy, then change them):") + "\n"
            ask += f"<code>{texts.escape(' '.join(current), quote=False)}</code>"
        return ask, [[cancel]]
    if draft.step == DraftStep.LANG:
        tags = list(dict.fromkeys([*([claim.lang] if claim and claim.lang else []), *locales]))
        rows = [
            [(language_name(tag), cb.make(cb.Code.DRAFT_LANG, draft.id, tag.replace("-", "_")))]
            for tag in tags
            if tag
        ]
        return t._("Which language is this clarification written in?"), [*rows, [cancel]]
    return t._("Nothing to do here."), []


def reword_prompt(t: Translator, claim: Claim) -> str:
    """/reword ID: the citizens' words (reviewers only) and what the public reads now."""
    current = claim.public_text or mask_personal(claim.text)
    return "\n".join(
        [
            f"<b>#{claim.id}</b> " + t._("Citizens sent (reviewers only):") + " " + masked(claim.text, 400),
            "",
            t._("The public reads (tap to copy):"),
            f"<code>{texts.escape(current, quote=False)}</code>",
            "",
            t._(
                "Send the wording the public should read: one neutral sentence stating the claim, without private people's names or numbers. Send - to go back to the citizens' words, or /cancel."
            ),
        ]
    )


def preview_rows(t: Translator, draft: Draft) -> Rows:
    return [
        [
            (t._("Publish"), cb.make(cb.Code.PUBLISH, draft.id)),  # type: ignore[arg-type]
            (t._("Edit"), cb.make(cb.Code.EDIT, draft.id)),  # type: ignore[arg-type]
            (t._("Cancel"), cb.make(cb.Code.CANCEL, draft.id)),  # type: ignore[arg-type]
        ]
    ]


def draft_as_clarification(draft: Draft) -> Clarification:
    return Clarification(
        claim_id=draft.claim_id,
        lang=draft.lang or "en",
        verdict=draft.verdict or "unproven",
        summary=draft.summary or "",
        sources=draft.sources,
    )


DIGEST_LINES = 10
DIGEST_BUTTONS = 5


def digest(t: Translator, claims: list[Claim]) -> tuple[str, Rows]:
    """Cards that queued up in a surge, as one message: the most asked first, with Take buttons."""
    lines = [
        "📥 "
        + t.ngettext(
            "{n} new claim arrived faster than cards can be posted here.",
            "{n} new claims arrived faster than cards can be posted here.",
            len(claims),
        ).format(n=t.number(len(claims))),
        t._("Most asked first; /queue lists them all."),
    ]
    for c in claims[:DIGEST_LINES]:
        lines.append(
            f"<b>#{c.id}</b> · "
            + t.ngettext("{n} request", "{n} requests", c.request_count).format(n=t.number(c.request_count))
            + f" · {masked(c.text, 90)}"
        )
    if len(claims) > DIGEST_LINES:
        lines.append(t._("…and {n} more.").format(n=t.number(len(claims) - DIGEST_LINES)))
    rows: Rows = [
        [(t._("Take #{id}").format(id=c.id), cb.make(cb.Code.TAKE, c.id))] for c in claims[:DIGEST_BUTTONS]
    ]
    return "\n".join(lines), rows


def queue_lines(
    t: Translator,
    items: list,
    page_no: int,
    pages: int,
    retracted: tuple[list, int] | None = None,
    holders: dict[int, str] | None = None,
) -> tuple[str, Rows]:
    """A page of the open queue; `retracted` (claims whose answer was withdrawn, and how many in
    all) comes after the open ones, on the last page; `holders` names who is writing a claim
    (claim id → display name), so a reviewer picks a free one instead of being refused."""
    holders = holders or {}
    withdrawn, withdrawn_total = retracted or ([], 0)
    if not items and not withdrawn:
        return t._("The queue is empty. 🎉"), []
    lines: list[str] = []
    rows: Rows = []
    if items:
        lines.append(
            t._("Queue, page {page} of {pages} (most viral first):").format(page=page_no + 1, pages=pages)
        )
    else:
        lines.append(t._("The queue is empty. 🎉"))
    for item in items:
        c = item.claim
        lines.append(
            f"<b>#{c.id}</b> 🔥{item.virality:.1f} · "
            + t.ngettext("{n} request", "{n} requests", c.request_count).format(n=t.number(c.request_count))
            + f" · {masked(c.text, 90)}"
        )
        if c.id in holders:
            lines.append(
                "   🔎 "
                + t._("Taken by {name} · {since}").format(
                    name=texts.isolate(holders[c.id]), since=held_since(t, c, utcnow())
                )
            )
        rows.append([(t._("Take #{id}").format(id=c.id), cb.make(cb.Code.TAKE, c.id))])
    if withdrawn:
        lines += ["", "↩️ " + t._("Withdrawn, waiting for a new review:")]
        for w in withdrawn:
            c = w.claim
            who = texts.isolate(w.by) if w.by else "—"
            when = ago(t, w.at) if w.at else ""
            lines.append(
                f"<b>#{c.id}</b> · {masked(c.text, 60)}\n   "
                + t._("withdrawn by {name} {when}: {reason}").format(
                    name=who, when=when, reason=texts.isolate(texts.excerpt(w.reason or "—", 120))
                )
            )
            rows.append([(t._("Take #{id}").format(id=c.id), cb.make(cb.Code.TAKE, c.id))])
        if withdrawn_total > len(withdrawn):
            lines.append(t._("…and {n} more.").format(n=t.number(withdrawn_total - len(withdrawn))))
    nav = []
    if page_no > 0:
        nav.append(("◀", cb.make(cb.Code.QUEUE_PAGE, page_no - 1)))
    if page_no + 1 < pages:
        nav.append(("▶", cb.make(cb.Code.QUEUE_PAGE, page_no + 1)))
    if nav:
        rows.append(nav)
    return "\n".join(lines), rows
