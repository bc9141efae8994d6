"""A restart at national scale: the approximate vector index is restored from its snapshot on
disk and caught up with the claims changed while the bot was down, instead of being built again
(561 s at 10^6 claims). Real usearch, real databases; the approximate index is forced by a
lowered threshold, and the model is a fake that gives every text its own direction."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from factdb.db import Database
from factdb.matching import Matcher
from factdb.models import Claim, ClaimStatus
from factdb.normalize import normalize
from factdb.semantic import embedder as emb
from factdb.semantic import snapshot
from factdb.semantic.index import ApproximateIndex
from factdb.semantic.store import sync_vectors, text_hash
from tests.test_semantic_vectors import _started  # a worker starting: its first refresh loads the stage

pytestmark = pytest.mark.skipif(not emb.available(), reason="the semantic extra (usearch) is not installed")


class TextEmbedder:
    """A fake model: each text its own random direction (seeded by the text), so no two claims
    tie and a claim's own text finds it first. Counts the texts it embeds."""

    def __init__(self, model_id: str = "fake-e5") -> None:
        self.model_id = model_id
        self.embedded = 0

    def _vec(self, text: str) -> np.ndarray:
        rng = np.random.default_rng(int(text_hash(self.model_id + text), 16))
        v = rng.standard_normal(emb.DIM).astype(np.float32)
        return v / np.linalg.norm(v)

    def query(self, text: str) -> np.ndarray:
        return self._vec(text)

    def passages(self, texts, batch_size=32, progress=None) -> np.ndarray:  # type: ignore[no-untyped-def]
        self.embedded += len(texts)
        return np.stack([self._vec(t) for t in texts])


CLAIMS = 150  # the approximate index from 60 vectors on, as at 200,000 in production


@pytest.fixture(autouse=True)
def national_scale(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr("factdb.semantic.index.APPROXIMATE_FROM", 60)
    monkeypatch.delenv(snapshot.SETTING, raising=False)  # the default place
    monkeypatch.setenv("CROWDCHECK_HOME", str(tmp_path / "home"))  # PostgreSQL's default is under it


def _claim_text(i: int) -> str:
    return f"Claim number {i}: the council will close road {i} for {i % 7 + 2} weeks"


def _publish(db: Database, texts: list[str], worded: int = 0) -> list[int]:
    """Published claims; the first `worded` also get a reviewer's public wording (second vector)."""
    with db.session() as s:
        claims = [
            Claim(
                text=t,
                status=ClaimStatus.PUBLISHED,
                lang="en",
                public_text=f"Reworded: {t}" if i < worded else None,
            )
            for i, t in enumerate(texts)
        ]
        s.add_all(claims)
        s.commit()
        return [c.id for c in claims]  # type: ignore[misc]


@contextmanager
def _vector_reads(engine: Engine) -> Iterator[list[str]]:
    """Every statement that reads stored vectors (the column `claim_vector.vector`)."""
    seen: list[str] = []

    def watch(conn, cursor, statement, parameters, context, executemany) -> None:  # type: ignore[no-untyped-def]
        if statement.lstrip().upper().startswith("SELECT") and "claim_vector.vector" in statement:
            seen.append(statement)

    event.listen(engine, "before_cursor_execute", watch)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", watch)


def _nearest(matcher: Matcher, model: TextEmbedder, text: str, k: int = 5) -> list[int]:
    assert matcher.semantic is not None
    return [cid for cid, _ in matcher.semantic.search(model.query(normalize(text)), k)]


def test_a_restart_restores_the_index_and_reads_no_vector_of_an_unchanged_claim(db: Database) -> None:
    model = TextEmbedder()
    ids = _publish(db, [_claim_text(i) for i in range(CLAIMS)], worded=20)
    sync_vectors(db.engine, model)  # as `crowdcheck import` does

    first = _started(db, model)  # no snapshot yet: built from the stored vectors, then saved
    assert isinstance(first.semantic.index, ApproximateIndex)  # type: ignore[union-attr]
    assert first.semantic.restored is None and len(first.semantic) == CLAIMS + 20  # type: ignore[union-attr]
    where = snapshot.directory(db.engine)
    assert where is not None and (where / snapshot.SIDECAR).exists()
    if db.engine.url.get_backend_name() == "sqlite":
        assert where.parent == Path(db.engine.url.database).parent  # next to the SQLite file

    with _vector_reads(db.engine) as reads:
        second = _started(db, model)
    assert reads == []  # not one vector read back from the database
    restored = second.semantic.restored  # type: ignore[union-attr]
    assert restored is not None and (restored.kept, restored.removed, restored.added) == (CLAIMS + 20, 0, 0)
    assert second.vectors_wanted(10) == {} and model.embedded == CLAIMS + 20  # nothing embedded again
    for i in (0, 3, 77, CLAIMS - 1):
        assert _nearest(second, model, _claim_text(i))[0] == ids[i]
        assert second.semantic.search(model.query(_claim_text(i)), 10) == first.semantic.search(  # type: ignore[union-attr]
            model.query(_claim_text(i)), 10
        )
    # a claim found by its reviewers' wording too
    assert _nearest(second, model, normalize(f"Reworded: {_claim_text(5)}"))[0] == ids[5]


def test_claims_changed_while_the_bot_was_down_are_caught_up(db: Database) -> None:
    model = TextEmbedder()
    ids = _publish(db, [_claim_text(i) for i in range(CLAIMS)], worded=10)
    sync_vectors(db.engine, model)
    _started(db, model)  # saves the snapshot; then the bot stops

    edited, spam, reworded, waiting = ids[1], ids[2], ids[20], ids[30]
    with db.session() as s:
        claims = {
            c.id: c for c in s.exec(select(Claim).where(col(Claim.id).in_([edited, spam, reworded, waiting])))
        }
        claims[edited].text = "The council will close every road in the city for a year"
        claims[spam].status = ClaimStatus.SPAM  # no longer matchable, and its second wording with it
        claims[reworded].public_text = "Road twenty closes for good"  # a second wording is added
        s.commit()
    (added,) = _publish(db, ["A new bridge toll starts on Monday for every car"])
    sync_vectors(db.engine, model)  # another worker (or `crowdcheck import`) stored their vectors
    with db.session() as s:
        s.get(Claim, waiting).text = "Road thirty is closed because of a sinkhole"  # type: ignore[union-attr]
        s.commit()  # ... and this edit's vector is not stored yet

    with _vector_reads(db.engine) as reads:
        restarted = _started(db, model)
    stage = restarted.semantic
    assert stage is not None and stage.restored is not None
    # removed: the edited claim's old vector, the spam claim's two, the waiting claim's old one
    assert (stage.restored.removed, stage.restored.added) == (4, 3)  # added: edited, -reworded, new
    assert reads and len(reads) <= 2  # the changed claims' vectors only, in one chunk
    assert edited in stage and added in stage and -reworded in stage
    assert spam not in stage and -spam not in stage and waiting not in stage
    assert restarted.vectors_wanted(10) == {waiting: normalize("Road thirty is closed because of a sinkhole")}

    assert _nearest(restarted, model, "The council will close every road in the city for a year")[0] == edited
    old_text = dict(stage.search(model.query(normalize(_claim_text(1))), 20))
    assert old_text.get(edited, 0.0) < 0.5  # its old text's vector is gone (was 1.0)
    assert _nearest(restarted, model, "A new bridge toll starts on Monday for every car")[0] == added
    assert _nearest(restarted, model, "Road twenty closes for good")[0] == reworded

    # the same answers as an index built afresh from the database
    fresh_matcher = Matcher(embedder=model)  # type: ignore[arg-type]
    with db.session() as s, pytest.MonkeyPatch.context() as mp:
        mp.setenv(snapshot.SETTING, "off")
        fresh_matcher.refresh(s)
    fresh = fresh_matcher.semantic
    assert fresh is not None and fresh.restored is None and len(fresh) == len(stage)
    with db.session() as s:
        texts = [c.normalized for c in s.exec(select(Claim).where(Claim.status == ClaimStatus.PUBLISHED))]
    for text in texts:
        assert _nearest(restarted, model, text) == _nearest(fresh_matcher, model, text)


def test_a_start_that_caught_up_with_many_changes_saves_a_fresh_snapshot(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = TextEmbedder()
    ids = _publish(db, [_claim_text(i) for i in range(CLAIMS)])
    sync_vectors(db.engine, model)
    _started(db, model)
    with db.session() as s:
        for cid in ids[:5]:
            s.get(Claim, cid).text = f"Claim {cid} was corrected by its reviewer"  # type: ignore[union-attr]
        s.commit()
    sync_vectors(db.engine, model)
    monkeypatch.setattr(snapshot, "save_after", lambda size: 5)  # 1,000 in production
    assert _started(db, model).semantic.restored.added == 5  # type: ignore[union-attr]
    with _vector_reads(db.engine) as reads:
        again = _started(db, model)
    assert reads == [] and again.semantic.restored.changed == 0  # type: ignore[union-attr]


def _warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage() for r in caplog.records if r.name == snapshot.__name__ and r.levelno >= logging.WARNING
    ]


def test_a_corrupt_snapshot_is_built_again_with_one_log_line(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    model = TextEmbedder()
    ids = _publish(db, [_claim_text(i) for i in range(CLAIMS)])
    sync_vectors(db.engine, model)
    _started(db, model)
    where = snapshot.directory(db.engine)
    assert where is not None
    (index_file,) = where.glob("claim-vectors.*.usearch")
    data = bytearray(index_file.read_bytes())
    data[len(data) // 2 : len(data) // 2 + 64] = bytes(64)  # a damaged disk block, same size
    index_file.write_bytes(bytes(data))

    with caplog.at_level(logging.INFO, logger=snapshot.__name__):
        rebuilt = _started(db, model)
    (line,) = _warnings(caplog)
    assert "not used" in line and "checksum" in line
    assert rebuilt.semantic.restored is None and len(rebuilt.semantic) == CLAIMS  # type: ignore[union-attr]
    assert _nearest(rebuilt, model, _claim_text(9))[0] == ids[9]

    # the rebuild saved a good snapshot again; then the sidecar itself is garbage
    assert _started(db, model).semantic.restored is not None  # type: ignore[union-attr]
    (where / snapshot.SIDECAR).write_bytes(b"PK\x03\x04 not really a zip")
    caplog.clear()
    with caplog.at_level(logging.INFO, logger=snapshot.__name__):
        again = _started(db, model)
    assert len(_warnings(caplog)) == 1 and again.semantic.restored is None  # type: ignore[union-attr]
    assert len(again.semantic) == CLAIMS  # type: ignore[arg-type]


def test_a_crash_mid_save_leaves_the_previous_snapshot_usable(db: Database) -> None:
    model = TextEmbedder()
    _publish(db, [_claim_text(i) for i in range(CLAIMS)])
    sync_vectors(db.engine, model)
    _started(db, model)
    where = snapshot.directory(db.engine)
    assert where is not None
    # what a save killed half-way leaves: a partial index under a new name, a partial sidecar
    (where / "claim-vectors.ffff-1.usearch.tmp").write_bytes(b"\0" * 1000)
    (where / (snapshot.SIDECAR + ".tmp")).write_bytes(b"PK partial")
    restarted = _started(db, model)
    assert restarted.semantic.restored is not None and restarted.semantic.restored.kept == CLAIMS  # type: ignore[union-attr]


def test_a_snapshot_made_by_another_model_is_not_used(db: Database, caplog: pytest.LogCaptureFixture) -> None:
    old, new = TextEmbedder("fake-e5"), TextEmbedder("fake-e5-v2")
    ids = _publish(db, [_claim_text(i) for i in range(CLAIMS)])
    sync_vectors(db.engine, old)
    _started(db, old)
    sync_vectors(db.engine, new)  # the operator upgraded the model and re-embedded the claims
    with caplog.at_level(logging.INFO, logger=snapshot.__name__):
        upgraded = _started(db, new)
    (line,) = _warnings(caplog)
    assert "fake-e5" in line and "fake-e5-v2" in line
    assert upgraded.semantic.restored is None and len(upgraded.semantic) == CLAIMS  # type: ignore[union-attr]
    assert _nearest(upgraded, new, _claim_text(4))[0] == ids[4]
    assert _started(db, new).semantic.restored is not None  # type: ignore[union-attr]  # its own now


def test_below_the_approximate_scale_no_snapshot_is_written(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("factdb.semantic.index.APPROXIMATE_FROM", 200_000)
    model = TextEmbedder()
    _publish(db, [_claim_text(i) for i in range(20)])
    sync_vectors(db.engine, model)
    assert not isinstance(_started(db, model).semantic.index, ApproximateIndex)  # type: ignore[union-attr]
    where = snapshot.directory(db.engine)
    assert where is not None and not where.exists()


def test_a_snapshot_that_cannot_be_written_does_not_stop_the_stage(
    db: Database, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocked = tmp_path / "a-file-not-a-directory"
    blocked.write_text("")
    monkeypatch.setenv(snapshot.SETTING, str(blocked / "vector-index"))
    model = TextEmbedder()
    ids = _publish(db, [_claim_text(i) for i in range(CLAIMS)])
    sync_vectors(db.engine, model)
    with caplog.at_level(logging.INFO, logger=snapshot.__name__):
        matcher = _started(db, model)
    (line,) = _warnings(caplog)
    assert "could not save" in line
    assert len(matcher.semantic) == CLAIMS and _nearest(matcher, model, _claim_text(8))[0] == ids[8]  # type: ignore[arg-type]
