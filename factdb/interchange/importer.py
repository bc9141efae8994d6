"""`crowdcheck import`: partners' fact-checks (JSON Lines, CSV, ClaimReview) into claims.

Every record becomes a published Claim keyed by `external_id` plus one current Clarification.
Re-importing updates both in place, so a partner's corrected feed can be loaded again and again.
A bad record is reported with where it is and why, and skipped; the rest is kept.

Speed: 10^6 claims must load in minutes, so records are validated and normalised in chunks
(in worker processes for big files: `normalize()` is the dominant cost), and written with Core
bulk statements, one transaction per chunk, with one look-up of existing ids per chunk.
JSON Lines and CSV are streamed; a ClaimReview document is one JSON value and is parsed whole.
"""

from __future__ import annotations

import csv
import io
import json
import multiprocessing
import os
import re
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import AbstractContextManager, ExitStack, nullcontext
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import IO, Any, Protocol

from sqlalchemy import Connection, bindparam, select, update

from factdb.db import Database
from factdb.interchange import claimreview, inert, ratings
from factdb.language import detect_language
from factdb.models import (
    VERDICTS_NEEDING_SOURCES,
    Claim,
    ClaimStatus,
    Clarification,
    Verdict,
    utcnow,
)
from factdb.normalize import normalize

__all__ = [
    "FORMATS",
    "ImportFailed",
    "ImportReport",
    "Problem",
    "ProgressLike",
    "detect_format",
    "import_file",
    "import_records",
    "import_stream",
]

FORMATS = ("jsonl", "csv", "claimreview")
MAX_TEXT = 4096  # Telegram's message limit: longer text cannot be shown to a citizen in one go
CHUNK = 5000  # records per transaction: big enough to amortise commits, small for memory
# Below this many bytes a worker pool costs more to start than it saves.
PARALLEL_MIN_BYTES = 8 * 1024 * 1024

_CLAIM = Claim.__table__  # type: ignore[attr-defined]
_CLAR = Clarification.__table__  # type: ignore[attr-defined]
_VERDICTS = frozenset(v.value for v in Verdict)
_NEED_SOURCES = frozenset(v.value for v in VERDICTS_NEEDING_SOURCES)
_PUBLISHED, _NEW = ClaimStatus.PUBLISHED.value, ClaimStatus.NEW.value
_LANG_RE = re.compile(r"^[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8})*$")


class ImportFailed(Exception):
    """The whole input is unusable (unknown format, unreadable); the message is one line."""


@dataclass
class Problem:
    where: str  # "line 12" (JSON Lines), "row 7" (CSV, as a spreadsheet numbers it), "item 3"
    reason: str


@dataclass
class ImportReport:
    added: int = 0
    updated: int = 0
    problems: list[Problem] = field(default_factory=list)
    # Records identical to what the database already holds: not rewritten, so the match
    # index is not made to re-read them. Not part of added/updated.
    unchanged: int = 0


class ProgressLike(Protocol):
    def task(
        self, description: str, total: float | None = None, *, unit: str = "rows"
    ) -> AbstractContextManager[Callable[..., None]]: ...


# --- validating one record ------------------------------------------------------------------


@dataclass(slots=True)
class Row:
    """A record that passed validation, ready to be written."""

    where: str
    external_id: str
    text: str
    normalized: str
    lang: str | None
    verdict: str | None  # None: a claim to check, imported as `new` without clarification
    summary: str
    url: str | None
    source_url: str | None
    sources: str  # JSON list
    published: datetime | None
    first_seen: datetime | None
    author: str | None


class BadRecord(ValueError):
    pass


def _str(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return None


def _name(value: object) -> str | None:
    """A person's or organisation's name from a string, {"name": …} or a list of those."""
    if isinstance(value, list):
        value = value[0] if value else None
    if isinstance(value, dict):
        value = value.get("name")
    return _str(value)


def parse_datetime(value: object, what: str) -> datetime | None:
    text = _str(value)
    if text is None:
        return None
    try:
        if len(text) == 10:
            d = date.fromisoformat(text)
            return datetime(d.year, d.month, d.day, tzinfo=UTC)
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise BadRecord(f"{what} {text!r} is not an ISO date such as 2024-05-31") from None
    # A time without zone is taken as UTC: the contract speaks of dates, not local times.
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _lang(value: object) -> str | None:
    tag = _str(value)
    if tag is None:
        return None
    tag = tag.replace("_", "-")
    if not _LANG_RE.match(tag) or len(tag) > 16:
        raise BadRecord(f"lang {tag!r} is not a BCP 47 tag such as en or zh-TW")
    parts = tag.split("-")
    # Canonical casing (zh-tw → zh-TW, sr-latn → sr-Latn) so "the same language" compares equal.
    out = [parts[0].lower()]
    for p in parts[1:]:
        out.append(p.upper() if len(p) == 2 else p.title() if len(p) == 4 else p.lower())
    return "-".join(out)


def _web_url(value: object, what: str) -> str | None:
    """An http(s) address or None; any other scheme (javascript:, data:, file:) is refused, so it
    can never reach a ClaimReview url, appearance or citation we publish."""
    url = _str(value)
    if url is not None and not inert.is_web_url(url):
        shown = url if len(url) <= 60 else url[:59] + "…"
        raise BadRecord(f"{what} {shown!r} is not an http:// or https:// address")
    return url


def _sources(value: object, url: str | None) -> list[str]:
    if isinstance(value, str):
        value = value.strip()
        if value.startswith("["):
            try:
                value = json.loads(value)
            except ValueError:
                raise BadRecord("sources is not a JSON list of URLs") from None
        else:  # CSV: URLs separated by spaces or new lines (URLs never contain either)
            value = value.split()
    if isinstance(value, list):
        found = [s for s in (_web_url(v, "source") for v in value) if s]
        if found:
            return list(dict.fromkeys(found))
    elif value is not None:
        raise BadRecord("sources must be a list of URLs")
    return [url] if url else []


def _verdict(record: dict[str, Any]) -> tuple[str | None, str | None]:
    """(our verdict, the partner's own label) from `verdict`, `rating` or a numeric rating."""
    raw = _str(record.get("verdict"))
    if raw is not None and raw in _VERDICTS:
        return raw, None
    label = raw or _str(record.get("rating"))
    best, worst = record.get("best_rating"), record.get("worst_rating")
    if label is not None:
        found = ratings.to_verdict(label) or ratings.from_number(label, best, worst)
        # A label no table knows may still come with a number on a scale (ClaimReview).
        found = found or ratings.from_number(record.get("rating_value"), best, worst)
        if found is None:
            raise BadRecord(
                f"unknown verdict {label!r}: use one of {', '.join(sorted(_VERDICTS))}, or add it "
                "to the file named by CROWDCHECK_RATINGS_FILE"
            )
        return found, label
    value = record.get("rating_value")
    if value is not None:
        found = ratings.from_number(value, best, worst)
        if found is None:
            raise BadRecord(f"rating value {value!r} is outside its scale")
        return found, None
    return None, None


def _summary(verdict: str, label: str | None, author: str | None, url: str | None) -> str:
    # A partner feed without summaries still has to say something useful in a chat bubble.
    line = f"Rated “{label or ratings.LABELS[verdict]}”"
    if author:
        line += f" by {author}"
    return f"{line}. Details: {url}" if url else f"{line}."


def to_row(where: str, record: object) -> Row:
    """Validate one flat record (the contract's fields, plus ClaimReview's extras)."""
    if not isinstance(record, dict):
        raise BadRecord("expected a JSON object with at least text and verdict")
    if "__problem__" in record:  # found while reading a ClaimReview feed
        raise BadRecord(str(record["__problem__"]))
    text = _str(record.get("text"))
    if text is None:
        raise BadRecord("no text")
    if len(text) > MAX_TEXT:
        raise BadRecord(f"text is {len(text)} characters, over the limit of {MAX_TEXT}")
    url = _web_url(record.get("url"), "url")
    source_url = _web_url(record.get("source_url"), "source_url") or url
    verdict, label = _verdict(record)
    author = _name(record.get("author") or record.get("partner"))
    summary = _str(record.get("summary"))
    if summary is not None and len(summary) > MAX_TEXT:
        raise BadRecord(f"summary is {len(summary)} characters, over the limit of {MAX_TEXT}")
    sources = _sources(record.get("sources"), url)
    if verdict in _NEED_SOURCES and not sources:
        # The same rule reviewers follow: a factual verdict must cite where it comes from.
        raise BadRecord(f"verdict {verdict} needs a url or sources")
    normalized = normalize(text)
    external_id = _str(record.get("id")) or url
    if external_id is None:
        # No id and no url: the text itself is the only stable key a re-import can find.
        import hashlib

        external_id = "text:" + hashlib.sha1(normalized.encode()).hexdigest()
    if len(external_id) > 512:
        raise BadRecord("id (or url, used when there is no id) is longer than 512 characters")
    published = parse_datetime(record.get("published"), "published")
    first_seen = parse_datetime(record.get("first_seen"), "first_seen") or published
    lang = _lang(record.get("lang")) or detect_language(text, None)
    return Row(
        where=where,
        external_id=external_id,
        text=text,
        normalized=normalized,
        lang=lang,
        verdict=verdict,
        summary=summary or (_summary(verdict, label, author, url) if verdict else ""),
        url=url,
        source_url=source_url,
        sources=json.dumps(sources, ensure_ascii=False),
        published=published,
        first_seen=first_seen,
        author=author[:256] if author else None,
    )


def prepare(items: list[tuple[str, object]]) -> tuple[list[Row], list[Problem]]:
    """Validate a chunk; runs in worker processes for big files, so it takes and returns
    only picklable values. `bytes` items are JSON Lines lines, still to be parsed."""
    rows: list[Row] = []
    problems: list[Problem] = []
    for where, raw in items:
        try:
            if isinstance(raw, str):  # the reader already found what is wrong (CSV cells)
                raise BadRecord(raw)
            if isinstance(raw, bytes):
                try:
                    record: object = json.loads(raw)
                except UnicodeDecodeError:
                    raise BadRecord("not UTF-8 text") from None
                except ValueError as exc:
                    raise BadRecord(f"not valid JSON ({exc.msg} at column {exc.colno})") from None
            else:
                record = raw
            rows.append(to_row(where, record))
        except BadRecord as exc:
            problems.append(Problem(where, str(exc)))
    return rows, problems


# --- writing --------------------------------------------------------------------------------


def _utc(value: datetime | None) -> datetime | None:
    # SQLite hands back naive UTC values from Core selects; compare like with like.
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _write(conn: Connection, rows: list[Row]) -> ImportReport:
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
        claim_same = (
            claim.text == row.text
            and claim.lang == row.lang
            and claim.source_url == row.source_url
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
    if claim_updates:
        conn.execute(
            update(_CLAIM)
            .where(_CLAIM.c.id == bindparam("_id"))
            .values({k: bindparam(k) for k in claim_updates[0] if k != "_id"}),
            claim_updates,
        )
    if clar_updates:
        conn.execute(
            update(_CLAR)
            .where(_CLAR.c.id == bindparam("_id"))
            .values({k: bindparam(k) for k in clar_updates[0] if k != "_id"}),
            clar_updates,
        )
    if clar_inserts:
        _bulk_insert(conn, _CLAR, clar_inserts)


# --- reading the formats --------------------------------------------------------------------

Item = tuple[str, object]  # (where, raw JSON line bytes or a parsed record)
Chunk = tuple[list[Item], int]  # items and how many bytes of input they used (for progress)


def _jsonl_chunks(stream: IO[bytes]) -> Iterator[Chunk]:
    items: list[Item] = []
    used = 0
    for number, line in enumerate(stream, start=1):
        used += len(line)
        if line.strip():
            items.append((f"line {number}", line))
        if len(items) >= CHUNK:
            yield items, used
            items, used = [], 0
    if items or used:
        yield items, used


class _CountingReader(io.RawIOBase):
    """Counts bytes read so a text-mode CSV reader can still report progress in bytes."""

    def __init__(self, raw: IO[bytes]) -> None:
        self.raw = raw
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self.raw.read(len(buffer))
        buffer[: len(data)] = data
        self.count += len(data)
        return len(data)


def _csv_chunks(stream: IO[bytes]) -> Iterator[Chunk]:
    counter = _CountingReader(stream)
    # utf-8-sig: spreadsheets put a byte order mark in front of the header.
    text = io.TextIOWrapper(io.BufferedReader(counter), encoding="utf-8-sig", newline="")
    try:
        header_line = text.readline()
    except UnicodeDecodeError:
        raise ImportFailed("The CSV file is not UTF-8 text; save it as “CSV UTF-8”.") from None
    try:
        dialect: Any = csv.Sniffer().sniff(header_line, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    # A quoted header (our QUOTE_ALL export) makes the sniffer guess doublequote=False; every
    # spreadsheet writes "" for a quote inside a quoted cell.
    dialect.doublequote = True
    header = [h.strip().lower() for h in next(csv.reader([header_line], dialect), [])]
    if "text" not in header:
        raise ImportFailed(
            "The CSV file has no “text” column; the first row must name the columns "
            "(id, text, verdict, summary, url, lang, published)."
        )
    reader = csv.reader(text, dialect)
    items: list[Item] = []
    reported = 0
    number = 1  # the header is row 1, as a spreadsheet shows it
    try:
        for values in reader:
            number += 1
            if not any(v.strip() for v in values):
                continue
            if len(values) > len(header):
                items.append((f"row {number}", f"{len(values)} cells but {len(header)} columns"))
            else:
                # Cells our exporter made inert ('=…) read back as they were (factdb.interchange.inert).
                cells = (inert.reread_cell(v) for v in values)
                items.append((f"row {number}", dict(zip(header, cells, strict=False))))
            if len(items) >= CHUNK:
                yield items, counter.count - reported
                reported = counter.count
                items = []
    except UnicodeDecodeError:
        raise ImportFailed(f"The CSV file is not UTF-8 text (after row {number}).") from None
    except csv.Error as exc:
        raise ImportFailed(f"The CSV file is malformed at row {number + 1}: {exc}") from None
    yield items, counter.count - reported


def _claimreview_chunks(stream: IO[bytes]) -> Iterator[Chunk]:
    data = stream.read()
    records = claimreview.records_from_document(data)  # raises ValueError with a clear line
    for start in range(0, len(records), CHUNK):
        part = records[start : start + CHUNK]
        yield [(f"item {start + i + 1}", r) for i, r in enumerate(part)], len(part)


def detect_format(head: bytes, name: str = "") -> str:
    """jsonl / csv / claimreview from the file name, else from the first bytes."""
    suffix = Path(name).suffix.lower()
    if suffix in (".jsonl", ".ndjson"):
        return "jsonl"
    if suffix in (".csv", ".tsv"):
        return "csv"
    if suffix in (".json", ".jsonld", ".html", ".htm"):
        return "claimreview"
    text = head.decode("utf-8", errors="ignore").lstrip("\ufeff \t\r\n")
    if text.startswith(("<", "[")):
        return "claimreview"
    if text.startswith("{"):
        first = text.split("\n", 1)[0]
        try:
            obj = json.loads(first)
        except ValueError:
            return "claimreview"  # an object spread over several lines: one JSON document
        if isinstance(obj, dict) and ("@type" in obj or "@context" in obj):
            return "claimreview"
        return "jsonl"
    first_line = text.split("\n", 1)[0].lower()
    if "text" in first_line and any(d in first_line for d in ",;\t"):
        return "csv"
    raise ImportFailed(
        f"Cannot tell the format of {name or 'the file'}: name it .jsonl, .csv or .json, or pass --format."
    )


# --- driving --------------------------------------------------------------------------------


def _pool_context() -> Any:
    # forkserver, not fork: the bot may call us from a thread while other threads hold locks.
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")


def _run(
    db: Database, chunks: Iterator[Chunk], *, parallel: bool, advance: Callable[..., None]
) -> ImportReport:
    report = ImportReport()
    workers = min(4, os.cpu_count() or 1)
    with ExitStack() as stack:
        prepared: Iterator[tuple[tuple[list[Row], list[Problem]], int]]
        if parallel and workers > 1:
            pool = stack.enter_context(ProcessPoolExecutor(max_workers=workers, mp_context=_pool_context()))
            prepared = _ordered(pool, chunks, depth=workers * 2)
        else:
            prepared = ((prepare(items), used) for items, used in chunks)
        for (rows, problems), used in prepared:
            report.problems.extend(problems)
            if rows:
                # Counted into a fresh report per attempt: db.transaction may run it twice.
                part = db.transaction(lambda s, rows=rows: _write(s.connection(), rows))
                report.added += part.added
                report.updated += part.updated
                report.unchanged += part.unchanged
            advance(used)
    return report


def _ordered(
    pool: ProcessPoolExecutor, chunks: Iterator[Chunk], depth: int
) -> Iterator[tuple[tuple[list[Row], list[Problem]], int]]:
    """Validate chunks in the pool, a few ahead, and hand them back in file order (a later
    record of the same id must win) without reading the whole file into memory."""
    pending: deque[tuple[Future[tuple[list[Row], list[Problem]]], int]] = deque()
    for items, used in chunks:
        pending.append((pool.submit(prepare, items), used))
        if len(pending) >= depth:
            future, n = pending.popleft()
            yield future.result(), n
    while pending:
        future, n = pending.popleft()
        yield future.result(), n


def import_stream(
    db: Database,
    stream: IO[bytes],
    *,
    fmt: str = "auto",
    name: str = "",
    size: int | None = None,
    progress: ProgressLike | None = None,
) -> ImportReport:
    """Import from a binary stream (an open file, or a document an admin sent the bot)."""
    buffered = (
        stream
        if isinstance(stream, io.BufferedReader)
        else io.BufferedReader(stream if isinstance(stream, io.RawIOBase) else _RawAdapter(stream))
    )
    if fmt == "auto":
        fmt = detect_format(buffered.peek(4096)[:4096], name)
    if fmt not in FORMATS:
        raise ImportFailed(f"Unknown format {fmt!r}: use one of auto, {', '.join(FORMATS)}.")
    try:
        ratings.to_verdict("false")  # a broken CROWDCHECK_RATINGS_FILE fails once, up front
    except ratings.RatingsFileError as exc:
        raise ImportFailed(str(exc)) from None
    if fmt == "jsonl":
        chunks, total, unit = _jsonl_chunks(buffered), size, "bytes"
    elif fmt == "csv":
        chunks, total, unit = _csv_chunks(buffered), size, "bytes"
    else:
        try:
            listed = list(_claimreview_chunks(buffered))
        except ValueError as exc:
            raise ImportFailed(str(exc)) from None
        chunks, total, unit = iter(listed), sum(n for _, n in listed), "rows"
    parallel = fmt != "claimreview" and (size or 0) >= PARALLEL_MIN_BYTES
    label = f"Importing {name}" if name else "Importing"
    task = progress.task(label, total=total, unit=unit) if progress else nullcontext(_noop)
    with task as advance:
        return _run(db, chunks, parallel=parallel, advance=advance)


class _RawAdapter(io.RawIOBase):
    def __init__(self, stream: IO[bytes]) -> None:
        self.stream = stream

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self.stream.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def _noop(_k: float = 1) -> None:
    return None


def import_file(
    db: Database, path: Path, *, fmt: str = "auto", progress: ProgressLike | None = None
) -> ImportReport:
    """`crowdcheck import FILE`."""
    try:
        stream = path.open("rb")
    except OSError as exc:
        raise ImportFailed(f"Cannot read {path}: {exc.strerror}.") from None
    with stream:
        return import_stream(db, stream, fmt=fmt, name=path.name, size=path.stat().st_size, progress=progress)


def import_records(
    db: Database, records: Iterable[dict[str, Any]], *, progress: ProgressLike | None = None
) -> ImportReport:
    """Records already parsed (the contract's fields); problems are reported as "item N"."""

    def chunks() -> Iterator[Chunk]:
        items: list[Item] = []
        for number, record in enumerate(records, start=1):
            items.append((f"item {number}", record))
            if len(items) >= CHUNK:
                yield items, len(items)
                items = []
        yield items, len(items)

    task = progress.task("Importing", total=None) if progress else nullcontext(_noop)
    with task as advance:
        return _run(db, chunks(), parallel=False, advance=advance)
