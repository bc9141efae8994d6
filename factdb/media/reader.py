"""The bounded picture pool: at most K files read at once, in threads, off the event loop.

Reading a picture (decode, hash, Tesseract, ffmpeg) costs about a second of one CPU. K is
small (2 on a 2-core machine: Tesseract runs one thread per picture, see ocr.py); a picture
beyond K waits for a slot with its update still in the durable inbox, so a burst of pictures
is slow, never lost, and never starves the database pool typed messages need.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from functools import partial

from factdb.media.ocr import ocr_status
from factdb.media.reading import PictureRead, read_file, with_text


class PictureReader:
    def __init__(self, workers: int = 2, *, ocr: bool | None = None) -> None:
        self.workers = max(1, workers)
        self.ocr = ocr_status().available if ocr is None else ocr
        self._pool = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="picture")
        self._slots = asyncio.Semaphore(self.workers)
        self.waiting = 0  # pictures waiting for a slot (for /metrics and the tests)

    @contextlib.asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Hold one of the K places for a picture's whole journey: download, then reading."""
        self.waiting += 1
        try:
            await self._slots.acquire()
        finally:
            self.waiting -= 1
        try:
            yield
        finally:
            self._slots.release()

    async def look(self, data: bytes, kind: str) -> PictureRead:
        """Decode and hash in the pool, without reading the text yet: a picture recognised by
        its hash needs no OCR (raises ImageRejected like `read_file`)."""
        job = partial(read_file, data, kind, ocr=False)
        return await asyncio.get_running_loop().run_in_executor(self._pool, job)

    async def read_text(self, picture: PictureRead, *, lang_hint: str | None = None) -> PictureRead:
        """The picture with its text read by OCR in the pool (as it was when OCR is off)."""
        if not self.ocr:
            return dataclasses.replace(picture, frames=())
        job = partial(with_text, picture, lang_hint=lang_hint)
        return await asyncio.get_running_loop().run_in_executor(self._pool, job)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
