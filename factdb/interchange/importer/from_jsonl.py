"""Reading JSON Lines: one record a line, streamed; lines are parsed by `records.prepare`
(in worker processes for big files)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO

from factdb.interchange.importer.report import CHUNK, Chunk, Item


def chunks(stream: IO[bytes]) -> Iterator[Chunk]:
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
