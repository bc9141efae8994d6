"""A surge of new claims: the moderators' group gets a digest, not a wall of late cards.

Telegram lets a bot post about 20 messages a minute in a group, so in a surge cards would arrive
minutes behind the news. Once several cards are waiting, they go out as one digest, most asked
first, with Take buttons; /queue still lists every claim.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator

import pytest
from sqlmodel import col, func, select

from factdb import cards, outbox
from factdb.db import Database
from factdb.models import Claim, ClaimStatus, Outbox, OutboxStatus
from tests import conftest
from tests.conftest import ADMIN, REVIEW_CHAT
from tests.emulator import BotApiEmulator
from tests.harness import Tipline

DIGEST = "arrived faster than cards can be posted"
RUMOURS = [
    "The old lighthouse will be demolished on Sunday to build a casino",
    "Supermarkets will ration flour to one bag per family from tomorrow",
    "A shark was seen in the city swimming pool this morning",
    "Army trucks are moving into the capital for a curfew tonight",
    "The national exam answers leaked, call 0612345678 to get a copy",
    "The zoo is releasing its wolves into the northern forest",
    "All speed cameras were switched off because of a software bug",
    "The water company adds sleeping pills to tap water at night",
]


@pytest.fixture
async def slow_group(db: Database, emulator: BotApiEmulator) -> AsyncIterator[Tipline]:
    """Telegram's group pace: 20 posts a minute, one every three seconds."""
    emulator.create_group(REVIEW_CHAT, "Moderators", members=[ADMIN])
    async with conftest.running_bot(emulator, db, outbox_group_per_minute=20) as tipline:
        yield tipline


async def test_a_surge_of_new_claims_reaches_reviewers_as_one_digest_they_can_take_from(
    slow_group: Tipline,
) -> None:
    tipline, emu = slow_group, slow_group.emu
    # The first card hangs on its way to the group while the surge comes in, so the test does
    # not depend on how fast this machine records nine messages.
    emu.hold("sendMessage", chat_id=REVIEW_CHAT)
    asked = [(6100 + n, rumour) for n, rumour in enumerate(RUMOURS)] + [(6200, RUMOURS[-1])]
    for citizen, rumour in asked:  # all at once, as in a surge
        emu.send_text(citizen, rumour)
    for citizen, _ in asked:
        await emu.wait_for_bot_message(citizen, timeout=10)
    for _ in range(100):
        if emu.held_calls:
            break
        await asyncio.sleep(0.05)
    emu.release_holds()

    digest = await emu.wait_for_bot_message(REVIEW_CHAT, lambda m: DIGEST in m.text, timeout=15)
    with tipline.db.session() as s:
        claims = {c.id: c for c in s.exec(select(Claim))}
    listed = [int(i) for i in re.findall(r"^#(\d+) ·", digest.text, re.MULTILINE)]
    assert len(listed) >= 5 and set(listed) <= set(claims)
    # Claims that came in after the digest get cards of their own, paced: wait for them.
    for _ in range(300):
        with tipline.db.session() as s:
            owed = s.exec(
                select(func.count())
                .select_from(Outbox)
                .where(
                    Outbox.kind == "card",
                    col(Outbox.status).in_([OutboxStatus.PENDING, OutboxStatus.SENDING]),
                )
            ).one()
        if not owed:
            break
        await asyncio.sleep(0.1)
    await emu.wait_until_idle(timeout=10)
    group = emu.bot_messages(REVIEW_CHAT)
    carded = {
        int(data[3:]) for m in group if DIGEST not in m.text for _, data in m.buttons[0] if data[:3] == "tk:"
    }
    assert carded.isdisjoint(listed), "a claim got both a card and a digest line"
    assert carded | set(listed) == set(claims), "a claim reached reviewers neither way"
    assert len(group) < len(claims), "a card per claim went out instead of a digest"
    assert "0612345678" not in digest.text  # personal data masked, as on cards
    assert "/queue" in digest.text

    first = listed[0]  # the reviewer takes the top claim straight from the digest
    query = await tipline.press(ADMIN, digest, f"Take #{first}", chat_id=REVIEW_CHAT)
    await emu.wait_for_callback_answer(query)
    await emu.wait_for_bot_message(ADMIN, lambda m: "verdict" in m.text)
    assert tipline.claim(first).status == ClaimStatus.IN_REVIEW

    # More people ask about a claim that was only in the digest: no card edit is owed, none fails.
    await tipline.ask(6201, claims[listed[-1]].text)  # listed in the digest, never carded
    await emu.wait_until_idle(timeout=10)
    queue = await tipline.ask(ADMIN, "/queue")
    assert "#" in queue.text
    with tipline.db.session() as s:
        failed = s.exec(
            select(func.count()).select_from(Outbox).where(Outbox.status == OutboxStatus.FAILED)
        ).one()
        edited = set(s.exec(select(Outbox.claim_id).where(Outbox.kind == "card_edit")))
    assert failed == 0
    assert edited <= carded  # a claim only in the digest has no card to edit


async def test_a_few_new_claims_still_get_a_card_each(slow_group: Tipline) -> None:
    for n, rumour in enumerate(RUMOURS[:2]):
        await slow_group.ask(6300 + n, rumour)
    cards = await slow_group.emu.wait_for_bot_messages(
        REVIEW_CHAT, 2, lambda m: "Take" in m.button_texts(), timeout=10
    )
    assert all(DIGEST not in card.text for card in cards)


def test_a_digest_lists_the_most_asked_first_and_owes_no_card_edits(db: Database) -> None:
    def setup(session) -> list[int]:
        made = [
            Claim(text=r, normalized=r.lower(), request_count=n)
            for n, r in zip([1, 4, 2, 7, 3], RUMOURS[:5], strict=True)
        ]
        session.add_all(made)
        session.flush()
        for claim in made:
            cards.post(session, claim, REVIEW_CHAT)
        return [c.id for c in made]  # type: ignore[misc]

    ids = db.transaction(setup)
    with db.session() as s:
        job = outbox.claim_next(s, "w1", is_postgres=db.is_postgres)[0]  # the first card is taken
        listed = cards.collapse(s, job.id, job.claim_id, REVIEW_CHAT)  # type: ignore[arg-type]
    assert [c.request_count for c in listed] == [7, 4, 3, 2, 1]
    with db.session() as s:
        rows = s.exec(select(Outbox).where(col(Outbox.kind).in_(["card", "digest"]))).all()
        assert sorted((r.kind, r.status) for r in rows) == [("card", "dropped")] * 4 + [("digest", "sending")]
        for claim_id in ids:  # more requests later: no card to edit, so nothing is owed
            cards.refresh(s, s.get(Claim, claim_id))  # type: ignore[arg-type]
        s.commit()
        assert s.exec(select(func.count()).select_from(Outbox).where(Outbox.kind == "card_edit")).one() == 0


def test_four_waiting_cards_are_still_posted_one_by_one(db: Database) -> None:
    def setup(session) -> None:
        for r in RUMOURS[:4]:
            claim = Claim(text=r, normalized=r.lower())
            session.add(claim)
            session.flush()
            cards.post(session, claim, REVIEW_CHAT)

    db.transaction(setup)
    with db.session() as s:
        job = outbox.claim_next(s, "w1", is_postgres=db.is_postgres)[0]
        assert cards.collapse(s, job.id, job.claim_id, REVIEW_CHAT) == []  # type: ignore[arg-type]
