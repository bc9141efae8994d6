"""Setting the tipline up from Telegram: the bot finds the ids its configuration needs.

The story: an operator starts the bot without CROWDCHECK_REVIEW_CHAT_ID, adds it to the group
the moderators will use, gets that group's id in a private message, sets it, restarts, and the
moderators' group works. Groups that are not the moderators' group hear nothing from the bot.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import select

from factdb.db import Database
from factdb.models import Citizen, Claim, Request, SeenUser
from tests import conftest
from tests.conftest import ADMIN
from tests.emulator import BotApiEmulator
from tests.harness import REVIEW_CHAT, Tipline, shown
from tests.test_cli import run_cli

FRIENDS = -1002000000555


async def test_the_operator_adds_the_bot_to_a_group_gets_its_id_and_makes_it_the_moderators_group(
    db: Database, emulator: BotApiEmulator
) -> None:
    emu = emulator
    emu.user(ADMIN, "Jonas", language_code="en")
    unset = dataclasses.replace(conftest.test_config(emu, db), review_chat_id=None)
    async with conftest.running_bot(emu, db, config=unset):
        update = emu.add_bot_to_group(ADMIN, -1002000000777, "Fact checkers")
        assert update["my_chat_member"]["old_chat_member"]["status"] == "left"
        assert update["my_chat_member"]["from"]["id"] == ADMIN
        told = shown(await emu.wait_for_bot_message(ADMIN))
        assert "You added me to the group “Fact checkers”. Its id is -1002000000777." in told
        assert "CROWDCHECK_REVIEW_CHAT_ID=-1002000000777" in told
        assert "crowdcheck doctor" in told
        await emu.wait_until_idle()
        assert emu.bot_status(-1002000000777) == "member"  # it stayed
        assert emu.bot_messages(-1002000000777) == []

    configured = dataclasses.replace(unset, review_chat_id=-1002000000777)
    async with conftest.running_bot(emu, db, config=configured):
        emu.send_text(3001, "The bridge on the ring road will be closed for a whole year from Monday")
        await emu.wait_for_bot_message(3001)
        card = await emu.wait_for_bot_message(-1002000000777, lambda m: "bridge" in m.text)
        assert card.callback_data("Take")
        # made an admin there later (removed and added back): no more private messages about it
        emu.set_bot_status(-1002000000777, "left", by=ADMIN)
        emu.add_bot_to_group(ADMIN, -1002000000777, status="administrator")
        await emu.wait_until_idle()
        assert len(emu.bot_messages(ADMIN)) == 1


async def test_a_group_that_is_not_ours_hears_nothing_and_nothing_said_there_is_kept(
    tipline: Tipline,
) -> None:
    emu = tipline.emu
    emu.user(7100, "Lucía", language_code="es")
    emu.add_bot_to_group(7100, FRIENDS, "Amigos")
    # a quiet group (docs/reach.md): one introduction, in the adder's language; Lucía is not
    # one of the tipline's admins, so no configuration lines in private
    intro = shown(await emu.wait_for_bot_message(FRIENDS))
    assert "Soy un bot de verificación" in intro
    await emu.wait_until_idle()
    assert emu.bot_messages(7100) == []

    emu.send_text(7101, "Forward this to everyone: the tap water is poisoned tonight", chat_id=FRIENDS)
    emu.send_text(7100, "/start", chat_id=FRIENDS)
    emu.send_text(7101, "/queue", chat_id=FRIENDS)
    emu.send_message(7101, chat_id=FRIENDS, sticker=True)
    await emu.wait_until_idle()
    assert len(emu.bot_messages(FRIENDS)) == 1, "nothing after the introduction"
    assert emu.bot_status(FRIENDS) == "member"
    assert not [r for r in emu.requests_log if r["method"] == "leaveChat"]
    with tipline.db.session() as s:
        assert s.exec(select(Claim)).all() == []
        assert s.exec(select(Request)).all() == []
        assert s.exec(select(Citizen)).all() == []
        assert s.exec(select(SeenUser)).all() == []

    # /whoami is the one thing the bot answers there
    emu.send_text(7101, "/whoami", chat_id=FRIENDS, language_code="en")
    answer = shown(await emu.wait_for_bot_message(FRIENDS))
    assert "Your user id: 7101" in answer and "This group's id: -1002000000555" in answer
    assert "CROWDCHECK_REVIEW_CHAT_ID=-1002000000555" in answer
    assert len(emu.bot_messages(FRIENDS)) == 2


async def test_an_adder_who_never_started_the_bot_is_logged_and_nothing_breaks(
    tipline: Tipline, caplog: pytest.LogCaptureFixture
) -> None:
    emu = tipline.emu
    emu.user(ADMIN, "Tomas", started=False)  # an admin (they get the set-up hint) who never wrote to the bot
    with caplog.at_level(logging.INFO):
        emu.add_bot_to_group(ADMIN, FRIENDS, "Kaimynai")
        await emu.wait_for_bot_message(FRIENDS)  # the group's introduction
        await emu.wait_until_idle()
    refused = [r for r in emu.requests_log if r["method"] == "sendMessage" and r["status"] == 403]
    assert [r["description"] for r in refused] == ["Forbidden: bot can't initiate conversation with a user"]
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "CROWDCHECK_REVIEW_CHAT_ID=-1002000000555" in logged
    assert str(ADMIN) not in logged  # the operator's log names the group, not the person
    assert emu.bot_status(FRIENDS) == "member" and len(emu.bot_messages(FRIENDS)) == 1
    # the bot carries on: once Tomas writes to it, it answers him
    assert f"Your user id: {ADMIN}" in shown(await tipline.ask(ADMIN, "/whoami"))


async def test_whoami_tells_anyone_their_id_in_their_language(tipline: Tipline) -> None:
    mine = shown(await tipline.ask(7300, "/whoami", language_code="lt"))
    assert "7300" in mine and "Jūsų naudotojo ID: 7300" in mine
    assert "group" not in mine
    tipline.emu.send_text(ADMIN, "/whoami", chat_id=REVIEW_CHAT)
    here = shown(await tipline.emu.wait_for_bot_message(REVIEW_CHAT))
    assert f"Your user id: {ADMIN}" in here and f"This group's id: {REVIEW_CHAT}" in here
    assert "This is the moderators' group." in here and "CROWDCHECK_REVIEW_CHAT_ID" not in here


async def test_when_telegram_gives_a_group_a_new_id_whoever_is_setting_up_is_told(
    db: Database, emulator: BotApiEmulator
) -> None:
    """Telegram turns a basic group into a supergroup by itself (e.g. when someone is made an
    admin there), and the group's id changes: the id the bot told, or the one configured, stops
    working."""
    emu = emulator
    emu.create_group(-4005, "Moderators", members=[ADMIN, 7400], type="group")
    emu.user(7400, "Rūta", language_code="lt")
    async with conftest.running_bot(emu, db, review_chat_id=-4005):
        emu.upgrade_group(-4005, -1003000004005, by=7400)
        told = shown(await emu.wait_for_bot_message(7400))  # the one who did it, in Lithuanian
        assert "„Moderators“" in told and "-1003000004005" in told
        assert "CROWDCHECK_REVIEW_CHAT_ID=-1003000004005" in told
        admin = shown(await emu.wait_for_bot_message(ADMIN))  # and the admins
        assert "The moderators' group “Moderators” became a supergroup" in admin
        assert "CROWDCHECK_REVIEW_CHAT_ID=-1003000004005" in admin

        # an admin adds the bot to another group (the set-up hint comes to admins only)
        emu.add_bot_to_group(ADMIN, -4006, "Helpers", type="group")
        assert "-4006" in shown(await emu.wait_for_bot_message(ADMIN, lambda m: "-4006" in m.text))
        emu.upgrade_group(-4006, -1003000004006, by=ADMIN)
        moved = shown(
            await emu.wait_for_bot_message(ADMIN, lambda m: "Helpers" in m.text and "became" in m.text)
        )
        assert "The group “Helpers” became a supergroup" in moved
        assert "CROWDCHECK_REVIEW_CHAT_ID=-1003000004006" in moved
        await emu.wait_until_idle()
        assert not [m for chat in (-4005, -1003000004005, -1003000004006) for m in emu.bot_messages(chat)]
        assert len(emu.bot_messages(-4006)) == 1, "only the quiet group's introduction"


# -- crowdcheck doctor: the real command against the emulator -------------------------------------


@pytest.fixture
def api() -> Iterator[BotApiEmulator]:
    """The emulator on a thread of its own: the doctor is a separate process that calls it."""
    emu = BotApiEmulator()
    emu.start_in_thread()
    emu.user(ADMIN, "Jonas")
    emu.create_group(REVIEW_CHAT, "Moderators", members=[ADMIN])
    try:
        yield emu
    finally:
        emu.stop_thread()


def doctor(emu: BotApiEmulator, database_url: str, **settings: str) -> tuple[int, list[str]]:
    env = {
        "TELEGRAM_BOT_TOKEN": emu.token,
        "TELEGRAM_API_BASE_URL": emu.base_url,
        "CROWDCHECK_DATABASE_URL": database_url,
        "CROWDCHECK_REVIEW_CHAT_ID": str(REVIEW_CHAT),
        "CROWDCHECK_ADMIN_IDS": str(ADMIN),
        "CROWDCHECK_PUBLIC_URL": "https://checks.example.org",
        **settings,
    }
    result = run_cli("doctor", env={k: v for k, v in env.items() if v})
    assert "Traceback" not in result.stderr, result.stderr
    return result.returncode, result.stdout.splitlines()


def problems(lines: list[str]) -> list[str]:
    return [line for line in lines if line.startswith("✗")]


def test_doctor_passes_a_good_setup_and_says_so_line_by_line(api: BotApiEmulator, db: Database) -> None:
    status, lines = doctor(api, db.url)
    assert status == 0, "\n".join(lines)
    assert problems(lines) == [] and lines[-1] == "All good."
    out = "\n".join(lines)
    assert "✓ Telegram accepts the token: the bot is @crowdcheck_test_bot" in out
    assert f"✓ the Bot API at {api.base_url} answers" in out
    assert "✓ no webhook registered: `crowdcheck run` (long polling) gets the updates" in out
    assert f"✓ the moderators' group “Moderators” ({REVIEW_CHAT}): the bot is a member and can post" in out
    assert "✓ CROWDCHECK_ADMIN_IDS names 1 admin" in out
    assert "✓ the database answers and its schema is up to date" in out
    assert "✓ CROWDCHECK_PUBLIC_URL is https://checks.example.org" in out
    # what the bot can do beyond private chats, and optional capabilities: said, never problems
    assert "✓ privacy mode is off: in quiet groups the bot sees" in out
    assert "✓ inline mode is" in out and "✓ pictures: OCR is" in out and "✓ matching by meaning:" in out
    assert api.token not in out


def test_doctor_finds_the_bot_missing_from_the_moderators_group_or_unable_to_post(
    api: BotApiEmulator, tmp_path: Path
) -> None:
    url = ready_sqlite(tmp_path)
    api.set_bot_status(REVIEW_CHAT, "left", by=ADMIN)
    status, lines = doctor(api, url)
    assert status == 1
    [problem] = problems(lines)
    assert f"the bot is not in the moderators' group {REVIEW_CHAT}" in problem
    assert "add the bot to the group" in problem

    api.add_bot_to_group(ADMIN, REVIEW_CHAT)
    api.set_bot_status(REVIEW_CHAT, "restricted", by=ADMIN, can_send_messages=False)
    status, lines = doctor(api, url)
    assert status == 1
    [problem] = problems(lines)
    assert "may not post there" in problem and "right to send messages" in problem


def test_doctor_gives_the_new_id_of_a_moderators_group_that_became_a_supergroup(
    api: BotApiEmulator, tmp_path: Path
) -> None:
    api.create_group(-4007, "Old moderators", members=[ADMIN], type="group")
    api.upgrade_group(-4007, -1003000004007, by=ADMIN)
    status, lines = doctor(api, ready_sqlite(tmp_path), CROWDCHECK_REVIEW_CHAT_ID="-4007")
    assert status == 1
    [problem] = problems(lines)
    assert "became a supergroup" in problem and "CROWDCHECK_REVIEW_CHAT_ID=-1003000004007" in problem


def test_doctor_names_a_token_telegram_refuses_and_an_api_it_cannot_reach(
    api: BotApiEmulator, tmp_path: Path
) -> None:
    url = ready_sqlite(tmp_path)
    status, lines = doctor(api, url, TELEGRAM_BOT_TOKEN="123456:ABCDEFGHIJKLMNOPwrong")
    assert status == 1
    assert "✗ Telegram refuses TELEGRAM_BOT_TOKEN (Unauthorized)" in "\n".join(lines)
    assert "ABCDEFGHIJKLMNOPwrong" not in "\n".join(lines)
    status, lines = doctor(api, url, TELEGRAM_API_BASE_URL="http://127.0.0.1:9/bot")
    assert status == 1
    assert problems(lines)[0].startswith("✗ the Bot API at http://127.0.0.1:9/bot is not reachable")


def test_doctor_on_a_bare_setup_lists_every_setting_still_missing_and_creates_nothing(
    api: BotApiEmulator, tmp_path: Path
) -> None:
    missing = tmp_path / "data" / "crowdcheck.sqlite3"
    status, lines = doctor(
        api,
        f"sqlite:///{missing}",
        CROWDCHECK_REVIEW_CHAT_ID="",
        CROWDCHECK_ADMIN_IDS="",
        CROWDCHECK_PUBLIC_URL="",
    )
    assert status == 1
    out = "\n".join(problems(lines))
    assert "CROWDCHECK_REVIEW_CHAT_ID is not set: add the bot to the moderators' group" in out
    assert "CROWDCHECK_ADMIN_IDS is not set" in out and "/whoami" in out
    assert "`crowdcheck db upgrade` creates it" in out
    assert "CROWDCHECK_PUBLIC_URL is not set" in out and "identifier" in out  # what breaks
    assert not missing.exists()


def test_doctor_shows_a_webhook_that_is_not_ours_and_its_last_error(
    api: BotApiEmulator, tmp_path: Path
) -> None:
    url = ready_sqlite(tmp_path)
    call(api, "setWebhook", url="http://127.0.0.1:9/elsewhere/secret-path")
    api.send_text(ADMIN, "an update Telegram cannot deliver")
    deadline = time.monotonic() + 10
    while not call(api, "getWebhookInfo")["result"].get("last_error_message"):
        assert time.monotonic() < deadline, "the emulator never tried the webhook"
        time.sleep(0.05)
    status, lines = doctor(api, url)
    assert status == 1
    webhook, last_error = problems(lines)
    assert "a webhook is registered at http://127.0.0.1:9/…, not at this setup's" in webhook
    assert "secret-path" not in webhook
    assert "Telegram's last webhook delivery failed" in last_error and "Connection refused" in last_error


def test_doctor_has_help() -> None:
    result = run_cli("doctor", "--help")
    assert result.returncode == 0 and "Exit status" in result.stdout and "moderators' group" in result.stdout


def ready_sqlite(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path}/doctor.sqlite3"
    database = Database(url)
    database.ensure_schema()
    database.dispose()
    return url


def call(emu: BotApiEmulator, method: str, **params: object) -> dict[str, object]:
    request = urllib.request.Request(
        f"{emu.base_url}{emu.token}/{method}",
        data=json.dumps(params).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.loads(response.read())  # type: ignore[no-any-return]
