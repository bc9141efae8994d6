"""The public site under hostile readers, on a real loopback port: clients that never read the
feed, odd addresses and parameters, spoofing characters, and who may read /metrics."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

import aiohttp
import pytest
from aiohttp import web
from sqlmodel import Session

from bot.config import Config
from bot.services import Services
from bot.web import FEED, make_web_app
from factdb.db import Database
from factdb.models import Claim, ClaimStatus, Clarification, utcnow

PUBLIC = "https://checks.example.org"


@dataclass
class Served:
    base: str
    port: int
    svc: Services


async def serve(svc: Services, **app_kw: object) -> tuple[web.AppRunner, Served]:
    runner = web.AppRunner(make_web_app(svc, **app_kw))  # type: ignore[arg-type]
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    port = runner.addresses[0][1]
    return runner, Served(f"http://127.0.0.1:{port}", port, svc)


def publish_many(db: Database, n: int) -> None:
    def work(session: Session) -> None:
        now = utcnow()
        # Explicit ids: one INSERT batch per table instead of a flush per claim.
        session.add_all(
            Claim(
                id=i,
                text=f"Bulk rumour {i}: " + "the water supply is poisoned, share before they delete it " * 4,
                normalized=f"bulk rumour {i}",
                status=ClaimStatus.PUBLISHED,
                published_at=now,
            )
            for i in range(1, n + 1)
        )
        session.flush()
        session.add_all(
            Clarification(
                claim_id=i,
                lang="en",
                verdict="false",
                summary="The water utility tested every reservoir this week; nothing was found. " * 3,
            )
            for i in range(1, n + 1)
        )

    db.transaction(work)


def stalled_reader(port: int, path: str) -> socket.socket:
    """A client that sends its GET and then never reads a byte.

    A tiny receive buffer makes the stall bite after a few kilobytes, whatever the kernel's
    defaults, so the server's writes block for real."""
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect(("127.0.0.1", port))
    s.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n\r\n".encode())
    return s


async def until_answered(s: socket.socket, within: float = 60.0) -> None:
    """Wait until the server has started answering this socket (peeking, not reading)."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            if s.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT):
                return
        except BlockingIOError:
            pass
        await asyncio.sleep(0.05)
    pytest.fail("the server never started answering a feed request")


@pytest.fixture
async def big(db: Database) -> AsyncIterator[Served]:
    publish_many(db, 3000)
    svc = Services(Config(database_url=db.url, public_url=PUBLIC), db)
    runner, served = await serve(svc, feed_write_seconds=3.0)
    try:
        yield served
    finally:
        await runner.cleanup()


async def test_readers_that_never_read_the_feed_do_not_take_the_site_down(big: Served) -> None:
    stalled = [stalled_reader(big.port, "/feed/claimreview.json") for _ in range(8)]
    try:
        for s in stalled:
            await until_answered(s)
        await asyncio.sleep(0.5)  # let every stalled answer fill its buffers and block
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=1.0)) as http:
            for path in ("/claims", "/stats", "/healthz", "/claims?q=reservoir"):
                started = time.monotonic()
                async with http.get(big.base + path) as r:
                    assert r.status == 200, path
                    await r.read()
                assert time.monotonic() - started < 1.0, path
        # A reader who does read still gets the whole feed meanwhile.
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as http,
            http.get(big.base + "/feed/claimreview.json") as r,
        ):
            assert len((await r.json(content_type=None))["dataFeedElement"]) == 3000
    finally:
        for s in stalled:
            s.close()


async def test_a_reader_that_stops_reading_is_dropped_after_the_write_deadline(big: Served) -> None:
    s = stalled_reader(big.port, "/feed/claimreview.json")
    try:
        await until_answered(s)
        await asyncio.sleep(5.0)  # past the 3 s write deadline this app was given
        # Now read: what was buffered arrives, then the end of a connection the server dropped,
        # with the feed unfinished.
        s.settimeout(10)
        got = b""
        with pytest.raises((ConnectionResetError, _Closed)):
            while True:
                chunk = await asyncio.to_thread(s.recv, 65536)
                if not chunk:
                    raise _Closed
                got += chunk
        assert got.startswith(b"HTTP/1.1 200")
    finally:
        s.close()


class _Closed(Exception):
    pass


async def test_the_feed_is_built_once_and_again_only_when_claims_change(db: Database) -> None:
    from tests.test_web import seed_claim

    svc = Services(Config(database_url=db.url, public_url=PUBLIC), db)
    runner, site = await serve(svc, feed_check_seconds=0.0)
    cache = runner.app[FEED]
    try:
        first = seed_claim(db, "The moon landing was filmed in a studio")
        async with aiohttp.ClientSession() as http:

            async def feed_urls(**headers: str) -> list[str]:
                async with http.get(site.base + "/feed/claimreview.json", headers=headers) as r:
                    assert r.status == 200
                    return [e["url"] for e in (await r.json(content_type=None))["dataFeedElement"]]

            assert await feed_urls() == [f"{PUBLIC}/claims/{first}"]
            assert await feed_urls() == [f"{PUBLIC}/claims/{first}"]
            assert cache.builds == 1  # the second reader got the same body

            second = seed_claim(db, "Vaccines contain microchips")
            assert await feed_urls() == [f"{PUBLIC}/claims/{first}", f"{PUBLIC}/claims/{second}"]

            def retract(session: Session) -> None:
                claim = session.get(Claim, first)
                assert claim is not None
                claim.status = ClaimStatus.RETRACTED
                session.add(claim)

            db.transaction(retract)
            assert await feed_urls() == [f"{PUBLIC}/claims/{second}"]
            assert cache.builds == 3

            # Stored gzipped, sent as stored to who accepts it, inflated for who does not.
            async with http.get(
                site.base + "/feed/claimreview.json",
                headers={"Accept-Encoding": "gzip"},
                auto_decompress=False,
            ) as r:
                assert r.headers["Content-Encoding"] == "gzip" and (await r.read())[:2] == b"\x1f\x8b"
                etag = r.headers["ETag"]
            async with http.get(
                site.base + "/feed/claimreview.json", headers={"Accept-Encoding": "identity"}
            ) as r:
                assert "Content-Encoding" not in r.headers
                body = await r.read()
                assert body.startswith(b"{") and int(r.headers["Content-Length"]) == len(body)
            async with http.get(
                site.base + "/feed/claimreview.json",
                headers={"Accept-Encoding": "gzip", "If-None-Match": etag},
            ) as r:
                assert r.status == 304
            assert cache.builds == 3
    finally:
        await runner.cleanup()
