"""A citizen sends a picture (or a GIF, a video, a screenshot): recognise it, or read it, or file it.

One decision path with typed text (factdb/intake.py):
1. A picture we have seen (its hash, or a video key frame's, within the measured thresholds)
   is that claim, whatever its text: answered at once when published, even when the text in
   it cannot be read.
2. Otherwise the caption and the text read from the picture go through the same matcher and
   the same decision rules as a typed message. The picture is kept with the claim it is filed
   under (a new way the rumour looks), so the next copy is recognised by hash.
3. Nothing to read and nothing seen: a new claim with the picture, for reviewers.

Pictures are stored stripped (no EXIF or location) and never public until a reviewer says so.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func
from sqlmodel import Session, col, select

from factdb import citizens, intake
from factdb.intake import IntakeResult, Submission
from factdb.matching import Matcher, MatchResult
from factdb.media.pictures import (
    PictureIndex,
    count_for_claim,
    file_request_pictures,
    find_claim,
    record_picture,
)
from factdb.media.reading import PictureRead
from factdb.models import Citizen, Claim, Request, utcnow
from factdb.normalize import normalize
from factdb.privacy import mask_personal

# A claim keeps this many ways of looking before copies that were recognised by their text
# stop being stored: enough to recognise its common versions, bounded for a viral rumour.
MAX_PICTURES_PER_CLAIM = 8


@dataclass(frozen=True)
class PictureLimits:
    per_day: int = 30  # pictures a citizen may send in 24 hours (each costs seconds of CPU)


def over_limit(session: Session, citizen_id: int, limits: PictureLimits) -> bool:
    since = utcnow() - timedelta(days=1)
    sent = session.exec(
        select(func.count())
        .select_from(Request)
        .where(
            Request.citizen_id == citizen_id,
            col(Request.media_kind).is_not(None),
            col(Request.created_at) > since,
        )
    ).one()
    return int(sent) >= limits.per_day


def held_over_limit(session: Session, user_id: int, limits: PictureLimits) -> IntakeResult | None:
    """Checked before the picture is even downloaded: over the limit, it costs no CPU."""
    citizen = citizens.get(session, user_id)
    if citizen is None or citizen.id is None or not over_limit(session, citizen.id, limits):
        return None
    return IntakeResult("picture_limit", lang=citizen.lang, citizen_id=citizen.id)


def submit_picture(
    session: Session,
    index: Matcher,
    pictures: PictureIndex,
    sub: Submission,
    read: PictureRead,
    limits: PictureLimits | None = None,
) -> IntakeResult:
    """Check one picture; `sub.text` is its caption. The sender passed `admit` first."""
    begun = intake.begin(session, sub)
    if isinstance(begun, IntakeResult):
        return begun
    citizen, sub = begun
    assert citizen.id is not None
    if over_limit(session, citizen.id, limits or PictureLimits()):
        return IntakeResult("picture_limit", lang=citizen.lang, citizen_id=citizen.id)
    # What the picture says joins what the citizen wrote (masked alike, by `begin`).
    said = "\n".join(part for part in (sub.text.strip(), read.text.strip()) if part)
    sub = intake.mask(dataclasses.replace(sub, text=said))

    seen = find_claim(session, pictures, *read.hashes)
    if seen is not None:
        claim = session.get(Claim, seen.claim_id)
        assert claim is not None
        lang, reply_lang = intake.languages(session, citizen, sub)
        seen_before = (f"picture seen before: hash distance {seen.distance}: answered",)
        decision = MatchResult("match", claim.id, 100.0 - seen.distance, [], reasons=seen_before)
        request, match_log = intake.record_request(
            session, citizen, sub, lang, decision, index.thresholds, media_kind=read.kind
        )
        request.decision = match_log.decision = "picture"  # for `crowdcheck tune`: not a text score
        return intake.attach(session, citizen, request, claim, claim.text, reply_lang, decision.score)

    if normalize(said).strip():
        result = intake.decide(session, index, citizen, sub, media_kind=read.kind)
    else:
        result = _picture_only(session, index, citizen, sub, read)
    result.picture_filed = _keep(session, citizen.id, result, read)
    return result


def _picture_only(
    session: Session, index: Matcher, citizen: Citizen, sub: Submission, read: PictureRead
) -> IntakeResult:
    """A picture without readable text that nobody sent before: a claim for reviewers."""
    lang, reply_lang = intake.languages(session, citizen, sub)
    nothing = MatchResult(
        "new", None, 0.0, [], reasons=("picture with no readable text, not seen before: new claim",)
    )
    request, _log = intake.record_request(
        session, citizen, sub, lang, nothing, index.thresholds, media_kind=read.kind
    )
    return intake.new_claim(session, index, citizen, request, "", "", lang, reply_lang, sub)


def _keep(session: Session, citizen_id: int, result: IntakeResult, read: PictureRead) -> bool:
    """Store the picture with its request (and its claim, once it has one); True when it was
    filed under a claim."""
    claim_id = result.claim.id if result.claim is not None else None
    if result.request_id is None:
        return False
    if (
        result.outcome != "new_claim"
        and claim_id is not None
        and count_for_claim(session, claim_id) >= MAX_PICTURES_PER_CLAIM
    ):
        return False
    record_picture(
        session,
        claim_id=claim_id,
        citizen_id=citizen_id,
        request_id=result.request_id,
        jpeg=read.jpeg,
        size=read.size,
        phash=read.phash,
        ocr_text=mask_personal(read.text) or None,  # masked like every text we keep
        kind=read.kind,
    )
    return claim_id is not None


__all__ = [
    "MAX_PICTURES_PER_CLAIM",
    "PictureLimits",
    "file_request_pictures",
    "held_over_limit",
    "over_limit",
    "submit_picture",
]
