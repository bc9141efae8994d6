"""Reviewers correct their work: edit, retract, translate, merge; and four eyes."""

from __future__ import annotations

import json

from sqlmodel import select

from factdb import reviewers
from factdb.models import AuditLog, Claim, ClaimStatus, Clarification
from tests import conftest
from tests.conftest import ADMIN
from tests.harness import REVIEW_CHAT, Tipline, shown
from tests.test_review_flow import CITIZENS, RUMOUR, _new_claim_with_three_requesters, _write_and_publish

ANA = ADMIN


async def _published(tipline: Tipline) -> int:
    claim_id, card = await _new_claim_with_three_requesters(tipline)
    await _write_and_publish(tipline, ANA, card)
    await tipline.emu.wait_for_bot_message(ANA, lambda m: "Published" in m.text)
    for citizen in CITIZENS:
        await tipline.emu.wait_for_bot_message(citizen, lambda m: "There's an answer" in m.text, timeout=8)
    return claim_id


async def _edit(tipline: Tipline, claim_id: int, verdict: str, summary: str, source: str) -> None:
    """Ana opens /edit on a published claim and goes through every step to Publish."""
    tipline.emu.send_text(ANA, f"/edit {claim_id}")
    await tipline.answer_draft(ANA, verdict=verdict, summary=summary, sources=source)


def _count(tipline: Tipline, citizen: int, needle: str) -> int:
    return sum(needle in m.text for m in tipline.emu.bot_messages(citizen))


async def test_changing_the_verdict_tells_everyone_once_and_keeps_versions(tipline: Tipline) -> None:
    claim_id = await _published(tipline)
    emu = tipline.emu
    await _edit(
        tipline,
        claim_id,
        "⚠️ Misleading",
        "Lemon water is fine to drink, but it does not cure cancer.",
        "https://www.who.int/news-room/fact-sheets/detail/cancer",
    )
    for citizen in CITIZENS:
        update = await emu.wait_for_bot_message(citizen, lambda m: "Update" in m.text, timeout=8)
        assert "False" in shown(update) and "Misleading" in shown(update)
    await emu.wait_until_idle()
    assert all(_count(tipline, c, "Update") == 1 for c in CITIZENS)
    with tipline.db.session() as s:
        versions = s.exec(select(Clarification).where(Clarification.claim_id == claim_id)).all()
        assert sorted((v.version, v.is_current) for v in versions) == [(1, False), (2, True)]


async def test_editing_the_words_but_not_the_verdict_tells_nobody(tipline: Tipline) -> None:
    claim_id = await _published(tipline)
    emu = tipline.emu
    await _edit(
        tipline, claim_id, "❌ False", "No study shows lemon water cures cancer.", "https://www.who.int/x"
    )
    done = await emu.wait_for_bot_message(ANA, lambda m: "Published" in m.text)
    assert "0 people" in done.text
    await emu.wait_until_idle()
    assert all(_count(tipline, c, "Update") == 0 for c in CITIZENS)


async def test_retracting_needs_a_reason_and_tells_everyone_who_got_it(tipline: Tipline) -> None:
    claim_id = await _published(tipline)
    emu = tipline.emu
    reply = await tipline.ask(ANA, f"/retract {claim_id}")
    assert "reason" in reply.text
    assert tipline.claim(claim_id).status == ClaimStatus.PUBLISHED
    reply = await tipline.ask(ANA, f"/retract {claim_id} A partner found our source was wrong.")
    assert "Withdrawn" in reply.text
    for citizen in CITIZENS:
        notice = await emu.wait_for_bot_message(citizen, lambda m: "withdrawn" in m.text, timeout=8)
        assert "A partner found our source was wrong." in shown(notice)
    assert tipline.claim(claim_id).status == ClaimStatus.RETRACTED
    # The next citizen is not given the withdrawn answer.
    later = await tipline.ask(104, RUMOUR)
    assert "False" not in shown(later) and "looking into" in shown(later)


async def test_a_translation_reaches_citizens_in_their_language(tipline: Tipline) -> None:
    claim_id = await _published(tipline)
    emu = tipline.emu
    emu.send_text(ANA, f"/translate {claim_id}")
    ask_lang = await emu.wait_for_bot_message(ANA, lambda m: "language" in m.text)
    await tipline.press(ANA, ask_lang, "Español")
    await emu.wait_for_bot_message(ANA, lambda m: "summary" in m.text)
    emu.send_text(ANA, "Ningún estudio muestra que el agua con limón cure el cáncer.")
    preview = await emu.wait_for_bot_message(ANA, lambda m: "Publish" in m.button_texts())
    await tipline.press(ANA, preview, "Publish")
    await emu.wait_for_bot_message(ANA, lambda m: "Published" in m.text)
    with tipline.db.session() as s:
        langs = sorted(
            c.lang
            for c in s.exec(
                select(Clarification).where(Clarification.claim_id == claim_id, Clarification.is_current)
            )
        )
    assert langs == ["en", "es"]
    # A Spanish speaker forwards the English hoax from a channel: the answer comes in Spanish.
    emu.user(105, "Lucía", language_code="es")
    emu.forward(
        105,
        RUMOUR,
        origin={
            "type": "channel",
            "chat": {"id": -1002, "type": "channel", "title": "Salud Ya"},
            "message_id": 7,
        },
    )
    reply = await emu.wait_for_bot_message(105)
    assert "Ningún estudio" in shown(reply)


async def test_merging_a_duplicate_moves_its_requesters_and_tells_them_at_once(tipline: Tipline) -> None:
    claim_id = await _published(tipline)
    emu = tipline.emu
    dup = await tipline.ask(
        201, "Completely different words: grandma says garlic in your socks stops the flu overnight"
    )
    assert "Nobody has asked" in shown(dup)
    with tipline.db.session() as s:
        dup_id = max(c.id for c in s.exec(select(Claim)))
    reply = await tipline.ask(ANA, f"/merge {dup_id} {claim_id}")
    assert "Merged" in reply.text
    notice = await emu.wait_for_bot_message(201, lambda m: "There's an answer" in m.text, timeout=8)
    assert "False" in shown(notice)
    source, target = tipline.claim(dup_id), tipline.claim(claim_id)
    assert source.status == ClaimStatus.MERGED and source.merged_into_id == claim_id
    assert target.request_count == 4
    # A stale button on the merged claim's card says so and changes nothing.
    card = await emu.wait_for_bot_message(
        REVIEW_CHAT, lambda m: f"#{dup_id}" in m.text and "Merged" in m.text, timeout=8
    )
    assert card.button_texts() == []
    query = emu.press_button(ANA, REVIEW_CHAT, card.message_id, f"tk:{dup_id}", forge=True)
    answer = await emu.wait_for_callback_answer(query)
    assert "merged" in answer["text"]


async def test_four_eyes_needs_a_second_reviewer(db, emulator) -> None:
    emulator.create_group(REVIEW_CHAT, "Moderators", members=[ANA, 9003])
    async with conftest.running_bot(emulator, db, require_second_review=True) as tipline:
        db.transaction(lambda s: reviewers.add(s, 9003, name="Ben"))
        claim_id, card = await _new_claim_with_three_requesters(tipline)
        await _write_and_publish(tipline, ANA, card)
        await emulator.wait_for_bot_message(ANA, lambda m: "approval" in m.text)
        assert tipline.claim(claim_id).status == ClaimStatus.IN_REVIEW
        ask = await emulator.wait_for_bot_message(
            REVIEW_CHAT, lambda m: "Approve" in m.button_texts(), timeout=8
        )
        own = await tipline.press(ANA, ask, "Approve", chat_id=REVIEW_CHAT)
        assert "different reviewer" in (await emulator.wait_for_callback_answer(own))["text"]
        assert tipline.claim(claim_id).status == ClaimStatus.IN_REVIEW
        other = await tipline.press(9003, ask, "Approve", chat_id=REVIEW_CHAT)
        await emulator.wait_for_callback_answer(other)
        for citizen in CITIZENS:
            await emulator.wait_for_bot_message(citizen, lambda m: "There's an answer" in m.text, timeout=8)
        assert tipline.claim(claim_id).status == ClaimStatus.PUBLISHED
        with db.session() as s:
            actions = [a.action for a in s.exec(select(AuditLog).where(AuditLog.claim_id == claim_id))]
        assert "submit_for_approval" in actions and "approve" in actions


async def test_a_withdrawn_claim_stays_on_the_queue_with_who_and_why_and_in_the_figures(
    tipline: Tipline,
) -> None:
    open_id = tipline.db.transaction(lambda s: _open_claim(s, "Garlic in your socks stops the flu overnight"))
    withdrawn = tipline.seed_published("The river will flood the old town tonight, evacuate now")
    reply = await tipline.ask(ANA, f"/retract {withdrawn} The flood map we cited was from 2009.")
    assert "Withdrawn" in reply.text
    queue = shown(await tipline.ask(ANA, "/queue"))
    # The open claim first, then the withdrawn one with who withdrew it and why.
    assert queue.index(f"#{open_id}") < queue.index("Withdrawn, waiting for a new review")
    section = queue[queue.index("Withdrawn, waiting for a new review") :]
    assert f"#{withdrawn}" in section and "river will flood" in section
    assert "withdrawn by" in section and "The flood map we cited was from 2009." in section
    queue_message = tipline.emu.last_bot_message(ANA)
    assert queue_message is not None and f"Take #{withdrawn}" in queue_message.button_texts()
    figures = shown(await tipline.ask(ANA, "/stats"))
    assert "Withdrawn in the last 7 days: 1" in figures


def _open_claim(session, text: str) -> int:
    from factdb.normalize import normalize

    claim = Claim(text=text, normalized=normalize(text), lang="en", request_count=1)
    session.add(claim)
    session.flush()
    return claim.id  # type: ignore[return-value]


REWORDED = "Lemon water cures cancer, and doctors hide it."


def _code(message) -> list[str]:
    """What a <code> span shows (one tap copies it in Telegram)."""
    units = message.text.encode("utf-16-le")
    return [
        units[2 * e["offset"] : 2 * (e["offset"] + e["length"])].decode("utf-16-le")
        for e in message.entities
        if e["type"] == "code"
    ]


async def test_a_reviewer_rewords_a_claim_and_citizens_and_the_public_read_the_new_wording(
    tipline: Tipline,
) -> None:
    from tests.test_public_trust import public_site

    emu = tipline.emu
    claim_id, card = await _new_claim_with_three_requesters(tipline)
    emu.send_text(ANA, f"/reword {claim_id}")
    prompt = await emu.wait_for_bot_message(ANA, lambda m: "public should read" in m.text)
    assert "Citizens sent" in shown(prompt) and "doctors don't want you to know" in shown(prompt)
    assert _code(prompt) == [RUMOUR]  # what the public reads now, ready to copy and change
    emu.send_text(ANA, REWORDED)
    done = await emu.wait_for_bot_message(ANA, lambda m: "Reworded" in m.text)
    assert REWORDED in shown(done)
    # Reviewers see both: what citizens sent and what the public reads.
    both = await emu.wait_for_bot_message(REVIEW_CHAT, lambda m: "Public wording" in m.text, timeout=8)
    assert both.message_id == card.message_id
    assert "doctors don't want you to know" in shown(both) and REWORDED in shown(both)

    await _write_and_publish(tipline, ANA, card)
    for citizen in CITIZENS:
        notice = await emu.wait_for_bot_message(citizen, lambda m: "There's an answer" in m.text, timeout=8)
        assert f"You asked us about: {REWORDED}" in shown(notice)
        assert "don't want you to know" not in shown(notice)
    async with public_site(tipline) as get:
        _, page = await get(f"/claims/{claim_id}")
    assert "Lemon water cures cancer, and doctors hide it." in page and "want you to know" not in page
    claim = tipline.claim(claim_id)
    assert claim.public_text == REWORDED and claim.text == RUMOUR  # the original is kept
    with tipline.db.session() as s:
        actions = [a.action for a in s.exec(select(AuditLog).where(AuditLog.claim_id == claim_id))]
    assert "reword" in actions


async def test_rewording_a_published_claim_in_one_line_changes_no_clarification_and_tells_nobody(
    tipline: Tipline,
) -> None:
    from tests.test_public_trust import public_site

    claim_id = await _published(tipline)
    reply = await tipline.ask(555, f"/reword {claim_id} {REWORDED}")
    assert "Only reviewers" in shown(reply)
    assert tipline.claim(claim_id).public_text is None

    reply = await tipline.ask(ANA, f"/reword {claim_id} {REWORDED}")
    assert "Reworded" in shown(reply)
    async with public_site(tipline) as get:
        _, page = await get(f"/claims/{claim_id}")
        _, feed = await get("/feed/claimreview.json")
        (element,) = json.loads(feed)["dataFeedElement"]
        assert element["claimReviewed"] == REWORDED and REWORDED in page
        with tipline.db.session() as s:
            versions = s.exec(select(Clarification).where(Clarification.claim_id == claim_id)).all()
        assert [(v.version, v.is_current) for v in versions] == [(1, True)]
        # "-" gives the public the citizens' words back.
        reply = await tipline.ask(ANA, f"/reword {claim_id} -")
        assert "citizens' words again" in shown(reply)
        _, page = await get(f"/claims/{claim_id}")
        assert "doctors don&#39;t want you to know" in page or "doctors don't want you to know" in page
    await tipline.emu.wait_until_idle()
    assert all(_count(tipline, c, "Update") == 0 for c in CITIZENS)
    too_long = shown(await tipline.ask(ANA, f"/reword {claim_id} {'x' * 501}"))
    assert "501 characters" in too_long


async def test_editing_a_clarification_starts_from_its_current_summary_and_sources(tipline: Tipline) -> None:
    claim_id = await _published(tipline)
    emu = tipline.emu
    emu.send_text(ANA, f"/edit {claim_id}")
    ask_verdict = await emu.wait_for_bot_message(ANA, lambda m: "verdict" in m.text)
    await tipline.press(ANA, ask_verdict, "⚠️ Misleading")
    ask_summary = await emu.wait_for_bot_message(ANA, lambda m: "summary" in m.text)
    # Exactly as published, markup characters and all, ready to copy: not retyped from memory.
    assert _code(ask_summary) == [
        "No study shows that <lemon water> cures cancer & doctors recommend proven treatment."
    ]
    emu.send_text(ANA, "Lemon water is fine to drink, but it does not cure cancer.")
    ask_sources = await emu.wait_for_bot_message(ANA, lambda m: "sources" in m.text)
    assert _code(ask_sources) == [
        "https://www.who.int/news-room/fact-sheets/detail/cancer https://example.org/study"
    ]
