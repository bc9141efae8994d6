"""Buttons under a citizen's answers are pressed again, pressed at once, and forged (issue 17.4).

Each one-shot button acts once, whatever arrives; a button names only what this citizen was shown;
"how long will it take?" tells a person only about what they asked. End to end through the Bot API
emulator, on SQLite and PostgreSQL, except where two workers race (no emulator runs two bots).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from sqlmodel import Session, func, select

from factdb import choices
from factdb.models import Claim, Feedback, MatchLog, Request
from handlers.views import callbacks as cb
from tests.conftest import ADMIN
from tests.emulator import ChatMessage
from tests.harness import Tipline, shown

BANKS = "Banks will close all accounts with less than 100 euros on Monday, withdraw your money now before it is too late"
BLEACH = "Drinking bleach cures the virus, a nurse from the hospital confirmed it today"
GINGER = "Drinking ginger tea cures the virus, a doctor from the clinic confirmed it"
LEMON = "Drinking lemon juice cures the virus, a nurse from the hospital confirmed it today"
ALREADY = "Already done"
NO_LONGER = "no longer works"


def claims(tipline: Tipline) -> int:
    with tipline.db.session() as s:
        return s.exec(select(func.count()).select_from(Claim)).one()


def request_of(tipline: Tipline, user_id: int) -> Request:
    from factdb.models import Citizen

    with tipline.db.session() as s:
        citizen = s.exec(select(Citizen).where(Citizen.telegram_user_id == user_id)).one()
        return s.exec(select(Request).where(Request.citizen_id == citizen.id).order_by(Request.id)).all()[-1]


async def answers(tipline: Tipline, queries: list[str]) -> list[dict[str, Any]]:
    return [await tipline.emu.wait_for_callback_answer(q) for q in queries]


async def offered_a_choice(tipline: Tipline, user_id: int) -> ChatMessage:
    tipline.seed_published(BLEACH, summary="Bleach is poison.")
    tipline.seed_published(GINGER, summary="Ginger tea does not cure it.")
    reply = await tipline.ask(user_id, LEMON)
    assert "Is it one of these?" in reply.text
    return reply


async def test_not_my_message_pressed_again_and_again_makes_one_new_claim(tipline: Tipline) -> None:
    emu = tipline.emu
    claim_id = tipline.seed_published(BANKS, summary="No such rule exists.")
    answer = await tipline.ask(701, BANKS + " says the finance minister")
    data = answer.callback_data("This isn't my message")
    # A double tap and a third for luck, all before the bot reads the first; then, once the
    # button is gone, a client that sends it anyway.
    taps = [emu.press_button(701, 701, answer.message_id, data) for _ in range(3)]
    first, *again = await answers(tipline, taps)
    await emu.wait_for_bot_message(701, lambda m: "Nobody has asked" in m.text)
    forged = emu.press_button(701, 701, answer.message_id, data, forge=True)
    again.append(await emu.wait_for_callback_answer(forged))
    await emu.wait_until_idle()

    assert claims(tipline) == 2  # the hoax and the citizen's own message, once
    assert tipline.claim(claim_id).request_count == 0  # taken off once, not below
    assert sum("Nobody has asked" in m.text for m in emu.bot_messages(701)) == 1
    assert not first.get("text")
    for reply in again:  # a short word over the button, nothing in the chat
        assert ALREADY in reply["text"] and not reply["show_alert"]
    with tipline.db.session() as s:
        assert s.exec(select(MatchLog.outcome)).one() == "not_my_message"


async def test_a_choice_pressed_twice_acts_once(tipline: Tipline) -> None:
    emu = tipline.emu
    offer = await offered_a_choice(tipline, 702)
    bleach = next(label for label in offer.button_texts() if "bleach" in label.lower())
    taps = [
        await tipline.press(702, offer, bleach),
        await tipline.press(702, offer, bleach),
        await tipline.press(702, offer, "None of these"),
    ]
    _first, *again = await answers(tipline, taps)
    await emu.wait_for_bot_message(702, lambda m: "Bleach is poison." in shown(m))
    await emu.wait_until_idle()

    assert claims(tipline) == 2  # "none of these" made no claim after the pick
    with tipline.db.session() as s:
        picked = s.exec(select(Claim).where(Claim.text == BLEACH)).one()
        assert picked.request_count == 1
        assert s.exec(select(MatchLog.outcome)).one() == "picked"
    assert len(emu.bot_messages(702)) == 2  # the offer and one answer
    for reply in again:
        assert ALREADY in reply["text"]


async def test_a_pick_of_a_claim_never_offered_or_of_someone_elses_choice_does_nothing(
    tipline: Tipline,
) -> None:
    emu = tipline.emu
    secret = tipline.seed_published(
        "The mayor's son was arrested for smuggling last night, police hide it",
        summary="Nobody was arrested.",
    )
    offer = await offered_a_choice(tipline, 703)
    request = request_of(tipline, 703)
    stranger = await tipline.ask(704, "Mobile phone masts cause headaches in children, a study shows")
    with tipline.db.session() as s:
        offered = [c for c in s.exec(select(Claim.id).where(Claim.text.in_([BLEACH, GINGER]))).all()]  # type: ignore[attr-defined]

    # The citizen edits the button to pick a claim they were never shown…
    mine = emu.press_button(703, 703, offer.message_id, cb.make("pk", request.id, secret), forge=True)  # type: ignore[arg-type]
    # …and someone else presses the citizen's choices from their own chat.
    theirs = [
        emu.press_button(704, 704, stranger.message_id, cb.make("pk", request.id, offered[0]), forge=True),  # type: ignore[arg-type]
        emu.press_button(704, 704, stranger.message_id, cb.make("no", request.id), forge=True),  # type: ignore[arg-type]
    ]
    for reply in await answers(tipline, [mine, *theirs]):
        assert NO_LONGER in reply["text"]
    await emu.wait_until_idle()
    assert len(emu.bot_messages(703)) == 1 and len(emu.bot_messages(704)) == 1
    assert "Nobody was arrested." not in "".join(shown(m) for m in emu.bot_messages(703))
    with tipline.db.session() as s:
        assert s.get(Request, request.id).claim_id is None  # type: ignore[union-attr]
        assert s.get(Claim, secret).request_count == 0  # type: ignore[union-attr]

    # The real choice still works: the forgeries consumed nothing.
    bleach = next(label for label in offer.button_texts() if "bleach" in label.lower())
    await emu.wait_for_callback_answer(await tipline.press(703, offer, bleach))
    await emu.wait_for_bot_message(703, lambda m: "Bleach is poison." in shown(m))


async def test_feedback_pressed_twice_counts_once(tipline: Tipline) -> None:
    tipline.seed_published(BANKS, summary="No such rule exists.")
    answer = await tipline.ask(705, BANKS)
    taps = [
        await tipline.press(705, answer, "👍 Helpful"),
        await tipline.press(705, answer, "👍 Helpful"),
        await tipline.press(705, answer, "👎 Not helpful"),
    ]
    first, *again = await answers(tipline, taps)
    assert "Thank you" in first["text"]
    for reply in again:
        assert "already told us" in reply["text"] and not reply["show_alert"]
    with tipline.db.session() as s:
        assert s.exec(select(Feedback.value)).all() == ["helpful"]
        assert s.exec(select(MatchLog.outcome)).one() == "helpful"
    # "This isn't my message" after a vote still works, once: the vote does not use it up.
    await tipline.emu.wait_for_callback_answer(await tipline.press(705, answer, "This isn't my message"))
    await tipline.emu.wait_for_bot_message(705, lambda m: "Nobody has asked" in m.text)


async def test_a_forged_how_long_button_tells_nothing_about_someone_elses_claim(tipline: Tipline) -> None:
    emu = tipline.emu
    await tipline.ask(706, "The old factory by the river will be turned into a prison for migrants")
    mine = await tipline.ask(707, "Mobile phone masts cause headaches in children, a study shows")
    with tipline.db.session() as s:
        theirs = s.exec(select(Claim.id).where(Claim.text.startswith("The old factory"))).one()  # type: ignore[attr-defined]
    query = emu.press_button(707, 707, mine.message_id, cb.make("wt", theirs), forge=True)
    assert NO_LONGER in (await emu.wait_for_callback_answer(query))["text"]
    await emu.wait_until_idle()
    assert len(emu.bot_messages(707)) == 1  # no queue position, no "answer already"
    # Their own button still answers.
    await tipline.press(707, mine, "How long will it take?")
    assert "number" in (await emu.wait_for_bot_message(707, lambda m: "number" in m.text)).text


Press = Callable[[Session, int, int], object]


def _not_my_message(tipline: Tipline) -> Press:
    index = tipline.runtime.svc.index
    return lambda s, user, request: choices.not_my_message(s, user, request, index).outcome


def _helpful(tipline: Tipline) -> Press:
    return lambda s, user, request: choices.record_feedback(s, user, request, "helpful")


@pytest.mark.parametrize(("press", "acted"), [(_not_my_message, "new_claim"), (_helpful, "thanked")])
async def test_two_workers_handling_the_same_press_at_once_act_once(
    tipline: Tipline, press: Callable[[Tipline], Press], acted: str
) -> None:
    """With several workers, a double tap can be handled by two at the same moment: the first
    holds its transaction open while the second runs into it."""
    tipline.seed_published(BANKS, summary="No such rule exists.")
    await tipline.ask(708, BANKS + " says the finance minister")
    request_id = request_of(tipline, 708).id
    assert request_id is not None
    act = press(tipline)
    second: list[object] = []

    def other_worker() -> None:
        second.append(tipline.db.transaction(lambda s: act(s, 708, request_id)))

    with tipline.db.session() as first:
        assert act(first, 708, request_id) == acted
        worker = threading.Thread(target=other_worker)
        worker.start()
        worker.join(0.5)  # it waits on the first one's row (PostgreSQL) or write lock (SQLite)
        first.commit()
    worker.join(30)
    assert second == ["duplicate"]
    assert claims(tipline) == (2 if acted == "new_claim" else 1)


async def test_a_blocked_citizens_buttons_and_commands_do_nothing_but_forget_still_works(
    tipline: Tipline,
) -> None:
    emu = tipline.emu
    tipline.seed_published(BANKS, summary="No such rule exists.")
    answer = await tipline.ask(709, BANKS)
    spam = await tipline.ask(709, "buy cheap followers now at my site best prices ever for everyone today")
    with tipline.db.session() as s:
        spam_claim = s.exec(select(Claim.id).where(Claim.text.startswith("buy cheap"))).one()  # type: ignore[attr-defined]
    assert "Blocked 1 citizen" in (await tipline.ask(ADMIN, f"/block {spam_claim}")).text
    before = len(emu.bot_messages(709))

    presses = [
        await tipline.press(709, answer, "This isn't my message"),
        await tipline.press(709, answer, "👍 Helpful"),
        await tipline.press(709, spam, "How long will it take?"),
    ]
    for command in ("/start", "/help", "/mychecks", "/language", "/stop"):
        emu.send_text(709, command)
    await emu.wait_until_idle(quiet=0.5)
    assert len(emu.bot_messages(709)) == before  # not a word
    assert not [a for a in emu.callback_answers if a["query_id"] in presses]
    assert claims(tipline) == 2
    with tipline.db.session() as s:
        assert s.exec(select(Feedback)).all() == []
        assert s.exec(select(MatchLog.outcome).where(MatchLog.outcome.is_not(None))).all() == []  # type: ignore[union-attr]

    forgotten = await tipline.ask(709, "/forget")  # the right to be forgotten holds for everyone
    assert "deleted your data" in forgotten.text


async def test_a_citizens_button_pressed_from_another_chat_does_nothing(tipline: Tipline) -> None:
    """Callback data can be sent from any chat; a citizen's buttons only live in their own."""
    emu = tipline.emu
    tipline.seed_published(BANKS, summary="No such rule exists.")
    answer = await tipline.ask(710, BANKS)
    emu.create_group(-100777, "Cousins", members=[710])
    query = emu.press_button(710, -100777, 1, answer.callback_data("This isn't my message"), forge=True)
    await emu.wait_until_idle(quiet=0.5)
    assert not [a for a in emu.callback_answers if a["query_id"] == query]
    assert emu.bot_messages(-100777) == [] and claims(tipline) == 1
