"""A citizen's message comes in: normalise, detect the language, match, record, decide.

This is the bot's one code path for matching; `crowdcheck match` calls `Matcher.match` the
same way, so what the CLI reports is what a citizen would get.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from factdb import citizens, clarifications, explanations, privacy
from factdb.language import detect_language
from factdb.matching import Matcher, MatchResult, Thresholds, what_changed
from factdb.merges import current_claim
from factdb.models import (
    MATCHABLE_STATUSES,
    Citizen,
    Claim,
    ClaimStatus,
    MatchLog,
    ProcessedUpdate,
    Request,
    utcnow,
)
from factdb.normalize import normalize

# Telegram allows 4,096 characters a message; anything longer was not sent by a person typing.
MAX_TEXT = 8192

Outcome = Literal[
    "answer",  # a published clarification, shown at once
    "choose",  # near matches: the citizen picks one or "none of these"
    "under_review",  # a known claim reviewers are working on: subscribed
    "new_claim",  # nobody asked before: a new claim in the queue, subscribed
    "duplicate",  # the same Telegram update again, or a one-shot button pressed again
    "empty",  # nothing to check (whitespace, only invisible characters)
    "slow_down",  # over the per-minute limit: told once
    "quarantined",  # over the daily limit: told once, held for a reviewer
    "picture_limit",  # over the daily limit of pictures (factdb/picture_intake.py)
    "ignored",  # over a limit and already told, or blocked by reviewers: silence is right
]


@dataclass(frozen=True)
class Submission:
    user_id: int
    chat_id: int
    text: str
    update_id: int | None = None
    telegram_lang: str | None = None
    forward_type: str | None = None  # user | hidden_user | chat | channel
    forward_from: str | None = None  # a channel or chat title, never a private person's name
    forward_date: datetime | None = None
    # Replayed from the inbox after a crash: handled before, but its reply may never have left.
    replayed: bool = False


@dataclass
class IntakeResult:
    outcome: Outcome
    lang: str | None = None
    claim: Claim | None = None
    clarification: clarifications.Chosen | None = None
    candidates: list[tuple[Claim, float]] = field(default_factory=list)
    request_id: int | None = None
    changed: list[str] = field(default_factory=list)
    score: float = 0.0
    citizen_id: int | None = None
    # This act filed a citizen's picture under `claim`: reviewers are owed a look at it.
    picture_filed: bool = False


def _mark_update(session: Session, update_id: int | None) -> bool:
    """Record the update id; False when it was already handled (Telegram redelivered it)."""
    if update_id is None:
        return True
    if session.get(ProcessedUpdate, update_id) is not None:
        return False
    session.add(ProcessedUpdate(update_id=update_id))
    try:
        session.flush()
    except IntegrityError:  # another worker took it a moment ago
        session.rollback()
        return False
    return True


def submit(session: Session, index: Matcher, sub: Submission) -> IntakeResult:
    """Check one message. The sender passed `admit` first (the bot's router sees to that)."""
    begun = begin(session, sub)
    if isinstance(begun, IntakeResult):
        return begun
    citizen, sub = begun
    if not normalize(sub.text).strip():
        return IntakeResult("empty", lang=citizen.lang, citizen_id=citizen.id)
    return decide(session, index, citizen, sub)


def begin(session: Session, sub: Submission) -> tuple[Citizen, Submission] | IntakeResult:
    """What every submission starts with: the update counted once, the citizen found, the text
    cut and masked. An IntakeResult means stop here (a redelivered update)."""
    if not _mark_update(session, sub.update_id):
        return _again(session, sub.update_id) if sub.replayed else IntakeResult("duplicate")
    citizen = citizens.get_or_create(session, sub.user_id, sub.chat_id, sub.telegram_lang)
    return citizen, mask(sub)


def mask(sub: Submission) -> Submission:
    """Cut to size and masked before anything is stored or matched: the claim, the request, the
    match index and everything derived from them never hold a citizen's phone number, e-mail
    or account."""
    return privacy.mask_fields(dataclasses.replace(sub, text=sub.text[:MAX_TEXT]), "text", "forward_from")


def languages(session: Session, citizen: Citizen, sub: Submission) -> tuple[str | None, str | None]:
    """The message's language, and the language to answer in."""
    lang = detect_language(sub.text, fallback=citizen.lang or sub.telegram_lang) if sub.text else None
    # A forward is someone else's words: its language says little about the citizen's own, so
    # only text they typed teaches us their language (unless we know nothing else).
    if lang is not None and (sub.forward_type is None or citizen.lang is None):
        citizens.learn_language(session, citizen, lang)
    return lang, citizen.lang or lang or sub.telegram_lang


def record_request(
    session: Session,
    citizen: Citizen,
    sub: Submission,
    lang: str | None,
    result: MatchResult,
    thresholds: Thresholds,
    *,
    media_kind: str | None = None,
) -> tuple[Request, MatchLog]:
    """The request and its match decision, as `crowdcheck tune` and /mychecks read them."""
    request = Request(
        citizen_id=citizen.id,
        update_id=sub.update_id,
        text=sub.text or None,
        lang=lang,
        score=result.score,
        decision=result.decision,
        forward_type=sub.forward_type,
        forward_from=sub.forward_from,
        forward_date=sub.forward_date,
        media_kind=media_kind,
    )
    session.add(request)
    session.flush()
    match_log = MatchLog(
        request_id=request.id,
        claim_id=result.claim_id,
        lang=lang,
        score=result.score,
        decision=result.decision,
        confident_threshold=thresholds.confident,
        maybe_threshold=thresholds.maybe,
        word_count=len(normalize(sub.text).split()),
        reasons=explanations.encode(result.explanation),  # figures and rule names, never words
    )
    session.add(match_log)
    return request, match_log


def decide(
    session: Session, index: Matcher, citizen: Citizen, sub: Submission, *, media_kind: str | None = None
) -> IntakeResult:
    """Match the (masked) text and act on the decision: answer, offer a choice, or file it."""
    text = sub.text
    lang, reply_lang = languages(session, citizen, sub)
    result = index.match(text, session)
    request, match_log = record_request(
        session, citizen, sub, lang, result, index.thresholds, media_kind=media_kind
    )

    if result.decision == "match" and result.claim_id is not None:
        claim = session.get(Claim, result.claim_id)
        if claim is not None:
            return attach(
                session, citizen, request, current_claim(session, claim), text, reply_lang, result.score
            )

    if result.decision == "maybe":
        options = _options(session, result)
        if options:
            match_log.offered = ",".join(str(claim.id) for claim, _score in options)
            return IntakeResult(
                "choose",
                lang=reply_lang,
                candidates=options,
                request_id=request.id,
                score=result.score,
                citizen_id=citizen.id,
            )

    return new_claim(session, index, citizen, request, text, normalize(text), lang, reply_lang, sub)


def _options(session: Session, result: MatchResult) -> list[tuple[Claim, float]]:
    """Up to three distinct matchable claims among the near matches, best first."""
    options: list[tuple[Claim, float]] = []
    seen: set[int] = set()
    for cand in result.offered:
        claim = session.get(Claim, cand.claim_id)
        if claim is None:
            continue
        claim = current_claim(session, claim)
        if claim.id in seen or claim.status not in MATCHABLE_STATUSES:
            continue
        seen.add(claim.id)  # type: ignore[arg-type]
        options.append((claim, cand.score))
        if len(options) == 3:
            break
    return options


def _again(session: Session, update_id: int | None) -> IntakeResult:
    """What to say again for a request recorded before a crash, as its claim stands now.

    Said twice rather than never: the citizen is waiting for this reply, and a repeated reply
    to one's own message is easy to read, unlike silence.
    """
    request = session.exec(select(Request).where(Request.update_id == update_id)).first()
    citizen = session.get(Citizen, request.citizen_id) if request is not None else None
    claim = session.get(Claim, request.claim_id) if request is not None and request.claim_id else None
    if request is None or citizen is None or claim is None:
        return IntakeResult("duplicate")
    claim = current_claim(session, claim)
    if claim.status == ClaimStatus.SPAM:
        return IntakeResult("duplicate")
    chosen = (
        clarifications.for_language(session, claim.id, citizen.lang)  # type: ignore[arg-type]
        if claim.status == ClaimStatus.PUBLISHED
        else None
    )
    outcome: Outcome = "answer" if chosen is not None else "under_review"
    return IntakeResult(
        outcome,
        lang=citizen.lang,
        claim=claim,
        clarification=chosen,
        request_id=request.id,
        citizen_id=citizen.id,
    )


def _other_language(message: str | None, claim: str | None) -> bool:
    """Both languages known and different (zh-TW and zh-CN are one language here)."""
    return bool(message and claim) and message.split("-")[0].lower() != claim.split("-")[0].lower()  # type: ignore[union-attr]


def attach(
    session: Session,
    citizen: Citizen,
    request: Request,
    claim: Claim,
    text: str,
    reply_lang: str | None,
    score: float,
) -> IntakeResult:
    """Count this request against a known claim and answer or subscribe."""
    now = utcnow()
    request.claim_id = claim.id
    claim.last_seen = now
    session.add_all([request, claim])
    # In SQL, not `claim.request_count += 1`: two workers counting the same viral claim at once
    # must not lose a request (read-modify-write would on PostgreSQL).
    session.execute(
        update(Claim).where(col(Claim.id) == claim.id).values(request_count=Claim.request_count + 1)
    )
    # What the citizen's version says differently; words it merely lacks (a cut-off forward) are
    # not worth a citizen's attention. A version in another language (a cross-lingual hit the
    # citizen picked) differs in every word: nothing is listed.
    changed = (
        []
        if _other_language(request.lang, claim.lang)
        else [c for c in what_changed(text, claim.text) if not c.startswith("(claim only:")]
    )
    # Published with an answer in a language for them: answered (and told); else under review.
    chosen = (
        clarifications.for_language(session, claim.id, reply_lang)  # type: ignore[arg-type]
        if claim.status == ClaimStatus.PUBLISHED
        else None
    )
    citizens.subscribe(session, citizen, claim.id, told=chosen is not None)  # type: ignore[arg-type]
    return IntakeResult(
        "under_review" if chosen is None else "answer",
        lang=reply_lang,
        claim=claim,
        clarification=chosen,
        request_id=request.id,
        changed=changed,
        score=score,
        citizen_id=citizen.id,
    )


def new_claim(
    session: Session,
    index: Matcher,
    citizen: Citizen,
    request: Request,
    text: str,
    normalized: str,
    lang: str | None,
    reply_lang: str | None,
    sub: Submission,
) -> IntakeResult:
    provenance = None
    if sub.forward_type:
        provenance = json.dumps(
            {
                "type": sub.forward_type,
                "from": sub.forward_from,
                "date": sub.forward_date.isoformat() if sub.forward_date else None,
            },
            ensure_ascii=False,
        )
    claim = Claim(text=text, normalized=normalized, lang=lang, provenance=provenance, request_count=1)
    session.add(claim)
    session.flush()
    request.claim_id = claim.id
    session.add(request)
    citizens.subscribe(session, citizen, claim.id)  # type: ignore[arg-type]
    index.add(claim.id, claim.text, claim.lang)  # type: ignore[arg-type]
    return IntakeResult(
        "new_claim", lang=reply_lang, claim=claim, request_id=request.id, citizen_id=citizen.id
    )
