"""`crowdcheck tune` learns from the tipline's own traffic: what citizens pressed after each answer."""

from __future__ import annotations

import random

from click.testing import CliRunner

from bot.cli import main
from factdb.db import Database
from factdb.matching import Thresholds, tuning
from factdb.models import MatchLog


def _log(db: Database, rows: list[tuple[str, str, float, str]]) -> None:
    db.transaction(
        lambda s: s.add_all(
            [
                MatchLog(lang=lang, decision=decision, score=score, outcome=outcome)
                for lang, decision, score, outcome in rows
            ]
        )
    )


def test_with_clean_answers_above_60_it_proposes_a_threshold_that_keeps_wrong_answers_rare(
    db: Database,
) -> None:
    rng = random.Random(7)
    rows = [("es", "match", rng.uniform(60, 100), "helpful") for _ in range(80)]
    rows += [
        ("es", "match", rng.uniform(40.5, 55), rng.choice(["helpful", "not_my_message"])) for _ in range(40)
    ]
    rows += [("es", "maybe", rng.uniform(30, 40), "none_of_these") for _ in range(20)]
    _log(db, rows)
    with db.session() as s:
        (proposal,) = tuning.propose(s, Thresholds(confident=40.5, maybe=28.0))
    assert proposal.lang == "es" and proposal.labelled == 140
    assert proposal.confident is not None and 55 <= proposal.confident <= 61.0  # the lowest clean answer
    assert proposal.wrong_rate_now is not None and proposal.wrong_rate_now > 0.05


def test_too_little_data_keeps_the_current_threshold(db: Database) -> None:
    _log(db, [("lt", "match", 80.0, "helpful")] * 5)
    with db.session() as s:
        (proposal,) = tuning.propose(s)
    assert proposal.confident is None and "keep" in proposal.note


def test_the_cli_prints_one_line_per_language(db: Database) -> None:
    _log(db, [("en", "match", 90.0, "helpful")] * 40 + [("zh-TW", "match", 70.0, "helpful")] * 3)
    result = CliRunner().invoke(main, ["--database-url", db.url, "tune"])
    assert result.exit_code == 0, result.output
    assert "\nen " in result.output and "\nzh " in result.output
