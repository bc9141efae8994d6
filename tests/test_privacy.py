"""Privacy: reviewers never learn who asked, personal data in messages is masked where reviewers
read it, /forget forgets, logs at INFO carry neither message text nor user ids, the token never
reaches a log, and admin rights come only from configuration and the database."""

from __future__ import annotations

import io
import logging

import pytest
from sqlmodel import select

from bot import cli
from factdb.models import Citizen, Claim, Feedback, RateEvent, Request, Subscription
from tests.conftest import ADMIN
from tests.harness import REVIEW_CHAT, Tipline, shown

PHONE, EMAIL = "+1 (555) 013-4567", "jane.doe@example.com"
LEAK = f"Call {PHONE} or write to {EMAIL} to get the free government flood relief payment today"


async def test_the_card_says_nothing_about_who_asked(tipline: Tipline) -> None:
    emu = tipline.emu
    emu.send_text(
        424242,
        "Aliens landed in the harbour last night and the navy hid it",
        first_name="Zebulon",
        username="zeb_secret",
    )
    await emu.wait_for_bot_message(424242)
    emu.forward(
        424243,
        "The harbour is closed because of the alien landing, share this",
        origin={"type": "user", "sender_user": {"id": 31337, "is_bot": False, "first_name": "Pete Private"}},
    )
    emu.forward(
        424244,
        "Supermarkets will stop selling eggs to anyone over seventy, forward to all",
        origin={"type": "hidden_user", "sender_user_name": "Hidden Harriet"},
    )
    cards = await emu.wait_for_bot_messages(REVIEW_CHAT, count=3, timeout=8)
    for card in cards:
        text = shown(card)
        for secret in ("Zebulon", "zeb_secret", "424242", "424243", "424244", "Pete", "31337", "Harriet"):
            assert secret not in text, f"{secret!r} on a reviewer's card"


async def test_phone_numbers_and_emails_are_masked_where_reviewers_read(tipline: Tipline) -> None:
    emu = tipline.emu
    await tipline.ask(501, LEAK)
    card = await emu.wait_for_bot_message(REVIEW_CHAT, lambda m: "flood relief" in m.text)
    assert "[phone]" in card.text and "[email]" in card.text
    assert "013-4567" not in card.text and EMAIL not in card.text
    emu.send_text(ADMIN, "/queue")
    queue = await emu.wait_for_bot_message(ADMIN, lambda m: "flood relief" in m.text)
    assert "013-4567" not in queue.text and EMAIL not in queue.text


async def test_the_merge_menu_masks_personal_data_too(tipline: Tipline) -> None:
    emu = tipline.emu
    tipline.seed_published("Call 0912 345 678 for the free government flood relief payment today")

    def duplicate(session) -> int:
        claim = Claim(text="Free government flood relief payment today, call now", normalized="x", lang="en")
        session.add(claim)
        session.flush()
        return claim.id  # type: ignore[return-value]

    source = tipline.db.transaction(duplicate)
    with tipline.db.session() as s:
        tipline.runtime.svc.index.refresh(s)
    emu.press_button(ADMIN, REVIEW_CHAT, 1, f"mg:{source}", forge=True)
    menu = await emu.wait_for_bot_message(REVIEW_CHAT, lambda m: "Merge #" in m.text, timeout=8)
    labels = " ".join(menu.button_texts())
    assert "#1" in labels
    assert "345 678" not in labels


async def test_forget_removes_the_citizen_and_every_trace_of_what_they_sent(tipline: Tipline) -> None:
    emu = tipline.emu
    claim_id = tipline.seed_published("The bridge collapsed this morning and the city is hiding the deaths")
    answer = await tipline.ask(504, "The bridge collapsed this morning and the city is hiding the deaths")
    query = await tipline.press(504, answer, "👍 Helpful")
    await emu.wait_for_callback_answer(query)
    await tipline.ask(504, "My neighbour 0912 345 678 says the schools close for a month from Monday")
    reply = await tipline.ask(504, "/forget")
    assert "deleted your data" in shown(reply)
    with tipline.db.session() as s:
        assert s.exec(select(Citizen).where(Citizen.telegram_user_id == 504)).first() is None
        # the answered claim keeps their request as an anonymous count; the claim only they
        # sent, which no reviewer touched, went with them (tests/test_erase.py)
        requests = s.exec(select(Request)).all()
        assert len(requests) == 1 and all(r.citizen_id is None and r.text is None for r in requests)
        assert [c.id for c in s.exec(select(Claim)).all()] == [claim_id]
        assert all(f.citizen_id is None for f in s.exec(select(Feedback)).all())
        assert s.exec(select(Subscription)).all() == [] and s.exec(select(RateEvent)).all() == []
    assert tipline.claim(claim_id).request_count == 1  # the public count stays, anonymous
    again = await tipline.ask(504, "/forget")
    assert "don't have any data" in shown(again)


async def test_info_logs_carry_no_message_text_or_user_ids(
    tipline: Tipline, caplog: pytest.LogCaptureFixture
) -> None:
    secret_text = "Grandma Ottilie says the pension office in Vilnius closes forever"
    with caplog.at_level(logging.INFO):
        cli.setup_logging(False)
        await tipline.ask(777001, secret_text, first_name="Ottilie")
        await tipline.ask(777001, "/mychecks")
        emu = tipline.emu
        emu.send_message(777001, sticker=True)
        await emu.wait_for_bot_message(777001)
        emu.block(777001)
        await emu.wait_until_idle()
    info = [r for r in caplog.records if r.levelno >= logging.INFO]
    for record in info:
        message = record.getMessage()
        assert "Ottilie" not in message and "Vilnius" not in message, record.name
        assert "777001" not in message, f"{record.name}: {message}"


@pytest.mark.parametrize("verbose", [False, True])
async def test_the_token_never_reaches_a_log(
    tipline: Tipline, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch, verbose: bool
) -> None:
    for name in ("httpx", "httpcore"):
        monkeypatch.setattr(logging.getLogger(name), "level", logging.getLogger(name).level)
    cli.setup_logging(verbose)
    with caplog.at_level(logging.DEBUG if verbose else logging.INFO):
        await tipline.ask(777002, "The train to the coast is free for pensioners from next week")
        tipline.emu.fail_next("sendMessage", error_code=502, chat_id=777002)  # an error path logs too
        tipline.emu.send_text(777002, "/start")
        await tipline.emu.wait_until_idle()
    token = tipline.emu.token
    secret_part = token.split(":", 1)[1]
    for record in caplog.records:
        text = record.getMessage() + (str(record.exc_info[1]) if record.exc_info else "")
        assert secret_part not in text, f"token in a {record.levelname} record from {record.name}"


async def test_admin_rights_come_only_from_configuration_and_the_database(tipline: Tipline) -> None:
    emu = tipline.emu
    emu.user(ADMIN, "Ana", username="ana_admin")
    await tipline.ask(601, "Wind turbines make cows stop giving milk, farmers say")
    card = await emu.wait_for_bot_message(REVIEW_CHAT, lambda m: "turbines" in m.text)
    impostors = [
        (602, "admin", "admin"),
        (603, "Ana", "ana_admin_"),
        (604, "Administrator", "crowdcheck_admin"),
    ]
    for user, name, username in impostors:
        emu.user(user, name, username=username)
        query = await tipline.press(user, card, "Take", chat_id=REVIEW_CHAT)
        answer = await emu.wait_for_callback_answer(query)
        assert "Only reviewers" in answer["text"], name
        emu.send_text(user, "/queue")
        reply = await emu.wait_for_bot_message(user)
        assert "Queue" not in reply.text
    # the same name and username as the admin, but a different id: still nobody
    emu.user(605, "Ana", username="ana_admin")
    query = await tipline.press(605, card, "Spam", chat_id=REVIEW_CHAT)
    assert "Only reviewers" in (await emu.wait_for_callback_answer(query))["text"]
    assert (
        "turbines"
        in (await emu.wait_for_bot_message(REVIEW_CHAT, lambda m: "turbines" in m.text, since=0)).text
    )


# A phone number split by zero-width spaces, a slash and an underscore so that a filter reading
# the raw text sees no number; the digits below must appear nowhere the bot stored or shows.
EVASIVE = "09\u200b12\u200b/345_678"
EVASIVE_DIGITS = ("0912", "345", "678")
SPREAD = f"Text me on {EVASIVE} and I send the secret vaccine list the hospitals hide from us"


async def test_a_phone_hidden_from_filters_is_masked_before_it_is_stored(tipline: Tipline) -> None:
    from factdb.interchange import exporter
    from factdb.models import ClaimStatus, Clarification, MatchLog, utcnow

    emu = tipline.emu
    reply = await tipline.ask(506, SPREAD, first_name="Mei")
    assert reply.text
    card = await emu.wait_for_bot_message(REVIEW_CHAT, lambda m: "vaccine list" in m.text)
    assert "[phone]" in shown(card)

    def publish(session) -> int:  # type: ignore[no-untyped-def]
        claim = session.exec(select(Claim)).one()
        claim.status, claim.published_at = ClaimStatus.PUBLISHED, utcnow()
        session.add(claim)
        session.add(Clarification(claim_id=claim.id, lang="en", verdict="false", summary="No such list."))
        return claim.id  # type: ignore[no-any-return]

    tipline.db.transaction(publish)
    out = io.StringIO()
    exporter.export(tipline.db, "csv", out, org_name="Org", public_url="https://checks.example.org")
    assert "vaccine list" in out.getvalue()
    with tipline.db.session() as s:
        stored = [
            *(f"{c.text} {c.normalized} {c.provenance}" for c in s.exec(select(Claim)).all()),
            *(f"{r.text} {r.forward_from}" for r in s.exec(select(Request)).all()),
            *(repr(m) for m in s.exec(select(MatchLog)).all()),
        ]
    for place, text in [("card", shown(card)), ("csv", out.getvalue()), *(("row", t) for t in stored)]:
        flat = "".join(ch for ch in text if ch.isdigit())
        assert "0912345678" not in flat, f"the phone number is in a {place}: {text!r}"
        assert not any(d in text for d in EVASIVE_DIGITS), f"part of the phone number in a {place}: {text!r}"
    assert any("[phone]" in t for t in stored)


@pytest.mark.timing
def test_an_8_kib_message_of_any_shape_masks_in_well_under_a_second() -> None:
    """A backtracking pattern once took 3.6 s on 8,192 letters; every shape here must take a
    small fraction of that (0.5 s each, about ten times what it needs on a busy 2-core machine)."""
    import time

    from factdb.intake import MAX_TEXT
    from factdb.privacy import mask_personal

    shapes = ["a", "1", "a.", "1 ", "1-", "a@", "x at ", "DE89", "ab(at)", "+", "a@" + "b" * 100 + " "]
    for shape in shapes:
        text = (shape * MAX_TEXT)[:MAX_TEXT]
        mask_personal.cache_clear()
        start = time.perf_counter()
        mask_personal(text)
        took = time.perf_counter() - start
        assert took < 0.5, f"{shape!r} × {MAX_TEXT}: {took:.2f} s"
