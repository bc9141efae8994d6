"""More of a citizen's journeys: forwards, captions, choosing among near matches, their own data."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlmodel import func, select

from factdb.models import AuditLog, Citizen, Claim, Feedback, MatchLog, Request, Subscription, utcnow
from handlers.citizen import account
from handlers.views import texts
from tests.conftest import ADMIN
from tests.harness import REVIEW_CHAT, Tipline, shown

BANKS = "Banks will close all accounts with less than 100 euros on Monday, withdraw your money now before it is too late"


async def test_a_forward_from_a_channel_keeps_where_it_came_from(tipline: Tipline) -> None:
    origin = {
        "type": "channel",
        "chat": {"id": -100777, "type": "channel", "title": "Daily Truth"},
        "message_id": 42,
    }
    tipline.emu.forward(
        401, "The army will take over all petrol stations tonight, fill your tank now", origin=origin
    )
    await tipline.emu.wait_for_bot_message(401)
    card = await tipline.emu.wait_for_bot_message(REVIEW_CHAT)
    assert "Forwarded from “Daily Truth”" in shown(card)
    with tipline.db.session() as s:
        request = s.exec(select(Request)).one()
        assert (request.forward_type, request.forward_from) == ("channel", "Daily Truth")
        assert request.forward_date is not None
        claim = s.exec(select(Claim)).one()
        assert json.loads(claim.provenance)["from"] == "Daily Truth"  # type: ignore[arg-type]


async def test_a_forward_from_a_private_person_does_not_keep_their_name(tipline: Tipline) -> None:
    origin = {"type": "user", "sender_user": {"id": 999, "is_bot": False, "first_name": "Neighbour Joe"}}
    tipline.emu.forward(
        402, "The mayor resigned this morning after a secret scandal at city hall", origin=origin
    )
    await tipline.emu.wait_for_bot_message(402)
    card = await tipline.emu.wait_for_bot_message(REVIEW_CHAT)
    assert "Neighbour Joe" not in card.text and "Forwarded from a person" in card.text
    with tipline.db.session() as s:
        assert s.exec(select(Request)).one().forward_from is None


async def test_a_photo_caption_is_checked_like_text(tipline: Tipline) -> None:
    tipline.seed_published(BANKS, summary="No such rule exists.")
    tipline.emu.send_message(403, photo=True, caption=BANKS)
    reply = await tipline.emu.wait_for_bot_message(403)
    assert "No such rule exists." in shown(reply)


async def test_a_link_is_checked_with_its_tracking_removed(tipline: Tipline) -> None:
    tipline.seed_published(
        "Read this before it is deleted https://news.example.com/story/123",
        summary="The story is fabricated.",
    )
    reply = await tipline.ask(
        404,
        "Read this before it is deleted https://news.example.com/story/123?utm_source=whatsapp&fbclid=abc",
    )
    assert "fabricated" in shown(reply)


async def test_helpful_feedback_is_recorded_and_thanked(tipline: Tipline) -> None:
    tipline.seed_published(BANKS, summary="No such rule exists.")
    reply = await tipline.ask(405, BANKS)
    query = await tipline.press(405, reply, "👍 Helpful")
    answer = await tipline.emu.wait_for_callback_answer(query)
    assert "Thank you" in answer["text"]
    with tipline.db.session() as s:
        assert s.exec(select(Feedback.value)).one() == "helpful"
        assert s.exec(select(MatchLog.outcome)).one() == "helpful"


async def test_not_my_message_turns_it_into_a_new_claim(tipline: Tipline) -> None:
    claim_id = tipline.seed_published(BANKS, summary="No such rule exists.")
    reply = await tipline.ask(406, BANKS + " says the finance minister")
    query = await tipline.press(406, reply, "This isn't my message")
    await tipline.emu.wait_for_callback_answer(query)
    thanks = await tipline.emu.wait_for_bot_message(406, lambda m: "Nobody has asked" in m.text)
    assert thanks
    with tipline.db.session() as s:
        assert s.exec(select(func.count()).select_from(Claim)).one() == 2
        assert s.get(Claim, claim_id).request_count == 0  # type: ignore[union-attr]
        assert s.exec(select(MatchLog.outcome)).one() == "not_my_message"


async def test_near_matches_are_offered_and_none_of_these_makes_a_new_claim(tipline: Tipline) -> None:
    tipline.seed_published(
        "The new 5G towers in the city centre are making birds fall from the sky",
        summary="Birds died of a storm.",
    )
    reply = await tipline.ask(407, "5G towers birds")
    if "Is it one of these?" not in reply.text:  # a 3-word text is never answered on a weak match
        assert "False" not in shown(reply)
        return
    query = await tipline.press(407, reply, "None of these")
    await tipline.emu.wait_for_callback_answer(query)
    await tipline.emu.wait_for_bot_message(407, lambda m: "Nobody has asked" in m.text)


async def test_picking_a_candidate_gives_its_answer(tipline: Tipline) -> None:
    tipline.seed_published(
        "Drinking bleach cures the virus, a nurse from the hospital confirmed it today",
        summary="Bleach is poison.",
    )
    tipline.seed_published(
        "Drinking ginger tea cures the virus, a doctor from the clinic confirmed it",
        summary="Ginger tea does not cure it.",
    )
    reply = await tipline.ask(
        408, "someone said drinking something cures the virus, confirmed by hospital staff"
    )
    if "Is it one of these?" not in reply.text:
        return  # the matcher was confident or found nothing: covered elsewhere
    label = next(label for label in reply.button_texts() if "bleach" in label.lower())
    query = await tipline.press(408, reply, label)
    await tipline.emu.wait_for_callback_answer(query)
    answer = await tipline.emu.wait_for_bot_message(408, lambda m: "Bleach is poison." in shown(m))
    assert answer
    with tipline.db.session() as s:
        assert s.exec(select(MatchLog.outcome)).one() == "picked"


async def test_mychecks_lists_requests_and_the_honest_expected_wait(tipline: Tipline) -> None:
    await tipline.ask(
        409, "The lake is poisoned and all fish in it will kill anyone who eats them this summer"
    )
    reply = await tipline.ask(409, "/mychecks")
    text = shown(reply)
    assert "The lake is poisoned" in text and "waiting for a reviewer" in text
    assert "number 1 of 1" in text
    assert "promise" in text  # never a promise


async def test_stop_unsubscribes_and_forget_deletes_the_link(tipline: Tipline) -> None:
    await tipline.ask(
        410, "The lake is poisoned and all fish in it will kill anyone who eats them this summer"
    )
    reply = await tipline.ask(410, "/stop")
    assert "won't send you any more updates" in reply.text
    with tipline.db.session() as s:
        assert not s.exec(select(Subscription)).one().active
    reply = await tipline.ask(410, "/forget")
    assert "deleted your data" in reply.text
    with tipline.db.session() as s:
        assert s.exec(select(Citizen)).all() == []
        # only they asked and no reviewer touched it: the claim goes with them (tests/test_erase.py)
        assert s.exec(select(Request)).all() == [] and s.exec(select(Claim)).all() == []
    reply = await tipline.ask(410, "/forget")
    assert "don't have any data" in reply.text


async def test_the_queue_pages_and_a_claim_shows_its_history(tipline: Tipline) -> None:
    rumours = [
        "The old bridge will be demolished next week without any public notice",
        "Pharmacies will stop selling insulin to anyone over sixty from August",
        "A lion escaped from the zoo and is hiding in the central station",
        "Tap water in the east district is contaminated with lead, says a nurse",
        "Schools will replace all exams with lotteries from the next term",
        "The mobile network will be switched off for a whole weekend in May",
        "Supermarkets are secretly putting microchips into bread loaves",
        "The mayor bought a private island with money from the flood fund",
        "Driving licences issued before 2010 become invalid on Friday",
        "Eating two bananas a day doubles the risk of heart attacks",
        "A solar storm will wipe all bank accounts on the first of the month",
        "Foreign soldiers were seen unloading weapons at the harbour at night",
    ]
    for i, rumour in enumerate(rumours):
        await tipline.ask(500 + i, rumour)
    reply = await tipline.ask(9001, "/queue")
    assert "page 1 of 2" in reply.text and len(reply.button_texts()) == 11  # 10 claims + ▶
    query = await tipline.press(9001, reply, "▶")
    await tipline.emu.wait_for_callback_answer(query)
    page2 = await tipline.emu.wait_for_bot_message(9001, lambda m: "page 2 of 2" in m.text)
    assert page2.message_id == reply.message_id  # the same message, edited
    claim = await tipline.ask(9001, "/claim 1")
    assert "#1" in claim.text and "bridge" in shown(claim)


async def test_the_answer_shows_what_differs_in_the_citizens_version(tipline: Tipline) -> None:
    tipline.seed_published(
        "Tap water in the whole country will be cut for three days from January 2025, store water now",
        summary="The water company announced no cut.",
    )
    reply = await tipline.ask(
        420, "Tap water in the whole country will be cut for 5 days from March 2026, store water now"
    )
    text = shown(reply)
    assert "The water company announced no cut." in text
    assert "“march 2026” (we checked: “january 2025”)" in text


@pytest.mark.parametrize(("lang", "ago"), [("en", "2 hours ago"), ("es", "hace 2 horas")])
async def test_a_reviewer_reads_the_claims_history_in_the_past_tense(
    tipline: Tipline, lang: str, ago: str
) -> None:
    await tipline.ask(420, "The old bridge will be demolished next week without any public notice")
    with tipline.db.session() as s:
        claim_id = s.exec(select(Claim.id)).one()
    two_hours_ago = utcnow() - timedelta(hours=2, seconds=5)
    tipline.db.transaction(
        lambda s: s.add(AuditLog(actor_id=ADMIN, action="take", claim_id=claim_id, at=two_hours_ago))
    )
    tipline.emu.user(ADMIN, language_code=lang)
    card = await tipline.ask(ADMIN, f"/claim {claim_id}")
    assert f"• {ago} · take" in shown(card)


async def test_mychecks_does_not_mark_an_answered_claim_with_the_true_verdicts_tick(
    tipline: Tipline,
) -> None:
    tipline.seed_published(BANKS, verdict="false", summary="No such rule exists.")
    answer = await tipline.ask(421, BANKS)
    assert "❌ False" in shown(answer)
    checks = shown(await tipline.ask(421, "/mychecks"))
    assert "answered" in checks
    assert texts.VERDICT_LABELS["true"][0] not in checks  # ✅ would read as "this is true"
    icons = set(account.STATUS_LABELS.values())
    assert not icons & {emoji for emoji, _label in texts.VERDICT_LABELS.values()}
