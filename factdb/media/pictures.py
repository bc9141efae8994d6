"""The pictures citizens sent: stored stripped, found by hash, public only when a reviewer says.

A picture belongs to the claim it was filed under and to the citizen who sent it (so /forget
can erase it). What is stored is the re-encoded JPEG from decode.stripped_jpeg: pixels only,
no EXIF or location. It is never public until a reviewer marks it publishable: a citizen's
photo can show their family, their street, their screen.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Column, Index, LargeBinary, Text, delete, update
from sqlmodel import Field, Session, SQLModel, col, select

from factdb.media.hash_index import HashIndex, Thresholds
from factdb.media.hashing import PictureHash
from factdb.models import MATCHABLE_STATUSES, Claim, utcnow

__all__ = [
    "Picture",
    "PictureMatch",
    "erase_citizen_pictures",
    "find_claim",
    "load_index",
    "mark_publishable",
    "pictures_of_claim",
    "record_picture",
]


class Picture(SQLModel, table=True):
    __tablename__ = "picture"
    __table_args__ = (Index("ix_picture_claim_publishable", "claim_id", "publishable"),)

    id: int | None = Field(default=None, primary_key=True)
    claim_id: int | None = Field(default=None, foreign_key="claim.id", index=True)
    citizen_id: int | None = Field(default=None, foreign_key="citizen.id", index=True)
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
) -> Picture:
    """Store a stripped picture for a claim (not yet committed: the caller's transaction)."""
    picture = Picture(
        claim_id=claim_id,
        citizen_id=citizen_id,
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


def load_index(session: Session, thresholds: Thresholds | None = None) -> HashIndex:
    """Every stored picture's hash, keyed by picture id (built at start-up)."""
    index = HashIndex(thresholds)
    rows = session.exec(select(Picture.id, Picture.hash_coarse, Picture.hash_fine, Picture.flat)).all()
    index.add_many([(pid, PictureHash(c, f, flat)) for pid, c, f, flat in rows if pid is not None])
    return index


def _survivor(session: Session, claim_id: int) -> Claim | None:
    """The claim a (possibly merged) claim now lives on, if it can still be matched."""
    claim = session.get(Claim, claim_id)
    for _ in range(8):  # merges chain rarely; never loop for ever on a bad row
        if claim is None or claim.merged_into_id is None:
            break
        claim = session.get(Claim, claim.merged_into_id)
    if claim is None or claim.status not in MATCHABLE_STATUSES:
        return None
    return claim


def find_claim(session: Session, index: HashIndex, phash: PictureHash) -> PictureMatch | None:
    """The claim of the nearest stored picture that counts as the same, or None."""
    for hit in index.search(phash):
        picture = session.get(Picture, hit.key)
        if picture is None or picture.claim_id is None:
            continue  # erased since the index was built
        claim = _survivor(session, picture.claim_id)
        if claim is not None and claim.id is not None:
            distance = hit.fine if (phash.flat or picture.flat) else hit.coarse
            return PictureMatch(claim.id, hit.key, distance)
    return None


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


def erase_citizen_pictures(session: Session, citizen_id: int, index: HashIndex | None = None) -> list[int]:
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
