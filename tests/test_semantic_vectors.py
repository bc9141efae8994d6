"""Claim vectors made while the bot runs are stored (factdb/semantic/keeper.py), so a restart
reads them back: nothing is embedded again. A fake model that counts what it embeds stands in
for the real one (the keeper and the matcher are the code under test)."""

from __future__ import annotations

import asyncio
import time

import numpy as np
import pytest
from sqlmodel import select

from bot.app import BotRuntime
from factdb.db import Database
from factdb.matching import Matcher
from factdb.models import Claim, ClaimStatus
from factdb.semantic import keeper
from factdb.semantic.keeper import keep_vectors_once
from factdb.semantic.store import stale_claims, sync_vectors
from tests import conftest
from tests.conftest import ADMIN
from tests.emulator import BotApiEmulator
from tests.harness import REVIEW_CHAT, Tipline
from tests.test_review_flow import RUMOUR, _write_and_publish
from tests.test_semantic_matcher import FakeEmbedder

SEEDED = "The water company will cut the water in the whole city for three days"


class CountingEmbedder(FakeEmbedder):
    def __init__(self) -> None:
        super().__init__()
        self.embedded: list[str] = []

    def passages(self, texts, batch_size=32, progress=None) -> np.ndarray:  # type: ignore[no-untyped-def]
        self.embedded += list(texts)
        return super().passages(texts, batch_size, progress)


def _seed(db: Database, *texts: str) -> list[int]:
    with db.session() as s:
        claims = [Claim(text=t, status=ClaimStatus.PUBLISHED, lang="en") for t in texts]
        s.add_all(claims)
        s.commit()
        ids = [c.id for c in claims]
    sync_vectors(db.engine, FakeEmbedder())  # type: ignore[arg-type]  # as `crowdcheck import` does
    return ids  # type: ignore[return-value]


def _started(db: Database, embedder: object) -> Matcher:
    """A worker starting: the bot's matcher, its first refresh loads the semantic stage."""
    matcher = Matcher(embedder=embedder)  # type: ignore[arg-type]
    with db.session() as s:
        matcher.refresh(s)
    assert matcher.semantic is not None
    return matcher


def test_new_and_edited_claims_are_embedded_once_and_read_back_after_a_restart(db: Database) -> None:
    water, birds, bridge = _seed(
        db, SEEDED, "A celebrity was arrested for smuggling exotic birds", "The bridge is closing forever"
    )
    first = CountingEmbedder()
    matcher = _started(db, first)
    assert first.embedded == [] and len(matcher.semantic) == 3  # type: ignore[arg-type]
    with db.session() as s:
        s.add(Claim(text="Sharks were seen swimming on the flooded highway", status=ClaimStatus.NEW))
        s.get(Claim, birds).text = "A famous singer was arrested for smuggling exotic birds"  # type: ignore[union-attr]
        s.get(Claim, bridge).status = ClaimStatus.MERGED  # type: ignore[union-attr]
        s.commit()
    while asyncio.run(keep_vectors_once(db, matcher)):
        pass
    assert sorted(first.embedded) == [
        "a famous singer was arrested for smuggling exotic birds",
        "sharks were seen swimming on the flooded highway",
    ]
    assert stale_claims(db.engine, "fake")[0] == {}  # every matchable claim's vector is stored
    assert bridge not in matcher.semantic.index  # type: ignore[union-attr]

    again = CountingEmbedder()
    restarted = _started(db, again)
    assert not asyncio.run(keep_vectors_once(db, restarted))  # nothing wants a vector
    assert again.embedded == []
    assert len(restarted.semantic) == 3 and bridge not in restarted.semantic.index  # type: ignore[union-attr]
    assert water in restarted.semantic.index  # type: ignore[union-attr]


def test_a_vector_wanted_for_an_older_text_is_not_taken() -> None:
    fake = CountingEmbedder()
    matcher = Matcher.from_items([(1, "The bridge is closing forever")], semantic=None)
    from factdb.semantic.index import ExactIndex
    from factdb.semantic.stage import SemanticStage

    matcher.semantic = SemanticStage(embedder=fake, index=ExactIndex(384))  # type: ignore[arg-type]
    matcher.add(1, "The bridge is closing forever")
    wanted = matcher.vectors_wanted(10)
    matcher.add(1, "The library is closing forever")  # edited while the old text was embedded
    assert matcher.take_vectors([1], fake.passages(list(wanted.values())), wanted) == 0
    assert matcher.vectors_wanted(10) == {1: "the library is closing forever"}


async def _runtime(db: Database, emulator: BotApiEmulator, embedder: CountingEmbedder) -> Tipline:
    runtime = BotRuntime(conftest.test_config(emulator, db), db=db, long_poll_timeout=1)
    runtime.svc.index = Matcher(embedder=embedder)  # type: ignore[arg-type]
    await runtime.start()
    await runtime.index_ready()
    return Tipline(emulator, runtime, db)


async def _until(check, timeout: float = 15.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.05)


async def test_a_claim_published_through_the_bot_keeps_its_vector_across_a_restart(
    db: Database, emulator: BotApiEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(keeper, "IDLE", 0.1)
    emulator.create_group(REVIEW_CHAT, "Moderators", members=[ADMIN])
    _seed(db, SEEDED)  # vectors exist: the semantic stage is on
    first = CountingEmbedder()
    tipline = await _runtime(db, emulator, first)
    try:
        reply = await tipline.ask(101, RUMOUR, first_name="C101")
        assert "Thanks" in reply.text
        card = await emulator.wait_for_bot_message(
            REVIEW_CHAT, lambda m: "Take" in m.button_texts(), timeout=8
        )
        await _write_and_publish(tipline, ADMIN, card)
        await emulator.wait_for_bot_message(ADMIN, lambda m: "Published" in m.text)
        await _until(lambda: stale_claims(db.engine, "fake")[0] == {})
    finally:
        await tipline.runtime.stop()
    with db.session() as s:
        rumour = s.exec(select(Claim).where(Claim.text == RUMOUR)).one()
    assert rumour.status == ClaimStatus.PUBLISHED
    assert len(first.embedded) == 1  # the citizen's new claim, once

    again = CountingEmbedder()
    tipline = await _runtime(db, emulator, again)
    try:
        index = tipline.runtime.svc.index
        assert index.semantic is not None and rumour.id in index.semantic.index
        await asyncio.sleep(0.3)  # a few keeper rounds
        assert index.vectors_wanted(10) == {}
    finally:
        await tipline.runtime.stop()
    assert again.embedded == []  # read back, not embedded again


def test_a_claim_is_found_by_meaning_through_its_fact_check_headline_too(db: Database) -> None:
    # A partner's fact-check came with its headline; citizens ask the way the headline puts it.
    (water,) = _seed(db, SEEDED)
    with db.session() as s:
        s.get(Claim, water).headline = "Is the tap being shut off in town?"  # type: ignore[union-attr]
        s.commit()
    embedder = CountingEmbedder()
    sync_vectors(db.engine, embedder)  # type: ignore[arg-type]  # `crowdcheck import` embeds it
    assert embedder.embedded == ["is the tap being shut off in town?"]

    matcher = _started(db, CountingEmbedder())
    stage = matcher.semantic
    assert stage is not None and len(stage) == 2 and water in stage and -water in stage
    asked = stage.embedder.query("they will shut off the tap in my town")
    (found, similarity), *_ = stage.search(asked, 5)
    text_only = float(FakeEmbedder().passages([SEEDED.lower()])[0] @ asked)
    assert found == water and similarity > text_only + 0.2  # nearer by its headline, listed once
    assert [cid for cid, _ in stage.search(asked, 5)].count(water) == 1

    with db.session() as s:  # the partner corrects its headline on re-import
        s.get(Claim, water).headline = "Is the water cut off in the city for three days?"  # type: ignore[union-attr]
        s.commit()
    embedder = matcher.semantic.embedder  # type: ignore[union-attr]
    while asyncio.run(keep_vectors_once(db, matcher)):
        pass
    assert embedder.embedded == ["is the water cut off in the city for three days?"]  # the headline only
    assert stale_claims(db.engine, "fake")[0] == {}

    with db.session() as s:  # a reviewer's public wording takes the second wording's place
        s.get(Claim, water).public_text = "The city's water will not be cut for three days"  # type: ignore[union-attr]
        s.commit()
    while asyncio.run(keep_vectors_once(db, matcher)):
        pass
    assert embedder.embedded[-1] == "the city's water will not be cut for three days"

    again = CountingEmbedder()
    restarted = _started(db, again)
    assert not asyncio.run(keep_vectors_once(db, restarted)) and again.embedded == []
    assert len(restarted.semantic) == 2  # type: ignore[arg-type]


def test_two_workers_storing_the_same_claims_vector_both_succeed(db: Database) -> None:
    from factdb.semantic.store import load_vectors, store_vectors

    (water,) = _seed(db, SEEDED)
    fake = FakeEmbedder()
    for text in ("the first worker's text", SEEDED.lower()):  # each in its own transaction
        with db.engine.begin() as conn:
            store_vectors(conn, "fake", [water], [text], fake.passages([text]))
    ids, vectors = load_vectors(db.engine, "fake", {water: SEEDED.lower()})
    assert ids == [water] and np.allclose(vectors[0], fake.passages([SEEDED.lower()])[0], atol=1e-3)
