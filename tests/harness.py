"""A test's view of the tipline: act as people through the emulator, read what chats show."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from bench._seed import published_claim
from bot.app import BotRuntime
from factdb.db import Database
from factdb.models import Claim, Clarification
from tests.emulator import BotApiEmulator, ChatMessage

REVIEW_CHAT = -1001000000001


@dataclass
class Tipline:
    emu: BotApiEmulator
    runtime: BotRuntime
    db: Database

    async def ask(self, user_id: int, text: str, **kw: Any) -> ChatMessage:
        """A citizen sends text and waits for the bot's reply."""
        self.emu.send_text(user_id, text, **kw)
        return await self.emu.wait_for_bot_message(user_id)

    async def press(self, user_id: int, message: ChatMessage, label: str, chat_id: int | None = None) -> str:
        return self.emu.press_button(
            user_id, chat_id or message.chat_id, message.message_id, message.callback_data(label)
        )

    async def write_and_publish(
        self,
        reviewer: int,
        card: ChatMessage,
        *,
        summary: str,
        sources: str,
        verdict: str = "❌ False",
        language: str = "English",
    ) -> ChatMessage:
        """A reviewer presses Take on a claim's card, then writes and publishes its first answer
        (`answer_draft`); returns the preview."""
        query = await self.press(reviewer, card, "Take", chat_id=REVIEW_CHAT)
        await self.emu.wait_for_callback_answer(query)
        return await self.answer_draft(
            reviewer, verdict=verdict, summary=summary, sources=sources, language=language
        )

    async def answer_draft(
        self, reviewer: int, *, verdict: str, summary: str, sources: str, language: str | None = None
    ) -> ChatMessage:
        """The reviewer answers each step of their open draft as a person would (verdict, summary,
        sources and, for a first answer, the language) and presses Publish; returns the preview."""
        emu = self.emu
        ask_verdict = await emu.wait_for_bot_message(reviewer, lambda m: "verdict" in m.text)
        await self.press(reviewer, ask_verdict, verdict)
        await emu.wait_for_bot_message(reviewer, lambda m: "summary" in m.text)
        emu.send_text(reviewer, summary)
        await emu.wait_for_bot_message(reviewer, lambda m: "sources" in m.text)
        emu.send_text(reviewer, sources)
        if language is not None:
            ask_lang = await emu.wait_for_bot_message(reviewer, lambda m: "language" in m.text)
            await self.press(reviewer, ask_lang, language)
        preview = await emu.wait_for_bot_message(reviewer, lambda m: "Publish" in m.button_texts())
        await self.press(reviewer, preview, "Publish")
        return preview

    def seed_published(self, text: str, **answer: Any) -> int:
        """A claim with a published clarification, as reviewers or an import would leave it
        (bench._seed.published_claim: `lang`, `verdict`, `summary`, `sources`), in this bot's
        match index."""
        claim_id: int = self.db.transaction(lambda session: published_claim(session, text, **answer).id)
        with self.db.session() as session:
            self.runtime.svc.index.refresh(session)
        return claim_id

    def claim(self, claim_id: int) -> Claim:
        with self.db.session() as session:
            claim = session.get(Claim, claim_id)
            assert claim is not None
            return claim


def add_translation(db: Database, claim_id: int, lang: str, verdict: str, summary: str) -> None:
    """A reviewer's /translate, as it leaves the database: a current sibling in another language."""
    db.transaction(
        lambda s: s.add(
            Clarification(
                claim_id=claim_id,
                lang=lang,
                verdict=verdict,
                summary=summary,
                sources=json.dumps(["https://factcheck.example.org/es"]),
            )
        )
    )


def shown(message: ChatMessage) -> str:
    """The text as a person reads it (the invisible direction isolates around quoted text removed)."""
    return message.text.replace("\u2068", "").replace("\u2069", "")
