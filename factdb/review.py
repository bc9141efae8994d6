"""The reviewers' work on a claim, up to its publication: take the claim, write its draft step by
step (verdict, summary, sources, language), cancel; and what every reviewer's act shares: the
claim re-read and checked (`load_claim`, `refuse_closed`, `check_open`), one draft at a time.

Every function re-reads the claim and checks its state, because the button or command that led
here may be stale (merged, retracted, taken by someone else since). Each act writes its audit
row and the notices it owes in the same transaction as the act itself.

The acts after a draft: factdb/publishing.py (publish, four eyes, retract); factdb/closing.py
(spam, merge); factdb/public_face.py (the public wording, the public waiting list).
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from factdb import audit, cards, channel, clarifications, locks, reviewers
from factdb.models import (
    VERDICTS_NEEDING_SOURCES,
    Claim,
    ClaimStatus,
    Draft,
    DraftKind,
    DraftStep,
    Verdict,
    utcnow,
)

SUMMARY_MAX = 600
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


def load_claim(session: Session, claim_id: int) -> Claim:
    claim = session.get(Claim, claim_id)
    if claim is None:
        raise ReviewError("not_found", claim_id=claim_id)
    return claim


def touch(session: Session, claim: Claim) -> None:
    claim.updated_at = utcnow()
    session.add(claim)
    cards.refresh(session, claim)
    channel.refresh(session, claim)


def refuse_closed(claim: Claim) -> None:
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


def replace_draft(session: Session, reviewer_id: int, draft: Draft) -> Draft:
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
    claim = load_claim(session, claim_id)
    refuse_closed(claim)
    if claim.status == ClaimStatus.PUBLISHED:
        return start_edit(session, claim_id, reviewer_id)
    now = now or utcnow()
    old_status = claim.status
    old_holder = claim.assignee_id if claim.status == ClaimStatus.IN_REVIEW else None
    if not locks.acquire(session, claim_id, reviewer_id, lease=lease, now=now):
        session.refresh(claim)
        refuse_closed(claim)
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
    touch(session, claim)
    locks.end_others_drafts(session, claim_id, reviewer_id)
    if old_holder is not None and old_holder != reviewer_id:
        old_status = f"{old_status}, idle hold of {reviewers.display_name(session, old_holder)}"
    audit.record(session, reviewer_id, "take", claim_id, old_status, f"in_review by {reviewer_name}")
    return replace_draft(session, reviewer_id, Draft(claim_id=claim_id, reviewer_id=reviewer_id))


def release(session: Session, claim_id: int, admin_id: int) -> str:
    """An admin frees a claim someone holds (they left, or are away); returns who held it."""
    claim = load_claim(session, claim_id)
    holder = claim.assignee_id
    if claim.status != ClaimStatus.IN_REVIEW or holder is None:
        raise ReviewError("not_held", claim_id=claim_id)
    name = reviewers.display_name(session, holder)
    if not locks.release(
        session, claim_id, holder, actor_id=admin_id, reason=f"released by an admin ({name})"
    ):
        raise ReviewError("not_held", claim_id=claim_id)
    return name


def start_edit(session: Session, claim_id: int, reviewer_id: int) -> Draft:
    """A correction of the published answer: its verdict, summary, sources and language to change."""
    draft = _from_published(session, claim_id, reviewer_id, DraftKind.EDIT)
    audit.record(session, reviewer_id, "edit_start", claim_id)
    return replace_draft(session, reviewer_id, draft)


def start_translate(session: Session, claim_id: int, reviewer_id: int) -> Draft:
    """The published answer in one more language: same verdict and sources, a new summary."""
    draft = _from_published(session, claim_id, reviewer_id, DraftKind.TRANSLATE)
    return replace_draft(session, reviewer_id, draft)


def _from_published(session: Session, claim_id: int, reviewer_id: int, kind: DraftKind) -> Draft:
    """A new draft (not yet saved) that starts from the claim's published answer (the first
    language's clarification)."""
    claim = load_claim(session, claim_id)
    refuse_closed(claim)
    rows = clarifications.current(session, claim_id)
    if claim.status != ClaimStatus.PUBLISHED or not rows:
        raise ReviewError("not_published", claim_id=claim_id)
    base, editing = rows[0], kind == DraftKind.EDIT
    return Draft(
        claim_id=claim_id,
        reviewer_id=reviewer_id,
        kind=kind,
        step=DraftStep.VERDICT if editing else DraftStep.LANG,
        verdict=base.verdict,
        summary=base.summary if editing else None,
        sources=base.sources,
        lang=base.lang if editing else None,
    )


def check_open(session: Session, draft: Draft) -> Claim:
    """The claim a draft step works on, still open; a first answer's step also renews its
    author's hold, and is refused once the hold has gone (released, or taken over when idle)."""
    claim = load_claim(session, draft.claim_id)
    refuse_closed(claim)
    if draft.kind == DraftKind.NEW and not locks.renew(session, draft.claim_id, draft.reviewer_id):
        session.refresh(claim)
        refuse_closed(claim)
        raise ReviewError("lost", claim_id=draft.claim_id)
    return claim


def set_verdict(session: Session, draft: Draft, verdict: str) -> Draft:
    if verdict not in {v.value for v in Verdict}:
        raise ReviewError("bad_verdict", verdict=verdict)
    check_open(session, draft)
    draft.verdict, draft.step, draft.updated_at = verdict, DraftStep.SUMMARY, utcnow()
    session.add(draft)
    return draft


def set_summary(session: Session, draft: Draft, text: str) -> Draft:
    text = text.strip()
    if not text:
        raise ReviewError("summary_empty")
    if len(text) > SUMMARY_MAX:
        raise ReviewError("summary_too_long", length=len(text), limit=SUMMARY_MAX)
    check_open(session, draft)
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
    check_open(session, draft)
    draft.sources = json.dumps(urls)
    draft.step = DraftStep.LANG if draft.kind == DraftKind.NEW else DraftStep.PREVIEW
    draft.updated_at = utcnow()
    session.add(draft)
    return draft


def set_lang(session: Session, draft: Draft, lang: str) -> Draft:
    claim = check_open(session, draft)
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
