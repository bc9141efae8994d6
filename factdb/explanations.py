"""Why the matcher decided as it did, kept with every decision and read back by admins.

Every match decision's explanation (MatchResult.explanation: the lexical rules' verdict, then
what the language, headline and semantic rules made of it, in the order they ran) is stored in
match_log.reasons as a JSON list of strings: unambiguous whatever a line holds, readable as it
is in SQL, and queryable by both databases (SQLite json_each, PostgreSQL ::jsonb). The lines
are English for admins, never translated or shown to citizens, and hold figures, rule names and
claim ids only, never the citizen's words. A decision logged before schema 0012 has none (None).

`crowdcheck explain` (bot/cli/matching.py) prints them per request, newest first.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import literal, or_
from sqlmodel import Session, col, select

from factdb.models import MatchLog, Request


def encode(reasons: Sequence[str]) -> str | None:
    """The column's value for `reasons` (None for none)."""
    return json.dumps(list(reasons), ensure_ascii=False) if reasons else None


def decode(stored: str | None) -> list[str]:
    """The reasons as stored; a value that is not a JSON list (written by hand) is one line."""
    if not stored:
        return []
    try:
        value = json.loads(stored)
    except ValueError:
        return [stored]
    return [str(v) for v in value] if isinstance(value, list) else [stored]


@dataclass(frozen=True)
class Decision:
    """One logged decision, as an admin audits it: no message text, ids and figures only."""

    request_id: int | None
    at: datetime
    decision: str  # match | maybe | new | picture
    score: float
    claim_id: int | None  # the claim answered, or the first offered
    offered: list[int]  # the claims offered as buttons
    chosen_claim_id: int | None  # the claim the request was counted against in the end
    outcome: str | None  # what the citizen then pressed, if anything
    lang: str | None
    words: int
    confident: float
    maybe: float
    reasons: list[str]


def decisions(
    session: Session,
    request_ids: Sequence[int] = (),
    *,
    last: int = 20,
    claim_id: int | None = None,
    outcome: str | None = None,
) -> list[Decision]:
    """The decisions for `request_ids`, else the `last` ones, newest first; `claim_id`: only
    those that answered or offered that claim or were counted against it; `outcome`: only those
    the citizen reacted to so (e.g. not_my_message: a wrong answer)."""
    query = select(MatchLog, Request.claim_id).join(
        Request, col(Request.id) == col(MatchLog.request_id), isouter=True
    )
    if request_ids:
        query = query.where(col(MatchLog.request_id).in_(list(request_ids)))
    if outcome is not None:
        query = query.where(col(MatchLog.outcome) == outcome)
    if claim_id is not None:
        # offered is "12,40,7": framed in commas, ",12," finds 12 and not 120
        listed = (literal(",") + col(MatchLog.offered) + literal(",")).like(f"%,{claim_id},%")
        query = query.where(
            or_(col(MatchLog.claim_id) == claim_id, col(Request.claim_id) == claim_id, listed)
        )
    query = query.order_by(col(MatchLog.id).desc())
    if not request_ids:
        query = query.limit(last)
    found: list[Decision] = []
    for log, chosen in session.exec(query).all():
        offered = [int(i) for i in (log.offered or "").split(",") if i.strip().isdigit()]
        found.append(
            Decision(
                request_id=log.request_id,
                at=log.created_at,
                decision=log.decision,
                score=log.score,
                claim_id=log.claim_id,
                offered=offered,
                chosen_claim_id=chosen,
                outcome=log.outcome,
                lang=log.lang,
                words=log.word_count,
                confident=log.confident_threshold,
                maybe=log.maybe_threshold,
                reasons=decode(log.reasons),
            )
        )
    return found


def format_text(found: Sequence[Decision]) -> str:
    """Plain text for `crowdcheck explain`: a header line per decision, its reasons indented."""
    if not found:
        return "no decisions logged"
    blocks: list[str] = []
    for d in found:
        at = d.at.replace(tzinfo=UTC) if d.at.tzinfo is None else d.at.astimezone(UTC)
        head = [
            f"request {d.request_id}",
            f"{at:%Y-%m-%d %H:%M} UTC",
            f"{d.decision} {d.score:.1f}",
        ]
        if d.claim_id is not None:
            head.append(f"claim #{d.claim_id}")
        if d.offered:
            head.append("offered " + ", ".join(f"#{i}" for i in d.offered))
        if d.chosen_claim_id is not None and d.chosen_claim_id != d.claim_id:
            head.append(f"counted against #{d.chosen_claim_id}")
        head.append(f"citizen: {d.outcome or 'no reaction'}")
        lines = ["  ".join(head)]
        lines.append(
            f"  {d.lang or 'language unknown'}, {d.words} words; thresholds confident "
            f"{d.confident:.1f}, maybe {d.maybe:.1f}"
        )
        lines += [f"  - {r}" for r in d.reasons] or ["  (no reasons logged)"]
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)
