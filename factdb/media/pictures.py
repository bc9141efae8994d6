"""The pictures citizens sent: stored stripped, found by hash, public only when a reviewer says.

A picture belongs to the claim it was filed under and to the citizen who sent it (so /forget
can erase it). What is stored is the re-encoded JPEG from decode.stripped_jpeg: pixels only,
no EXIF or location. It is never public until a reviewer marks it publishable: a citizen's
photo can show their family, their street, their screen.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Column, Index, LargeBinary, Text, delete, func, update
from sqlmodel import Field, Session, SQLModel, col, select

from factdb.media.hash_index import HashIndex, Hit, Thresholds
from factdb.media.hashing import PictureHash, hamming
from factdb.merges import current_claim
from factdb.models import MATCHABLE_STATUSES, Claim, utcnow

__all__ = [
    "Picture",
    "PictureIndex",
    "PictureMatch",
    "count_for_claim",
    "erase_citizen_pictures",
    "file_request_pictures",
    "find_claim",
    "load_index",
    "mark_publishable",
    "pictures_of_claim",
    "record_picture",
]


class Picture(SQLModel, table=True):
    __tablename__ = "picture"
    # AUTOINCREMENT on SQLite (migration 0010): ids are never reused, since every worker's hash
    # index keys pictures by id (PostgreSQL's sequences never reuse them anyway).
    __table_args__ = (
        Index("ix_picture_claim_publishable", "claim_id", "publishable"),
        {"sqlite_autoincrement": True},
    )

    id: int | None = Field(default=None, primary_key=True)
    claim_id: int | None = Field(default=None, foreign_key="claim.id", index=True)
    citizen_id: int | None = Field(default=None, foreign_key="citizen.id", index=True)
    # the request it came with: while that request waits for the citizen's choice among near
    # matches, claim_id is None; the choice files the picture under its claim
    request_id: int | None = Field(default=None, index=True)
    kind: str = Field(default="photo", max_length=16)  # photo, document, animation, video...
    # the stripped JPEG (decode.stripped_jpeg); `path` instead when kept outside the database
    data: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    path: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    sha256: str = Field(max_length=64, index=True)  # of the stripped bytes: exact copies
    width: int = 0
    height: int = 0
    hash_coarse: bytes = Field(sa_column=Column(LargeBinary(8), nullable=False))
    hash_fine: bytes = Field(sa_column=Column(LargeBinary(32), nullable=False))
    flat: bool = False
    ocr_text: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    ocr_lang: str | None = Field(default=None, max_length=16)
    publishable: bool = False
    created_at: datetime = Field(default_factory=utcnow)

    @property
    def hash(self) -> PictureHash:
        return PictureHash(self.hash_coarse, self.hash_fine, self.flat)


@dataclass(frozen=True)
class PictureMatch:
    claim_id: int  # the claim to answer with (a merged claim's survivor)
    picture_id: int
    distance: int  # coarse bits (fine bits for flat pictures)


def record_picture(
    session: Session,
    *,
    claim_id: int | None,
    citizen_id: int | None,
    jpeg: bytes,
    size: tuple[int, int],
    phash: PictureHash,
    ocr_text: str | None = None,
    ocr_lang: str | None = None,
    kind: str = "photo",
    request_id: int | None = None,
) -> Picture:
    """Store a stripped picture for a claim (not yet committed: the caller's transaction)."""
    picture = Picture(
        claim_id=claim_id,
        citizen_id=citizen_id,
        request_id=request_id,
        kind=kind,
        data=jpeg,
        sha256=hashlib.sha256(jpeg).hexdigest(),
        width=size[0],
        height=size[1],
        hash_coarse=phash.coarse,
        hash_fine=phash.fine,
        flat=phash.flat,
        ocr_text=ocr_text,
        ocr_lang=ocr_lang,
    )
    session.add(picture)
    session.flush()
    return picture


# How far back a missing picture id is still looked for (erased or rolled-back rows leave gaps
# for ever; a late commit is at most a few ids behind).
GAP_WINDOW = 256


class PictureIndex:
    """Every stored picture's hash, for one worker. Catches up with pictures other workers
    stored by id (ids only grow), so a copy sent to any worker is found; a picture erased since
    is skipped at lookup, its row gone."""

    def __init__(self, thresholds: Thresholds | None = None) -> None:
        self.hashes = HashIndex(thresholds)
        self.last_id = 0
        # Ids below last_id not seen yet: on PostgreSQL a transaction may commit after a later
        # id's, so a missing id is looked for again until it appears or is too old to matter.
        self._gaps: set[int] = set()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self.hashes)

    def refresh(self, session: Session) -> int:
        """Add the pictures stored since the last refresh; returns how many."""
        with self._lock:
            newer = col(Picture.id) > self.last_id
            if self._gaps:
                newer = newer | col(Picture.id).in_(sorted(self._gaps))
            rows = session.exec(
                select(Picture.id, Picture.hash_coarse, Picture.hash_fine, Picture.flat)
                .where(newer)
                .order_by(col(Picture.id))
            ).all()
            items = [(pid, PictureHash(c, f, flat)) for pid, c, f, flat in rows if pid is not None]
            if not items:
                return 0
            self.hashes.add_many(items)
            found = {pid for pid, _ in items}
            newest = max(found)
            if newest > self.last_id:
                self._gaps.update(set(range(self.last_id + 1, newest)) - found)
                self.last_id = newest
            self._gaps -= found
            self._gaps = {gap for gap in self._gaps if gap > self.last_id - GAP_WINDOW}
            return len(items)

    def search(self, phash: PictureHash, *, limit: int = 5) -> list[Hit]:
        return self.hashes.search(phash, limit=limit)

    def remove(self, picture_id: int) -> None:
        with self._lock:
            self.hashes.remove(picture_id)


def load_index(session: Session, thresholds: Thresholds | None = None) -> PictureIndex:
    """Every stored picture's hash, keyed by picture id (built at start-up)."""
    index = PictureIndex(thresholds)
    index.refresh(session)
    return index


def find_claim(
    session: Session, index: PictureIndex | HashIndex, *hashes: PictureHash
) -> PictureMatch | None:
    """The claim of the nearest stored picture that counts as the same as any of `hashes` (a
    picture, or a video's key frames), or None."""
    if isinstance(index, PictureIndex):
        index.refresh(session)
    for phash in hashes:
        for hit in index.search(phash):
            picture = session.get(Picture, hit.key)
            if picture is None or picture.claim_id is None:
                continue  # erased since the index was built, or its request is still choosing
            if hamming(picture.hash_coarse, phash.coarse) != hit.coarse:
                continue  # not the picture this worker indexed under that id (belt and braces)
            claim = session.get(Claim, picture.claim_id)
            claim = current_claim(session, claim) if claim is not None else None
            if claim is not None and claim.id is not None and claim.status in MATCHABLE_STATUSES:
                distance = hit.fine if (phash.flat or picture.flat) else hit.coarse
                return PictureMatch(claim.id, hit.key, distance)
    return None


def file_request_pictures(session: Session, request_id: int, claim_id: int) -> None:
    """The pictures that came with a request belong to the claim it is filed under (after a
    choice among near matches, or "not my message")."""
    session.execute(update(Picture).where(col(Picture.request_id) == request_id).values(claim_id=claim_id))


def count_for_claim(session: Session, claim_id: int) -> int:
    return int(
        session.exec(select(func.count()).select_from(Picture).where(Picture.claim_id == claim_id)).one()
    )


def mark_publishable(session: Session, picture_id: int, publishable: bool = True) -> bool:
    """A reviewer's decision that this picture may appear on the claim's public page."""
    result = session.execute(
        update(Picture).where(col(Picture.id) == picture_id).values(publishable=publishable)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def pictures_of_claim(session: Session, claim_id: int, *, public_only: bool = True) -> list[Picture]:
    query = select(Picture).where(Picture.claim_id == claim_id)
    if public_only:
        query = query.where(col(Picture.publishable).is_(True))
    return list(session.exec(query.order_by(col(Picture.id))).all())


def erase_citizen_pictures(
    session: Session, citizen_id: int, index: PictureIndex | HashIndex | None = None
) -> list[int]:
    """Delete every picture a citizen sent (for /forget); returns their ids. Publishable ones
    too: a reviewer's consent to show a picture is not the sender's consent to keep it."""
    ids = [
        pid for pid in session.exec(select(Picture.id).where(Picture.citizen_id == citizen_id)).all() if pid
    ]
    if ids:
        session.execute(delete(Picture).where(col(Picture.id).in_(ids)))
        if index is not None:
            for pid in ids:
                index.remove(pid)
    return ids
