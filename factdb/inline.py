"""Inline answers (`@bot words` in any chat): published clarifications only, never anything else.

A query is searched like the public search box (factdb/public.py `search`: every word in the
public wording), so it finds what the words say and cannot reveal an unreviewed message or the
words a reviewer reworded away. An empty query offers the most asked clarifications of the last
month. Each answer is in the asker's language when a translation exists.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from factdb import clarifications, public
from factdb.models import Claim, ClaimStatus, Clarification

LIMIT = 10
RECENT = timedelta(days=30)


@dataclass(frozen=True)
class InlineAnswer:
    claim_id: int
    wording: str  # the public wording, masked
    clarification: Clarification
    translated: bool


def answers(
    session: Session, reworded: public.RewordedIndex, query: str, lang: str | None, now: datetime
) -> list[InlineAnswer]:
    if query.strip():
        ids = [row.id for row in public.search(session, reworded, query, 1).rows[:LIMIT]]
    else:
        ids = list(
            session.exec(
                select(Claim.id)
                .where(Claim.status == ClaimStatus.PUBLISHED, col(Claim.last_seen) >= now - RECENT)
                .order_by(col(Claim.request_count).desc(), col(Claim.last_seen).desc())
                .limit(LIMIT)
            ).all()
        )
    out = []
    for claim_id in ids:
        found = clarifications.published_for(session, int(claim_id), lang)  # type: ignore[arg-type]
        if found is not None:
            claim, chosen = found
            out.append(
                InlineAnswer(claim.id, public.public_wording(claim), chosen.clarification, chosen.translated)  # type: ignore[arg-type]
            )
    return out
