"""Erase means erased: after /forget (or an admin's erase) the person's words, name and user id
are in no file the bot wrote — not the database, not the update inbox, not SQLite's
write-ahead log or free pages — and in no row on PostgreSQL."""

from __future__ import annotations

import asyncio
import logging
import struct
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlmodel import SQLModel, select

from bot import cli
from bot.inbox import inbox_database
from factdb.db import Database
from factdb.models import AuditLog, Citizen, Claim, Request, Subscription
from tests.conftest import ADMIN
from tests.harness import REVIEW_CHAT, Tipline, shown

QUILL = 987654321  # the citizen who asks to be forgotten
NAME = "Quillonia"
SECRET = "Zebracorn-4711 secret text"
RUMOUR = f"{SECRET}: the river in the northern district is poisoned by the new chemical factory"
# Another person's version of the same rumour: it matches, without the first person's words.
ALSO = "The river in the northern district is poisoned by the new chemical factory"
BOB = 555000111


async def until(predicate, what: str, timeout: float = 8.0) -> None:  # type: ignore[no-untyped-def]
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        assert asyncio.get_running_loop().time() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.05)


def traces(user_id: int, *words: str) -> dict[str, bytes]:
    """Every way the person could still be in a file: the words in UTF-8, the id as digits and
    as the binary integers SQLite stores (4 bytes big-endian in a record, 8 in either order)."""
    found = {w: w.encode() for w in words}
    found[f"{user_id} as digits"] = str(user_id).encode()
    for fmt in (">i", "<i", ">q", "<q"):
        found[f"{user_id} packed {fmt}"] = struct.pack(fmt, user_id)
    return found


def data_files(db: Database) -> list[Path]:
    """The SQLite data directory: the database, the inbox, their -wal and -shm files."""
    directory = Path(str(make_url(db.url).database)).parent
    return sorted(p for p in directory.iterdir() if p.is_file())


def assert_in_no_file(db: Database, user_id: int, *words: str) -> None:
    files = data_files(db)
    main = Path(str(make_url(db.url).database)).name
    inbox = Path(str(make_url(inbox_database(db).url).database)).name
    assert {main, f"{main}-wal", inbox, f"{inbox}-wal"} <= {p.name for p in files}, files
    for path in files:
        content = path.read_bytes()
        for what, needle in traces(user_id, *words).items():
            assert needle not in content, f"{what} still in {path.name} at byte {content.find(needle)}"


def assert_in_no_row(db: Database, user_id: int, *words: str) -> None:
    """Every column of every table, on either database (and the SQLite inbox file)."""
    places = [db]
    inbox = inbox_database(db)
    if inbox is not db:
        places.append(inbox)
    for place in places:
        with place.engine.connect() as conn:
            for table in SQLModel.metadata.sorted_tables:
                try:
                    rows = conn.execute(text(f"SELECT * FROM {table.name}")).all()
                except Exception:
                    conn.rollback()
                    continue  # a table this file does not have (the inbox file holds two)
                for row in rows:
                    flat = " ".join(str(v) for v in row)
                    for needle in (str(user_id), *words):
                        assert needle not in flat, f"{needle!r} in {table.name}: {flat[:200]}"
        if place is not db:
            place.dispose()


async def test_forget_leaves_no_byte_of_the_citizen_in_any_file(tipline: Tipline) -> None:
    emu = tipline.emu
    reply = await tipline.ask(QUILL, RUMOUR, first_name=NAME)
    assert "first to ask" in shown(reply) or "reviewers" in shown(reply)
    await emu.wait_for_bot_message(REVIEW_CHAT, lambda m: "chemical factory" in m.text)
    await tipline.ask(QUILL, "/mychecks")

    reply = await tipline.ask(QUILL, "/forget")
    assert "deleted your data" in shown(reply)
    with tipline.db.session() as s:
        assert s.exec(select(Claim)).all() == []  # only they asked and no reviewer touched it
        assert s.exec(select(Request)).all() == []
    assert tipline.runtime.svc.index.match(ALSO).decision == "new"  # unmatchable now
    await until(
        lambda: not any("chemical factory" in m.text for m in emu.bot_messages(REVIEW_CHAT)),
        "the moderators' card quoting the text to be deleted",
    )
    assert_in_no_row(tipline.db, QUILL, SECRET, NAME)
    if not tipline.db.is_postgres:
        assert_in_no_file(tipline.db, QUILL, SECRET, NAME)


async def test_a_claim_someone_else_asked_stays_without_the_forgotten_person(tipline: Tipline) -> None:
    emu = tipline.emu
    await tipline.ask(QUILL, RUMOUR, first_name=NAME)
    await emu.wait_for_bot_message(REVIEW_CHAT, lambda m: "chemical factory" in m.text)
    await tipline.ask(BOB, ALSO, first_name="Bob")
    with tipline.db.session() as s:
        assert s.exec(select(Claim)).one().request_count == 2  # Bob's message joined the claim

    await tipline.ask(QUILL, "/forget")
    with tipline.db.session() as s:
        claims = s.exec(select(Claim)).all()
        assert len(claims) == 1, "the claim stays for the other person who asked"
        claim = claims[0]
        assert SECRET not in claim.text and "chemical factory" in claim.text  # now in Bob's words
        bob = s.exec(select(Citizen).where(Citizen.telegram_user_id == BOB)).one()
        assert (
            s.exec(select(Subscription).where(Subscription.claim_id == claim.id)).one().citizen_id == bob.id
        )
        requests = s.exec(select(Request).where(Request.claim_id == claim.id)).all()
        assert sorted(r.citizen_id is None for r in requests) == [False, True]  # theirs: a count
    assert tipline.runtime.svc.index.match(ALSO).decision == "match"
    assert_in_no_row(tipline.db, QUILL, SECRET, NAME)
    if not tipline.db.is_postgres:
        assert_in_no_file(tipline.db, QUILL, SECRET, NAME)

    await tipline.ask(BOB, ALSO)  # Bob asks again: still the same claim, now in his words
    with tipline.db.session() as s:
        assert s.exec(select(Claim)).one().request_count == 3


async def test_an_admin_erases_a_citizen_after_confirming(tipline: Tipline) -> None:
    emu = tipline.emu
    await tipline.ask(QUILL, RUMOUR, first_name=NAME)
    emu.send_text(ADMIN, f"/erase {QUILL}")
    ask = await emu.wait_for_bot_message(ADMIN)
    assert "confirm" in shown(ask)
    with tipline.db.session() as s:
        assert s.exec(select(Citizen)).first() is not None  # nothing happens before the confirmation
    card = await emu.wait_for_bot_message(REVIEW_CHAT, lambda m: "chemical factory" in m.text)
    await until(lambda: tipline.claim(1).card_message_id is not None, "the card to be recorded")
    # a card older than 48 hours can no longer be deleted by the bot: it is overwritten instead
    emu.fail_next("deleteMessage", error_code=400, description="Bad Request: message can't be deleted")
    emu.send_text(ADMIN, f"/erase {QUILL} confirm")
    done = await emu.wait_for_bot_message(ADMIN, lambda m: "rased" in m.text)
    await until(
        lambda: (
            "asked us to delete"
            in next(m.text for m in emu.bot_messages(REVIEW_CHAT) if m.message_id == card.message_id)
        ),
        "the card to say it was erased",
    )
    assert "1" in shown(done)
    with tipline.db.session() as s:
        assert s.exec(select(Citizen)).all() == [] and s.exec(select(Claim)).all() == []
        line = s.exec(select(AuditLog).where(AuditLog.action == "erase_citizen")).one()
        assert line.actor_id == ADMIN and str(QUILL) not in f"{line.old} {line.new}"
    assert_in_no_row(tipline.db, QUILL, SECRET, NAME)
    if not tipline.db.is_postgres:
        assert_in_no_file(tipline.db, QUILL, SECRET, NAME)


async def test_only_admins_may_erase(tipline: Tipline) -> None:
    await tipline.ask(QUILL, RUMOUR, first_name=NAME)
    reply = await tipline.ask(4242, f"/erase {QUILL} confirm")
    assert "Only admins" in shown(reply)
    with tipline.db.session() as s:
        assert s.exec(select(Citizen).where(Citizen.telegram_user_id == QUILL)).first() is not None


async def test_the_shell_erases_a_citizen_with_a_confirmation_and_an_audit_line(tipline: Tipline) -> None:
    await tipline.ask(QUILL, RUMOUR, first_name=NAME)
    runner = CliRunner()
    args = ["--database-url", tipline.db.url, "citizens", "erase", str(QUILL)]
    refused = runner.invoke(cli.main, args, input="n\n")
    assert refused.exit_code != 0
    with tipline.db.session() as s:
        assert s.exec(select(Citizen)).first() is not None
    result = runner.invoke(cli.main, args, input="y\n")
    assert result.exit_code == 0, result.output
    assert "1 claim deleted" in result.output and str(QUILL) not in result.output.split("?")[-1]
    with tipline.db.session() as s:
        assert s.exec(select(Citizen)).all() == []
        line = s.exec(select(AuditLog).where(AuditLog.action == "erase_citizen")).one()
        assert str(QUILL) not in f"{line.actor_id} {line.old} {line.new}"
    assert_in_no_row(tipline.db, QUILL, SECRET, NAME)
    again = runner.invoke(cli.main, [*args, "--yes"])
    assert again.exit_code == 0 and "nothing" in again.output.lower()


async def test_database_errors_do_not_echo_the_values(db: Database) -> None:
    """An error message ends up in a log: it must not carry the values of the statement.

    (PostgreSQL's own DETAIL line names the duplicate key itself; see SECURITY.md.)"""
    db.transaction(lambda s: s.add(Citizen(telegram_user_id=QUILL, chat_id=QUILL)))
    try:
        db.transaction(lambda s: s.add(Citizen(telegram_user_id=QUILL, chat_id=13579246)))
    except Exception as exc:
        message = str(exc)
    else:
        raise AssertionError("a second citizen with the same user id was stored")
    assert "13579246" not in message, message
    assert "hidden" in message


async def test_database_error_details_never_reach_a_log(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    """PostgreSQL's DETAIL names the duplicate key itself ("Key (telegram_user_id)=(…)"): the
    logging set-up of every command takes it out of messages and tracebacks."""
    cli.setup_logging(False)
    db.transaction(lambda s: s.add(Citizen(telegram_user_id=QUILL, chat_id=QUILL)))
    with caplog.at_level(logging.INFO):
        try:
            db.transaction(lambda s: s.add(Citizen(telegram_user_id=QUILL, chat_id=QUILL)))
        except Exception as exc:
            logging.getLogger("crowdcheck.test").warning("could not store: %s", exc)
            logging.getLogger("crowdcheck.test").error("update failed", exc_info=True)
    assert len(caplog.records) >= 2
    for record in caplog.records:
        assert str(QUILL) not in f"{record.getMessage()} {record.exc_text or ''}", record.getMessage()
