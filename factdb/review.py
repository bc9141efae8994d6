"""The reviewers' work: take a claim, write a clarification step by step, publish, correct.

Every function re-reads the claim and checks its state, because the button or command that led
here may be stale (merged, retracted, taken by someone else since). Each act writes its audit
row and the notices it owes in the same transaction as the act itself.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlmodel import Session, col, select

from factdb import audit, cards, channel, citizens, clarifications, locks, outbox, reviewers
from factdb.models import (
    VERDICTS_NEEDING_SOURCES,
    Citizen,
    Claim,
    ClaimStatus,
    Clarification,
    Draft,
    DraftKind,
    DraftStep,
    OutboxKind,
    Request,
    Subscription,
    Verdict,
    utcnow,
)

SUMMARY_MAX = 600
# a claim's public wording is one or two sentences stating it, not a copy of a long forward
PUBLIC_TEXT_MAX = 500
# what a reviewer sends to drop a public wording (the public reads the citizens' words, masked)
ORIGINAL_WORDING = ("-", "original")
SOURCES_MAX = 5
_URL_RE = re.compile(r"https?://[^\s<>\"']+", re.IGNORECASE)
# a reviewer's drafts in progress: those that hold a claim, and the other kinds' steps
ACTIVE_STEPS = (*locks.DRAFT_STEPS, DraftStep.RETRACT_REASON, DraftStep.WORDING)


class ReviewError(Exception):
    """A reviewer action that cannot happen; `code` picks the message the reviewer reads."""

    def __init__(self, code: str, **params: object) -> None:
        super().__init__(code)
        self.code = code
        self.params = params


@dataclass(frozen=True)
class Published:
    clarification: Clarification
    notified: int  # notices queued


def _claim(session: Session, claim_id: int) -> Claim:
    claim = session.get(Claim, claim_id)
    if claim is None:
        raise ReviewError("not_found", claim_id=claim_id)
    return claim


def _touch(session: Session, claim: Claim) -> None:
    claim.updated_at = utcnow()
    session.add(claim)
    cards.refresh(session, claim)
    channel.refresh(session, claim)


def _refuse_closed(claim: Claim) -> None:
    if claim.status == ClaimStatus.MERGED:
        raise ReviewError("merged", claim_id=claim.id, target=claim.merged_into_id)
    if claim.status == ClaimStatus.SPAM:
        raise ReviewError("spam", claim_id=claim.id)


def active_draft(session: Session, reviewer_id: int) -> Draft | None:
    return session.exec(
        select(Draft)
        .where(Draft.reviewer_id == reviewer_id, col(Draft.step).in_(ACTIVE_STEPS))
        .order_by(col(Draft.id).desc())
    ).first()


def _replace_draft(session: Session, reviewer_id: int, draft: Draft) -> Draft:
    """One draft at a time per reviewer: starting another ends the old one, and the claim the
    old one held goes back to the queue (else it stayed locked, unseen, for ever)."""
    old = active_draft(session, reviewer_id)
    if old is not None:
        old.step = DraftStep.CANCELLED
        session.add(old)
        if old.kind == DraftKind.NEW and old.claim_id != draft.claim_id:
            locks.release(
                session, old.claim_id, reviewer_id, actor_id=reviewer_id, reason="took another claim"
            )
    session.add(draft)
    session.flush()
    return draft


def take(
    session: Session,
    claim_id: int,
    reviewer_id: int,
    reviewer_name: str,
    *,
    lease: timedelta = locks.DEFAULT_LEASE,
    now: datetime | None = None,
) -> Draft:
    """Hold the claim and start its draft; refused while another reviewer's hold is fresh."""
    claim = _claim(session, claim_id)
    _refuse_closed(claim)
    if claim.status == ClaimStatus.PUBLISHED:
        return start_edit(session, claim_id, reviewer_id)
    now = now or utcnow()
    old_status = claim.status
    old_holder = claim.assignee_id if claim.status == ClaimStatus.IN_REVIEW else None
    if not locks.acquire(session, claim_id, reviewer_id, lease=lease, now=now):
        session.refresh(claim)
        _refuse_closed(claim)
        if claim.status == ClaimStatus.PUBLISHED:
            raise ReviewError("not_open", claim_id=claim_id)
        holder = claim.assignee_id
        raise ReviewError(
            "taken",
            claim_id=claim_id,
            by=reviewers.display_name(session, holder) if holder is not None else "?",
            since=claim.assigned_at,
        )
    session.refresh(claim)
    _touch(session, claim)
    locks.end_others_drafts(session, claim_id, reviewer_id)
    if old_holder is not None and old_holder != reviewer_id:
        old_status = f"{old_status}, idle hold of {reviewers.display_name(session, old_holder)}"
    audit.record(session, reviewer_id, "take", claim_id, old_status, f"in_review by {reviewer_name}")
    return _replace_draft(session, reviewer_id, Draft(claim_id=claim_id, reviewer_id=reviewer_id))


def release(session: Session, claim_id: int, admin_id: int) -> str:
    """An admin frees a claim someone holds (they left, or are away); returns who held it."""
    claim = _claim(session, claim_id)
    holder = claim.assignee_id
    if claim.status != ClaimStatus.IN_REVIEW or holder is None:
        raise ReviewError("not_held", claim_id=claim_id)
    name = reviewers.display_name(session, holder)
    if not locks.release(
        session, claim_id, holder, actor_id=admin_id, reason=f"released by an admin ({name})"
    ):
        raise ReviewError("not_held", claim_id=claim_id)
    return name


def _published_original(session: Session, claim_id: int) -> Clarification:
    """The clarification an edit or a translation starts from (the first language's)."""
    claim = _claim(session, claim_id)
    _refuse_closed(claim)
    rows = clarifications.current(session, claim_id)
    if claim.status != ClaimStatus.PUBLISHED or not rows:
        raise ReviewError("not_published", claim_id=claim_id)
    return rows[0]


def start_edit(session: Session, claim_id: int, reviewer_id: int) -> Draft:
    base = _published_original(session, claim_id)
    draft = Draft(
        claim_id=claim_id,
        reviewer_id=reviewer_id,
        kind=DraftKind.EDIT,
        step=DraftStep.VERDICT,
        verdict=base.verdict,
        summary=base.summary,
        sources=base.sources,
        lang=base.lang,
    )
    audit.record(session, reviewer_id, "edit_start", claim_id)
    return _replace_draft(session, reviewer_id, draft)


def start_translate(session: Session, claim_id: int, reviewer_id: int) -> Draft:
    base = _published_original(session, claim_id)
    draft = Draft(
        claim_id=claim_id,
        reviewer_id=reviewer_id,
        kind=DraftKind.TRANSLATE,
        step=DraftStep.LANG,
        verdict=base.verdict,
        sources=base.sources,
    )
    return _replace_draft(session, reviewer_id, draft)


def _check_open(session: Session, draft: Draft) -> Claim:
    """The claim a draft step works on, still open; a first answer's step also renews its
    author's hold, and is refused once the hold has gone (released, or taken over when idle)."""
    claim = _claim(session, draft.claim_id)
    _refuse_closed(claim)
    if draft.kind == DraftKind.NEW and not locks.renew(session, draft.claim_id, draft.reviewer_id):
        session.refresh(claim)
        _refuse_closed(claim)
        raise ReviewError("lost", claim_id=draft.claim_id)
    return claim


def set_verdict(session: Session, draft: Draft, verdict: str) -> Draft:
    if verdict not in {v.value for v in Verdict}:
        raise ReviewError("bad_verdict", verdict=verdict)
    _check_open(session, draft)
    draft.verdict, draft.step, draft.updated_at = verdict, DraftStep.SUMMARY, utcnow()
    session.add(draft)
    return draft


def set_summary(session: Session, draft: Draft, text: str) -> Draft:
    text = text.strip()
    if not text:
        raise ReviewError("summary_empty")
    if len(text) > SUMMARY_MAX:
        raise ReviewError("summary_too_long", length=len(text), limit=SUMMARY_MAX)
    _check_open(session, draft)
    draft.summary, draft.updated_at = text, utcnow()
    draft.step = DraftStep.SOURCES if draft.kind != DraftKind.TRANSLATE else DraftStep.PREVIEW
    session.add(draft)
    return draft


def parse_sources(text: str) -> list[str]:
    urls: list[str] = []
    for url in _URL_RE.findall(text):
        url = url.rstrip(".,;)")
        if url not in urls:
            urls.append(url)
    return urls[:SOURCES_MAX]


def set_sources(session: Session, draft: Draft, text: str) -> Draft:
    urls = parse_sources(text)
    none_given = text.strip().lower() in ("-", "none", "no", "skip")
    if not urls and not none_given:
        raise ReviewError("bad_sources")
    if not urls and draft.verdict in VERDICTS_NEEDING_SOURCES:
        raise ReviewError("sources_needed", verdict=draft.verdict)
    _check_open(session, draft)
    draft.sources = json.dumps(urls)
    draft.step = DraftStep.LANG if draft.kind == DraftKind.NEW else DraftStep.PREVIEW
    draft.updated_at = utcnow()
    session.add(draft)
    return draft


def set_lang(session: Session, draft: Draft, lang: str) -> Draft:
    claim = _check_open(session, draft)
    if draft.kind == DraftKind.TRANSLATE:
        taken = {c.lang.lower() for c in clarifications.current(session, claim.id)}  # type: ignore[arg-type]
        if lang.lower() in taken:
            raise ReviewError("lang_exists", lang=lang)
        draft.step = DraftStep.SUMMARY
    else:
        draft.step = DraftStep.PREVIEW
    draft.lang, draft.updated_at = lang, utcnow()
    session.add(draft)
    return draft


def back_to(session: Session, draft: Draft, step: str) -> Draft:
    draft.step, draft.updated_at = step, utcnow()
    session.add(draft)
    return draft


def cancel(session: Session, draft: Draft, reviewer_id: int) -> None:
    draft.step = DraftStep.CANCELLED
    session.add(draft)
    if draft.kind == DraftKind.NEW:  # back in the queue for others
        locks.release(session, draft.claim_id, reviewer_id, actor_id=reviewer_id, reason="cancelled")
    audit.record(session, reviewer_id, "cancel", draft.claim_id)


def request_publish(session: Session, draft: Draft, reviewer_id: int, *, four_eyes: bool) -> Published | None:
    """Publish now, or (four eyes) wait for a different reviewer's approval."""
    if draft.step != DraftStep.PREVIEW:
        raise ReviewError("not_ready")
    if four_eyes:
        _check_open(session, draft)
        draft.step = DraftStep.AWAITING_APPROVAL
        session.add(draft)
        audit.record(session, reviewer_id, "submit_for_approval", draft.claim_id)
        return None
    return publish(session, draft, reviewer_id)


def approve(session: Session, draft_id: int, approver_id: int) -> Published:
    draft = session.get(Draft, draft_id)
    if draft is None or draft.step != DraftStep.AWAITING_APPROVAL:
        raise ReviewError("not_awaiting")
    if draft.reviewer_id == approver_id:
        raise ReviewError("same_reviewer")
    audit.record(session, approver_id, "approve", draft.claim_id)
    return publish(session, draft, draft.reviewer_id, approver_id=approver_id)


def send_back(session: Session, draft_id: int, approver_id: int) -> Draft:
    draft = session.get(Draft, draft_id)
    if draft is None or draft.step != DraftStep.AWAITING_APPROVAL:
        raise ReviewError("not_awaiting")
    if draft.reviewer_id == approver_id:
        raise ReviewError("same_reviewer")
    draft.step = DraftStep.PREVIEW
    session.add(draft)
    audit.record(session, approver_id, "send_back", draft.claim_id)
    return draft


def _subscribers(session: Session, claim_id: int, *, told_only: bool) -> list[Citizen]:
    query = (
        select(Citizen)
        .join(Subscription, col(Subscription.citizen_id) == col(Citizen.id))
        .where(Subscription.claim_id == claim_id, col(Subscription.active), ~col(Citizen.blocked_bot))
    )
    if told_only:
        query = query.where(citizens.told_condition(claim_id))
    return list(session.exec(query).all())


def publish(session: Session, draft: Draft, author_id: int, *, approver_id: int | None = None) -> Published:
    claim = _check_open(session, draft)
    if not draft.verdict or not draft.summary or not draft.lang:
        raise ReviewError("not_ready")
    previous = clarifications.current(session, claim.id)  # type: ignore[arg-type]
    same_lang = [c for c in previous if c.lang.lower() == draft.lang.lower()]
    for old in same_lang if draft.kind != DraftKind.NEW else previous:
        old.is_current, old.status = False, "superseded"
        session.add(old)
    version = max((c.version for c in same_lang), default=0) + 1
    clar = Clarification(
        claim_id=claim.id,
        lang=draft.lang,
        verdict=draft.verdict,
        summary=draft.summary,  # type: ignore[arg-type]
        sources=draft.sources,
        author_id=author_id,
        version=version,
    )
    session.add(clar)
    draft.step = DraftStep.DONE
    session.add(draft)
    old_status = claim.status
    claim.status = ClaimStatus.PUBLISHED
    claim.published_at = claim.published_at or utcnow()
    _touch(session, claim)
    session.flush()

    notified = 0
    if draft.kind == DraftKind.NEW:
        for citizen in _subscribers(session, claim.id, told_only=False):  # type: ignore[arg-type]
            notified += outbox.enqueue(
                session,
                dedupe_key=f"notice:{clar.id}:{citizen.id}",
                kind=OutboxKind.NOTICE,
                chat_id=citizen.chat_id,
                citizen_id=citizen.id,
                claim_id=claim.id,
                clarification_id=clar.id,
            )
        audit.record(session, author_id, "publish", claim.id, old_status, f"{clar.verdict} v{version}")
    elif draft.kind == DraftKind.EDIT:
        old_verdict = same_lang[0].verdict if same_lang else None
        if old_verdict != clar.verdict:
            for citizen in _subscribers(session, claim.id, told_only=True):  # type: ignore[arg-type]
                notified += outbox.enqueue(
                    session,
                    dedupe_key=f"update:{clar.id}:{citizen.id}",
                    kind=OutboxKind.UPDATE,
                    chat_id=citizen.chat_id,
                    citizen_id=citizen.id,
                    claim_id=claim.id,
                    clarification_id=clar.id,
                    payload={"old_verdict": old_verdict},
                )
        audit.record(session, author_id, "edit", claim.id, old_verdict, f"{clar.verdict} v{version}")
    else:
        audit.record(session, author_id, "translate", claim.id, None, clar.lang)
    if approver_id is not None:
        audit.record(session, approver_id, "approved_publish", claim.id, None, clar.id)
    return Published(clar, notified)


def retract(session: Session, claim_id: int, reviewer_id: int, reason: str) -> int:
    reason = reason.strip()
    if not reason:
        raise ReviewError("reason_needed")
    claim = _claim(session, claim_id)
    rows = clarifications.current(session, claim_id)
    if claim.status != ClaimStatus.PUBLISHED or not rows:
        raise ReviewError("not_published", claim_id=claim_id)
    now = utcnow()
    for row in rows:
        row.is_current, row.status, row.retracted_at, row.retract_reason = False, "retracted", now, reason
        session.add(row)
    claim.status, claim.assignee_id = ClaimStatus.RETRACTED, None
    _touch(session, claim)
    told = 0
    for citizen in _subscribers(session, claim_id, told_only=True):
        told += outbox.enqueue(
            session,
            dedupe_key=f"retraction:{rows[0].id}:{citizen.id}",
            kind=OutboxKind.RETRACTION,
            chat_id=citizen.chat_id,
            citizen_id=citizen.id,
            claim_id=claim_id,
            clarification_id=rows[0].id,
            payload={"reason": reason},
        )
    audit.record(session, reviewer_id, "retract", claim_id, "published", f"retracted: {reason}")
    return told


def mark_spam(session: Session, claim_id: int, reviewer_id: int) -> None:
    claim = _claim(session, claim_id)
    _refuse_closed(claim)
    if claim.status == ClaimStatus.PUBLISHED:
        raise ReviewError("published", claim_id=claim_id)
    old = claim.status
    claim.status, claim.assignee_id = ClaimStatus.SPAM, None
    _touch(session, claim)
    session.execute(update(Subscription).where(col(Subscription.claim_id) == claim_id).values(active=False))
    audit.record(session, reviewer_id, "spam", claim_id, old, "spam")


def reword(session: Session, claim_id: int, reviewer_id: int, text: str) -> str | None:
    """Set what the public reads as the claim (pages, ClaimReview claimReviewed, citizens'
    notices: factdb.public.public_wording) without touching its clarification; `claim.text`,
    what citizens sent, stays for reviewers. "-" drops the wording. Returns the new wording."""
    claim = _claim(session, claim_id)
    _refuse_closed(claim)
    text = text.strip()
    if not text:
        raise ReviewError("wording_empty")
    if len(text) > PUBLIC_TEXT_MAX:
        raise ReviewError("wording_too_long", length=len(text), limit=PUBLIC_TEXT_MAX)
    wording = None if text.lower() in ORIGINAL_WORDING or text == claim.text else text
    old = claim.public_text
    if wording != old:
        claim.public_text = wording
        _touch(session, claim)
        audit.record(session, reviewer_id, "reword", claim_id, old or "(original)", wording or "(original)")
    return wording


def start_reword(session: Session, claim_id: int, reviewer_id: int) -> Draft:
    """/reword ID without the words: the next text the reviewer sends is the public wording."""
    claim = _claim(session, claim_id)
    _refuse_closed(claim)
    return _replace_draft(
        session,
        reviewer_id,
        Draft(claim_id=claim_id, reviewer_id=reviewer_id, kind=DraftKind.REWORD, step=DraftStep.WORDING),
    )


def set_wording(session: Session, draft: Draft, text: str) -> str | None:
    wording = reword(session, draft.claim_id, draft.reviewer_id, text)
    draft.step, draft.updated_at = "done", utcnow()
    session.add(draft)
    return wording


def set_public_hidden(session: Session, claim_id: int, reviewer_id: int, hidden: bool) -> bool:
    """Hide a claim from the public "waiting for review" list (factdb/public.py), or show it
    again; True if that changed anything (pressing a stale button twice is harmless)."""
    claim = _claim(session, claim_id)
    if claim.public_hidden == hidden:
        return False
    claim.public_hidden = hidden
    _touch(session, claim)
    audit.record(
        session,
        reviewer_id,
        "public_hide" if hidden else "public_show",
        claim_id,
        "shown" if hidden else "hidden",
        "hidden" if hidden else "shown",
    )
    return True


def merge(session: Session, source_id: int, target_id: int, reviewer_id: int) -> int:
    """Fold a duplicate into the claim it repeats; returns how many people are told at once."""
    if source_id == target_id:
        raise ReviewError("merge_self")
    source, target = _claim(session, source_id), _claim(session, target_id)
    _refuse_closed(source)
    if target.status in (ClaimStatus.MERGED, ClaimStatus.SPAM):
        raise ReviewError("merge_target_closed", claim_id=target_id)
    if source.status == ClaimStatus.PUBLISHED:
        raise ReviewError("published", claim_id=source_id)
    moved_citizens = [
        s.citizen_id
        for s in session.exec(
            select(Subscription).where(Subscription.claim_id == source_id, col(Subscription.active))
        ).all()
    ]
    moved = session.execute(
        update(Request).where(col(Request.claim_id) == source_id).values(claim_id=target_id)
    ).rowcount  # type: ignore[attr-defined]
    for citizen_id in moved_citizens:
        existing = session.exec(
            select(Subscription).where(
                Subscription.claim_id == target_id, Subscription.citizen_id == citizen_id
            )
        ).first()
        if existing is None:
            session.add(Subscription(citizen_id=citizen_id, claim_id=target_id))
        elif not existing.active:
            existing.active = True
            session.add(existing)
    session.execute(update(Subscription).where(col(Subscription.claim_id) == source_id).values(active=False))
    # In SQL, counting what actually moved: intake may be adding requests to the target now.
    session.execute(
        update(Claim).where(col(Claim.id) == target_id).values(request_count=Claim.request_count + moved)
    )
    target.first_seen = min(target.first_seen, source.first_seen)
    target.last_seen = max(target.last_seen, source.last_seen)
    old = source.status
    source.status, source.merged_into_id, source.assignee_id = ClaimStatus.MERGED, target_id, None
    source.request_count = 0
    _touch(session, source)
    _touch(session, target)
    for draft in session.exec(
        select(Draft).where(Draft.claim_id == source_id, col(Draft.step).in_(ACTIVE_STEPS))
    ):
        draft.step = DraftStep.CANCELLED
        session.add(draft)
    session.flush()
    told = 0
    rows = clarifications.current(session, target_id)
    if target.status == ClaimStatus.PUBLISHED and rows:
        for citizen in session.exec(select(Citizen).where(col(Citizen.id).in_(moved_citizens))).all():
            if citizen.blocked_bot:
                continue
            told += outbox.enqueue(
                session,
                dedupe_key=f"notice:{rows[0].id}:{citizen.id}",
                kind=OutboxKind.NOTICE,
                chat_id=citizen.chat_id,
                citizen_id=citizen.id,
                claim_id=target_id,
                clarification_id=rows[0].id,
            )
    audit.record(session, reviewer_id, "merge", source_id, old, f"merged into #{target_id}")
    audit.record(session, reviewer_id, "merge_in", target_id, None, f"#{source_id} merged in")
    return told
