"""The match index catches up with what changed, and only with that: edits, deletions, imports."""

from __future__ import annotations

from factdb.db import Database
from factdb.interchange import importer
from factdb.matching import Matcher
from factdb.models import Claim
from factdb.normalize import normalize

OLD = "The town water supply is poisoned by the new chemical plant upstream"
NEW = "Free bus tickets for every pensioner start on Monday in the capital region"


def _claim(db: Database, text: str) -> int:
    def work(s):  # type: ignore[no-untyped-def]
        claim = Claim(text=text, normalized=normalize(text))
        s.add(claim)
        s.flush()
        return claim.id

    return db.transaction(work)


def test_a_reviewers_edited_text_is_matched_by_its_new_words_and_a_deleted_claim_is_gone(
    db: Database,
) -> None:
    claim_id = _claim(db, OLD)
    index = Matcher()
    with db.session() as s:
        index.refresh(s)
        assert index.match(OLD, s).claim_id == claim_id

    def edit(s):  # type: ignore[no-untyped-def]
        s.get(Claim, claim_id).text = NEW

    db.transaction(edit)
    with db.session() as s:
        assert index.match(NEW, s).claim_id == claim_id
        assert index.match(OLD, s).decision == "new"
    db.transaction(lambda s: s.delete(s.get(Claim, claim_id)))
    with db.session() as s:
        index.refresh(s)
    assert claim_id not in index


def test_after_a_bulk_import_the_index_reads_the_imported_claims_once(db: Database) -> None:
    index = Matcher()
    with db.session() as s:
        index.refresh(s)
    records = [{"id": f"x-{n}", "text": f"Claim number {n} about the harbour closing {n}"} for n in range(40)]
    importer.import_records(db, records)
    with db.session() as s:
        assert index.refresh(s) == 40
        assert index.refresh(s) == 0


def test_a_claim_committed_late_by_one_worker_is_still_found_by_another(db: Database) -> None:
    import pytest
    from sqlalchemy import text

    if not db.is_postgres:
        pytest.skip("one writer at a time on SQLite: commits come in sequence order")
    worker_a, worker_b = db, Database(db.url)
    try:
        index = Matcher()
        with worker_b.session() as s:
            index.refresh(s)
        with worker_a.session() as slow:  # takes its sequence number first, commits last
            late = Claim(text=OLD, normalized=normalize(OLD))
            slow.add(late)
            slow.flush()
            early = _claim(worker_b, NEW)
            with worker_b.session() as s:
                assert index.match(NEW, s).claim_id == early
            slow.commit()
        with worker_b.session() as s:
            seqs = dict(s.execute(text("SELECT claim_id, seq FROM claim_change")).tuples().all())
            assert seqs[late.id] < seqs[early]  # a naive "seq > highest seen" reader skips it
            assert index.match(OLD, s).claim_id == late.id
    finally:
        worker_b.dispose()
