"""The picture table on SQLite and PostgreSQL: record, find by hash, publish, erase."""

from __future__ import annotations

import random

from sqlmodel import select

from bench._pictures import VARIANTS, meme, photo
from factdb.db import Database
from factdb.media.decode import decode, stripped_jpeg
from factdb.media.hashing import picture_hash
from factdb.media.pictures import (
    Picture,
    erase_citizen_pictures,
    find_claim,
    load_index,
    mark_publishable,
    pictures_of_claim,
    record_picture,
)
from factdb.models import Citizen, Claim, ClaimStatus


def _setup(db: Database) -> tuple[int, int, int, int]:
    with db.session() as s:
        a = Citizen(telegram_user_id=101, chat_id=101)
        b = Citizen(telegram_user_id=102, chat_id=102)
        c1 = Claim(text="Tap water will be cut for three days")
        c2 = Claim(text="A different rumour entirely")
        s.add_all([a, b, c1, c2])
        s.commit()
        assert a.id and b.id and c1.id and c2.id
        return a.id, b.id, c1.id, c2.id


def _store(db: Database, image, claim_id: int, citizen_id: int) -> int:
    safe = decode(stripped_jpeg(image))
    jpeg = stripped_jpeg(safe.image)
    with db.session() as s:
        picture = record_picture(
            s, claim_id=claim_id, citizen_id=citizen_id, jpeg=jpeg, size=safe.image.size,
            phash=picture_hash(safe.image), ocr_text="text", ocr_lang="en",
        )  # fmt: skip
        s.commit()
        assert picture.id is not None
        return picture.id


def test_a_copy_finds_its_claim_and_an_unrelated_picture_finds_none(db: Database) -> None:
    alice, bob, claim, other = _setup(db)
    original = meme(11, "Is this true?!", "en")
    first = _store(db, original, claim, alice)
    _store(db, photo(12), other, bob)
    with db.session() as s:
        index = load_index(s)
        assert len(index) == 2
        copy = VARIANTS["phone viewer"](original, random.Random(1))
        match = find_claim(s, index, picture_hash(copy))
        assert match is not None and (match.claim_id, match.picture_id) == (claim, first)
        assert find_claim(s, index, picture_hash(photo(13))) is None
        stored = s.get(Picture, first)
        assert stored is not None and stored.data is not None and b"Exif" not in stored.data
        assert not stored.publishable  # never public by default


def test_a_merged_claim_answers_with_its_survivor(db: Database) -> None:
    alice, _, claim, other = _setup(db)
    original = meme(21, "Wake up people", "en")
    _store(db, original, claim, alice)
    with db.session() as s:
        merged = s.get(Claim, claim)
        assert merged is not None
        merged.status, merged.merged_into_id = ClaimStatus.MERGED, other
        s.commit()
        match = find_claim(s, load_index(s), picture_hash(original))
        assert match is not None and match.claim_id == other


def test_only_publishable_pictures_are_public(db: Database) -> None:
    alice, bob, claim, _ = _setup(db)
    one = _store(db, meme(31, "Is this true?!", "en"), claim, alice)
    two = _store(db, photo(32), claim, bob)
    with db.session() as s:
        assert pictures_of_claim(s, claim) == []
        assert mark_publishable(s, two)
        s.commit()
        assert [p.id for p in pictures_of_claim(s, claim)] == [two]
        assert [p.id for p in pictures_of_claim(s, claim, public_only=False)] == [one, two]
        assert not mark_publishable(s, 99999)


def test_erasing_a_citizen_removes_their_pictures_even_publishable_ones(db: Database) -> None:
    alice, bob, claim, _ = _setup(db)
    mine = _store(db, meme(41, "Is this true?!", "en"), claim, alice)
    theirs = _store(db, photo(42), claim, bob)
    with db.session() as s:
        mark_publishable(s, mine)
        index = load_index(s)
        assert erase_citizen_pictures(s, alice, index) == [mine]
        s.commit()
        assert [p.id for p in s.exec(select(Picture)).all()] == [theirs]
        assert len(index) == 1
        assert find_claim(s, index, picture_hash(meme(41, "Is this true?!", "en"))) is None
