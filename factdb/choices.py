"""A citizen's one-shot buttons under an answer or a choice: pick, "none of these", "not my
message", and the 👍/👎 vote. Each acts once, however often or concurrently it is pressed."""

from __future__ import annotations

from typing import Literal

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, select

from factdb import citizens, clarifications
from factdb.intake import IntakeResult, Submission, attach, new_claim
from factdb.matching import Matcher
from factdb.media.pictures import file_request_pictures
from factdb.merges import current_claim
from factdb.models import (
    MATCHABLE_STATUSES,
    Citizen,
    Claim,
    ClaimStatus,
    Feedback,
    MatchLog,
    Request,
    Subscription,
)
from factdb.normalize import normalize

# A one-shot button (a choice, "not my message") acts once: the press moves the request's match
# log row out of the state the button was offered in, with one conditional UPDATE. Whoever's
# UPDATE changes the row acts; a second press, even one handled at the same moment by another
# worker, changes nothing (PostgreSQL re-reads the row after the first commit, SQLite serialises
# the writers) and is told so.
_CHOOSING = col(MatchLog.offered).is_not(None) & col(MatchLog.outcome).is_(None)
# "This isn't my message" sits under an answer: a confident match, or a claim the citizen picked
# (feedback on it may have come first).
# (A picture recognised by its hash is logged as "picture": it answers like a confident match.)
_CONFIDENT = col(MatchLog.decision).in_(("match", "picture"))
_ANSWERED = (_CONFIDENT & col(MatchLog.outcome).is_(None)) | col(MatchLog.outcome).in_(
    ("picked", "helpful", "not_helpful")
)


def _consume(session: Session, request_id: int, state: ColumnElement[bool], outcome: str) -> bool:
    moved = session.execute(
        update(MatchLog).where(col(MatchLog.request_id) == request_id, state).values(outcome=outcome)
    )
    return int(moved.rowcount or 0) == 1  # type: ignore[attr-defined]


def _own_request(session: Session, user_id: int, request_id: int) -> tuple[Citizen, Request] | None:
    citizen = citizens.get(session, user_id)
    request = session.get(Request, request_id)
    if citizen is None or request is None or request.citizen_id != citizen.id:
        return None
    return citizen, request


def offered_claims(session: Session, request_id: int) -> list[int]:
    row = session.exec(select(MatchLog.offered).where(MatchLog.request_id == request_id)).first()
    return [int(part) for part in row.split(",") if part.isdigit()] if row else []


def pick_candidate(
    session: Session, user_id: int, request_id: int, claim_id: int | None, index: Matcher
) -> IntakeResult:
    """The citizen chose one of the offered claims (or None: "none of these").

    "ignored": not this citizen's request, or a claim they were never offered (a forged button);
    "duplicate": they chose already.
    """
    own = _own_request(session, user_id, request_id)
    if own is None:
        return IntakeResult("ignored")
    citizen, request = own
    offered = offered_claims(session, request_id)
    if not offered or (claim_id is not None and claim_id not in offered):
        return IntakeResult("ignored")
    if not _consume(session, request_id, _CHOOSING, "none_of_these" if claim_id is None else "picked"):
        return IntakeResult(
            "duplicate", claim=session.get(Claim, request.claim_id) if request.claim_id else None
        )
    if claim_id is not None:
        claim = session.get(Claim, claim_id)
        if claim is not None and claim.status in (*MATCHABLE_STATUSES, ClaimStatus.MERGED):
            claim = current_claim(session, claim)
            result = attach(session, citizen, request, claim, request.text or "", citizen.lang, 0.0)
            return _with_pictures(session, request, result)
    return _as_new_claim(session, index, citizen, request)


def not_my_message(session: Session, user_id: int, request_id: int, index: Matcher) -> IntakeResult:
    """The citizen says the answer was about something else: their message becomes a new claim.

    Once per request: pressed again, it makes no second claim ("duplicate").
    """
    own = _own_request(session, user_id, request_id)
    if own is None or own[1].claim_id is None:
        return IntakeResult("ignored")
    citizen, request = own
    if not _consume(session, request_id, _ANSWERED, "not_my_message"):
        return IntakeResult("duplicate")
    session.execute(
        update(Claim)
        .where(col(Claim.id) == request.claim_id, col(Claim.request_count) > 0)
        .values(request_count=Claim.request_count - 1)
    )
    return _as_new_claim(session, index, citizen, request)


FeedbackOutcome = Literal["thanked", "duplicate", "ignored"]


def record_feedback(session: Session, user_id: int, request_id: int, value: str) -> FeedbackOutcome:
    """👍/👎 under an answer: one vote per citizen and claim, the first press counts.

    The vote's row is the one-shot state: the unique (citizen, claim) key lets exactly one insert
    in, however many presses arrive at once.
    """
    own = _own_request(session, user_id, request_id)
    if own is None or own[1].claim_id is None:
        return "ignored"
    citizen, request = own
    claim_id = request.claim_id
    assert claim_id is not None
    log_row = session.exec(select(MatchLog).where(MatchLog.request_id == request_id)).first()
    if log_row is not None and log_row.outcome in ("not_my_message", "none_of_these"):
        return "ignored"  # they said the answer was not about their message: nothing to rate
    chosen = clarifications.for_language(session, claim_id, citizen.lang)
    if chosen is None:
        return "ignored"  # no answer (any more) to rate: retracted, or never published
    voted = session.exec(
        select(Feedback.id).where(Feedback.citizen_id == citizen.id, Feedback.claim_id == claim_id)
    ).first()
    if voted is not None:
        return "duplicate"
    session.add(
        Feedback(
            claim_id=claim_id,
            citizen_id=citizen.id,
            value=value,
            clarification_id=chosen.clarification.id,
        )
    )
    try:
        session.flush()
    except IntegrityError:  # the same vote, pressed twice at once: the other press counted
        session.rollback()  # nothing else was written in this transaction
        return "duplicate"
    # For `crowdcheck tune`: how an answer to a confident match was received. A picked claim keeps
    # "picked", which is what the tuning reads from a choice.
    _consume(session, request_id, _CONFIDENT & col(MatchLog.outcome).is_(None), value)
    return "thanked"


def asked_about(session: Session, user_id: int, claim_id: int) -> bool:
    """Whether this person sent (or follows) the claim: only they may ask where it stands."""
    citizen = citizens.get(session, user_id)
    if citizen is None:
        return False
    subscribed = select(Subscription.id).where(
        Subscription.citizen_id == citizen.id, Subscription.claim_id == claim_id
    )
    requested = select(Request.id).where(Request.citizen_id == citizen.id, Request.claim_id == claim_id)
    return session.exec(subscribed).first() is not None or session.exec(requested).first() is not None


def _as_new_claim(session: Session, index: Matcher, citizen: Citizen, request: Request) -> IntakeResult:
    """The request becomes a claim of its own, with the pictures that came with it."""
    text = request.text or ""
    sub = Submission(user_id=citizen.telegram_user_id, chat_id=citizen.chat_id, text=text)
    result = new_claim(
        session, index, citizen, request, text, normalize(text), request.lang, citizen.lang, sub
    )
    return _with_pictures(session, request, result)


def _with_pictures(session: Session, request: Request, result: IntakeResult) -> IntakeResult:
    """A request that came with a picture files it under the claim it now belongs to."""
    if request.media_kind is None or result.claim is None or result.claim.id is None or request.id is None:
        return result
    file_request_pictures(session, request.id, result.claim.id)
    result.picture_filed = True
    return result
