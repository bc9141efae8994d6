"""Reviewers turn the queue into published clarifications; every requester is told once."""

from __future__ import annotations

import asyncio

from sqlmodel import select

from factdb import reviewers
from factdb.models import AuditLog, Claim, ClaimStatus, Outbox
from tests import conftest
from tests.conftest import ADMIN
from tests.harness import REVIEW_CHAT, Tipline, shown

ANA, BEN = ADMIN, 9002
CITIZENS = (101, 102, 103)
RUMOUR = "Drinking hot water with lemon every morning cures cancer, doctors don't want you to know this"


async def _new_claim_with_three_requesters(tipline: Tipline) -> tuple[int, object]:
    for n, citizen in enumerate(CITIZENS):
        reply = await tipline.ask(citizen, RUMOUR + "!" * n, first_name=f"C{citizen}")
        assert "Thanks" in shown(reply)
    card = await tipline.emu.wait_for_bot_message(REVIEW_CHAT, lambda m: "3 requests" in m.text, timeout=8)
    with tipline.db.session() as s:
        claim = s.exec(select(Claim)).one()
    return claim.id, card  # type: ignore[return-value]


async def _write_and_publish(tipline: Tipline, reviewer: int, card, verdict: str = "❌ False") -> None:
    preview = await tipline.write_and_publish(
        reviewer,
        card,
        verdict=verdict,
        summary="No study shows that <lemon water> cures cancer & doctors recommend proven treatment.",
        sources="https://www.who.int/news-room/fact-sheets/detail/cancer and https://example.org/study",
    )
    assert "<lemon water>" in shown(preview)  # reviewer text never breaks the HTML


async def test_a_claim_goes_from_card_to_every_requester_once(tipline: Tipline) -> None:
    claim_id, card = await _new_claim_with_three_requesters(tipline)
    await _write_and_publish(tipline, ANA, card)
    done = await tipline.emu.wait_for_bot_message(ANA, lambda m: "Published" in m.text)
    assert "3 people" in done.text
    for citizen in CITIZENS:
        notice = await tipline.emu.wait_for_bot_message(
            citizen, lambda m: "There's an answer" in m.text, timeout=8
        )
        assert "False" in shown(notice) and "who.int" in shown(notice)
    await tipline.emu.wait_until_idle()
    for citizen in CITIZENS:
        notices = [m for m in tipline.emu.bot_messages(citizen) if "There's an answer" in m.text]
        assert len(notices) == 1
    card_now = await tipline.emu.wait_for_bot_message(
        REVIEW_CHAT, lambda m: "Published by" in m.text, timeout=8
    )
    assert card_now.message_id == card.message_id  # edited in place, not re-posted
    assert tipline.claim(claim_id).status == ClaimStatus.PUBLISHED
    with tipline.db.session() as s:
        actions = [a.action for a in s.exec(select(AuditLog).where(AuditLog.claim_id == claim_id))]
    assert actions[:2] == ["take", "publish"]


async def test_a_later_citizen_gets_the_answer_at_once(tipline: Tipline) -> None:
    _, card = await _new_claim_with_three_requesters(tipline)
    await _write_and_publish(tipline, ANA, card)
    await tipline.emu.wait_for_bot_message(ANA, lambda m: "Published" in m.text)
    reply = await tipline.ask(104, RUMOUR)
    assert "False" in shown(reply) and "No study shows" in shown(reply)


async def test_someone_who_is_not_a_reviewer_pressing_take_changes_nothing(tipline: Tipline) -> None:
    claim_id, card = await _new_claim_with_three_requesters(tipline)
    assert card.button_texts() == ["Take", "Spam", "Merge into…"]  # no public list, no hide button
    stranger = 555
    for label in card.button_texts():
        query = await tipline.press(stranger, card, label, chat_id=REVIEW_CHAT)
        answer = await tipline.emu.wait_for_callback_answer(query)
        assert answer["show_alert"] and "Only reviewers" in answer["text"]
    assert tipline.claim(claim_id).status == ClaimStatus.NEW
    assert tipline.emu.bot_messages(stranger) == []


async def test_a_forged_button_is_refused(tipline: Tipline) -> None:
    claim_id, card = await _new_claim_with_three_requesters(tipline)
    for data in ("tk:99999", "tk:1:2", "zz:1", "tk:" + "9" * 70, "sp:-1"):
        query = tipline.emu.press_button(ANA, REVIEW_CHAT, card.message_id, data, forge=True)
        answer = await tipline.emu.wait_for_callback_answer(query)
        assert answer["show_alert"]
    assert tipline.claim(claim_id).status == ClaimStatus.NEW


async def test_spam_closes_a_claim_without_telling_anyone(tipline: Tipline) -> None:
    claim_id, card = await _new_claim_with_three_requesters(tipline)
    query = await tipline.press(ANA, card, "Spam", chat_id=REVIEW_CHAT)
    await tipline.emu.wait_for_callback_answer(query)
    assert tipline.claim(claim_id).status == ClaimStatus.SPAM
    await tipline.emu.wait_for_bot_message(REVIEW_CHAT, lambda m: "spam" in m.text, timeout=8)
    await tipline.emu.wait_until_idle()
    with tipline.db.session() as s:
        kinds = {o.kind for o in s.exec(select(Outbox))}
    assert kinds <= {"card", "card_edit"}  # the group's card, never a word to the citizens
    for citizen in CITIZENS:
        told = tipline.emu.bot_messages(citizen)
        assert len(told) == 1 and "Thanks" in shown(told[0])


async def test_a_removed_reviewer_is_stopped_at_the_next_step(tipline: Tipline) -> None:
    tipline.db.transaction(lambda s: reviewers.add(s, BEN, name="Ben"))
    tipline.emu.user(BEN, "Ben")
    _, card = await _new_claim_with_three_requesters(tipline)
    query = await tipline.press(BEN, card, "Take", chat_id=REVIEW_CHAT)
    await tipline.emu.wait_for_callback_answer(query)
    ask_verdict = await tipline.emu.wait_for_bot_message(BEN, lambda m: "verdict" in m.text)
    tipline.db.transaction(lambda s: reviewers.remove(s, BEN))
    query = await tipline.press(BEN, ask_verdict, "❌ False")
    answer = await tipline.emu.wait_for_callback_answer(query)
    assert "Only reviewers" in answer["text"]


async def test_a_card_that_could_not_be_posted_is_not_edited_forever(tipline: Tipline) -> None:
    tipline.emu.fail_next(
        "sendMessage", error_code=400, description="Bad Request: chat not found", chat_id=REVIEW_CHAT
    )
    await tipline.ask(
        120, "A meteor will hit the north of the country next Tuesday, scientists are hiding it"
    )
    await tipline.emu.wait_until_idle()
    await tipline.ask(
        121, "A meteor will hit the north of the country next Tuesday, scientists are hiding it!!"
    )
    await asyncio.sleep(0.5)
    with tipline.db.session() as s:
        kinds = [(o.kind, o.status) for o in s.exec(select(Outbox))]
    assert ("card", "failed") in kinds
    assert not [k for k in kinds if k[0] == "card_edit" and k[1] in ("pending", "sending")]


async def test_a_card_that_gains_a_request_on_its_way_ends_current_without_a_failure(
    tipline: Tipline,
) -> None:
    emu = tipline.emu
    emu.hold("sendMessage", chat_id=REVIEW_CHAT)  # the card hangs on its way to the group
    await tipline.ask(CITIZENS[0], RUMOUR)
    for _ in range(100):
        if emu.held_calls:
            break
        await asyncio.sleep(0.05)
    assert emu.held_calls, "the card never left"
    await tipline.ask(CITIZENS[1], RUMOUR + "!")  # counted while the card still says 1 request
    emu.release_holds()

    card = await emu.wait_for_bot_message(REVIEW_CHAT, lambda m: "2 requests" in m.text, timeout=8)
    await asyncio.sleep(1.5)  # room for a second, redundant edit to be tried
    await emu.wait_until_idle(timeout=8)
    assert card.edited
    edits = [r for r in emu.requests_log if r["method"] == "editMessageText"]
    assert len([r for r in edits if r["ok"]]) == 1
    # Both the late request and the finished send may ask for an edit; the one that finds the
    # card already current ("message is not modified") is done, not a failure.
    assert len(edits) <= 2
    with tipline.db.session() as s:
        statuses = {(o.kind, o.status) for o in s.exec(select(Outbox)) if o.kind.startswith("card")}
    assert statuses <= {("card", "sent"), ("card_edit", "sent")}


async def test_a_reviewer_hides_a_claim_from_the_public_waiting_list_with_one_button(db, emulator) -> None:
    from tests.test_public_trust import public_site

    emulator.create_group(REVIEW_CHAT, "Moderators", members=[ANA])
    async with conftest.running_bot(emulator, db, public_queue=True) as tipline:
        claim_id, card = await _new_claim_with_three_requesters(tipline)
        async with public_site(tipline) as get:
            assert "hot water with lemon" in (await get("/stats"))[1]
            # Someone who is not a reviewer cannot hide it.
            query = await tipline.press(555, card, "Hide from public list", chat_id=REVIEW_CHAT)
            assert "Only reviewers" in (await emulator.wait_for_callback_answer(query))["text"]
            assert not tipline.claim(claim_id).public_hidden

            query = await tipline.press(ANA, card, "Hide from public list", chat_id=REVIEW_CHAT)
            assert "Hidden" in (await emulator.wait_for_callback_answer(query))["text"]
            assert "hot water with lemon" not in (await get("/stats"))[1]
            # The card now says so, and offers the way back.
            hidden_card = await emulator.wait_for_bot_message(
                REVIEW_CHAT, lambda m: "Show in public list" in m.button_texts(), timeout=8
            )
            assert hidden_card.message_id == card.message_id
            assert "Hidden from the public waiting list" in shown(hidden_card)
            # Still on the reviewers' queue: hiding is about the public, not the work.
            assert f"#{claim_id}" in shown(await tipline.ask(ANA, "/queue"))

            query = await tipline.press(ANA, hidden_card, "Show in public list", chat_id=REVIEW_CHAT)
            await emulator.wait_for_callback_answer(query)
            assert "hot water with lemon" in (await get("/stats"))[1]
        with db.session() as s:
            actions = [
                (a.action, a.actor_id)
                for a in s.exec(select(AuditLog).where(AuditLog.claim_id == claim_id).order_by(AuditLog.id))
            ]
        assert actions == [("public_hide", ANA), ("public_show", ANA)]
