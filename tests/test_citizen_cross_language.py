"""A rumour checked in English arrives in Spanish, sharing enough names and numbers with the
English claim for the lexical matcher to be sure of it. Lexical only (no semantic stage): the
claim is offered as a button, not answered at once (issue 15 item 3: a wrong clarification is
worse than none, and a translation is often another claim); the citizen who presses it gets
the reviewers' Spanish translation. Through the emulator."""

from __future__ import annotations

import pytest

from factdb.db import Database
from factdb.language import wait_for_models
from factdb.models import MatchLog
from tests.harness import Tipline, add_translation, shown

CLAIM = "Bill Gates patented a COVID-19 vaccine microchip with Moderna and Pfizer in 2019"
SPANISH = (
    "Bill Gates patentó el microchip COVID-19 de Moderna y Pfizer en 2019. ¿Es verdad esto que me llegó?"
)
SUMMARY = "No such patent exists; the patent number quoted is for a cryptocurrency system."
RESUMEN = "No existe tal patente; el número citado es de un sistema de criptomonedas."


@pytest.fixture(autouse=True)
def _models() -> None:
    assert wait_for_models(120)  # the final language detector, not its stand-in while loading


async def test_a_spanish_message_matching_an_english_claim_is_offered_then_answered_in_spanish(
    tipline: Tipline, db: Database
) -> None:
    assert tipline.runtime.svc.index.semantic is None  # lexical only
    claim_id = tipline.seed_published(CLAIM, summary=SUMMARY, lang="en")
    add_translation(db, claim_id, "es", "false", RESUMEN)

    offer = await tipline.ask(401, SPANISH, first_name="Lucía", language_code="es")
    assert RESUMEN not in shown(offer) and SUMMARY not in shown(offer)  # not answered at once
    assert "1. " in shown(offer) and "Bill Gates" in shown(offer)  # the claim, offered
    with db.session() as session:
        log = session.query(MatchLog).order_by(MatchLog.id.desc()).first()  # type: ignore[attr-defined]
        assert log is not None and log.decision == "maybe" and log.offered == str(claim_id)

    emu = tipline.emu
    emu.press_button(401, offer.chat_id, offer.message_id, offer.callback_data(offer.button_texts()[0]))
    answer = await emu.wait_for_bot_message(
        401, lambda m: m.message_id != offer.message_id or m.text != offer.text
    )
    text = shown(answer)
    assert RESUMEN in text and SUMMARY not in text
    assert "Tu versión" not in text  # another language differs in every word: not listed


async def test_the_same_message_from_an_english_claim_in_english_is_answered_at_once(
    tipline: Tipline,
) -> None:
    tipline.seed_published(CLAIM, summary=SUMMARY, lang="en")
    reply = await tipline.ask(402, "FWD: " + CLAIM + " — please share", first_name="Ann", language_code="en")
    assert SUMMARY in shown(reply)
