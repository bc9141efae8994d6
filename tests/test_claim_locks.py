"""A reviewer's hold on a claim never freezes the queue: it ends when they cancel, take another
claim, are removed, when an admin releases it, or when it has been idle past the lease."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import update
from sqlmodel import col, select

from bot.config import ConfigError, load
from factdb import reviewers
from factdb.models import AuditLog, Claim, ClaimStatus, utcnow
from factdb.normalize import normalize
from tests.conftest import ADMIN
from tests.emulator import ChatMessage
from tests.harness import REVIEW_CHAT, Tipline, shown

ANA, BEN, CLEO = ADMIN, 9002, 9003
GARLIC = "Garlic in your socks stops the flu overnight, a nurse from the capital confirmed it"
FLOOD = "The river will flood the old town tonight, the mayor is hiding the evacuation order"


def _open_claim(tipline: Tipline, text: str) -> int:
    def work(session) -> int:
        claim = Claim(text=text, normalized=normalize(text), lang="en", request_count=1)
        session.add(claim)
        session.flush()
        return claim.id  # type: ignore[return-value]

    return tipline.db.transaction(work)


def _reviewers(tipline: Tipline) -> None:
    tipline.db.transaction(lambda s: reviewers.add(s, BEN, name="Ben Reviewer"))
    tipline.db.transaction(lambda s: reviewers.add(s, CLEO, name="Cleo Reviewer"))
    tipline.emu.user(ANA, "Ana")
    tipline.emu.user(BEN, "Ben Reviewer")
    tipline.emu.user(CLEO, "Cleo Reviewer")


async def _take(tipline: Tipline, reviewer: int, claim_id: int) -> str:
    """/take ID in the moderators' group; what the bot says (in the group, or the private prompt)."""
    emu = tipline.emu
    emu.send_text(reviewer, f"/take {claim_id}", chat_id=REVIEW_CHAT)
    refusal = asyncio.create_task(
        emu.wait_for_bot_message(REVIEW_CHAT, lambda m: "writing" in m.text, timeout=8)
    )
    prompt = asyncio.create_task(emu.wait_for_bot_message(reviewer, lambda m: "verdict" in m.text, timeout=8))
    done, pending = await asyncio.wait({refusal, prompt}, return_when=asyncio.FIRST_COMPLETED)
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    return shown(done.pop().result())


async def _ben_takes(tipline: Tipline, claim_id: int) -> ChatMessage:
    """Ben takes the claim; the first step's prompt he is sent in private."""
    assert "verdict" in await _take(tipline, BEN, claim_id)
    prompt = tipline.emu.last_bot_message(BEN)
    assert prompt is not None
    return prompt


def _idle_for(tipline: Tipline, claim_id: int, minutes: float) -> None:
    """The holder last worked on the claim `minutes` ago (instead of sleeping that long)."""
    tipline.db.transaction(
        lambda s: s.execute(
            update(Claim)
            .where(col(Claim.id) == claim_id)
            .values(assigned_at=utcnow() - timedelta(minutes=minutes))
        )
    )


def _actions(tipline: Tipline, claim_id: int) -> list[tuple[str, int | None]]:
    with tipline.db.session() as s:
        rows = s.exec(select(AuditLog).where(AuditLog.claim_id == claim_id).order_by(col(AuditLog.id)))
        return [(a.action, a.actor_id) for a in rows]


async def test_a_fresh_hold_is_refused_with_who_holds_it_and_since_when(tipline: Tipline) -> None:
    _reviewers(tipline)
    claim_id = _open_claim(tipline, GARLIC)
    assert "verdict" in await _take(tipline, BEN, claim_id)
    _idle_for(tipline, claim_id, 10)
    refused = await _take(tipline, CLEO, claim_id)
    assert "Ben Reviewer is already writing this one" in refused and "10 minutes ago" in refused
    assert f"/release {claim_id}" in refused
    card = shown(await tipline.ask(ANA, f"/claim {claim_id}"))
    assert "Taken by Ben Reviewer · 10 minutes ago" in card
    assert tipline.claim(claim_id).assignee_id == BEN


async def test_an_idle_hold_expires_and_the_next_reviewer_takes_over(tipline: Tipline) -> None:
    _reviewers(tipline)
    claim_id = _open_claim(tipline, GARLIC)
    ben_prompt = await _ben_takes(tipline, claim_id)
    _idle_for(tipline, claim_id, 29)
    assert "already writing" in await _take(tipline, CLEO, claim_id)
    _idle_for(tipline, claim_id, 31)  # the default lease is 30 minutes
    card = shown(await tipline.ask(ANA, f"/claim {claim_id}"))
    assert "anyone may take it over" in card
    assert "verdict" in await _take(tipline, CLEO, claim_id)
    assert tipline.claim(claim_id).assignee_id == CLEO
    # Ben comes back to his old prompt: his draft ended when Cleo took over, nothing of his counts.
    query = await tipline.press(BEN, ben_prompt, "❌ False")
    answer = await tipline.emu.wait_for_callback_answer(query)
    assert answer["show_alert"] and "no draft" in answer["text"]
    assert tipline.claim(claim_id).assignee_id == CLEO
    takes = [actor for action, actor in _actions(tipline, claim_id) if action == "take"]
    assert takes == [BEN, CLEO]


async def test_each_step_of_the_draft_renews_the_hold(tipline: Tipline) -> None:
    _reviewers(tipline)
    claim_id = _open_claim(tipline, GARLIC)
    prompt = await _ben_takes(tipline, claim_id)
    _idle_for(tipline, claim_id, 25)
    await tipline.press(BEN, prompt, "❌ False")
    await tipline.emu.wait_for_bot_message(BEN, lambda m: "summary" in m.text)
    claim = tipline.claim(claim_id)
    assert claim.assigned_at is not None and utcnow() - claim.assigned_at < timedelta(minutes=1)
    assert "already writing" in await _take(tipline, CLEO, claim_id)


async def test_two_reviewers_taking_over_an_idle_claim_at_once_cannot_both_hold_it(
    tipline: Tipline,
) -> None:
    _reviewers(tipline)
    claim_id = _open_claim(tipline, GARLIC)
    assert "verdict" in await _take(tipline, ANA, claim_id)
    _idle_for(tipline, claim_id, 45)
    answers = await asyncio.gather(_take(tipline, BEN, claim_id), _take(tipline, CLEO, claim_id))
    assert sorted("verdict" in a for a in answers) == [False, True], answers
    winner = BEN if "verdict" in answers[0] else CLEO
    assert tipline.claim(claim_id).assignee_id == winner
    await tipline.emu.wait_until_idle()
    takes = [actor for action, actor in _actions(tipline, claim_id) if action == "take"]
    assert takes == [ANA, winner]


async def test_taking_another_claim_gives_the_first_one_back(tipline: Tipline) -> None:
    _reviewers(tipline)
    first, second = _open_claim(tipline, GARLIC), _open_claim(tipline, FLOOD)
    assert "verdict" in await _take(tipline, BEN, first)
    assert "verdict" in await _take(tipline, BEN, second)
    assert tipline.claim(first).status == ClaimStatus.NEW and tipline.claim(first).assignee_id is None
    assert "verdict" in await _take(tipline, CLEO, first)
    assert tipline.claim(second).assignee_id == BEN


async def test_cancelling_gives_a_withdrawn_claim_back_to_the_withdrawn_list(tipline: Tipline) -> None:
    _reviewers(tipline)
    withdrawn = tipline.seed_published(FLOOD)
    reply = await tipline.ask(ANA, f"/retract {withdrawn} The flood map we cited was from 2009.")
    assert "Withdrawn" in reply.text
    assert "verdict" in await _take(tipline, BEN, withdrawn)
    assert "Cancelled" in shown(await tipline.ask(BEN, "/cancel"))
    # Back where it was, with who withdrew it and why, for anyone to take.
    assert tipline.claim(withdrawn).status == ClaimStatus.RETRACTED
    queue = shown(await tipline.ask(ANA, "/queue"))
    section = queue[queue.index("Withdrawn, waiting for a new review") :]
    assert f"#{withdrawn}" in section and "The flood map we cited was from 2009." in section
    assert "verdict" in await _take(tipline, CLEO, withdrawn)


async def test_removing_a_reviewer_gives_back_the_claims_they_held(tipline: Tipline) -> None:
    _reviewers(tipline)
    claim_id = _open_claim(tipline, GARLIC)
    assert "verdict" in await _take(tipline, BEN, claim_id)
    reply = await tipline.ask(ANA, f"/removereviewer {BEN}")
    assert "no longer a reviewer" in shown(reply)
    assert tipline.claim(claim_id).status == ClaimStatus.NEW
    assert "verdict" in await _take(tipline, CLEO, claim_id)
    assert ("release", ANA) in _actions(tipline, claim_id)


async def test_an_admin_releases_a_claim_and_only_an_admin_may(tipline: Tipline) -> None:
    _reviewers(tipline)
    claim_id = _open_claim(tipline, GARLIC)
    ben_prompt = await _ben_takes(tipline, claim_id)
    refused = await tipline.ask(CLEO, f"/release {claim_id}")
    assert "Only admins" in shown(refused)
    assert tipline.claim(claim_id).assignee_id == BEN

    done = shown(await tipline.ask(ANA, f"/release {claim_id}"))
    assert f"Released #{claim_id}" in done and "Ben Reviewer" in done
    assert tipline.claim(claim_id).status == ClaimStatus.NEW
    assert ("release", ANA) in _actions(tipline, claim_id)
    assert "waiting for a reviewer" in shown(await tipline.ask(ANA, f"/claim {claim_id}"))
    # Ben's old draft is over; Cleo takes the claim.
    query = await tipline.press(BEN, ben_prompt, "❌ False")
    assert "no draft" in (await tipline.emu.wait_for_callback_answer(query))["text"]
    assert "verdict" in await _take(tipline, CLEO, claim_id)
    nothing = shown(await tipline.ask(ANA, f"/release {_open_claim(tipline, FLOOD)}"))
    assert "nothing to release" in nothing


async def test_the_group_card_shows_who_holds_the_claim(tipline: Tipline) -> None:
    _reviewers(tipline)
    reply = await tipline.ask(101, GARLIC)
    assert "Thanks" in shown(reply)
    card = await tipline.emu.wait_for_bot_message(REVIEW_CHAT, lambda m: "1 request" in m.text, timeout=8)
    query = await tipline.press(BEN, card, "Take", chat_id=REVIEW_CHAT)
    await tipline.emu.wait_for_callback_answer(query)
    edited = await tipline.emu.wait_for_bot_message(
        REVIEW_CHAT, lambda m: "Taken by Ben Reviewer" in shown(m), timeout=8
    )
    status = shown(edited).splitlines()[0]
    # since when, as an absolute time: the card must read the same until the claim changes
    assert edited.message_id == card.message_id
    assert "Taken by Ben Reviewer · " in status and status.endswith("UTC")


def test_the_lease_is_a_setting() -> None:
    assert load({}).claim_lease == timedelta(minutes=30)
    assert load({"CROWDCHECK_CLAIM_LEASE_MINUTES": "5"}).claim_lease == timedelta(minutes=5)
    with pytest.raises(ConfigError, match="CROWDCHECK_CLAIM_LEASE_MINUTES"):
        load({"CROWDCHECK_CLAIM_LEASE_MINUTES": "soon"})


async def test_the_queue_shows_who_holds_each_claim(tipline: Tipline) -> None:
    _reviewers(tipline)
    held, free = _open_claim(tipline, GARLIC), _open_claim(tipline, FLOOD)
    assert "verdict" in await _take(tipline, BEN, held)
    _idle_for(tipline, held, 10)
    queue = shown(await tipline.ask(ANA, "/queue"))
    held_part = queue[queue.index(f"#{held} ") : queue.index(f"#{free} ")]
    free_part = queue[queue.index(f"#{free} ") :]
    if queue.index(f"#{free} ") < queue.index(f"#{held} "):
        held_part, free_part = queue[queue.index(f"#{held} ") :], queue[: queue.index(f"#{held} ")]
    assert "Taken by Ben Reviewer · 10 minutes ago" in held_part
    assert "Taken by" not in free_part
