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
from bot.services import build_services
from bot.web import FEED, SECURITY_HEADERS
from factdb.db import Database
from factdb.models import Claim, ClaimStatus, Clarification, utcnow
from handlers.services import Services
from tests.web_site import start_site

PUBLIC = "https://checks.example.org"


@dataclass
class Served:
    base: str
    port: int
    svc: Services


async def serve(svc: Services, **app_kw: object) -> tuple[web.AppRunner, Served]:
    runner, base = await start_site(svc, **app_kw)
    return runner, Served(base, runner.addresses[0][1], svc)


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
    svc = build_services(Config(database_url=db.url, public_url=PUBLIC), db)
    runner, served = await serve(svc, feed_write_seconds=3.0)
    try:
        yield served
    finally:
        await runner.cleanup()


@pytest.mark.timing
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

    svc = build_services(Config(database_url=db.url, public_url=PUBLIC), db)
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
            # HEAD: headers only, so the kept-alive connection's next answer is not garbage.
            async with http.head(site.base + "/feed/claimreview.json") as r:
                assert r.status == 200 and int(r.headers["Content-Length"]) > 0
            assert await feed_urls() == [f"{PUBLIC}/claims/{second}"]
            assert cache.builds == 3
    finally:
        await runner.cleanup()


# -- 17.5: every response is safe --------------------------------------------------------------
@pytest.fixture
async def site(db: Database) -> AsyncIterator[Served]:
    svc = build_services(Config(database_url=db.url, public_url=PUBLIC), db)
    runner, served = await serve(svc)
    try:
        yield served
    finally:
        await runner.cleanup()


async def test_every_response_carries_the_security_headers(site: Served) -> None:
    from tests.test_web import seed_claim

    target = seed_claim(site.svc.db, "The original")
    dup = seed_claim(site.svc.db, "A copy", status=ClaimStatus.MERGED, merged_into_id=target)
    async with aiohttp.ClientSession() as http:
        for method, path, status in [
            ("GET", "/claims", 200),
            ("GET", "/feed/claimreview.json", 200),
            ("GET", "/healthz", 200),
            ("GET", "/", 302),
            ("GET", f"/claims/{dup}", 302),
            ("POST", "/claims", 405),
            ("GET", "/nowhere", 404),
            ("GET", "/claims/abc", 404),
            ("POST", "/telegram/anything", 404),  # no bot here: no webhook route
        ]:
            async with http.request(method, site.base + path, allow_redirects=False) as r:
                assert r.status == status, path
                for name, value in SECURITY_HEADERS.items():
                    assert r.headers.get(name) == value, (method, path, name)


async def test_an_absurdly_long_claim_id_is_not_found(site: Served) -> None:
    async with aiohttp.ClientSession() as http:
        for raw in ("1" * 30, "9223372036854775808", "٣", "3_0", "+3", "-3"):
            async with http.get(f"{site.base}/claims/{raw}") as r:
                assert r.status == 404, raw
                assert "Not found" in await r.text()


async def test_links_keep_only_the_parameters_the_page_reads(site: Served) -> None:
    from tests.test_web import seed_claim

    for i in range(22):
        seed_claim(site.svc.db, f"Bleach rumour {i}")
    long_q = "bleach " + "x" * 500
    async with aiohttp.ClientSession() as http:
        async with http.get(
            site.base + "/claims",
            params={"q": "bleach", "page": "2", "utm_source": "evil", "x": '"><b>spoof</b>'},
        ) as r:
            html = await r.text()
        async with http.get(site.base + "/claims", params={"q": long_q}) as r:
            long_html = await r.text()
    assert "utm_source" not in html and "spoof" not in html
    assert 'hreflang="es" href="/claims?q=bleach&amp;page=2&amp;lang=es"' in html
    assert "x" * 201 not in long_html  # the search is clipped to 200 characters, in links too


# Embeddings and overrides, isolates, and the LRM / RLM / ALM marks.
BIDI_CONTROLS = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"
SPOOF = "Official: visit \u202egnp.tnemetats\u202c and \u2066trust\u2069 \u200ethis\u200f \u061cnow"


async def test_bidi_controls_never_reach_a_page(site: Served) -> None:
    from tests.test_web import seed_claim

    cid = seed_claim(
        site.svc.db,
        SPOOF,
        summary="Fake \u202eexe.bad\u202c statement",
        sources=["https://example.org/\u202egpj.evil", "https://example.org/ok"],
    )
    pages = []
    async with aiohttp.ClientSession() as http:
        for path in (f"/claims/{cid}", "/claims", "/claims?q=Official%E2%80%AE"):
            async with http.get(site.base + path) as r:
                pages.append(await r.text())
    for html in pages:
        assert not any(ch in html for ch in BIDI_CONTROLS), [hex(ord(c)) for c in html if c in BIDI_CONTROLS]
    claim_page = pages[0]
    assert "<title>False: Official: visit gnp.tnemetats and trust this now" in claim_page
    assert 'content="False: Fake exe.bad statement"' in claim_page
    assert 'href="https://example.org/ok"' in claim_page
    assert "example.org/gpj.evil</li>" in claim_page  # shown, not linked
    # The JSON-LD still carries the claim exactly, as \u escapes.
    assert "\\u202e" in claim_page


# -- /metrics --------------------------------------------------------------------------------
async def test_metrics_with_a_token_wants_the_token(db: Database) -> None:
    svc = build_services(Config(database_url=db.url, public_url=PUBLIC, metrics_token="s3cr3t-scrape"), db)
    runner, site = await serve(svc)
    try:
        async with aiohttp.ClientSession() as http:
            for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic s3cr3t-scrape"}):
                async with http.get(site.base + "/metrics", headers=headers) as r:
                    assert r.status == 401, headers
                    assert r.headers["WWW-Authenticate"].startswith("Bearer")
                    assert "crowdcheck_" not in await r.text()
            good = {"Authorization": "Bearer s3cr3t-scrape", "X-Forwarded-For": "203.0.113.9"}
            async with http.get(site.base + "/metrics", headers=good) as r:
                assert r.status == 200 and "crowdcheck_database_up 1.0" in await r.text()
    finally:
        await runner.cleanup()


async def test_metrics_without_a_token_is_for_direct_loopback_scrapers_only(site: Served) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.get(site.base + "/metrics") as r:
            assert r.status == 200  # Prometheus on the same host, straight to the port
        for proxy in ("X-Forwarded-For", "Forwarded", "X-Real-IP"):
            # What arrives through the reverse proxy, i.e. from the internet.
            async with http.get(site.base + "/metrics", headers={proxy: "203.0.113.9"}) as r:
                assert r.status == 404, proxy
                assert "crowdcheck_" not in await r.text()
