"""Every worker's match index follows the claim table: additions, merges, spam, retractions."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from factdb import closing, intake
from factdb.db import Database
from factdb.matching import Matcher
from factdb.models import Claim, ClaimStatus

ROOT = Path(__file__).resolve().parents[1]
HOAX = "Petrol stations will run dry this weekend because the refinery workers are on strike"
OTHER = "The refinery strike means petrol stations run dry this weekend, fill up your car now"


def _submit(db: Database, index: Matcher, user: int, text: str) -> intake.IntakeResult:
    return db.transaction(
        lambda s: intake.submit(s, index, intake.Submission(user_id=user, chat_id=user, text=text))
    )


def test_a_claim_made_by_one_worker_is_found_by_another_and_forgotten_when_merged(db: Database) -> None:
    worker_a, worker_b = Matcher(), Matcher()
    with db.session() as s:
        worker_a.refresh(s)
        worker_b.refresh(s)
    first = _submit(db, worker_a, 1, HOAX)
    assert first.outcome == "new_claim"
    assert _submit(db, worker_b, 2, HOAX + "!!").claim.id == first.claim.id  # type: ignore[union-attr]
    second = _submit(
        db, worker_a, 3, "Completely unrelated: the ferry to the islands is cancelled until spring"
    )
    db.transaction(lambda s: closing.merge(s, second.claim.id, first.claim.id, 9001))  # type: ignore[union-attr]
    with db.session() as s:
        worker_b.refresh(s)
        assert second.claim.id not in worker_b  # type: ignore[union-attr]
        assert first.claim.id in worker_b  # type: ignore[union-attr]


def test_spam_leaves_the_index_and_a_retracted_claim_stays_matchable(db: Database) -> None:
    index = Matcher()
    with db.session() as s:
        index.refresh(s)
    spam = _submit(db, index, 1, "Buy cheap followers at my shop, best prices for everyone today")
    db.transaction(lambda s: closing.mark_spam(s, spam.claim.id, 9001))  # type: ignore[union-attr]
    other = Matcher()
    with db.session() as s:
        index.refresh(s)
        other.refresh(s)
    assert spam.claim.id not in index and spam.claim.id not in other  # type: ignore[union-attr]
    hoax = _submit(db, index, 2, HOAX)
    with db.session() as s:
        claim = s.get(Claim, hoax.claim.id)  # type: ignore[union-attr]
        claim.status = ClaimStatus.RETRACTED  # type: ignore[union-attr]
        s.add(claim)
        s.commit()
    again = _submit(db, index, 3, HOAX)
    assert again.outcome == "under_review" and again.claim.id == hoax.claim.id  # type: ignore[union-attr]


def test_a_second_process_sees_the_claims_the_first_one_made(db: Database) -> None:
    if not db.is_postgres:
        pytest.skip("several worker processes are a PostgreSQL deployment")
    index = Matcher()
    with db.session() as s:
        index.refresh(s)
    made = _submit(db, index, 1, HOAX)
    env = {**os.environ, "CROWDCHECK_DATABASE_URL": db.url}
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "match"],
        input=json.dumps({"text": OTHER}) + "\n" + json.dumps({"text": HOAX}) + "\n",
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    other, same = (json.loads(line) for line in result.stdout.splitlines())
    # `match` names a bot-born claim by its export id, which ends in the row number.
    named = f"crowdcheck:claim:{made.claim.id}"  # type: ignore[union-attr]
    assert same["decision"] == "match" and same["claim_id"] == named
    assert any(c["claim_id"] == named for c in other["candidates"])
