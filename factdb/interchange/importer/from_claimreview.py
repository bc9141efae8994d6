"""Reading ClaimReview (schema.org JSON-LD, a JSON array of them, or an HTML page holding
them): one document, parsed whole (factdb/interchange/claimreview.py does the mapping)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO

from factdb.interchange import claimreview
from factdb.interchange.importer.report import CHUNK, Chunk


def chunks(stream: IO[bytes]) -> Iterator[Chunk]:
    data = stream.read()
    records = claimreview.records_from_document(data)  # raises ValueError with a clear line
    for start in range(0, len(records), CHUNK):
        part = records[start : start + CHUNK]
        yield [(f"item {start + i + 1}", r) for i, r in enumerate(part)], len(part)
