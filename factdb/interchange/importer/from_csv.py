"""Reading CSV as spreadsheets write it: UTF-8 (with or without a byte order mark), comma,
semicolon or tab, a header row naming the columns; streamed, with progress in bytes."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import IO, Any

from factdb.interchange import inert
from factdb.interchange.importer.report import CHUNK, Chunk, ImportFailed, Item


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


def chunks(stream: IO[bytes]) -> Iterator[Chunk]:
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
