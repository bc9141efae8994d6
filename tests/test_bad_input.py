"""Hostile and odd input: whatever a citizen (or a stranger) sends, the bot answers with one short,
kind line, or stays silent where silence is right — never a stack trace, never an error message.

Every test goes end to end through the Bot API emulator, on SQLite and PostgreSQL. The same update
delivered twice is covered in test_citizen_flow.py.
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlmodel import func, select

from factdb import closing, publishing
from factdb.db import Database
from factdb.models import Claim, ClaimStatus, Request
from tests import conftest
from tests.conftest import ADMIN
from tests.emulator import BotApiEmulator
from tests.harness import REVIEW_CHAT, Tipline, shown

HOAX = "The central bank will freeze every savings account on Monday, withdraw all your cash today"
NOTHING_TO_CHECK = "couldn't find any text to check"
ONLY_TEXT = "I can read text and pictures"
NO_VOICE = "I can't listen to voice messages"
PASTED_JSON = json.dumps(
    [{"id": i, "claim": "the vaccine changes DNA", "tags": ["x"] * 5} for i in range(1300)]
)
assert len(PASTED_JSON) > 100_000
_raw_ids = itertools.count(900_000)


def assert_kind(reply: Any) -> str:
    """One short bubble, no error, no internals."""
    text = shown(reply)
    assert text.strip(), "an empty reply"
    assert "went wrong" not in text and "Traceback" not in text and "Error" not in text, text
    assert len(text) <= 700, f"{len(text)} characters is not a phone-screen answer"
    return text


def raw_text_update(emu: Any, user_id: int, text: str, first_name: str = "Rae") -> int:
    """A message Telegram's own client would not produce (whitespace only, 100 KB…)."""
    emu.user(user_id, first_name)
    user = {"id": user_id, "is_bot": False, "first_name": first_name}
    return emu.send_raw_update(
        {
            "message": {
                "message_id": next(_raw_ids),
                "date": int(time.time()),
                "chat": {"id": user_id, "type": "private", "first_name": first_name},
                "from": user,
                "text": text,
            }
        }
    )


def requests(tipline: Tipline) -> int:
    with tipline.db.session() as s:
        return s.exec(select(func.count()).select_from(Request)).one()


async def test_only_spaces_invisible_characters_or_emoji_are_told_what_we_can_read(tipline: Tipline) -> None:
    """Telegram itself never delivers empty text, so these come as raw updates."""
    for n, text in enumerate(
        ["   \n\t  ", "\u200b\u200c\u200d\u2060\ufeff", "\u2068\u202e\u2069", "😱🔥🔥👇"]
    ):
        raw_text_update(tipline.emu, 10 + n, text)
        reply = await tipline.emu.wait_for_bot_message(10 + n)
        assert NOTHING_TO_CHECK in assert_kind(reply)
    assert NOTHING_TO_CHECK in assert_kind(await tipline.ask(14, "🤔🤔🤔"))
    assert requests(tipline) == 0  # nothing to check is not a request
    zalgo = "T̶̡͓h̷̢͝e̵͚͠ ̴̨͝w̸̢͠a̵̡͝t̸̢̛e̴̡͝r̸̢͠ ̶̨͝i̵̡͝s̸̢͠ ̶̡͝p̵̢͠o̴̡͝i̸̢͠s̵̡͝o̵̡͝n̸̢͠e̵̡͝d̵̢͠ in every tap of the city"
    assert_kind(await tipline.ask(15, zalgo))


async def test_one_character_4096_characters_a_1024_caption_a_huge_url_and_100_kb_are_all_answered(
    tipline: Tipline,
) -> None:
    emu = tipline.emu
    assert_kind(await tipline.ask(20, "?"))
    long_text = ("The mayor said the bridge will close for repairs next year. " * 80)[:4096]
    assert len(long_text) == 4096
    assert "Thanks" in assert_kind(await tipline.ask(21, long_text))
    caption = ("Photo shows the new stadium collapsing during the storm last night, share it. " * 20)[:1024]
    emu.send_message(22, photo=True, caption=caption)
    assert "Thanks" in assert_kind(await emu.wait_for_bot_message(22))
    url = "https://news.example.org/" + "a1b2c3/" * 500 + "?utm_source=x&id=" + "9" * 300
    assert_kind(await tipline.ask(23, f"Look what they hid: {url}"))
    # reviewers see excerpts, never a wall of text
    for needle in ("bridge", "stadium", "they hid"):
        card = await emu.wait_for_bot_message(REVIEW_CHAT, lambda m, n=needle: n in m.text, since=0)
        assert len(card.text) < 1000, needle
    with tipline.db.session() as s:
        stored = {r.text for r in s.exec(select(Request)).all()}
    assert caption in stored and long_text in stored


@pytest.mark.timing
async def test_100_kb_of_pasted_json_is_answered_and_stored_capped(tipline: Tipline) -> None:
    raw_text_update(tipline.emu, 24, PASTED_JSON)  # more than Telegram delivers: only a forged update
    assert_kind(await tipline.emu.wait_for_bot_message(24, timeout=10))
    assert_kind(await tipline.ask(25, "Is it true the post office closes on Fridays from next month?"))
    with tipline.db.session() as s:
        assert max(len(r.text or "") for r in s.exec(select(Request)).all()) <= 8192  # not 100 KB a row


async def test_a_citizen_pasting_8_kb_does_not_stall_everyone_else(tipline: Tipline) -> None:
    long_claim = ("The mayor said the bridge will close for repairs next year and nobody may cross. " * 60)[
        :4096
    ]
    await tipline.ask(60, long_claim)
    raw_text_update(tipline.emu, 61, PASTED_JSON)
    started = time.monotonic()
    reply = await tipline.ask(
        62,
        "Is it true the post office closes on Fridays from next month?",
    )
    waited = time.monotonic() - started
    print(f"a citizen behind one 8 KB paste waited {waited:.2f} s")
    assert_kind(reply)
    assert waited < 1.0


async def test_a_hoax_hidden_with_zero_width_and_bidi_characters_is_still_recognised(
    tipline: Tipline,
) -> None:
    tipline.seed_published(HOAX, summary="The central bank announced no such freeze.")
    sneaky = "\u202eThe central\u200b bank will fr\u200deeze every savings account on Monday, withdraw all your cash today\u202c"
    reply = await tipline.ask(30, sneaky)
    assert "central bank announced no such freeze" in assert_kind(reply)


async def test_markdown_html_and_direction_overrides_are_shown_literally_to_reviewers(
    tipline: Tipline,
) -> None:
    text = "**URGENT** _banks_ `close` [tomorrow](http://evil.example) <i>forever</i> &amp; <a href=x>now</a>"
    assert_kind(await tipline.ask(31, text))
    card = await tipline.emu.wait_for_bot_message(REVIEW_CHAT, lambda m: "URGENT" in m.text)
    assert text in shown(card)
    assert not [e for e in card.entities if e["type"] in ("italic", "code", "text_link", "pre")]
    rlo = "\u202eBanks close on Monday and never open again, tell everyone you know"
    assert_kind(await tipline.ask(32, rlo))
    card = await tipline.emu.wait_for_bot_message(REVIEW_CHAT, lambda m: "never open again" in m.text)
    # the citizen's text sits inside an isolate, their own override removed: it cannot reorder
    # the card's own words
    assert "\u202e" not in card.text
    assert "\u2068Banks close" in card.text and card.text.index("\u2069") > card.text.index("tell everyone")


async def test_every_kind_of_message_we_cannot_read_gets_the_one_kind_line(tipline: Tipline) -> None:
    """Pictures, GIFs and videos are read (tests/test_pictures.py); what is left gets one kind
    line saying what the bot can read, and voice and audio one saying what to send instead."""
    kinds = ["sticker", "voice", "audio", "location", "contact", "poll", "dice"]
    for n, kind in enumerate(kinds):
        user = 40 + n
        tipline.emu.send_message(user, **{kind: True})
        reply = await tipline.emu.wait_for_bot_message(user)
        assert (NO_VOICE if kind in ("voice", "audio") else ONLY_TEXT) in assert_kind(reply), kind
    await tipline.emu.wait_until_idle()
    for n in range(len(kinds)):
        assert len(tipline.emu.bot_messages(40 + n)) == 1
    assert requests(tipline) == 0


async def test_strangers_groups_channels_and_edits_get_silence(tipline: Tipline) -> None:
    """Where silence is right: chatter in other groups (a group the bot is added to hears one
    introduction and then only near-exact hits on published claims: docs/reach.md), channel
    posts, and edited messages (documented in
    handlers/router.py: a message is checked when it is sent; an edit gets no reply and changes
    no count)."""
    emu = tipline.emu
    emu.create_group(-100777, "Family chat", members=[50, 51])
    emu.send_text(50, "Forward this to everyone: the water is poisoned tonight", chat_id=-100777)
    emu.send_message(51, chat_id=-100777, sticker=True)
    emu.send_text(51, "/start", chat_id=-100777)
    emu.add_bot_to_group(52, -100888, "Rumour mill")
    emu.channel_post(-100999, "Breaking: the election is cancelled, share now")
    sent = emu.send_text(53, "The school holidays start two weeks early this year, ministry says")
    await emu.wait_for_bot_message(53)
    emu.edit_text(53, 53, sent["message_id"], "Actually the holidays are cancelled entirely")
    await emu.wait_until_idle()
    assert emu.bot_messages(-100777) == [] and emu.bot_messages(-100999) == []
    assert ["fact-checking bot" in m.text for m in emu.bot_messages(-100888)] == [True], "the introduction"
    assert not [r for r in emu.requests_log if r["method"] == "leaveChat"]
    assert len(emu.bot_messages(53)) == 1
    assert requests(tipline) == 1


async def test_a_citizens_old_buttons_after_a_merge_or_a_retraction_get_a_kind_reply(
    tipline: Tipline,
) -> None:
    emu = tipline.emu
    first = await tipline.ask(54, "The new ten euro notes will stop being accepted from the first of June")
    second = await tipline.ask(55, "Parliament votes to make Sunday shopping illegal in every town next year")
    with tipline.db.session() as s:
        source, target = (c.id for c in s.exec(select(Claim).order_by(Claim.id)).all())
    tipline.db.transaction(lambda s: closing.merge(s, source, target, ADMIN))
    # "How long will it take?" on the merged claim answers about the claim it went into
    await tipline.press(54, first, "How long will it take?")
    assert "number 1 of 1" in assert_kind(await emu.wait_for_bot_message(54))
    await tipline.press(55, second, "How long will it take?")
    assert_kind(await emu.wait_for_bot_message(55))

    claim_id = tipline.seed_published(HOAX)
    answer = await tipline.ask(56, HOAX)
    tipline.db.transaction(lambda s: publishing.retract(s, claim_id, ADMIN, "The source was misread"))
    for label in ("👍 Helpful", "This isn't my message"):
        query = await tipline.press(56, answer, label)
        reply = await emu.wait_for_callback_answer(query)
        assert "went wrong" not in (reply.get("text") or "")
    await emu.wait_until_idle()
    for chat in (54, 55, 56):
        for message in emu.bot_messages(chat):
            assert_kind(message)


@pytest.fixture
async def roomy_tipline(db: Database, emulator: BotApiEmulator) -> AsyncIterator[Tipline]:
    """A tipline whose flood limit lets one citizen try fifteen forgeries in a minute (what a
    flood of forgeries gets instead is tests/test_floods.py's subject)."""
    emulator.create_group(REVIEW_CHAT, "Moderators", members=[ADMIN])
    async with conftest.running_bot(emulator, db, flood_per_minute=100) as tipline:
        yield tipline


async def test_forged_and_oversized_buttons_from_a_citizen_change_nothing(roomy_tipline: Tipline) -> None:
    tipline = roomy_tipline
    emu = tipline.emu
    victim_reply = await tipline.ask(57, "Eating garlic every day prevents all kinds of flu, doctors confirm")
    mine = await tipline.ask(58, "Mobile phone masts cause headaches in children, a study shows")
    with tipline.db.session() as s:
        victim_request = s.exec(select(Request).order_by(Request.id)).first()
        claim_ids = [c.id for c in s.exec(select(Claim)).all()]
    assert victim_request is not None and victim_reply is not None
    forged = [
        f"fb:h:{victim_request.id}",  # someone else's request
        f"nm:{victim_request.id}",
        f"pk:{victim_request.id}:{claim_ids[0]}",
        f"no:{victim_request.id}",
        f"tk:{claim_ids[0]}",  # a reviewer's action
        f"sp:{claim_ids[0]}",
        f"mi:{claim_ids[0]}:{claim_ids[1]}",
        "vd:1:true",
        "pb:1",
        "ln:xx",
        "wt:99999",  # an id no claim has
        "fb:h:" + "9" * 60,  # oversized
        "x" * 200,
        "tk:١٢",  # non-ASCII digits
        "",
    ]
    for data in forged:
        query = emu.press_button(58, 58, mine.message_id, data, forge=True)
        answer = await emu.wait_for_callback_answer(query)
        assert "went wrong" not in (answer.get("text") or ""), data
    await emu.wait_until_idle()
    for message in emu.bot_messages(58):
        assert_kind(message)
    with tipline.db.session() as s:
        assert {c.status for c in s.exec(select(Claim)).all()} == {ClaimStatus.NEW}
        assert s.get(Request, victim_request.id).claim_id == victim_request.claim_id  # type: ignore[union-attr]
    assert len(emu.bot_messages(57)) == 1  # the victim heard nothing


async def test_a_forged_button_with_an_id_beyond_the_database_range_gets_a_kind_reply(
    tipline: Tipline, request: pytest.FixtureRequest
) -> None:
    mine = await tipline.ask(59, "Mobile phone masts cause headaches in children, a study shows")
    for data in ("wt:999999999999999999", "fb:h:2147483648", "nm:99999999999"):
        query = tipline.emu.press_button(59, 59, mine.message_id, data, forge=True)
        await tipline.emu.wait_for_callback_answer(query)
    await tipline.emu.wait_until_idle()
    for message in tipline.emu.bot_messages(59):
        assert_kind(message)
