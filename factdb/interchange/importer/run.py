"""Driving an import: the format, the chunks, validation (in a process pool for big files)
and one write transaction per chunk, in file order."""

from __future__ import annotations

import io
import json
import multiprocessing
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import ExitStack, nullcontext
from pathlib import Path
from typing import IO, Any

from factdb.db import Database
from factdb.interchange import ratings
from factdb.interchange.importer import from_claimreview, from_csv, from_jsonl
from factdb.interchange.importer.records import Row, prepare
from factdb.interchange.importer.report import (
    CHUNK,
    Chunk,
    ImportFailed,
    ImportReport,
    Item,
    Problem,
    ProgressLike,
)
from factdb.interchange.importer.writer import write_rows

FORMATS = ("jsonl", "csv", "claimreview")
# Below this many bytes a worker pool costs more to start than it saves.
PARALLEL_MIN_BYTES = 8 * 1024 * 1024


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
                part = db.transaction(lambda s, rows=rows: write_rows(s.connection(), rows))
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
        chunks, total, unit = from_jsonl.chunks(buffered), size, "bytes"
    elif fmt == "csv":
        chunks, total, unit = from_csv.chunks(buffered), size, "bytes"
    else:
        try:
            listed = list(from_claimreview.chunks(buffered))
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
