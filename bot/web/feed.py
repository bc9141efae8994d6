"""/feed/claimreview.json: built once per change of the published claims, served from memory.

The feed is every published claim, so building it is the most expensive thing the public can
ask for. It used to be exported per request in a thread of the shared pool, streamed as the
client read it: six clients that sent the GET and never read held all six threads of a 2-core
machine, and every page (and /healthz) waited behind them. Now:

- The body is built by the exporter (the very document `crowdcheck export --format
  claimreview` writes) in the feed's **own one-thread pool**, gzip-compressed as it is written,
  and kept. Concurrent requests wait for the same build; none of them holds a thread.
- It is rebuilt only when the published claims may have changed: a **fingerprint** of three
  indexed maxima (`claim_change.seq`, bumped by triggers on every claim insert, status, text or
  public wording change and delete; `claim.updated_at`, touched by every publish, retraction,
  import and picture shown or hidden; `clarification.id`, every new version or translation)
  and the count of publishable pictures (`factdb.public.published_fingerprint`), checked at
  most once a second, and at least every `FEED_MAX_AGE_SECONDS` whatever it says (on PostgreSQL a
  transaction may commit a smaller value after a bigger one was read).
- Serving is writing bytes: gzip as stored for clients that accept it (crawlers and browsers
  do), inflated chunk by chunk on the event loop for the others. Every write has a deadline
  (`feed_write_seconds`): a client that stops reading is dropped, not waited for.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import hashlib
import io
import logging
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from bot.web.rendering import public_url
from factdb.public import published_fingerprint

log = logging.getLogger(__name__)

FEED_WRITE_SECONDS = 30.0
FEED_CHECK_SECONDS = 1.0
FEED_MAX_AGE_SECONDS = 300.0
CHUNK = 64 * 1024
# Without CROWDCHECK_PUBLIC_URL the feed's links follow the Host header; keep a couple of
# bodies, not one per Host a stranger invents.
MAX_BODIES = 2


@dataclass(frozen=True)
class FeedBody:
    gzipped: bytes
    size: int  # uncompressed
    etag: str
    fingerprint: tuple[Any, ...]
    built_at: float


class _GzipWriter(io.TextIOBase):
    """A text file that gzips what the exporter writes: 10^5 claims are ~100 MB of JSON and
    ~10 MB once compressed, and only the compressed body is ever held."""

    def __init__(self) -> None:
        super().__init__()
        self._z = zlib.compressobj(6, zlib.DEFLATED, 31)  # wbits 31: a gzip member
        self._parts: list[bytes] = []
        self.size = 0

    def write(self, s: str) -> int:
        data = s.encode()
        self.size += len(data)
        self._parts.append(self._z.compress(data))
        return len(s)

    def finish(self) -> bytes:
        self._parts.append(self._z.flush())
        return b"".join(self._parts)


def _fingerprint(db: Any) -> tuple[Any, ...]:
    # Not Database.run: this runs in the feed's own thread (above), never the shared pool.
    with db.session() as session:
        return published_fingerprint(session)


class FeedCache:
    def __init__(self, svc: Any, *, check_seconds: float = FEED_CHECK_SECONDS) -> None:
        self.svc = svc
        self.check_seconds = check_seconds
        # The feed's own thread: a build (seconds on a big database) never takes a thread
        # the pages need, and two builds never run at once.
        self.pool = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="feed")
        self._bodies: dict[str, FeedBody] = {}
        self._checked: dict[str, float] = {}
        self._lock = asyncio.Lock()
        self.builds = 0

    async def body(self, base: str) -> FeedBody:
        cached = self._bodies.get(base)
        if cached and time.monotonic() - self._checked.get(base, -1e9) < self.check_seconds:
            return cached
        async with self._lock:  # waiters queue here, on the event loop, holding no thread
            loop = asyncio.get_running_loop()
            cached = self._bodies.get(base)
            now = time.monotonic()
            if cached and now - self._checked.get(base, -1e9) < self.check_seconds:
                return cached  # checked while we waited for the lock
            fingerprint = await loop.run_in_executor(self.pool, _fingerprint, self.svc.db)
            self._checked[base] = time.monotonic()
            if cached and cached.fingerprint == fingerprint and now - cached.built_at < FEED_MAX_AGE_SECONDS:
                return cached
            fresh = await loop.run_in_executor(self.pool, self._build, base, fingerprint)
            self._bodies.pop(base, None)
            self._bodies[base] = fresh
            while len(self._bodies) > MAX_BODIES:
                oldest = next(iter(self._bodies))
                del self._bodies[oldest], self._checked[oldest]
            return fresh

    def _build(self, base: str, fingerprint: tuple[Any, ...]) -> FeedBody:
        from factdb.interchange import exporter

        started = time.monotonic()
        out = _GzipWriter()
        config = self.svc.config
        written = exporter.export(
            self.svc.db,
            "claimreview",
            out,
            org_name=config.org_name,
            org_url=config.org_url,
            public_url=base,
            # pictures' addresses only under the configured public URL, never a Host header's
            pictures=bool(config.public_url),
        )
        gzipped = out.finish()
        self.builds += 1
        log.info(
            "feed: built %d ClaimReview(s), %d bytes (%d gzipped) in %.1f s",
            written,
            out.size,
            len(gzipped),
            time.monotonic() - started,
        )
        etag = hashlib.sha256(gzipped).hexdigest()[:32]
        return FeedBody(gzipped, out.size, etag, fingerprint, time.monotonic())

    def close(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)


def accepts_gzip(header: str) -> bool:
    """Accept-Encoding names gzip (or `*`) with a weight above zero."""
    for part in header.split(","):
        name, _, params = part.strip().partition(";")
        if name.strip().lower() not in ("gzip", "x-gzip", "*"):
            continue
        q = params.strip().lower()
        if q.startswith("q="):
            try:
                if float(q[2:]) <= 0:
                    continue
            except ValueError:
                continue
        return True
    return False


def _inflated(gzipped: bytes) -> Iterator[bytes]:
    z = zlib.decompressobj(31)
    data = gzipped
    while data:
        out = z.decompress(data, CHUNK)
        data = z.unconsumed_tail
        if out:
            yield out
    if tail := z.flush():
        yield tail


def _slices(payload: bytes) -> Iterator[bytes]:
    view = memoryview(payload)
    for i in range(0, len(view), CHUNK):
        yield bytes(view[i : i + CHUNK])


async def send(request: web.Request, body: FeedBody, *, write_seconds: float) -> web.StreamResponse:
    gzip = accepts_gzip(request.headers.get("Accept-Encoding", ""))
    etag = f'"{body.etag}-gz"' if gzip else f'"{body.etag}"'
    headers = {
        "Content-Type": "application/ld+json; charset=utf-8",
        "Vary": "Accept-Encoding",
        "ETag": etag,
        "Cache-Control": "public, max-age=60",
    }
    if etag in (t.strip() for t in request.headers.get("If-None-Match", "").split(",")):
        return web.Response(status=304, headers=headers)
    if gzip:
        headers["Content-Encoding"] = "gzip"
    response = web.StreamResponse(headers=headers)
    response.content_length = len(body.gzipped) if gzip else body.size
    # HEAD: the headers only (a StreamResponse would send whatever is written, HEAD or not).
    chunks = (
        iter(()) if request.method == "HEAD" else _slices(body.gzipped) if gzip else _inflated(body.gzipped)
    )
    try:
        async with asyncio.timeout(write_seconds):
            await response.prepare(request)
        for chunk in chunks:
            # A deadline per write: it blocks only while the client is not reading.
            async with asyncio.timeout(write_seconds):
                await response.write(chunk)
        async with asyncio.timeout(write_seconds):
            await response.write_eof()
    except TimeoutError:
        log.info("feed: dropped %s, who stopped reading for %.0f s", request.remote, write_seconds)
        if request.transport is not None:
            request.transport.abort()  # close() would wait for the unread buffer to drain
    except ConnectionError:
        pass  # the client left
    return response


FEED: web.AppKey[FeedCache] = web.AppKey("feed", FeedCache)
FEED_WRITE_DEADLINE: web.AppKey[float] = web.AppKey("feed_write_seconds", float)


def add_feed(
    app: web.Application,
    svc: Any,
    *,
    write_seconds: float = FEED_WRITE_SECONDS,
    check_seconds: float = FEED_CHECK_SECONDS,
) -> None:
    app[FEED] = FeedCache(svc, check_seconds=check_seconds)
    app[FEED_WRITE_DEADLINE] = write_seconds
    app.router.add_get("/feed/claimreview.json", feed)

    async def close_pool(app: web.Application) -> None:
        app[FEED].close()

    app.on_cleanup.append(close_pool)


async def feed(request: web.Request) -> web.StreamResponse:
    """Every published ClaimReview as one schema.org DataFeed: the very document
    `crowdcheck export --format claimreview` writes, built once per change (above)."""
    body = await request.app[FEED].body(public_url(request))
    return await send(request, body, write_seconds=request.app[FEED_WRITE_DEADLINE])
