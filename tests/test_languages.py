"""Citizens are answered in their own language, through the real bot, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from factdb import outbox
from factdb.models import Citizen, Request
from tests.conftest import ADMIN
from tests.emulator import ChatMessage
from tests.harness import REVIEW_CHAT, Tipline, add_translation, shown

FSI, PDI = "\u2068", "\u2069"  # first-strong isolate … pop directional isolate

BANKS_ES = (
    "El gobierno va a congelar todas las cuentas bancarias el lunes, saquen su dinero ya "
    "y compartan este mensaje con toda su familia antes de que lo borren"
)
WATER_ZH = "網傳明天起全台自來水停水三天，請大家趕快儲水，並轉傳給家人朋友！"
MOON_EN = "The moon landing in 1969 was filmed in a studio in Nevada, insiders finally reveal the truth"
VACCINE_EN = "Vaccines contain microchips that track you through 5G towers everywhere you go"
BANKS_AR = "الحكومة ستغلق جميع البنوك يوم الاثنين، اسحبوا أموالكم الآن وأرسلوا هذه الرسالة للجميع"


def stored_language(tipline: Tipline, user_id: int) -> str | None:
    with tipline.db.session() as s:
        citizen = s.exec(select(Citizen).where(Citizen.telegram_user_id == user_id)).one()
        return citizen.lang


@pytest.mark.parametrize("telegram_language", [None, "en"])
async def test_someone_writing_spanish_is_answered_in_spanish(
    tipline: Tipline, telegram_language: str | None
) -> None:
    claim_id = tipline.seed_published(BANKS_ES, summary="The central bank announced no such freeze.")
    add_translation(tipline.db, claim_id, "es", "false", "El banco central no anunció ningún congelamiento.")

    reply = await tipline.ask(21, BANKS_ES, language_code=telegram_language)

    assert "❌ Falso" in shown(reply)
    assert "El banco central no anunció ningún congelamiento." in shown(reply)
    assert "central bank" not in shown(reply)
    assert "Fuentes:" in shown(reply) and "todavía no está disponible" not in shown(reply)
    assert reply.button_texts() == ["👍 Me sirvió", "👎 No me sirvió", "No es mi mensaje"]
    assert stored_language(tipline, 21) == "es"


async def test_a_new_spanish_message_is_thanked_in_spanish_and_help_follows(tipline: Tipline) -> None:
    reply = await tipline.ask(22, BANKS_ES, first_name="Lucía")
    assert "¡Gracias, Lucía! Nadie había preguntado por esto todavía." in shown(reply)
    assert reply.button_texts() == ["¿Cuánto va a tardar?"]
    help_text = await tipline.ask(22, "/help")
    assert "/language — elige tu idioma" in shown(help_text)


async def test_a_taiwanese_reader_gets_the_english_answer_with_a_note_in_chinese(
    tipline: Tipline,
) -> None:
    tipline.seed_published(WATER_ZH, summary="The water company announced no such cut.", lang="en")

    reply = await tipline.ask(23, WATER_ZH, language_code="zh-hant")

    text = shown(reply)
    assert "❌ 錯誤" in text
    assert "The water company announced no such cut." in text
    assert text.splitlines()[-1] == "這則回覆目前還沒有中文版。"
    assert "資料來源：" in text and "完整澄清：" in text
    assert reply.button_texts() == ["👍 有幫助", "👎 沒幫助", "這不是我問的訊息"]


async def test_a_new_chinese_message_is_thanked_the_taiwanese_way(tipline: Tipline) -> None:
    reply = await tipline.ask(24, WATER_ZH, first_name="小美")
    assert shown(reply).startswith("謝謝你，小美！")
    assert reply.button_texts() == ["要等多久？"]


async def _publish_in_english(tipline: Tipline, card: ChatMessage, verdict: str = "❌ False") -> None:
    """A reviewer (interface in English) writes and publishes an English clarification."""
    await tipline.write_and_publish(
        ADMIN,
        card,
        verdict=verdict,
        summary="Apollo 11 landed on the Moon; independent observatories tracked it.",
        sources="https://www.nasa.gov/mission/apollo-11/",
    )


async def test_choosing_a_language_changes_every_reply_and_later_notices(tipline: Tipline) -> None:
    emu = tipline.emu
    first = await tipline.ask(25, MOON_EN, first_name="Rūta", language_code="en")
    assert "Thanks, Rūta" in shown(first)
    card = await emu.wait_for_bot_message(REVIEW_CHAT, lambda m: "moon landing" in m.text)

    menu = await tipline.ask(25, "/language")
    assert shown(menu) == "Which language should I use?"
    assert menu.button_texts() == ["English", "繁體中文", "Español", "Lietuvių"]
    await tipline.press(25, menu, "Lietuvių")
    done = await emu.wait_for_bot_message(25, lambda m: m.message_id > menu.message_id)
    assert shown(done) == "Atlikta! Nuo šiol rašysiu jums lietuviškai."

    help_text = await tipline.ask(25, "/help")
    assert "/language – pasirinkti kalbą" in shown(help_text)
    # Writing English again does not undo a choice the citizen made.
    again = await tipline.ask(25, VACCINE_EN)
    assert "Ačiū, Rūta." in shown(again)
    assert stored_language(tipline, 25) == "lt"

    await _publish_in_english(tipline, card)
    notice = await emu.wait_for_bot_message(25, lambda m: "🔔" in m.text, timeout=8)
    lines = shown(notice).splitlines()
    assert lines[0] == "🔔 Turime atsakymą apie jūsų atsiųstą žinutę."
    assert lines[1].startswith("Jūs klausėte mūsų apie: The moon landing")
    assert "❌ Netiesa" in shown(notice) and "Apollo 11 landed" in shown(notice)
    assert lines[-1] == "Šio atsakymo lietuvių kalba dar nėra."
    assert notice.button_texts() == ["👍 Naudinga", "👎 Nenaudinga", "Tai ne mano žinutė"]
    # The reviewer's own interface stayed in English all along.
    assert await emu.wait_for_bot_message(ADMIN, lambda m: "Published. 1 person will be told." in m.text)


async def test_a_notice_is_worded_in_the_language_chosen_after_the_question(tipline: Tipline) -> None:
    """Notices are rendered when they are sent, so switching language in between is honoured."""
    claim_id = tipline.seed_published(VACCINE_EN, verdict="misleading", summary="No vaccine contains a chip.")
    answer = await tipline.ask(26, VACCINE_EN, language_code="en")
    assert "⚠️ Misleading" in shown(answer)

    menu = await tipline.ask(26, "/language")
    await tipline.press(26, menu, "Español")
    await tipline.emu.wait_for_bot_message(26, lambda m: "español" in m.text)

    def queue_update(session: Session) -> None:
        citizen = session.exec(select(Citizen).where(Citizen.telegram_user_id == 26)).one()
        outbox.enqueue(
            session,
            dedupe_key=f"test-update:{claim_id}:{citizen.id}",
            kind="update",
            chat_id=citizen.chat_id,
            citizen_id=citizen.id,
            claim_id=claim_id,
            payload={"old_verdict": "false"},
        )

    tipline.db.transaction(queue_update)
    tipline.runtime.svc.wake_outbox()
    notice = await tipline.emu.wait_for_bot_message(26, lambda m: "🔄" in m.text, timeout=8)
    text = shown(notice)
    assert text.startswith("🔄 Actualización: cambiamos la calificación de ❌ Falso a ⚠️ Engañoso.")
    assert "Nos preguntaste por: Vaccines contain microchips" in text
    assert "No vaccine contains a chip." in text
    assert text.splitlines()[-1] == "Esta respuesta todavía no está disponible en español."


async def test_right_to_left_text_is_isolated_so_our_words_keep_their_order(tipline: Tipline) -> None:
    reply = await tipline.ask(27, BANKS_AR, first_name="דוד")
    # The Hebrew name sits inside isolates; the English around it stays left-to-right.
    assert f"Thanks, {FSI}דוד{PDI}. Nobody has asked" in reply.text

    checks = await tipline.ask(27, "/mychecks")
    line = checks.text.splitlines()[1]
    assert line.startswith(f"• {FSI}الحكومة")
    assert f"{PDI} — ⏳ waiting for a reviewer" in line
    assert line.count(FSI) == line.count(PDI) == 1

    card = await tipline.emu.wait_for_bot_message(REVIEW_CHAT, lambda m: "الحكومة" in m.text)
    assert f"{FSI}{BANKS_AR}{PDI}" in card.text
    with tipline.db.session() as s:
        assert s.exec(select(Request.lang)).one() == "ar"
