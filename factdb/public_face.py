"""What the public sees of a claim besides its answer, as reviewers set it: the claim's public
wording (what pages, feeds and notices show as the claim; factdb.public.public_wording), and
whether the public "waiting for review" list shows it at all.
"""

from __future__ import annotations

from sqlmodel import Session

from factdb import audit
from factdb.models import Draft, DraftKind, DraftStep, utcnow
from factdb.review import ReviewError, load_claim, refuse_closed, replace_draft, touch

# a claim's public wording is one or two sentences stating it, not a copy of a long forward
PUBLIC_TEXT_MAX = 500
# what a reviewer sends to drop a public wording (the public reads the citizens' words, masked)
ORIGINAL_WORDING = ("-", "original")


def reword(session: Session, claim_id: int, reviewer_id: int, text: str) -> str | None:
    """Set what the public reads as the claim (pages, ClaimReview claimReviewed, citizens'
    notices: factdb.public.public_wording) without touching its clarification; `claim.text`,
    what citizens sent, stays for reviewers. "-" drops the wording. Returns the new wording."""
    claim = load_claim(session, claim_id)
    refuse_closed(claim)
    text = text.strip()
    if not text:
        raise ReviewError("wording_empty")
    if len(text) > PUBLIC_TEXT_MAX:
        raise ReviewError("wording_too_long", length=len(text), limit=PUBLIC_TEXT_MAX)
    wording = None if text.lower() in ORIGINAL_WORDING or text == claim.text else text
    old = claim.public_text
    if wording != old:
        claim.public_text = wording
        touch(session, claim)
        audit.record(session, reviewer_id, "reword", claim_id, old or "(original)", wording or "(original)")
    return wording


def start_reword(session: Session, claim_id: int, reviewer_id: int) -> Draft:
    """/reword ID without the words: the next text the reviewer sends is the public wording."""
    claim = load_claim(session, claim_id)
    refuse_closed(claim)
    return replace_draft(
        session,
        reviewer_id,
        Draft(claim_id=claim_id, reviewer_id=reviewer_id, kind=DraftKind.REWORD, step=DraftStep.WORDING),
    )


def set_wording(session: Session, draft: Draft, text: str) -> str | None:
    wording = reword(session, draft.claim_id, draft.reviewer_id, text)
    draft.step, draft.updated_at = DraftStep.DONE, utcnow()
    session.add(draft)
    return wording


def set_public_hidden(session: Session, claim_id: int, reviewer_id: int, hidden: bool) -> bool:
    """Hide a claim from the public "waiting for review" list (factdb/public.py), or show it
    again; True if that changed anything (pressing a stale button twice is harmless)."""
    claim = load_claim(session, claim_id)
    if claim.public_hidden == hidden:
        return False
    claim.public_hidden = hidden
    touch(session, claim)
    audit.record(
        session,
        reviewer_id,
        "public_hide" if hidden else "public_show",
        claim_id,
        "shown" if hidden else "hidden",
        "hidden" if hidden else "shown",
    )
    return True
