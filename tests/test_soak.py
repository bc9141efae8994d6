"""A long bad day in a few seconds: mixed citizens, trolls, reviewers publishing and random
Telegram faults, then the invariants — every message handled, nobody told twice, counts equal the
requests stored, every publish audited. It stops by itself (a time limit, not a hang).

CI size: the bot handles about 40-50 updates a second per worker here (one update at a time, see
test_floods.py), so 10,000 updates take ~4 minutes per backend — more than CI's budget. CI drives
CROWDCHECK_SOAK_UPDATES (default 200) per backend; `python -m bench.soak` runs the full 10,000 and
prints the figures (`--database-url` for PostgreSQL, `--updates N` for other sizes).
"""

from __future__ import annotations

import os

from bench.soak import run_soak
from factdb.db import Database

UPDATES = int(os.environ.get("CROWDCHECK_SOAK_UPDATES", "200"))


async def test_a_soak_of_mixed_updates_with_random_faults_keeps_every_invariant(db: Database) -> None:
    figures = await run_soak(db, updates=UPDATES, seed=7, faults=0.03, time_limit=60 + UPDATES * 0.1)
    print("\n" + figures.summary())
    assert figures.citizen_texts > UPDATES // 2
    assert figures.requests > 0 and figures.claims > len(figures.sent_by_citizen) // 10
    assert figures.replies >= figures.requests * 0.9  # nearly everyone got a direct answer
