"""The picture path's decisions on SQLite and PostgreSQL, without Telegram: what is stored, where
it is filed, and how several workers see each other's pictures."""

from __future__ import annotations

from sqlalchemy import delete
from sqlmodel import Session, col, select

from bench._pictures import jpeg, photo
from factdb import choices
from factdb.db import Database
from factdb.intake import Submission
from factdb.matching import Matcher
from factdb.media.hashing import picture_hash
from factdb.media.pictures import Picture, PictureIndex, find_claim, load_index
from factdb.media.reading import PictureRead
from factdb.models import Claim, ClaimStatus, Request
from factdb.normalize import normalize
from factdb.picture_intake import MAX_PICTURES_PER_CLAIM, PictureLimits, submit_picture

BANKS = "Banks will close every account with less than 100 euros on Monday, take your money out now"
NEAR = "Is it true banks close small accounts on Monday"
_updates = iter(range(10_000, 99_999))


def _read(seed: int, text: str = "") -> PictureRead:
    image = photo(seed)
    return PictureRead("photo", jpeg(image), image.size, (picture_hash(image),), text)


def _send(db: Database, matcher: Matcher, index: PictureIndex, user: int, read: PictureRead, **kw):  # type: ignore[no-untyped-def]
    sub = Submission(user_id=user, chat_id=user, text=kw.pop("caption", ""), update_id=next(_updates))
    return db.transaction(lambda s: _outcome(s, matcher, index, sub, read, kw.get("limits")))


def _outcome(s: Session, matcher: Matcher, index: PictureIndex, sub: Submission, read: PictureRead, limits):  # type: ignore[no-untyped-def]
    result = submit_picture(s, matcher, index, sub, read, limits)
    return result.outcome, (result.claim.id if result.claim else None), result.request_id


def _published(db: Database, text: str) -> int:
    def work(s: Session) -> int:
        claim = Claim(text=text, normalized=normalize(text), status=ClaimStatus.PUBLISHED)
        s.add(claim)
        s.flush()
        return claim.id  # type: ignore[return-value]

    return db.transaction(work)


def test_a_citizen_over_the_daily_picture_limit_is_told_and_nothing_is_stored(db: Database) -> None:
    matcher, index = Matcher(), PictureIndex()
    limits = PictureLimits(per_day=2)
    assert _send(db, matcher, index, 7, _read(1), limits=limits)[0] == "new_claim"
    assert _send(db, matcher, index, 7, _read(2), limits=limits)[0] == "new_claim"
    assert _send(db, matcher, index, 7, _read(3), limits=limits)[0] == "picture_limit"
    assert _send(db, matcher, index, 8, _read(3), limits=limits)[0] == "new_claim"  # others go on
    with db.session() as s:
        assert len(s.exec(select(Picture)).all()) == 3


def test_a_picture_waiting_for_the_citizens_choice_is_filed_with_the_claim_they_pick(db: Database) -> None:
    claim_id = _published(db, BANKS)
    matcher, index = Matcher(), PictureIndex()
    outcome, _claim, request_id = _send(db, matcher, index, 9, _read(4, NEAR))
    assert outcome == "choose"
    with db.session() as s:
        (waiting,) = s.exec(select(Picture)).all()
        assert waiting.claim_id is None and waiting.request_id == request_id
    # not yet filed: a copy of it is not an answer to anyone
    assert _send(db, matcher, index, 10, _read(4))[0] == "new_claim"
    db.transaction(lambda s: choices.pick_candidate(s, 9, request_id, claim_id, matcher))  # type: ignore[arg-type]
    with db.session() as s:
        assert s.exec(select(Picture).where(Picture.request_id == request_id)).one().claim_id == claim_id


def test_none_of_these_files_the_picture_with_the_new_claim(db: Database) -> None:
    _published(db, BANKS)
    matcher, index = Matcher(), PictureIndex()
    *_, request_id = _send(db, matcher, index, 11, _read(5, NEAR))
    result = db.transaction(lambda s: choices.pick_candidate(s, 11, request_id, None, matcher))  # type: ignore[arg-type]
    assert result.outcome == "new_claim"
    with db.session() as s:
        assert (
            s.exec(select(Picture).where(Picture.request_id == request_id)).one().claim_id == result.claim.id
        )


def test_a_claim_keeps_a_bounded_number_of_its_looks(db: Database) -> None:
    claim_id = _published(db, BANKS)
    matcher, index = Matcher(), PictureIndex()
    # Different pictures whose captions all say the claim: each is a new look, up to the bound.
    for n in range(MAX_PICTURES_PER_CLAIM + 3):
        outcome, claim, _ = _send(db, matcher, index, 100 + n, _read(200 + n), caption=BANKS)
        assert (outcome, claim) == ("under_review", claim_id) or outcome == "answer"
    with db.session() as s:
        assert (
            len(s.exec(select(Picture).where(Picture.claim_id == claim_id)).all()) == MAX_PICTURES_PER_CLAIM
        )


def test_a_picture_stored_by_another_worker_is_recognised_here(db: Database) -> None:
    """Two workers, one database: each has its own hash index, caught up by id at each lookup."""
    here, there = Matcher(), Matcher()
    with db.session() as s:
        index_here = load_index(s)
    index_there = PictureIndex()
    outcome, claim_id, _ = _send(db, there, index_there, 20, _read(6))
    assert outcome == "new_claim"
    outcome, again, _ = _send(db, here, index_here, 21, _read(6))
    assert (outcome, again) == ("under_review", claim_id)
    with db.session() as s:
        assert s.exec(select(Request).where(Request.claim_id == claim_id)).all()[-1].decision == "picture"


def test_a_picture_committed_late_under_an_earlier_id_is_still_found(db: Database) -> None:
    """On PostgreSQL a transaction may commit after a later id's: the index looks again for the
    ids it skipped."""
    claim_id = _published(db, BANKS)
    index = PictureIndex()
    early, late = photo(7), photo(8)

    def store(s: Session, image, pid: int) -> None:  # type: ignore[no-untyped-def]
        h = picture_hash(image)
        s.add(
            Picture(
                id=pid,
                claim_id=claim_id,
                sha256=str(pid),
                hash_coarse=h.coarse,
                hash_fine=h.fine,
                flat=h.flat,
            )
        )

    db.transaction(lambda s: store(s, late, 50))
    with db.session() as s:
        assert index.refresh(s) == 1
    db.transaction(lambda s: store(s, early, 49))  # the slower transaction, committed now
    with db.session() as s:
        assert index.refresh(s) == 1
        assert [hit.key for hit in index.search(picture_hash(early))] == [49]


def test_an_erased_pictures_id_given_to_a_new_picture_never_answers_for_the_old_one(db: Database) -> None:
    """SQLite hands a deleted row's id to the next row unless told not to: a worker that still
    holds the erased picture's hash must not answer its copies with the new picture's claim,
    and must find the new picture."""
    first, second = _published(db, BANKS), _published(db, "The mayor resigned this morning")
    old, new = photo(301), photo(302)

    def store(s: Session, image, claim_id: int) -> int:  # type: ignore[no-untyped-def]
        h = picture_hash(image)
        picture = Picture(claim_id=claim_id, sha256="x", hash_coarse=h.coarse, hash_fine=h.fine, flat=h.flat)
        s.add(picture)
        s.flush()
        return picture.id  # type: ignore[return-value]

    erased = db.transaction(lambda s: store(s, old, first))
    with db.session() as s:
        index = load_index(s)
    db.transaction(lambda s: s.execute(delete(Picture).where(col(Picture.id) == erased)))  # /forget
    db.transaction(lambda s: store(s, new, second))
    with db.session() as s:
        assert find_claim(s, index, picture_hash(old)) is None
        found = find_claim(s, index, picture_hash(new))
        assert found is not None and found.claim_id == second
