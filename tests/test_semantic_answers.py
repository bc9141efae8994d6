"""A rumour checked in English arrives in Spanish: the semantic stage offers the English claim
as a button (cross-lingual hits are never answered at once), and the citizen who picks it gets
the clarification in Spanish when reviewers translated it, else the English one with one line,
in Spanish, saying so. Through the emulator, with a fake model (tests/test_semantic_matcher.py)
whose words of one concept share a direction in any language."""

from __future__ import annotations

from types import SimpleNamespace

from factdb.db import Database
from factdb.matching import Matcher
from factdb.semantic.store import sync_vectors
from tests.emulator import BotApiEmulator
from tests.harness import Tipline, add_translation, shown
from tests.test_semantic_matcher import FakeEmbedder
from tests.test_semantic_vectors import CountingEmbedder, _runtime

CLAIM = "The water company will cut the water in the whole city for three days"
SPANISH = "La compañía de agua cortará el agua en toda la ciudad durante tres días, pásalo a todos"
SUMMARY = "The water company announced no cut; the message is from 2019."
RESUMEN = "La compañía de agua no anunció ningún corte; el mensaje es de 2019."


def _published(db: Database, emulator: BotApiEmulator) -> int:
    offline = Tipline(emulator, SimpleNamespace(svc=SimpleNamespace(index=Matcher(semantic=False))), db)  # type: ignore[arg-type]
    claim_id = offline.seed_published(CLAIM, summary=SUMMARY, lang="en")
    sync_vectors(db.engine, FakeEmbedder())  # type: ignore[arg-type]  # as `crowdcheck import` does
    return claim_id


async def _offered_then_picked(tipline: Tipline, claim_id: int) -> str:
    emu = tipline.emu
    offer = await tipline.ask(301, SPANISH, first_name="Lucía", language_code="es")
    assert "1. " in shown(offer) and "water company" in shown(offer)  # offered, not answered
    assert not any(b.startswith("✅") for b in offer.button_texts())
    emu.press_button(301, offer.chat_id, offer.message_id, offer.callback_data(offer.button_texts()[0]))
    answer = await emu.wait_for_bot_message(
        301, lambda m: m.message_id != offer.message_id or m.text != offer.text
    )
    return shown(answer)


async def test_a_picked_cross_lingual_hit_is_answered_in_the_citizens_language(
    db: Database, emulator: BotApiEmulator
) -> None:
    claim_id = _published(db, emulator)
    add_translation(db, claim_id, "es", "false", RESUMEN)
    tipline = await _runtime(db, emulator, CountingEmbedder())
    try:
        text = await _offered_then_picked(tipline, claim_id)
    finally:
        await tipline.runtime.stop()
    assert RESUMEN in text and SUMMARY not in text
    assert "Falso" in text and "español" not in text
    assert "Tu versión" not in text  # another language differs in every word: not listed


async def test_without_a_translation_the_original_comes_with_one_line_saying_so(
    db: Database, emulator: BotApiEmulator
) -> None:
    claim_id = _published(db, emulator)
    tipline = await _runtime(db, emulator, CountingEmbedder())
    try:
        text = await _offered_then_picked(tipline, claim_id)
    finally:
        await tipline.runtime.stop()
    assert SUMMARY in text
    notes = [line for line in text.splitlines() if "español" in line]
    assert notes == ["Esta respuesta todavía no está disponible en español."]
    assert len(text.splitlines()) == 4  # verdict, sources, full clarification, that line
