"""Claim ids for the outside world, looked up by the database's row ids.

`crowdcheck match` (and anything else that names a claim to an outsider) must say the id the
claim was imported or exported with (`claimreview.public_id`), never the row number, which
means nothing outside this database. Few ids per query, so they are read on demand and kept.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlmodel import Session, col, select

from factdb.interchange.claimreview import public_id_of
from factdb.models import Claim

__all__ = ["PublicIds"]

_KEEP = 100_000  # entries kept before the cache starts over (a few MB at most)


class PublicIds:
    def __init__(self, session: Session, *, org_name: str, public_url: str | None) -> None:
        self.session = session
        self.org_name = org_name
        self.public_url = public_url.rstrip("/") if public_url else None
        self._known: dict[int, str] = {}

    def of(self, claim_ids: Iterable[int]) -> dict[int, str]:
        """row id → public id for each given claim (one query for those not seen before)."""
        wanted = set(claim_ids)
        missing = [i for i in wanted if i not in self._known]
        if missing:
            if len(self._known) > _KEEP:
                self._known.clear()
            rows = self.session.exec(
                select(Claim.id, Claim.external_id).where(col(Claim.id).in_(missing))
            ).all()
            for claim_id, external_id in rows:
                assert claim_id is not None
                self._known[claim_id] = public_id_of(
                    claim_id, external_id, org_name=self.org_name, public_url=self.public_url
                )
        # A claim deleted since the index read it still gets a stable, non-row-number name.
        return {
            i: self._known.get(i) or public_id_of(i, None, org_name=self.org_name, public_url=self.public_url)
            for i in wanted
        }
