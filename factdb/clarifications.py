"""Reading clarifications: the current one for a claim, in a citizen's language if we have it."""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlmodel import Session, col, select

from factdb.merges import current_claim
from factdb.models import Claim, ClaimStatus, Clarification


@dataclass(frozen=True)
class Chosen:
    clarification: Clarification
    translated: bool  # False: shown in its original language because no translation exists


def sources_of(clarification: Clarification) -> list[str]:
    try:
        value = json.loads(clarification.sources or "[]")
    except ValueError:
        return []
    return [str(v) for v in value] if isinstance(value, list) else []


def current(session: Session, claim_id: int) -> list[Clarification]:
    """Current published clarifications of a claim, one per language, oldest language first."""
    return list(
        session.exec(
            select(Clarification)
            .where(Clarification.claim_id == claim_id, col(Clarification.is_current))
            .where(Clarification.status == "published")
            .order_by(col(Clarification.id))
        ).all()
    )


def original(rows: list[Clarification], claim_lang: str | None) -> Clarification:
    """Of a claim's current clarifications (oldest first), the one in the claim's own language,
    else the oldest: the one exports carry and the bare page address stands for."""
    for row in rows:
        if claim_lang and row.lang.lower() == claim_lang.lower():
            return row
    return rows[0]


def _base(lang: str | None) -> str:
    return (lang or "").split("-")[0].lower()


def for_language(session: Session, claim_id: int, lang: str | None) -> Chosen | None:
    rows = current(session, claim_id)
    if not rows:
        return None
    for row in rows:  # exact tag first (zh-TW), then the base language (zh)
        if lang and row.lang.lower() == lang.lower():
            return Chosen(row, True)
    for row in rows:
        if lang and _base(row.lang) == _base(lang):
            return Chosen(row, True)
    return Chosen(rows[0], False)


def published_for(session: Session, claim_id: int, lang: str | None) -> tuple[Claim, Chosen] | None:
    """A published claim and its clarification in `lang` (or the original), following merges;
    None when there is no such claim or it is not published (retracted, under review…).
    What a deep link (`t.me/<bot>?start=claim_<id>`) and an inline answer may show."""
    claim = session.get(Claim, claim_id)
    if claim is None:
        return None
    claim = current_claim(session, claim)
    if claim.status != ClaimStatus.PUBLISHED or claim.id is None:
        return None
    chosen = for_language(session, claim.id, lang)
    return (claim, chosen) if chosen is not None else None
