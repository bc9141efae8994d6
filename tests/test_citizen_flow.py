"""A citizen's journeys through the real bot, on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlmodel import func, select

from factdb.models import Claim, Request, Subscription
from tests.harness import REVIEW_CHAT, Tipline, shown

HOAX = "Tap water across the whole island will be cut off for three days from tomorrow, store water now and forward this to your family!"


async def test_start_says_what_the_bot_does_and_how_to_delete_data(tipline: Tipline) -> None:
    reply = await tipline.ask(1, "/start")
    assert "Forward me a message" in shown(reply)
    assert "/forget" in shown(reply)
    assert len(reply.text.splitlines()) <= 3


async def test_a_known_hoax_is_answered_at_once(tipline: Tipline) -> None:
    claim_id = tipline.seed_published(HOAX, summary="The water company announced no such cut.")
    reply = await tipline.ask(2, HOAX)
    assert "False" in shown(reply)
    assert "The water company announced no such cut." in shown(reply)
    assert reply.button_texts() == ["👍 Helpful", "👎 Not helpful", "This isn't my message"]
    with tipline.db.session() as s:
        assert s.get(Claim, claim_id).request_count == 1  # type: ignore[union-attr]


async def test_something_new_becomes_a_claim_and_a_card_for_reviewers(tipline: Tipline) -> None:
    reply = await tipline.ask(
        3, "The moon landing in 1969 was filmed in a studio in Nevada, insiders reveal", first_name="Tomas"
    )
    assert "Thanks, Tomas" in shown(reply)
    assert "Nobody has asked about this yet" in shown(reply)
    card = await tipline.emu.wait_for_bot_message(REVIEW_CHAT)
    assert "moon landing" in shown(card)
    assert card.button_texts() == ["Take", "Spam", "Merge into…"]
    with tipline.db.session() as s:
        assert s.exec(select(func.count()).select_from(Claim)).one() == 1
        assert s.exec(select(func.count()).select_from(Subscription)).one() == 1


async def test_html_in_a_citizens_text_is_shown_literally(tipline: Tipline) -> None:
    text = "<b>URGENT</b> & <script>alert(1)</script> banks close on Monday, withdraw your cash now"
    await tipline.ask(4, text)
    card = await tipline.emu.wait_for_bot_message(REVIEW_CHAT)
    assert "<b>URGENT</b> & <script>alert(1)</script>" in shown(card)


async def test_the_same_update_delivered_twice_is_counted_once(tipline: Tipline) -> None:
    message = tipline.emu.send_text(
        5, "Vaccines contain microchips that track you through 5G towers everywhere"
    )
    await tipline.emu.wait_for_bot_message(5)
    update_id = max(tipline.emu._update_history)  # the update just handled
    tipline.emu.redeliver(update_id)
    await tipline.emu.wait_until_idle()
    with tipline.db.session() as s:
        assert s.exec(select(func.count()).select_from(Request)).one() == 1
    assert len(tipline.emu.bot_messages(5)) == 1
    assert message["text"].startswith("Vaccines")
