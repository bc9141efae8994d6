"""Where a merged claim's requests now live.

A reviewer merges a duplicate into another claim (factdb.closing.merge); the duplicate keeps its
rows, marked `merged` and pointing at the target, which may itself be merged later.
"""

from __future__ import annotations

from sqlmodel import Session

from factdb.models import Claim

# A chain longer than this is a loop someone wrote by hand into the database, not a history.
MAX_HOPS = 20


def current_claim(session: Session, claim: Claim) -> Claim:
    """The claim `claim` now lives in: itself unless merged, else the end of its merges (or the
    last claim of the chain that still exists)."""
    hops = 0
    while claim.merged_into_id is not None and hops < MAX_HOPS:
        target = session.get(Claim, claim.merged_into_id)
        if target is None:
            break
        claim, hops = target, hops + 1
    return claim
