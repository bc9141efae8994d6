"""Which citizens' pictures the public may see: the claim page, `/pictures/{id}.jpg`, ClaimReview.

A picture is public only when both hold:

- a reviewer marked it publishable (`Picture.publishable`, false by default: a citizen's photo
  can show their family, their street, their screen), and
- the claim it was filed under is a published claim, or was merged into one (directly or
  through a chain of merges): a duplicate's pictures show on the claim it joined. A claim
  retracted, under review, new or closed as spam shows none, and its pictures' addresses answer
  404 like a picture that does not exist, so an address says nothing about what is behind it.

The reviewer's toggle (`set_publishable`) bumps the survivor's `updated_at`, so the feed's
fingerprint (`factdb.public.published_fingerprint`) moves and the feed is rebuilt with or
without the picture.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlmodel import Session, col, select

from factdb import audit
from factdb.media.pictures import Picture
from factdb.merges import current_claim
from factdb.models import Claim, ClaimStatus, utcnow

__all__ = [
    "PublicPicture",
    "picture_path",
    "picture_url",
    "public_picture_bytes",
    "public_pictures_by_claim",
    "public_pictures_of_claim",
    "set_publishable",
]


@dataclass(frozen=True)
class PublicPicture:
    id: int
    width: int  # as recorded (the aspect ratio of the stored JPEG); 0 when unknown
    height: int


def picture_path(picture_id: int) -> str:
    """The picture's address on the public site (the route in bot/web/pages.py)."""
    return f"/pictures/{picture_id}.jpg"


def picture_url(public_url: str, picture_id: int) -> str:
    return public_url.rstrip("/") + picture_path(picture_id)


def _survivor(session: Session, claim_id: int | None) -> Claim | None:
    claim = session.get(Claim, claim_id) if claim_id is not None else None
    return current_claim(session, claim) if claim is not None else None


def _published(claim: Claim | None) -> bool:
    return claim is not None and claim.status == ClaimStatus.PUBLISHED


def _public(picture: Picture) -> PublicPicture:
    assert picture.id is not None
    return PublicPicture(picture.id, picture.width, picture.height)


def public_pictures_of_claim(session: Session, claim_id: int) -> list[PublicPicture]:
    """The publishable pictures a published claim's page shows: its own and those of claims
    merged into it, oldest first. None for a claim that is not published (nor for a merged one:
    its page redirects to the survivor)."""
    claim = session.get(Claim, claim_id)
    if not _published(claim):
        return []
    own = session.exec(
        select(Picture).where(Picture.claim_id == claim_id).where(col(Picture.publishable).is_(True))
    ).all()
    # Publishable pictures of merged claims are few (a reviewer chose each): fetch them all and
    # follow each one's merges, rather than walk every claim merged into this one (no index).
    merged = session.exec(
        select(Picture)
        .join(Claim, col(Claim.id) == col(Picture.claim_id))
        .where(col(Picture.publishable).is_(True))
        .where(Claim.status == ClaimStatus.MERGED)
    ).all()
    found = list(own) + [p for p in merged if (s := _survivor(session, p.claim_id)) and s.id == claim_id]
    return [_public(p) for p in sorted(found, key=lambda p: p.id or 0)]


def public_pictures_by_claim(session: Session) -> dict[int, list[int]]:
    """Every public picture's id by the published claim it shows on (for the exports: one
    query, not one per claim). Publishable pictures are few: a reviewer chose each."""
    out: dict[int, list[int]] = {}
    rows = session.exec(
        select(Picture.id, Picture.claim_id)
        .where(col(Picture.publishable).is_(True))
        .where(col(Picture.claim_id).is_not(None))
        .order_by(col(Picture.id))
    ).all()
    for picture_id, claim_id in rows:
        survivor = _survivor(session, claim_id)
        if picture_id is not None and survivor is not None and _published(survivor):
            out.setdefault(survivor.id, []).append(picture_id)  # type: ignore[arg-type]
    return out


def public_picture_bytes(session: Session, picture_id: int) -> tuple[bytes, str] | None:
    """The JPEG and its SHA-256 when the public may see this picture; None otherwise, the same
    None for a private picture, one of an unpublished claim, and one that does not exist."""
    picture = session.get(Picture, picture_id)
    if picture is None or not picture.publishable or not _published(_survivor(session, picture.claim_id)):
        return None
    data = picture.data
    if data is None and picture.path:
        try:
            data = Path(picture.path).read_bytes()
        except OSError:
            return None
    return (data, picture.sha256) if data else None


def set_publishable(session: Session, picture_id: int, reviewer_id: int, publishable: bool) -> bool | None:
    """A reviewer's decision to show a picture on its claim's public page (or to stop). True if
    that changed anything, False if it already was so (a stale button pressed twice), None if
    the picture is gone (erased by /forget). Audit-logged under the picture's claim."""
    picture = session.get(Picture, picture_id)
    if picture is None:
        return None
    if picture.publishable == publishable:
        return False
    picture.publishable = publishable
    session.add(picture)
    survivor = _survivor(session, picture.claim_id)
    if survivor is not None:
        survivor.updated_at = utcnow()  # the feed's fingerprint moves: rebuilt with/without it
        session.add(survivor)
    audit.record(
        session,
        reviewer_id,
        "picture_public" if publishable else "picture_private",
        picture.claim_id,
        f"picture {picture_id} {'private' if publishable else 'public'}",
        f"picture {picture_id} {'public' if publishable else 'private'}",
    )
    return True
