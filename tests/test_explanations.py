"""Every decision keeps its explanation (issue 15 item 3): an admin looking into a doubtful
answer, an offer or a new claim weeks later reads why the bot decided so, from match_log, and
never a citizen's words there."""

from __future__ import annotations

import json
import re
from pathlib import Path

from alembic import command
from click.testing import CliRunner
from sqlalchemy import inspect, text
from sqlmodel import select

from bot.cli import main
from factdb import explanations, intake
from factdb.db import Database, alembic_config
from factdb.matching import Matcher
from factdb.models import MatchLog
from tests.harness import Tipline, shown
from tests.test_interchange import write_jsonl

BANKS = "Banks will close all accounts with less than 100 euros on Monday, withdraw your money now"
WATER = "Tap water across the whole country will be poisoned tonight by the government"
FOOTBALL = "The national football team was banned from the next world cup"

ANSWERED = "FWD: Banks will close all accounts with less than 100 euros on Monday, withdraw your money now!!"
OFFERED = "my uncle says the football team is out of the cup because of a ban"
NEW = "totally unrelated sentence about knitting patterns and yarn"
SWAPPED = "They will close all libraries with less than 100 books on Monday, withdraw your kids now"


def _words(*texts: str) -> set[str]:
    return {w for t in texts for w in re.findall(r"[a-z]{4,}", t.lower())}


def _logged(db: Database) -> list[MatchLog]:
    with db.session() as s:
        return list(s.exec(select(MatchLog).order_by(MatchLog.id)).all())  # type: ignore[arg-type]


async def test_an_answer_an_offer_and_a_new_claim_each_keep_why_and_no_citizen_words(
    tipline: Tipline, db: Database
) -> None:
    banks, _, football = (tipline.seed_published(c, summary="Not true.") for c in (BANKS, WATER, FOOTBALL))

    answered = await tipline.ask(601, ANSWERED, first_name="Ana")
    assert "Not true." in shown(answered)
    offered = await tipline.ask(602, OFFERED, first_name="Ben")
    assert "1. " in shown(offered)  # buttons, not an answer
    await tipline.ask(603, NEW, first_name="Chen")

    answer, offer, new = _logged(db)
    assert (answer.decision, offer.decision, new.decision) == ("match", "maybe", "new")
    why = {row.decision: explanations.decode(row.reasons) for row in (answer, offer, new)}
    assert why["match"] == [f"lexical {answer.score:.1f} ≥ confident 40.5: answered"]
    assert why["maybe"] == [f"lexical {offer.score:.1f} between maybe 28.0 and confident 40.5: offered 1"]
    assert why["new"][-1].endswith(": new claim")
    # stored as a JSON list, as docs/matching.md says
    assert json.loads(answer.reasons or "") == why["match"]
    # figures and rule names only: not one of the citizens' words
    said = _words(ANSWERED, OFFERED, NEW)
    assert said and not said & _words(*(r for lines in why.values() for r in lines))
    # an admin asking about one claim finds the decisions that answered or offered it
    with db.session() as s:
        assert [d.request_id for d in explanations.decisions(s, claim_id=football)] == [offer.request_id]
        assert [d.request_id for d in explanations.decisions(s, claim_id=banks)] == [answer.request_id]


async def test_an_admin_finds_a_wrong_answer_the_citizen_flagged_and_reads_why(
    tipline: Tipline, db: Database
) -> None:
    claim_id = tipline.seed_published(BANKS, summary="No such rule exists.")
    reply = await tipline.ask(604, BANKS + " says the finance minister", first_name="Dee")
    query = await tipline.press(604, reply, "This isn't my message")
    await tipline.emu.wait_for_callback_answer(query)
    await tipline.emu.wait_for_bot_message(604, lambda m: "Nobody has asked" in m.text)

    out = CliRunner().invoke(main, ["--database-url", db.url, "explain", "--outcome", "not_my_message"])
    assert out.exit_code == 0, out.output
    (request_id,) = [r for (r,) in _requests(db)][:1]
    assert f"request {request_id}" in out.output and f"claim #{claim_id}" in out.output
    assert "citizen: not_my_message" in out.output
    assert re.search(r"- lexical \d+\.\d ≥ confident 40\.5: answered", out.output)
    assert "finance" not in out.output and "minister" not in out.output  # the citizen's words
    by_id = CliRunner().invoke(main, ["--database-url", db.url, "explain", str(request_id)])
    assert by_id.output == out.output
    about_other = CliRunner().invoke(
        main, ["--database-url", db.url, "explain", "--claim", str(claim_id + 99)]
    )
    assert about_other.exit_code == 0 and about_other.output.strip() == "no decisions logged"
    assert "Usage:" in CliRunner().invoke(main, ["explain", "--help"]).output


def _requests(db: Database) -> list[tuple[int]]:
    with db.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text("SELECT request_id FROM match_log ORDER BY id"))]


def test_the_rules_that_hold_back_an_answer_are_named(db: Database) -> None:
    index = Matcher()  # the claims, as citizens brought them in
    for claim in (BANKS, WATER, FOOTBALL):
        db.transaction(lambda s, c=claim: intake.submit(s, index, intake.Submission(1, 1, c)))

    def logged_for(user: int, message: str) -> list[str]:
        result = db.transaction(lambda s: intake.submit(s, index, intake.Submission(user, user, message)))
        with db.session() as s:
            row = s.exec(select(MatchLog).where(MatchLog.request_id == result.request_id)).one()
            return explanations.decode(row.reasons)

    # same frame, other words: the score would answer, the word-swap rule asks instead
    swapped = logged_for(2, SWAPPED)
    assert "the message swaps words of the top claim in every wording: not answered" in swapped[0]
    assert swapped[1].endswith(": offered 1")
    # three words: only a near-verbatim copy answers
    short = logged_for(3, "Banks close accounts")
    assert short[0].startswith("short message (3 words ≤ 3): lexical ")
    assert "< near-verbatim 95.0: not answered" in short[0]


def test_crowdcheck_match_says_why_for_each_line(db: Database, tmp_path: Path) -> None:
    claims = write_jsonl(
        tmp_path / "claims.jsonl",
        [{"id": "p-1", "text": BANKS, "verdict": "false", "url": "https://fc.example.org/b", "lang": "en"}],
    )
    runner = CliRunner()
    assert runner.invoke(main, ["--database-url", db.url, "import", str(claims)]).exit_code == 0
    lines = "".join(json.dumps({"text": t}) + "\n" for t in (ANSWERED, NEW))
    result = runner.invoke(main, ["--database-url", db.url, "match"], input=lines)
    assert result.exit_code == 0, result.output
    answered, new = (json.loads(line) for line in result.stdout.splitlines())
    assert answered["decision"] == "match" and answered["claim_id"] == "p-1"  # the promised fields stay
    assert answered["reasons"] == [f"lexical {answered['score']:.1f} ≥ confident 40.5: answered"]
    # the lexical verdict first; with the semantic extra installed, the semantic stage's after it
    assert new["decision"] == "new" and new["reasons"][0].endswith(": new claim")
    assert "reasons" in runner.invoke(main, ["match", "--help"]).output


def test_decisions_logged_before_schema_0012_read_as_having_no_reasons(db: Database) -> None:
    def columns() -> set[str]:
        return {c["name"] for c in inspect(db.engine).get_columns("match_log")}

    config = alembic_config(db.engine)
    command.downgrade(config, "0011")
    assert "reasons" not in columns()
    with db.engine.begin() as conn:  # an old decision, as 0011's code wrote it
        conn.execute(
            text(
                "INSERT INTO match_log (decision, score, confident_threshold, maybe_threshold, word_count, "
                "created_at) VALUES ('new', 12.5, 40.5, 28.0, 9, CURRENT_TIMESTAMP)"
            )
        )
    command.upgrade(config, "head")
    assert "reasons" in columns()
    with db.session() as s:
        (old,) = explanations.decisions(s)
    assert old.reasons == [] and old.decision == "new"
    assert "(no reasons logged)" in explanations.format_text([old])
