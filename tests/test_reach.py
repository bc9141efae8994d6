"""Reach where people talk: a quiet group mode, deep links, a channel of clarifications, a weekly
digest — as a group member, a channel reader and a subscriber see them."""

from __future__ import annotations

import asyncio

from sqlalchemy import update
from sqlmodel import func, select

from bench._seed import claim_with_subscribers, publish_ready
from factdb import digest, publishing
from factdb.db import Database
from factdb.models import Citizen, Claim, Request, SeenUser, utcnow
from factdb.reach_models import DigestSubscriber, GroupAnswer
from tests import conftest
from tests.conftest import ADMIN, REVIEW_CHAT
from tests.emulator import BotApiEmulator
from tests.harness import Tipline, add_translation, shown

FAMILY = -1002000000901
HOAX = "The water company will cut off tap water in the whole city for three days starting tomorrow"


async def test_a_family_group_hears_once_about_a_known_hoax_and_nothing_about_anything_else(
    tipline: Tipline,
) -> None:
    emu = tipline.emu
    claim_id = tipline.seed_published(HOAX, summary="The water company announced no cut; the notice is fake.")
    emu.user(7400, "Grandma", language_code="en")
    emu.user(7401, "Cousin", language_code="en")
    emu.add_bot_to_group(7400, FAMILY, "Family")
    intro = shown(await emu.wait_for_bot_message(FAMILY))
    assert "I only reply to messages that match a fact-check" in intro
    await emu.wait_until_idle()
    assert emu.bot_messages(7400) == [], "a family member gets no setup instructions"

    emu.send_text(7401, "Did you see this? " + HOAX, chat_id=FAMILY)
    reply = shown(await emu.wait_for_bot_message(FAMILY, lambda m: "fake" in m.text))
    assert "False" in reply and "the notice is fake" in reply
    assert f"t.me/{emu.bot_user['username']}?start=claim_{claim_id}" in reply

    # the same rumour again the same day, and ordinary chatter: silence
    emu.send_text(7400, HOAX, chat_id=FAMILY)
    emu.send_text(7401, "Lunch at ours on Sunday? I'll bring the cake", chat_id=FAMILY)
    emu.send_text(7401, "water", chat_id=FAMILY)
    await emu.wait_until_idle()
    assert len(emu.bot_messages(FAMILY)) == 2
    with tipline.db.session() as s:
        assert s.exec(select(func.count()).select_from(Claim)).one() == 1, "chatter is never a claim"
        assert s.exec(select(Request)).all() == []
        assert s.exec(select(Citizen)).all() == [] and s.exec(select(SeenUser)).all() == []
        assert [(a.chat_id, a.claim_id) for a in s.exec(select(GroupAnswer))] == [(FAMILY, claim_id)]

    # Grandma follows the link: the whole clarification, privately
    answer = shown(await tipline.ask(7400, f"/start claim_{claim_id}"))
    assert "the notice is fake" in answer and "Sources:" in answer


async def test_only_group_admins_silence_the_bot_or_choose_its_language(tipline: Tipline) -> None:
    emu = tipline.emu
    claim_id = tipline.seed_published(HOAX, summary="The notice is fake.")
    add_translation(tipline.db, claim_id, "es", "false", "El aviso es falso.")
    emu.add_bot_to_group(7500, FAMILY, "Familia")
    await emu.wait_for_bot_message(FAMILY)
    emu.make_admin(FAMILY, 7500)

    emu.send_text(7501, "/groupmode off", chat_id=FAMILY)
    assert "Only the group's admins" in shown(
        await emu.wait_for_bot_message(FAMILY, lambda m: "admins" in m.text)
    )
    emu.send_text(7500, "/grouplanguage es", chat_id=FAMILY)
    await emu.wait_for_bot_message(FAMILY, lambda m: "language" in m.text.lower() or "idioma" in m.text)
    emu.send_text(7501, HOAX, chat_id=FAMILY)
    assert "El aviso es falso" in shown(await emu.wait_for_bot_message(FAMILY, lambda m: "aviso" in m.text))

    mark = len(emu.bot_messages(FAMILY))
    emu.send_text(7500, "/groupmode off", chat_id=FAMILY)
    await emu.wait_for_bot_message(FAMILY, lambda m: len(emu.bot_messages(FAMILY)) > mark)
    tipline.db.transaction(lambda s: [s.delete(a) for a in s.exec(select(GroupAnswer)).all()])
    emu.send_text(7501, HOAX, chat_id=FAMILY)
    await emu.wait_until_idle()
    assert len(emu.bot_messages(FAMILY)) == mark + 1, "off means off"


async def test_an_admin_who_adds_the_bot_to_a_group_still_gets_its_id(tipline: Tipline) -> None:
    emu = tipline.emu
    emu.add_bot_to_group(ADMIN, FAMILY, "Neighbours")
    told = shown(await emu.wait_for_bot_message(ADMIN))
    assert f"CROWDCHECK_REVIEW_CHAT_ID={FAMILY}" in told
    assert "quiet group" in told


async def test_a_deep_link_to_a_claim_that_was_withdrawn_says_so_kindly(tipline: Tipline) -> None:
    claim_id = tipline.seed_published(HOAX)
    tipline.db.transaction(lambda s: publishing.retract(s, claim_id, ADMIN, "Wrong source"))
    answer = shown(await tipline.ask(7600, f"/start claim_{claim_id}"))
    assert "not available any more" in answer
    assert "Hi!" not in answer


CHANNEL = -1003000000001


async def test_a_channel_reader_sees_each_publication_once_and_its_retraction(
    db: Database, emulator: BotApiEmulator
) -> None:
    emulator.create_group(REVIEW_CHAT, "Moderators", members=[ADMIN])
    emulator.create_channel(CHANNEL, "Fact-checks")
    async with conftest.running_bot(emulator, db, channel_id=CHANNEL) as tipline:
        claim_id = tipline.seed_published(HOAX)  # seeded: not a publication, nothing posted

        def publish(s):  # type: ignore[no-untyped-def]
            cid = claim_with_subscribers(s, "Banks will freeze all savings accounts on Friday", 7700, 1)
            publish_ready(s, cid, ADMIN, summary="No bank announced this.", source="https://ex.org/b")
            return cid

        published = db.transaction(publish)
        tipline.runtime.svc.wake_outbox()
        post = await emulator.wait_for_bot_message(CHANNEL)
        assert "No bank announced this." in shown(post) and "Banks will freeze" in shown(post)

        db.transaction(lambda s: publishing.retract(s, published, ADMIN, "Checking again"))
        tipline.runtime.svc.wake_outbox()
        for _ in range(100):
            posts = emulator.bot_messages(CHANNEL)
            if "withdrawn" in posts[0].text:
                break
            await asyncio.sleep(0.1)
        await emulator.wait_until_idle()
        posts = emulator.bot_messages(CHANNEL)
        assert len(posts) == 1, "edited in place, never posted twice"
        assert "withdrawn" in shown(posts[0])
        assert claim_id != published


async def test_a_subscriber_gets_the_weekly_digest_once_and_a_blocked_one_is_unsubscribed(
    tipline: Tipline,
) -> None:
    emu = tipline.emu
    claim_id = tipline.seed_published(HOAX, summary="The notice is fake.")
    assert "every week" in shown(await tipline.ask(7800, "/subscribe"))
    assert "already subscribed" in shown(await tipline.ask(7800, "/subscribe"))
    await tipline.ask(7801, "/subscribe")
    emu.block(7801)

    # They subscribed last week (a digest starts the week after /subscribe).
    tipline.db.transaction(lambda s: s.execute(update(DigestSubscriber).values(last_week="2000-W01")))
    for _ in range(2):  # two workers asking at once, or one asking twice: one digest each
        tipline.db.transaction(lambda s: digest.queue_round(s, utcnow()))
    tipline.runtime.svc.wake_outbox()
    got = shown(await emu.wait_for_bot_message(7800, lambda m: "most asked" in m.text))
    assert "The water company will cut off" in got and f"claims/{claim_id}" in got
    await emu.wait_until_idle()
    assert sum(m.text.startswith("📰") for m in emu.bot_messages(7800)) == 1
    for _ in range(100):  # the blocked subscriber's row meets its 403 in its own time
        with tipline.db.session() as s:
            blocked = s.exec(select(Citizen).where(Citizen.telegram_user_id == 7801)).one()
            if not digest.is_subscribed(s, blocked.id):  # type: ignore[arg-type]
                break
        await asyncio.sleep(0.1)
    else:
        raise AssertionError("a subscriber who blocked the bot is still subscribed")

    assert "no more weekly digests" in shown(await tipline.ask(7800, "/unsubscribe"))


async def test_typing_the_bots_name_in_any_chat_offers_published_clarifications_only(
    tipline: Tipline,
) -> None:
    emu = tipline.emu
    emu.set_inline_mode(True)
    claim_id = tipline.seed_published(HOAX, summary="The water company announced no cut; the notice is fake.")
    add_translation(tipline.db, claim_id, "es", "false", "El aviso de la compañía de agua es falso.")
    # a citizen's unreviewed message with the same words is never offered
    await tipline.ask(7900, "Secret report: the water company adds chemicals to make the whole city sleepy")

    query_id = emu.inline_query(7901, "water company", chat_type="supergroup")
    answer = await emu.wait_for_inline_answer(query_id)
    assert [r["id"] for r in answer["results"]] == [f"claim-{claim_id}"]
    assert answer["results"][0]["title"].startswith("❌ False: The water company will cut off")

    emu.user(7902, "Lucía", language_code="es")
    spanish = await emu.wait_for_inline_answer(emu.inline_query(7902, "tap water"))
    assert "falso" in spanish["results"][0]["description"]

    recent = await emu.wait_for_inline_answer(emu.inline_query(7901, ""))  # nothing typed yet
    assert f"claim-{claim_id}" in [r["id"] for r in recent["results"]]

    emu.user(7903, "Neighbour")
    posted = emu.choose_inline_result(7901, query_id, f"claim-{claim_id}", chat_id=7903)
    assert "the notice is fake" in posted["text"] and posted["via_bot"]["id"] == emu.bot_user["id"]
    assert posted["reply_markup"]["inline_keyboard"][0][0]["url"].endswith(f"start=claim_{claim_id}")
