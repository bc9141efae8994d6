"""Writing validated rows: new claims inserted, known ones (by external id) updated in place.

Core bulk statements, one transaction per chunk, one look-up of existing ids per chunk. A
record identical to what the database holds is not rewritten (the match index's change feed
would otherwise re-read it).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, bindparam, select, update

from factdb.interchange.importer.records import Row
from factdb.interchange.importer.report import ImportReport
from factdb.models import Claim, ClaimStatus, Clarification, utcnow

_CLAIM = Claim.__table__  # type: ignore[attr-defined]
_CLAR = Clarification.__table__  # type: ignore[attr-defined]
_PUBLISHED, _NEW = ClaimStatus.PUBLISHED.value, ClaimStatus.NEW.value


def _utc(value: datetime | None) -> datetime | None:
    # SQLite hands back naive UTC values from Core selects; compare like with like.
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def write_rows(conn: Connection, rows: list[Row]) -> ImportReport:
    """Write one chunk in the caller's transaction; what it did, counted afresh."""
    report = ImportReport()
    write_chunk(conn, rows, report)
    return report


def write_chunk(conn: Connection, rows: list[Row], report: ImportReport) -> None:
    """Insert new claims and update known ones, in the caller's transaction."""
    latest: dict[str, Row] = {}
    for row in rows:
        if row.external_id in latest:
            report.updated += 1  # the later record of the same id updates the earlier one
        latest[row.external_id] = row
    existing = {
        r.external_id: r
        for r in conn.execute(
            select(
                _CLAIM.c.id,
                _CLAIM.c.external_id,
                _CLAIM.c.text,
                _CLAIM.c.lang,
                _CLAIM.c.source_url,
                _CLAIM.c.published_at,
                _CLAIM.c.status,
                _CLAIM.c.headline,
            ).where(_CLAIM.c.external_id.in_(list(latest)))
        )
    }
    now = utcnow()
    fresh = [row for eid, row in latest.items() if eid not in existing]
    if fresh:
        _insert(conn, fresh, now)
        report.added += len(fresh)
    known = [(existing[eid], row) for eid, row in latest.items() if eid in existing]
    if known:
        _update(conn, known, now, report)


def _claim_values(row: Row, now: datetime) -> dict[str, Any]:
    seen = row.first_seen or row.published or now
    return {
        "text": row.text,
        "normalized": row.normalized,
        "lang": row.lang,
        "status": _PUBLISHED if row.verdict else _NEW,
        "external_id": row.external_id,
        "source_url": row.source_url,
        "headline": row.headline,
        "provenance": None,
        "request_count": 0,
        "first_seen": seen,
        "last_seen": max(seen, row.published or seen),
        "merged_into_id": None,
        "assignee_id": None,
        "card_chat_id": None,
        "card_message_id": None,
        "created_at": now,
        "updated_at": now,
        "published_at": (row.published or now) if row.verdict else None,
    }


def _clar_values(claim_id: int, row: Row, now: datetime) -> dict[str, Any]:
    return {
        "claim_id": claim_id,
        "lang": row.lang or "und",  # BCP 47 "undetermined": the column may not be empty
        "verdict": row.verdict,
        "summary": row.summary,
        "sources": row.sources,
        "url": row.url,
        "author_id": None,
        "author_name": row.author,
        "version": 1,
        "is_current": True,
        "status": "published",
        "published_at": row.published or now,
        "retracted_at": None,
        "retract_reason": None,
    }


def _bulk_update(conn: Connection, table: Any, rows: list[dict[str, Any]]) -> None:
    """One executemany UPDATE of `table`: each row names its id as `_id`, and every row sets
    the same columns (those of the first)."""
    if rows:
        columns = {k: bindparam(k) for k in rows[0] if k != "_id"}
        conn.execute(update(table).where(table.c.id == bindparam("_id")).values(columns), rows)


def _bulk_insert(conn: Connection, table: Any, rows: list[dict[str, Any]]) -> None:
    """executemany straight to the driver: SQLAlchemy's per-value type processing (datetime
    to text on SQLite) cost more than the database itself at 10^6 rows."""
    columns = list(rows[0])
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    sql = f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({', '.join([mark] * len(columns))})"
    if conn.dialect.name == "sqlite":
        # SQLite keeps SQLAlchemy DateTime as this text (UTC, no zone); the ORM reads it back
        # as usual. A chunk has few distinct times (now, a few dates), so format each once.
        texts: dict[datetime, str] = {}

        def cell(v: Any) -> Any:
            if not isinstance(v, datetime):
                return v
            out = texts.get(v)
            if out is None:
                out = texts[v] = v.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
            return out

        params: list[tuple[Any, ...]] = [tuple(map(cell, r.values())) for r in rows]
    else:
        params = [tuple(r.values()) for r in rows]
    conn.exec_driver_sql(sql, params)  # type: ignore[arg-type]


def _insert(conn: Connection, rows: list[Row], now: datetime) -> None:
    _bulk_insert(conn, _CLAIM, [_claim_values(r, now) for r in rows])
    # One look-up by the unique external_id for the new ids: cheaper than RETURNING, which
    # SQLite can only do one row per statement when the order of ids must be kept.
    ids = dict(
        conn.execute(
            select(_CLAIM.c.external_id, _CLAIM.c.id).where(
                _CLAIM.c.external_id.in_([r.external_id for r in rows])
            )
        )
        .tuples()
        .all()
    )
    clar = [_clar_values(ids[r.external_id], r, now) for r in rows if r.verdict]
    if clar:
        _bulk_insert(conn, _CLAR, clar)


def _update(conn: Connection, known: list[tuple[Any, Row]], now: datetime, report: ImportReport) -> None:
    claim_ids = [c.id for c, _ in known]
    current: dict[int, list[Any]] = {}
    for r in conn.execute(
        select(
            _CLAR.c.id,
            _CLAR.c.claim_id,
            _CLAR.c.lang,
            _CLAR.c.verdict,
            _CLAR.c.summary,
            _CLAR.c.url,
            _CLAR.c.sources,
            _CLAR.c.author_name,
            _CLAR.c.author_id,
        )
        .where(_CLAR.c.claim_id.in_(claim_ids), _CLAR.c.is_current.is_(True))
        .order_by(_CLAR.c.id)
    ):
        current.setdefault(r.claim_id, []).append(r)

    claim_updates: list[dict[str, Any]] = []
    clar_updates: list[dict[str, Any]] = []
    clar_inserts: list[dict[str, Any]] = []
    for claim, row in known:
        rows = current.get(claim.id, [])
        # The clarification in the record's language, else the original (oldest) one: the
        # partner's corrected verdict replaces ours in place, translations stay as they are.
        target = next((c for c in rows if c.lang == (row.lang or "und")), rows[0] if rows else None)
        # A record without a title field keeps the stored headline (an older feed, a
        # ClaimReview without one); an empty one clears it.
        headline = row.headline if row.headline_given else claim.headline
        claim_same = (
            claim.text == row.text
            and claim.lang == row.lang
            and claim.source_url == row.source_url
            and claim.headline == headline
            and (row.published is None or _utc(claim.published_at) == row.published)
        )
        # A clarification one of our reviewers wrote (an edit after the import) is theirs: the
        # partner's feed does not overwrite it.
        ours = target is not None and target.author_id is not None
        clar_same = (
            (not row.verdict)
            or ours
            or (
                target is not None
                and target.verdict == row.verdict
                and target.summary == row.summary
                and target.url == row.url
                and target.sources == row.sources
                and target.author_name == row.author
            )
        )
        if claim_same and clar_same:
            report.unchanged += 1
            continue
        report.updated += 1
        values = {
            "_id": claim.id,
            "text": row.text,
            "normalized": row.normalized,
            "lang": row.lang,
            "source_url": row.source_url,
            "headline": headline,
            "updated_at": now,
            "published_at": _utc(claim.published_at) or row.published,
            "status": claim.status,
        }
        if row.verdict:
            if row.published:
                values["published_at"] = row.published
            # A claim still waiting for a verdict gets the partner's; a local retraction,
            # merge or spam decision stands.
            if claim.status in (ClaimStatus.NEW, ClaimStatus.IN_REVIEW):
                values["status"] = ClaimStatus.PUBLISHED.value
                values["published_at"] = values["published_at"] or now
            if target is None:
                clar_inserts.append(_clar_values(claim.id, row, now))
            elif not clar_same:
                clar_updates.append(
                    {
                        "_id": target.id,
                        "verdict": row.verdict,
                        "summary": row.summary,
                        "url": row.url,
                        "sources": row.sources,
                        "author_name": row.author,
                        "lang": row.lang or target.lang,
                    }
                )
        claim_updates.append(values)
    _bulk_update(conn, _CLAIM, claim_updates)
    _bulk_update(conn, _CLAR, clar_updates)
    if clar_inserts:
        _bulk_insert(conn, _CLAR, clar_inserts)
