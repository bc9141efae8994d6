"""Which citizens' pictures the public may see: the claim page, `/pictures/{id}.jpg`, ClaimReview.

A picture is public only when both hold:

- a reviewer marked it publishable (`Picture.publishable`, false by default: a citizen's photo
  can show their family, their street, their screen), and
- the claim it was filed under is a published claim, or was merged into one (directly or
  through a chain of merges): a duplicate's pictures show on the claim it joined. A claim
  retracted, under review, new or closed as spam shows none, and its pictures' addresses answer
  404 like a picture that does not exist, so an address says nothing about what is behind it.

The reviewer's toggle (`set_publishable`) bumps the survivor's `updated_at`, and the feed's
fingerprint (`factdb.public.published_fingerprint`) also counts publishable pictures (a
/forget erases some without touching their claim), so the feed is rebuilt with or without them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func
from sqlmodel import Session, col, select

from factdb import audit
from factdb.media.pictures import Picture
from factdb.merges import MAX_HOPS, current_claim
from factdb.models import Claim, ClaimStatus, utcnow

__all__ = [
    "PublicPicture",
    "picture_path",
    "picture_url",
    "public_picture_bytes",
    "public_pictures_by_claim",
    "public_pictures_of_claim",
    "publishable_count",
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


def _chunks(ids: list[int], size: int = 500) -> list[list[int]]:
    return [ids[i : i + size] for i in range(0, len(ids), size)]


def _published_survivors(session: Session, claim_ids: set[int]) -> dict[int, int]:
    """Each claim id → the published claim it now lives in (itself, or the end of its merges),
    for those that live in one. In bulk, one query per hop of merges (not one per picture)."""
    at = {cid: cid for cid in claim_ids}
    pending = set(claim_ids)
    for _ in range(MAX_HOPS + 1):
        if not pending:
            break
        wanted = sorted({at[c] for c in pending})
        found: dict[int, tuple[str, int | None]] = {}
        for chunk in _chunks(wanted):
            rows = session.exec(
                select(Claim.id, Claim.status, Claim.merged_into_id).where(col(Claim.id).in_(chunk))
            ).all()
            found.update({cid: (status, target) for cid, status, target in rows if cid is not None})
        moved: set[int] = set()
        for c in pending:
            status, target = found.get(at[c], (None, None))
            if status == ClaimStatus.MERGED and target is not None:
                at[c] = target
                moved.add(c)
            elif status != ClaimStatus.PUBLISHED:
                del at[c]  # gone, retracted, in review, spam: not public
        pending = moved
    for c in pending:  # a loop someone wrote into the database by hand
        del at[c]
    return at


def _published(claim: Claim | None) -> bool:
    return claim is not None and claim.status == ClaimStatus.PUBLISHED


def public_pictures_of_claim(session: Session, claim_id: int) -> list[PublicPicture]:
    """The publishable pictures a published claim's page shows: its own and those of claims
    merged into it, oldest first. None for a claim that is not published (nor for a merged one:
    its page redirects to the survivor).

    Columns, never whole rows: a row holds the JPEG, and the page needs only ids and sizes."""
    if not _published(session.get(Claim, claim_id)):
        return []
    publishable = col(Picture.publishable).is_(True)
    ids = set(session.exec(select(Picture.id).where(Picture.claim_id == claim_id).where(publishable)).all())
    # Publishable pictures of merged claims (both indexes cover this), each followed through
    # its merges: cheaper than finding every claim merged into this one (no index on that).
    merged = session.exec(
        select(Picture.id, Picture.claim_id)
        .join(Claim, col(Claim.id) == col(Picture.claim_id))
        .where(publishable)
        .where(Claim.status == ClaimStatus.MERGED)
    ).all()
    survivors = _published_survivors(session, {cid for _, cid in merged if cid is not None})
    ids |= {pid for pid, cid in merged if pid is not None and survivors.get(cid) == claim_id}  # type: ignore[arg-type]
    if not ids:
        return []
    rows = session.exec(
        select(Picture.id, Picture.width, Picture.height)
        .where(col(Picture.id).in_(ids))
        .order_by(col(Picture.id))
    ).all()
    return [PublicPicture(pid, width, height) for pid, width, height in rows if pid is not None]


def public_pictures_by_claim(session: Session) -> dict[int, list[int]]:
    """Every public picture's id by the published claim it shows on, for the exports: a few
    queries for the whole export, not one per claim (publishable pictures are few: a reviewer
    chose each)."""
    out: dict[int, list[int]] = {}
    rows = session.exec(
        select(Picture.id, Picture.claim_id)
        .where(col(Picture.publishable).is_(True))
        .where(col(Picture.claim_id).is_not(None))
        .order_by(col(Picture.id))
    ).all()
    survivors = _published_survivors(session, {cid for _, cid in rows if cid is not None})
    for picture_id, claim_id in rows:
        survivor = survivors.get(claim_id)  # type: ignore[arg-type]
        if picture_id is not None and survivor is not None:
            out.setdefault(survivor, []).append(picture_id)
    return out


def publishable_count(session: Session) -> int:
    """How many pictures reviewers made publishable (an index-only count): part of the feed's
    fingerprint, so erasing one (/forget) rebuilds the feed without its address."""
    return int(
        session.exec(
            select(func.count()).select_from(Picture).where(col(Picture.publishable).is_(True))
        ).one()
    )


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
