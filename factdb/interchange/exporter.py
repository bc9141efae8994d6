"""`crowdcheck export`: published claims as CSV, JSON Lines or a ClaimReview DataFeed.

Streamed: rows come from the database `yield_per` at a time and are written as they come, so
10^6 claims never sit in memory together. One record per published claim, in the language of
its original clarification (the current one in the claim's language, else the oldest current
one); translations are not exported, so an export imports back one-to-one.

A claim imported with a fact-check's headline carries it as `title` (JSON Lines, CSV), and as
the ClaimReview's `headline` while the review is still the partner's (`claimreview_for`).

What goes out is the claim's public wording (a reviewer's rewording when set, else its text;
never the sender's original once reworded) and its clarification only, text through
`mask_personal`. Nothing about who asked (citizens, chats, request texts) and no reviewer's
identity is ever read here.

Pictures: the claim's public pictures (a reviewer made each publishable,
`factdb.media.public_pictures`) go out as addresses under the public URL, never as bytes: an
`ImageObject` in ClaimReview's `itemReviewed.appearance`, and `pictures` in JSON Lines and CSV.
Without a public URL there are none (an address that follows a Host header is no address).

CSV is written for spreadsheets: every field quoted (a bare carriage return inside a cell cannot
split a row) and cells that would start a formula made inert (`inert.inert_cell`). JSON Lines
and ClaimReview carry the values exactly.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterator
from contextlib import nullcontext
from typing import IO, Any, Literal

from sqlalchemy import func
from sqlmodel import col, select

from factdb import clarifications
from factdb.db import Database
from factdb.interchange import claimreview
from factdb.interchange.importer import ProgressLike
from factdb.interchange.inert import inert_cell, is_web_url
from factdb.media.public_pictures import picture_url, public_pictures_by_claim
from factdb.models import Claim, ClaimStatus, Clarification, utcnow
from factdb.privacy import mask_personal

__all__ = ["COLUMNS", "csv_cells", "export", "flat_record", "published_claims"]

Format = Literal["csv", "jsonl", "claimreview"]
# The contract's claim fields first (so an export imports back), then what we add; a new
# column goes at the end, so readers that take columns by position keep working.
COLUMNS = (
    "id",
    "text",
    "verdict",
    "summary",
    "url",
    "lang",
    "published",
    "sources",
    "source_url",
    "author",
    "pictures",
    "title",
)
BATCH = 2000


def published_claims(db: Database, *, batch: int = BATCH) -> Iterator[tuple[Claim, Clarification]]:
    """Each published claim with its original-language current clarification, by claim id."""
    stmt = (
        select(Claim, Clarification)
        .join(Clarification, col(Clarification.claim_id) == col(Claim.id))
        .where(Claim.status == ClaimStatus.PUBLISHED)
        .where(col(Clarification.is_current), Clarification.status == "published")
        .order_by(col(Claim.id), col(Clarification.id))
        # yield_per streams (a server-side cursor on PostgreSQL) instead of fetching all rows.
        .execution_options(yield_per=batch)
    )
    with db.session() as session:
        group: list[tuple[Claim, Clarification]] = []
        for claim, clar in session.exec(stmt):
            if group and group[0][0].id != claim.id:
                yield _original(group)
                group = []
            group.append((claim, clar))
        if group:
            yield _original(group)


def _original(group: list[tuple[Claim, Clarification]]) -> tuple[Claim, Clarification]:
    claim = group[0][0]
    return claim, clarifications.original([clar for _, clar in group], claim.lang)


def flat_record(
    claim: Claim,
    clar: Clarification,
    *,
    org_name: str,
    public_url: str | None,
    pictures: list[int] | tuple[int, ...] = (),
) -> dict[str, Any]:
    """The contract's claim fields for one claim (what `crowdcheck import` reads back), and
    the addresses of its public pictures (ignored by the importer)."""
    imported = claimreview.is_imported(claim, clar)
    return {
        "id": claimreview.public_id(claim, org_name=org_name, public_url=public_url),
        "text": claimreview.public_wording(claim),  # factdb.public: reworded, masked
        "verdict": clar.verdict,
        "summary": mask_personal(clar.summary),
        "url": claimreview.review_url(claim, clar, public_url=public_url),
        "lang": clar.lang,
        "published": clar.published_at.date().isoformat() if clar.published_at else None,
        "sources": claimreview.web_sources(clar),
        "source_url": claim.source_url if is_web_url(claim.source_url) else None,
        # the partner an imported fact-check came from; ours otherwise (never a reviewer's name)
        "author": clar.author_name if imported and clar.author_name else org_name,
        "pictures": [picture_url(public_url, p) for p in pictures] if public_url else [],
        # the headline of the fact-check the claim was imported with, so it imports back
        "title": mask_personal(claim.headline) if claim.headline else None,
    }


def csv_cells(record: dict[str, Any]) -> list[str]:
    """One CSV row for a flat record: columns in contract order, every cell inert."""
    # Several sources (pictures) go in one cell, space-separated: URLs never contain spaces.
    record = dict(record, sources=" ".join(record["sources"]), pictures=" ".join(record["pictures"]))
    return [inert_cell("" if record[c] is None else str(record[c])) for c in COLUMNS]


def _pictures(db: Database, public_url: str | None, wanted: bool) -> dict[int, list[int]]:
    if not (wanted and public_url):
        return {}
    with db.session() as session:
        return public_pictures_by_claim(session)


def _count(db: Database) -> int:
    with db.session() as session:
        return int(
            session.exec(
                select(func.count()).select_from(Claim).where(Claim.status == ClaimStatus.PUBLISHED)
            ).one()
        )


def export(
    db: Database,
    fmt: Format,
    out: IO[str],
    *,
    org_name: str,
    public_url: str | None,
    progress: ProgressLike | None = None,
    org_url: str | None = None,
    pictures: bool = True,
) -> int:
    """Write all published claims to `out` in `fmt`; returns how many were written.

    A ClaimReview export without `public_url` works but is weaker: callers tell the operator
    with `claimreview.missing_public_url_warning`. `pictures=False` leaves the public pictures
    out (the feed, when its `public_url` is only the Host header a request named)."""
    if fmt not in ("csv", "jsonl", "claimreview"):
        raise ValueError(f"unknown export format {fmt!r}: use csv, jsonl or claimreview")
    public_url = public_url.rstrip("/") if public_url else None
    shown = _pictures(db, public_url, pictures)  # few: a reviewer chose each
    task = progress.task(f"Exporting {fmt}", total=_count(db)) if progress else nullcontext(None)
    with task as advance:
        tick: Callable[..., None] = advance or (lambda _k=1: None)
        if fmt == "claimreview":
            return _write_feed(
                db, out, org_name=org_name, org_url=org_url, public_url=public_url, tick=tick, pictures=shown
            )
        if fmt == "csv":
            # QUOTE_ALL: the csv module quotes a cell with "\n" but not one with a bare "\r"
            # (lineterminator is "\n"), and spreadsheets end a row at either.
            writer = csv.writer(out, lineterminator="\n", quoting=csv.QUOTE_ALL)
            writer.writerow(COLUMNS)
        written = 0
        for claim, clar in published_claims(db):
            record = flat_record(
                claim,
                clar,
                org_name=org_name,
                public_url=public_url,
                pictures=shown.get(claim.id, ()),  # type: ignore[arg-type]
            )
            if fmt == "csv":
                writer.writerow(csv_cells(record))
            else:
                out.write(json.dumps(record, ensure_ascii=False) + "\n")
            written += 1
            if written % 1000 == 0:
                tick(1000)
        tick(written % 1000)
        return written


def _write_feed(
    db: Database,
    out: IO[str],
    *,
    org_name: str,
    org_url: str | None,
    public_url: str | None,
    tick: Callable[..., None],
    pictures: dict[int, list[int]],
) -> int:
    # Written by hand around the elements so the feed is never built in memory; the result is
    # one valid JSON document.
    head = {
        "@context": "https://schema.org",
        "@type": "DataFeed",
        "name": f"{org_name} fact-checks",
        "dateModified": utcnow().replace(microsecond=0).isoformat(),
    }
    if org_url or public_url:
        head["url"] = public_url or org_url
    out.write(json.dumps(head, ensure_ascii=False, indent=1)[:-2] + ',\n "dataFeedElement": [')
    written = 0
    for claim, clar in published_claims(db):
        element = claimreview.claimreview_for(
            claim,
            clar,
            org_name=org_name,
            org_url=org_url,
            public_url=public_url,
            pictures=pictures.get(claim.id, ()),  # type: ignore[arg-type]
        )
        element.pop("@context")  # the feed's context applies to its elements
        out.write(("\n  " if written == 0 else ",\n  ") + json.dumps(element, ensure_ascii=False))
        written += 1
        if written % 1000 == 0:
            tick(1000)
    out.write("\n ]\n}\n")
    tick(written % 1000)
    return written
