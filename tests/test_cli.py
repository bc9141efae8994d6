"""The command line as an operator meets it: one clear line on bad input, --help everywhere."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import main
from factdb.db import Database
from tests.test_interchange import write_jsonl

ROOT = Path(__file__).resolve().parents[1]
TOUR = ROOT / "docs" / "demo" / "tour.txt"


def run_cli(
    *args: str, env: dict[str, str] | None = None, stdin: str = ""
) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "CROWDCHECK_"))}
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=full_env,
        timeout=120,
        cwd=ROOT,
    )


def test_the_scripted_demo_plays_a_whole_conversation(tmp_path: Path) -> None:
    result = run_cli("demo", "--script", str(TOUR), env={"CROWDCHECK_HOME": str(tmp_path)})
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "❌ False — The central bank says no such rule exists." in out  # a known hoax, answered at once
    assert "Nobody has asked about this yet" in out  # a new rumour
    assert "[Take] [Spam] [Merge into…]" in out  # its card in the moderators' group
    assert "Published. 1 person will be told." in out
    assert "🔔 There's an answer about a message you sent us." in out
    assert "📬 answered" in out


def test_a_demo_script_presses_buttons_as_shown_and_every_other_line_is_a_message(tmp_path: Path) -> None:
    script = tmp_path / "tricky.txt"
    script.write_text(
        "\n".join(
            [
                "/start",
                "/forward Daily Truth: Banks will close all accounts with less than 100 euros on Monday!",
                "[👍 Helpful]",
                "URGENT: Banks will close all accounts with less than 100 euros on Monday, withdraw now!",
                "[This isn't my message]",
                "https://rumours.example.org/aliens-landed-in-the-harbour",
                "[How long will it take?]",
                "Forward this to everyone: the tap water is poisoned tonight",
                "[None of these]",
                "#breaking the dam upstream has failed, leave the valley now",
                "/group",
                "[Merge into...]",
                "[take]",
                "/reviewer",
                "[💬 Not a checkable claim]",
            ]
        )
        + "\n",
        encoding="utf-8",
    )
    result = run_cli("demo", "--script", str(script), env={"CROWDCHECK_HOME": str(tmp_path)})
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr
    out = result.stdout
    assert "🤖 bot pops up: Thank you for telling us!" in out  # [👍 Helpful]
    lines = out.splitlines()
    for sent in (  # each reached the bot as written, and the bot answered the citizen
        "URGENT: Banks will close all accounts with less than 100 euros on Monday, withdraw now!",
        "https://rumours.example.org/aliens-landed-in-the-harbour",
        "Forward this to everyone: the tap water is poisoned tonight",
        "#breaking the dam upstream has failed, leave the valley now",
    ):
        assert lines[lines.index(sent) + 1].startswith("🤖 bot says to citizen:"), sent
    # after [This isn't my message] the URGENT message is a claim of its own, on a card
    assert "\n    URGENT: Banks will close all accounts" in out
    assert "[1. Tap water across the whole country will…] [None of these]" in out
    after_none = "\n".join(lines[lines.index("[None of these]") :])
    assert "Nobody has asked about this yet." in after_none.split("\n#breaking")[0]
    assert "Your message is number" in out  # [How long will it take?]
    assert "Taken. I've sent you the next steps" in out  # [take], typed loosely
    assert "Now write the summary citizens will read" in out  # [💬 Not a checkable claim]


def test_older_demo_scripts_still_play_and_labels_need_no_quoting(tmp_path: Path) -> None:
    script = tmp_path / "old.txt"
    script.write_text(
        "citizen: /start\n"
        "citizen: Banks will close all accounts with less than 100 euros on Monday, withdraw your money now!\n"
        "press citizen This isn't my message\n"
        'press group "Take"\n',
        encoding="utf-8",
    )
    result = run_cli("demo", "--script", str(script), env={"CROWDCHECK_HOME": str(tmp_path)})
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr
    assert "Nobody has asked about this yet" in result.stdout
    assert "Taken. I've sent you the next steps" in result.stdout


def test_the_interactive_demo_takes_the_same_lines(tmp_path: Path) -> None:
    typed = "URGENT: the tap water is poisoned tonight, do not drink it\n[How long will it take?]\n/quit\n"
    result = run_cli("demo", env={"CROWDCHECK_HOME": str(tmp_path)}, stdin=typed)
    assert result.returncode == 0, result.stderr
    assert "Nobody has asked about this yet" in result.stdout
    assert "Your message is number 1" in result.stdout
    assert "I don't understand" not in result.stdout and "no button" not in result.stdout


def test_run_without_a_token_says_so_in_one_line_and_starts_the_demo(tmp_path: Path) -> None:
    result = run_cli("run", env={"CROWDCHECK_HOME": str(tmp_path)}, stdin="/quit\n")
    assert result.returncode == 0, result.stderr
    first = result.stdout.splitlines()[0]
    assert first == "TELEGRAM_BOT_TOKEN is not set, so here is the offline demo (no network needed)."
    assert "you are Mei, a citizen" in result.stdout


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"TELEGRAM_BOT_TOKEN": "not-a-token"}, "does not look like a bot token"),
        (
            {"TELEGRAM_BOT_TOKEN": "123456:ABCDEFGHIJKLMNOP", "CROWDCHECK_ADMIN_IDS": "12,bob"},
            "CROWDCHECK_ADMIN_IDS",
        ),
        (
            {"TELEGRAM_BOT_TOKEN": "123456:ABCDEFGHIJKLMNOP", "CROWDCHECK_REVIEW_CHAT_ID": "moderators"},
            "CROWDCHECK_REVIEW_CHAT_ID",
        ),
        ({"CROWDCHECK_DATABASE_URL": "mysql://x"}, "CROWDCHECK_DATABASE_URL"),
        ({"TELEGRAM_API_BASE_URL": "api.telegram.org"}, "TELEGRAM_API_BASE_URL"),
        (
            {"TELEGRAM_BOT_TOKEN": "123456:ABCDEFGHIJKLMNOP", "CROWDCHECK_METRICS_PORT": "ninety"},
            "CROWDCHECK_METRICS_PORT",
        ),
        (
            {"TELEGRAM_BOT_TOKEN": "123456:ABCDEFGHIJKLMNOP", "CROWDCHECK_BURST_CONCURRENCY": "0"},
            "CROWDCHECK_BURST_CONCURRENCY",
        ),
    ],
)
def test_a_bad_setting_stops_start_up_with_one_clear_line(
    tmp_path: Path, env: dict[str, str], message: str
) -> None:
    result = run_cli("run", env={"CROWDCHECK_HOME": str(tmp_path), **env})
    assert result.returncode != 0
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and message in lines[0], result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    "command",
    [
        [],
        ["run"],
        ["serve"],
        ["demo"],
        ["doctor"],
        ["db"],
        ["db", "upgrade"],
        ["import"],
        ["export"],
        ["match"],
        ["reviewers"],
        ["reviewers", "add"],
        ["reviewers", "remove"],
        ["reviewers", "list"],
        ["stats"],
        ["tune"],
    ],
)
def test_every_command_has_help(command: list[str]) -> None:
    result = CliRunner().invoke(main, [*command, "--help"])
    assert result.exit_code == 0 and "Usage:" in result.output


def test_db_upgrade_creates_then_is_harmless(db_url: str) -> None:
    first = CliRunner().invoke(main, ["--database-url", db_url, "db", "upgrade"])
    second = CliRunner().invoke(main, ["--database-url", db_url, "db", "upgrade"])
    assert first.exit_code == 0 and "upgraded from empty" in first.output
    assert second.exit_code == 0 and "up to date" in second.output


def test_an_older_schema_is_reported_not_crashed_on(db: Database) -> None:
    from sqlalchemy import text

    with db.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0000'"))
    result = CliRunner().invoke(main, ["--database-url", db.url, "stats"])
    assert result.exit_code != 0 and "crowdcheck db upgrade" in result.output


def test_import_then_match_use_the_bots_own_matching(db: Database, tmp_path: Path) -> None:
    claims = write_jsonl(
        tmp_path / "claims.jsonl",
        [
            {
                "id": "a",
                "text": "Eating garlic protects you from the new flu variant completely",
                "verdict": "false",
                "summary": "Garlic does not prevent flu.",
                "url": "https://fc.example.org/garlic",
                "lang": "en",
                "published": "2026-01-02",
            },
            {
                "id": "b",
                "text": "The national football team was banned from the next world cup",
                "verdict": "false",
                "summary": "No ban exists.",
                "url": "https://fc.example.org/ban",
                "lang": "en",
                "published": "2026-01-03",
            },
        ],
    )
    runner = CliRunner()
    imported = runner.invoke(main, ["--database-url", db.url, "import", str(claims)])
    assert imported.exit_code == 0 and "2 added" in imported.output
    again = runner.invoke(main, ["--database-url", db.url, "import", str(claims)])
    assert again.exit_code == 0 and "0 added" in again.output
    queries = "\n".join(
        json.dumps({"text": t})
        for t in [
            "Eating garlic protects you from the new flu variant completely!!",
            "totally unrelated sentence about knitting patterns and yarn",
        ]
    )
    result = runner.invoke(main, ["--database-url", db.url, "match"], input=queries + "\n")
    assert result.exit_code == 0, result.output
    first, second = (json.loads(line) for line in result.output.splitlines())
    assert first["decision"] == "match" and first["candidates"][0]["claim_id"] == first["claim_id"]
    assert second["decision"] == "new" and second["claim_id"] is None
    bad = runner.invoke(main, ["--database-url", db.url, "match"], input="not json\n")
    assert bad.exit_code != 0 and "line 1" in bad.output


def test_match_names_claims_by_their_export_id_and_keeps_going_past_a_bad_line(
    db: Database, tmp_path: Path
) -> None:
    feed = write_jsonl(
        tmp_path / "feed.jsonl",
        [
            {
                "id": "partner-garlic-7",
                "text": "Eating garlic protects you from the new flu variant completely",
                "verdict": "false",
                "url": "https://fc.example.org/garlic",
                "lang": "en",
            }
        ],
    )
    runner = CliRunner()
    assert runner.invoke(main, ["--database-url", db.url, "import", str(feed)]).exit_code == 0
    queries = (
        json.dumps({"text": "Eating garlic protects you from the new flu variant completely!!"})
        + "\n"
        + '{"text": "broken\n'
        + json.dumps({"text": "eating garlic protects you from the new flu variant completely"})
        + "\n"
    )
    result = runner.invoke(main, ["--database-url", db.url, "match"], input=queries)
    assert result.exit_code == 3
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(out) == 3
    assert out[0]["claim_id"] == out[2]["claim_id"] == "partner-garlic-7"  # not the row number
    assert out[0]["candidates"][0]["claim_id"] == "partner-garlic-7"
    assert out[1]["line"] == 2 and out[1]["error"]
    assert "line 2" in result.stderr
    usage = runner.invoke(main, ["match", "--help"]).output
    assert "Exit status" in usage and "3 some lines" in usage


def test_claimreview_export_without_a_public_url_says_what_breaks(db: Database) -> None:
    result = run_cli("--database-url", db.url, "export", "--format", "claimreview")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["@type"] == "DataFeed"
    assert "CROWDCHECK_PUBLIC_URL is not set" in result.stderr
    assert "identifier" in result.stderr  # what breaks: ids change once it is set
    quiet = run_cli(
        "--database-url",
        db.url,
        "export",
        "--format",
        "claimreview",
        env={"CROWDCHECK_PUBLIC_URL": "https://checks.example.org"},
    )
    assert quiet.returncode == 0 and "CROWDCHECK_PUBLIC_URL" not in quiet.stderr


def test_version_is_printed_and_ordinary_commands_print_no_alembic_chatter(db: Database) -> None:
    version = run_cli("--version")
    assert version.returncode == 0 and version.stdout.startswith("crowdcheck ")
    assert version.stdout.split()[1][0].isdigit()
    for command in (["stats"], ["reviewers", "list"]):
        result = run_cli("--database-url", db.url, *command)
        assert result.returncode == 0, result.stderr
        assert "INFO" not in result.stderr and "alembic" not in result.stderr.lower(), result.stderr
