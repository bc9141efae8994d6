"""A restart restores the lexical match index saved at the last start and catches up with what
changed while the bot was down, instead of building it again (factdb/matching/saved_index.py).

The index is saved from 50,000 claims up; these stories lower that to a handful."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pytest
from sqlmodel import select

from factdb.db import Database
from factdb.matching import Matcher, saved_index
from factdb.matching.index import TermIndex
from factdb.models import Claim, ClaimStatus
from factdb.normalize import normalize

CLAIMS = [
    # text, headline of the imported fact-check, lang
    ("The town water supply is poisoned by the new chemical plant upstream", None, "en"),
    ("Free bus tickets for every pensioner start on Monday in the capital region", None, "en"),
    (
        "Drinking hot lemon water every morning cures the flu within a day",
        "Does hot lemon water cure the flu?",
        "en",
    ),
    (
        "The mayor sold the old stadium to a foreign casino company for one euro",
        "Was the stadium sold for one euro?",
        "en",
    ),
    ("Schools will close for the whole of March because of a measles outbreak", None, "en"),
    ("La vacuna contra la gripe contiene microchips de rastreo", None, "es"),
]
# While the bot is down
ADDED = "Petrol prices will double next week because the refinery on the coast has shut down"
EDITED = "Schools will close for the whole of April because of a chickenpox outbreak"
PUBLIC = "Lemon water does not cure the flu"
MESSAGES = [
    *(text for text, _, _ in CLAIMS),
    *(h for _, h, _ in CLAIMS if h),
    ADDED,
    EDITED,
    PUBLIC,
    "is the water supply in our town poisoned by the chemical plant??",
    "free bus tickets for pensioners from monday",
    "did the mayor sell the stadium to a casino",
    "nothing to do with any claim at all, just a greeting",
]


@pytest.fixture
def saved_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    where = tmp_path / "indexes"
    monkeypatch.setenv("CROWDCHECK_VECTOR_INDEX_DIR", str(where))
    monkeypatch.setattr(saved_index, "SAVE_FROM", 1)
    return where


@pytest.fixture
def builds(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many bulk builds from the claim table ran (one entry each, the claims built)."""
    counted: list[int] = []
    build = TermIndex.from_normalized.__func__  # type: ignore[attr-defined]

    def counting(cls, items):  # type: ignore[no-untyped-def]
        items = list(items)
        counted.append(len({abs(int(key)) for key, _ in items}))  # a second wording is -id
        return build(cls, items)

    monkeypatch.setattr(TermIndex, "from_normalized", classmethod(counting))
    return counted


def _add(db: Database, text: str, headline: str | None = None, lang: str | None = None) -> int:
    def work(s):  # type: ignore[no-untyped-def]
        claim = Claim(text=text, normalized=normalize(text), headline=headline, lang=lang)
        s.add(claim)
        s.flush()
        return claim.id

    return db.transaction(work)


def _seed(db: Database) -> list[int]:
    return [_add(db, text, headline, lang) for text, headline, lang in CLAIMS]


def _started(db: Database) -> Matcher:
    matcher = Matcher(semantic=False)
    with db.session() as s:
        matcher.refresh(s)
    if matcher.saving is not None:
        matcher.saving.join()
    return matcher


def _answers(matcher: Matcher, db: Database, scores: bool = True) -> list[tuple]:  # type: ignore[type-arg]
    """Each message's decision, claim, offered claims and (with `scores`) score."""
    out = []
    with db.session() as s:
        for message in MESSAGES:
            r = matcher.match(message, s)
            answer = (message, r.decision, r.claim_id, [c.claim_id for c in r.offered])
            out.append((*answer, round(r.score, 9)) if scores else answer)
    return out


def _fresh(db: Database, monkeypatch: pytest.MonkeyPatch) -> Matcher:
    with monkeypatch.context() as m:
        m.setenv("CROWDCHECK_VECTOR_INDEX_DIR", "off")
        return _started(db)


def test_a_restart_restores_the_saved_index_instead_of_building_it(
    db: Database, saved_dir: Path, builds: list[int]
) -> None:
    _seed(db)
    first = _started(db)
    assert builds == [len(CLAIMS)] and first.restored is None
    assert (saved_dir / saved_index.FILE).exists()

    again = _started(db)
    assert builds == [len(CLAIMS)], "the restart built the index again"
    assert again.restored is not None and again.restored.changed == 0
    assert len(again) == len(first) == len(CLAIMS)
    assert _answers(again, db) == _answers(first, db)


def test_claims_changed_while_the_bot_was_down_are_caught_up_and_match_as_a_fresh_build(
    db: Database, saved_dir: Path, builds: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    water, bus, lemon, stadium, schools, vacuna = _seed(db)
    running = _started(db)  # a worker that stays up meanwhile, catching up as it goes

    # the bot is down: a new claim, an edit, a merge, a deletion, a public wording set, a
    # headline gone, a claim relabelled Spanish by a re-import (no change-feed stamp for that)
    added = _add(db, ADDED, lang="en")

    def edits(s):  # type: ignore[no-untyped-def]
        claims = {c.id: c for c in s.exec(select(Claim))}
        claims[schools].text = EDITED
        claims[bus].status = ClaimStatus.MERGED
        claims[lemon].public_text = PUBLIC
        claims[stadium].headline = None
        claims[vacuna].lang = "pt"
        s.add_all(claims.values())
        s.delete(claims[water])

    db.transaction(edits)

    restored = _started(db)
    assert builds == [len(CLAIMS)]
    assert restored.restored is not None and restored.restored.changed == 6
    # as the worker that never stopped, to the score: the index saved, then the same changes
    assert _answers(restored, db) == _answers(running, db)
    # as a fresh build, to the decision: a claim indexed after the bulk build (caught up, or
    # added while a worker runs) carries its terms' weights as of then (index.py), so the same
    # claim scores a little apart in the two (two points here, in an index of six claims)
    fresh = _fresh(db, monkeypatch)
    assert builds == [len(CLAIMS), len(CLAIMS) + 1 - 2]  # the fresh build: one added, two gone
    assert _answers(restored, db, scores=False) == _answers(fresh, db, scores=False)
    for cid in (water, bus, lemon, stadium, schools, vacuna, added):
        for key in (cid, -cid):
            assert restored.text_of(key) == fresh.text_of(key)
    assert restored.match(ADDED).claim_id == added
    assert restored.match(EDITED).claim_id == schools
    assert bus not in restored and water not in restored
    # the cross-language rule reads the language stored now, not the one saved
    assert restored._langs == fresh._langs and restored._langs[vacuna] == "pt"
    assert restored._headlined == fresh._headlined == set()
    assert restored._worded == fresh._worded == {lemon}


def test_a_claim_committed_late_across_the_save_is_not_lost(
    db: Database, saved_dir: Path, builds: list[int]
) -> None:
    if not db.is_postgres:
        pytest.skip("one writer at a time on SQLite: commits come in sequence order")
    _seed(db)
    late_text = "Tap water in the north district now carries a dangerous parasite"
    with db.session() as slow:  # took its transaction id before the build, commits after the save
        late = Claim(text=late_text, normalized=normalize(late_text))
        slow.add(late)
        slow.flush()
        first = _started(db)
        assert late.id not in first
        slow.commit()
        late_id = late.id
    again = _started(db)
    assert builds == [len(CLAIMS)]
    assert again.restored is not None and again.restored.changed == 1
    with db.session() as s:
        assert again.match(late_text, s).claim_id == late_id


def _rewrite_meta(path: Path, **changes: object) -> None:
    """The saved file as an older or other release would have written it."""
    with np.load(path, allow_pickle=False) as files:
        arrays = {name: files[name] for name in files.files}
    meta = json.loads(str(arrays.pop("meta")))
    meta.update(changes)
    with open(path, "wb") as f:
        np.savez(f, meta=np.array(json.dumps(meta)), **arrays)


def _damage(path: Path) -> None:
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 64] = bytes(b ^ 0xFF for b in data[middle : middle + 64])
    path.write_bytes(bytes(data))


@pytest.mark.parametrize(
    ("spoil", "reason"),
    [
        (_damage, ""),
        (lambda p: _rewrite_meta(p, format=0), "format 0"),
        (lambda p: _rewrite_meta(p, version="0123456789abcdef"), "other normalisation"),
    ],
    ids=["damaged", "old format", "other normalisation"],
)
def test_a_saved_index_that_cannot_be_trusted_is_rebuilt_with_one_log_line(
    db: Database,
    saved_dir: Path,
    builds: list[int],
    caplog: pytest.LogCaptureFixture,
    spoil,  # type: ignore[no-untyped-def]
    reason: str,
) -> None:
    ids = _seed(db)
    first = _started(db)
    spoil(saved_dir / saved_index.FILE)
    with caplog.at_level(logging.INFO, logger="factdb.matching"):
        again = _started(db)
    assert builds == [len(CLAIMS), len(CLAIMS)] and again.restored is None
    doubts = [r.getMessage() for r in caplog.records if "not used" in r.getMessage()]
    assert len(doubts) == 1 and reason in doubts[0], doubts
    assert _answers(again, db) == _answers(first, db)
    assert again.match(CLAIMS[0][0]).claim_id == ids[0]
    # the rebuilt index was saved again, whole
    assert _started(db).restored is not None and len(builds) == 2


def test_a_database_made_again_is_not_answered_from_the_old_ones_index(
    db: Database, saved_dir: Path, builds: list[int], caplog: pytest.LogCaptureFixture
) -> None:
    """SQLite: a new file under the same setting starts its sequence over, so the saved position
    is ahead of it or its claims disagree with the index: rebuilt. PostgreSQL: transaction ids never go back, so every claim of a
    database emptied and filled again is a change since the position: caught up, exactly."""
    _seed(db)
    _started(db)
    if db.is_postgres:
        from sqlalchemy import text

        with db.engine.begin() as conn:
            conn.execute(text("DELETE FROM claim"))
        target, other = db, None
    else:
        target = other = Database(db.url.replace("crowdcheck.sqlite3", "other.sqlite3"))
        other.ensure_schema()
    try:
        new = [_add(target, f"{text} in another country", None, lang) for text, _, lang in CLAIMS]
        with caplog.at_level(logging.INFO, logger="factdb.matching"):
            matcher = _started(target)
        if db.is_postgres:
            assert matcher.restored is not None and matcher.restored.changed == 2 * len(CLAIMS)
        else:
            assert matcher.restored is None and len(builds) == 2
            doubts = [r.getMessage() for r in caplog.records if "not used" in r.getMessage()]
            assert len(doubts) == 1, doubts
        with target.session() as s:
            for (text, _, _), cid in zip(CLAIMS, new, strict=True):
                assert matcher.match(f"{text} in another country", s).claim_id == cid
        assert len(matcher) == len(CLAIMS)
    finally:
        if other is not None:
            other.dispose()


def test_an_unwritable_directory_is_logged_and_the_bot_carries_on(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    monkeypatch.setenv("CROWDCHECK_VECTOR_INDEX_DIR", str(blocker / "indexes"))
    monkeypatch.setattr(saved_index, "SAVE_FROM", 1)
    ids = _seed(db)
    with caplog.at_level(logging.INFO, logger="factdb.matching"):
        matcher = _started(db)
    assert any("could not save" in r.getMessage() for r in caplog.records)
    with db.session() as s:
        assert matcher.match(CLAIMS[1][0], s).claim_id == ids[1]


def test_a_small_tipline_saves_nothing(db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    where = tmp_path / "indexes"
    monkeypatch.setenv("CROWDCHECK_VECTOR_INDEX_DIR", str(where))
    _seed(db)
    matcher = _started(db)
    assert matcher.saving is None and not where.exists()
