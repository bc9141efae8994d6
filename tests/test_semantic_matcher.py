"""The semantic stage inside Matcher.match: candidates fused with the lexical ones, the same
decision rules and the safety rules of issue 15 item 3, and the switch that turns it on."""

from __future__ import annotations

import asyncio
import threading

import numpy as np
import pytest

from factdb.db import Database
from factdb.matching import Matcher
from factdb.models import Claim, ClaimStatus
from factdb.semantic import embedder as emb
from factdb.semantic.fusion import SemanticThresholds
from factdb.semantic.index import ExactIndex
from factdb.semantic.keeper import keep_vectors_once
from factdb.semantic.stage import SemanticStage

# A fake model: words of one concept (in any language) share a direction.
CONCEPTS = {
    "water": 0, "agua": 0, "水": 0, "tap": 0,
    "cut": 1, "cortará": 1, "停": 1, "shut": 1, "off": 1,
    "three": 2, "tres": 2, "三": 2,
    "days": 3, "días": 3, "天": 3,
    "city": 4, "ciudad": 4, "town": 4,
    "bridge": 5, "library": 6, "deal": 7, "spies": 8,
    "closing": 9, "closed": 9, "forever": 10, "mayor": 11,
    "celebrity": 12, "birds": 13, "arrested": 14,
}  # fmt: skip


class FakeEmbedder:
    model_id = "fake"

    def __init__(self) -> None:
        self.queries = 0

    def _vec(self, text: str) -> np.ndarray:
        v = np.full(emb.DIM, 0.02, dtype=np.float32)
        for token in text.lower().replace("，", " ").split():
            for word, concept in CONCEPTS.items():
                if word in token:
                    v[concept] += 1.0
        return v / np.linalg.norm(v)

    def query(self, text: str) -> np.ndarray:
        self.queries += 1
        return self._vec(text)

    def passages(self, texts, batch_size=32, progress=None) -> np.ndarray:  # type: ignore[no-untyped-def]
        return np.stack([self._vec(t) for t in texts])


CLAIMS = {
    1: "The water company will cut the water in the whole city for three days",
    2: "A celebrity was arrested for smuggling exotic birds",
    3: "They are closing the bridge forever because of a secret deal with the mayor",
}
SAFE = SemanticThresholds(answer=0.9, margin=0.03, offer=0.6, cross_lingual_answer=None)


def _matcher() -> tuple[Matcher, FakeEmbedder]:
    fake = FakeEmbedder()
    index = ExactIndex(emb.DIM)
    index.add(list(CLAIMS), fake.passages(list(CLAIMS.values())))
    stage = SemanticStage(embedder=fake, index=index)  # type: ignore[arg-type]
    matcher = Matcher.from_items(CLAIMS.items(), semantic=stage)
    matcher._semantic_thresholds = SAFE
    return matcher, fake


def test_a_lexical_answer_never_embeds_the_message() -> None:
    matcher, fake = _matcher()
    result = matcher.match("FWD: The water company will cut the water in the whole city for three days!!")
    assert (result.decision, result.claim_id) == ("match", 1)
    assert fake.queries == 0 and result.reasons == ()


def test_a_long_same_language_paraphrase_is_answered_by_meaning_with_its_reasons() -> None:
    matcher, _ = _matcher()
    # shares few rare words with claim 1, but means it (the fake model's concepts)
    result = matcher.match(
        "Tap water shut off in our town, three days, they say, starting from tomorrow morning"
    )
    assert (result.decision, result.claim_id) == ("match", 1)
    assert any("cosine" in r for r in result.reasons)


def test_semantic_evidence_alone_never_answers_a_short_message() -> None:
    matcher, _ = _matcher()
    result = matcher.match("tap water off three days")
    assert result.decision == "maybe" and result.offered[0].claim_id == 1
    assert any("short message" in r for r in result.reasons)


def test_a_cross_lingual_hit_is_offered_not_answered() -> None:
    matcher, _ = _matcher()
    matcher._langs = {1: "en", 2: "en", 3: "en"}
    result = matcher.match("La compañía de agua cortará el agua en toda la ciudad durante tres días, dicen")
    assert result.decision == "maybe" and result.offered[0].claim_id == 1
    assert "cross-lingual" in result.reasons


def test_the_same_frame_with_other_words_is_not_answered_by_meaning_either() -> None:
    matcher, _ = _matcher()
    result = matcher.match("They are closing the library forever because of foreign spies with the mayor")
    assert result.decision == "maybe"
    assert 3 in [c.claim_id for c in result.offered]


def test_without_a_stage_the_matcher_is_lexical_as_before() -> None:
    lexical = Matcher.from_items(CLAIMS.items())
    assert lexical.semantic is None
    result = lexical.match(
        "Tap water shut off in our town, three days, they say, starting from tomorrow morning"
    )
    assert result.decision != "match" and result.reasons == ()


needs_model = pytest.mark.skipif(not emb.available(), reason="the semantic extra is not installed")


@needs_model
def test_the_bot_matcher_turns_the_stage_on_only_when_vectors_are_stored(db: Database) -> None:
    from factdb.semantic.store import sync_vectors

    with db.session() as s:
        for text in CLAIMS.values():
            s.add(Claim(text=text, status=ClaimStatus.PUBLISHED, lang="en"))
        s.commit()
    off = Matcher()
    with db.session() as s:
        off.refresh(s)
    assert off.semantic is None  # no vectors stored: lexical only
    sync_vectors(db.engine, emb.shared_embedder())
    on = Matcher()
    with db.session() as s:
        on.refresh(s)
        assert on.semantic is not None and len(on.semantic) == 3
        s.add(Claim(text="Sharks were seen swimming on the flooded highway", status=ClaimStatus.NEW))
        s.commit()
    # a new claim without a stored vector is embedded by the runtime's keeper, not by refresh
    assert asyncio.run(keep_vectors_once(db, on))
    assert len(on.semantic) == 4


class SlowEmbedder(FakeEmbedder):
    """Embeds a message only when the test lets it: the message is 'being embedded' meanwhile."""

    def __init__(self) -> None:
        super().__init__()
        self.embedding = threading.Event()
        self.release = threading.Event()

    def query(self, text: str) -> np.ndarray:
        self.embedding.set()
        self.release.wait(timeout=10)
        return super().query(text)


def _slow_matcher() -> tuple[Matcher, SlowEmbedder]:
    slow = SlowEmbedder()
    index = ExactIndex(emb.DIM)
    index.add(list(CLAIMS), slow.passages(list(CLAIMS.values())))
    matcher = Matcher.from_items(CLAIMS.items(), semantic=SemanticStage(embedder=slow, index=index))  # type: ignore[arg-type]
    matcher._semantic_thresholds = SAFE
    return matcher, slow


PARAPHRASE = "Tap water shut off in our town, three days, they say, starting from tomorrow morning"


def test_other_messages_are_matched_while_one_is_being_embedded() -> None:
    matcher, slow = _slow_matcher()
    results: dict[str, object] = {}
    embedding = threading.Thread(target=lambda: results.setdefault("slow", matcher.match(PARAPHRASE)))
    embedding.start()
    assert slow.embedding.wait(timeout=5)
    forward = threading.Thread(
        target=lambda: results.setdefault(
            "fast", matcher.match("FWD: A celebrity was arrested for smuggling exotic birds")
        )
    )
    forward.start()
    forward.join(timeout=3)  # with the lock held while embedding, this waited for the release
    finished_meanwhile = not forward.is_alive()
    slow.release.set()
    # generous: the first language detection in a process loads lingua's models (seconds when
    # the machine is busy); what this test times is the forward above, not the embedded message
    embedding.join(timeout=60)
    forward.join(timeout=60)
    assert finished_meanwhile
    fast, slow_result = results["fast"], results["slow"]
    assert (fast.decision, fast.claim_id) == ("match", 2)  # type: ignore[attr-defined]
    assert (slow_result.decision, slow_result.claim_id) == ("match", 1)  # type: ignore[attr-defined]


def test_a_claim_removed_while_a_message_is_embedded_is_not_offered() -> None:
    matcher, slow = _slow_matcher()
    results: list[object] = []
    embedding = threading.Thread(target=lambda: results.append(matcher.match(PARAPHRASE)))
    embedding.start()
    assert slow.embedding.wait(timeout=5)
    matcher.remove(1)  # retracted meanwhile (another thread's refresh)
    slow.release.set()
    embedding.join(timeout=5)
    (result,) = results
    assert 1 not in [c.claim_id for c in result.candidates + result.offered]  # type: ignore[attr-defined]
    assert result.claim_id != 1  # type: ignore[attr-defined]
