"""The public web side on a real loopback port: pages, search, feed, health, metrics, escaping,
and a headless Chromium that renders a claim page the way a reader's browser would. In the
readers' languages: tests/test_web_languages.py."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
from datetime import timedelta
from pathlib import Path

import aiohttp
import pytest
from sqlmodel import Session

from bot.config import Config
from bot.services import build_services
from bot.web import script_json
from factdb.db import Database
from factdb.models import Claim, ClaimStatus, Clarification, utcnow
from tests.web_site import ORG, PUBLIC, Site, jsonld, open_site, seed_claim, start_site

XSS_TEXT = "Share now! <script>alert(1)</script> then </script><script>alert(2)</script> & <!-- done"
CHROMIUM = "/usr/bin/chromium"


async def test_claim_page_shows_the_clarification(site: Site) -> None:
    cid = seed_claim(
        site.svc.db,
        "Drinking hot water cures the virus, call +44 20 7946 0958",
        summary="Hot water does not kill viruses inside the body.",
        sources=["https://who.example.int/myths", "javascript:alert(3)"],
        lang="en",
    )
    status, html, r = await site.get(f"/claims/{cid}")
    assert status == 200 and r.content_type == "text/html"
    assert '<html lang="en">' in html
    assert "Hot water does not kill viruses inside the body." in html
    assert ">False<" in html
    assert 'href="https://who.example.int/myths"' in html
    assert 'href="javascript' not in html and "javascript:alert(3)" in html  # shown, not linked
    assert "7946" not in html and "[phone]" in html  # the claim text is masked
    assert "default-src 'none'" in r.headers["Content-Security-Policy"]

    review = jsonld(html)
    assert review["@context"] == "https://schema.org" and review["@type"] == "ClaimReview"
    assert review["url"] == f"{PUBLIC}/claims/{cid}"
    assert "7946" not in review["claimReviewed"] and "Drinking hot water" in review["claimReviewed"]
    assert review["author"]["name"] == ORG
    assert review["reviewRating"]["@type"] == "Rating"
    assert review["datePublished"][:4].isdigit()
    assert review["itemReviewed"]["@type"] == "Claim"


async def test_injected_script_is_text(site: Site) -> None:
    cid = seed_claim(site.svc.db, XSS_TEXT, summary="Nope </script><script>alert(4)</script>")
    status, html, _ = await site.get(f"/claims/{cid}")
    assert status == 200
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert html.count("<script") == 1  # only our JSON-LD
    review = jsonld(html)  # the JSON-LD survived whole: nothing in it ended the element
    assert review["claimReviewed"] == XSS_TEXT
    assert "\\u003c/script\\u003e" in html


def test_script_json_escapes_every_breakout() -> None:
    out = str(script_json({"a": "</script><!-- & \u2028"}))
    assert "<" not in out and ">" not in out and "&" not in out and "\u2028" not in out
    assert json.loads(out) == {"a": "</script><!-- & \u2028"}


async def test_search(site: Site) -> None:
    db = site.svc.db
    bleach = seed_claim(db, "Drinking BLEACH protects you from the flu")
    seed_claim(db, "5G towers spread the virus")
    seed_claim(db, "Bleach in the water supply", status=ClaimStatus.NEW)  # not public
    zh = seed_claim(db, "喝熱水可以殺死病毒", lang="zh-TW")

    _, html, _ = await site.get("/claims", params={"q": "bleach"})
    assert f'href="/claims/{bleach}"' in html and "1 result" in html
    assert "water supply" not in html
    _, html, _ = await site.get("/claims", params={"q": "ＢＬＥＡＣＨ flu"})  # width and case folded
    assert f'href="/claims/{bleach}"' in html
    _, html, _ = await site.get("/claims", params={"q": "熱水"})
    assert f'href="/claims/{zh}"' in html
    _, html, _ = await site.get("/claims", params={"q": "%"})  # a LIKE wildcard is just a character
    assert "0 results" in html
    _, html, _ = await site.get("/claims", params={"q": '"><script>alert(5)</script>'})
    assert "<script>alert(5)" not in html and "&lt;script&gt;alert(5)" in html
    _, html, _ = await site.get("/claims")
    assert "3 published fact checks" in html


async def test_search_finds_the_public_wording_never_the_replaced_original(site: Site) -> None:
    """A reviewer replaced a citizen's wording (it named a neighbour): the search must not let
    anyone confirm what the original said, and must find the words the page shows."""
    db = site.svc.db
    reworded = seed_claim(
        db,
        "Mrs Kowalska at Lindenstrasse 12 poisons the well, spread this",
        public_text="A neighbour is said to be poisoning the town well",
    )
    plain = seed_claim(db, "The town well water is radioactive")

    for q in ("Kowalska", "Lindenstrasse", "spread this"):
        _, html, _ = await site.get("/claims", params={"q": q})
        assert f'href="/claims/{reworded}"' not in html, q
        assert "0 results" in html, q
    _, html, _ = await site.get("/claims", params={"q": "NEIGHBOUR poisoning"})  # case folded as before
    assert f'href="/claims/{reworded}"' in html and "1 result" in html
    _, html, _ = await site.get("/claims", params={"q": "town well"})
    assert f'href="/claims/{reworded}"' in html and f'href="/claims/{plain}"' in html
    assert "2 results" in html

    # Reworded again: the new words are found, the previous ones no longer (no stale index).
    def reword(session: Session) -> None:
        claim = session.get(Claim, reworded)
        assert claim is not None
        claim.public_text = "A rumour about a poisoned fountain"
        session.add(claim)

    db.transaction(reword)
    _, html, _ = await site.get("/claims", params={"q": "fountain"})
    assert f'href="/claims/{reworded}"' in html
    _, html, _ = await site.get("/claims", params={"q": "neighbour"})
    assert f'href="/claims/{reworded}"' not in html


async def test_paging(site: Site) -> None:
    ids = [seed_claim(site.svc.db, f"Claim number {i}", age=timedelta(minutes=i)) for i in range(25)]
    _, page1, _ = await site.get("/claims")
    _, page2, _ = await site.get("/claims", params={"page": "2"})
    links1 = re.findall(r'href="/claims/(\d+)"', page1)
    links2 = re.findall(r'href="/claims/(\d+)"', page2)
    assert len(links1) == 20 and len(links2) == 5
    assert [int(x) for x in links1 + links2] == ids  # newest first
    assert 'rel="next" href="/claims?q=&amp;page=2"' in page1 and 'rel="prev"' not in page1
    assert 'rel="prev"' in page2 and 'rel="next"' not in page2
    assert "page 2 of 2" in page2
    _, clamped, _ = await site.get("/claims", params={"page": "99"})
    assert "page 2 of 2" in clamped
    status, _, _ = await site.get("/claims", params={"page": "x"})
    assert status == 200


async def test_not_found_withdrawn_and_merged(site: Site) -> None:
    db = site.svc.db
    new = seed_claim(db, "Still under review", status=ClaimStatus.NEW)
    gone = seed_claim(db, "Withdrawn one", status=ClaimStatus.RETRACTED)
    target = seed_claim(db, "The original")
    dup = seed_claim(db, "A duplicate", status=ClaimStatus.MERGED, merged_into_id=target)
    for path in ("/claims/999999", f"/claims/{new}", "/claims/abc", "/nowhere"):
        status, html, _ = await site.get(path)
        assert status == 404, path
        assert "Not found" in html
    status, html, _ = await site.get(f"/claims/{gone}")
    assert status == 410
    assert "withdrawn" in html and "The photo turned out to be genuine." in html
    status, _, r = await site.get(f"/claims/{dup}")
    assert status == 302 and r.headers["Location"] == f"/claims/{target}"


async def test_feed(site: Site) -> None:
    db = site.svc.db
    published = [seed_claim(db, f"Published claim {i}") for i in range(3)]
    seed_claim(db, "Withdrawn", status=ClaimStatus.RETRACTED)
    seed_claim(db, "New", status=ClaimStatus.NEW)
    status, body, r = await site.get("/feed/claimreview.json")
    assert status == 200 and r.content_type == "application/ld+json"
    data = json.loads(body)
    assert data["@type"] == "DataFeed" and data["@context"] == "https://schema.org"
    reviews = data["dataFeedElement"]  # the same document as `crowdcheck export --format claimreview`
    assert [r["url"] for r in reviews] == [f"{PUBLIC}/claims/{i}" for i in published]
    assert all(r["@type"] == "ClaimReview" for r in reviews)


async def test_feed_streams_many_batches(site: Site) -> None:
    db = site.svc.db

    def many(session: Session) -> None:
        for i in range(450):  # > 2 batches of 200
            claim = Claim(
                text=f"bulk {i}", normalized=f"bulk {i}", status=ClaimStatus.PUBLISHED, published_at=utcnow()
            )
            session.add(claim)
            session.flush()
            session.add(Clarification(claim_id=claim.id, lang="en", verdict="false", summary="no"))  # type: ignore[arg-type]

    db.transaction(many)
    _, body, _ = await site.get("/feed/claimreview.json")
    assert len(json.loads(body)["dataFeedElement"]) == 450
    assert len(body) > 3 * 64 * 1024  # several chunks went through the bounded queue


async def test_a_client_leaving_mid_feed_does_not_hurt(site: Site) -> None:
    def many(session: Session) -> None:
        for i in range(3000):
            claim = Claim(
                text=f"bulk {i} " * 20,
                normalized=f"bulk {i}",
                status=ClaimStatus.PUBLISHED,
                published_at=utcnow(),
            )
            session.add(claim)
            session.flush()
            session.add(Clarification(claim_id=claim.id, lang="en", verdict="false", summary="no " * 50))  # type: ignore[arg-type]

    site.svc.db.transaction(many)
    async with aiohttp.ClientSession() as http, http.get(site.base + "/feed/claimreview.json") as r:
        assert r.status == 200
        await r.content.read(1000)  # then hang up with most of the feed unsent
    await asyncio.sleep(1.5)  # the exporter thread notices within its 0.5 s poll
    status, body, _ = await site.get("/healthz")
    assert status == 200
    _, body, _ = await site.get("/feed/claimreview.json")
    assert len(json.loads(body)["dataFeedElement"]) == 3000


async def test_the_page_and_the_feed_name_the_same_author(db: Database) -> None:
    config = Config(database_url=db.url, public_url=PUBLIC, org_name=ORG, org_url="https://example.org/about")
    cid = seed_claim(db, "Garlic cures the flu")
    async with open_site(config, db) as site:
        _, html, _ = await site.get(f"/claims/{cid}")
        _, body, _ = await site.get("/feed/claimreview.json")
    expected = {"@type": "Organization", "name": ORG, "url": "https://example.org/about"}
    assert jsonld(html)["author"] == expected
    assert json.loads(body)["dataFeedElement"][0]["author"] == expected


async def test_empty_feed_is_valid(site: Site) -> None:
    _, body, _ = await site.get("/feed/claimreview.json")
    assert json.loads(body)["dataFeedElement"] == []


async def test_healthz(site: Site) -> None:
    status, body, _ = await site.get("/healthz")
    assert (status, body) == (200, "ok\n")


async def test_healthz_when_the_database_is_away() -> None:
    dead = Database("postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=2")
    runner, base = await start_site(build_services(Config(database_url=dead.url), dead))
    try:
        async with aiohttp.ClientSession() as http, http.get(base + "/healthz") as r:
            assert r.status == 503
        async with aiohttp.ClientSession() as http, http.get(base + "/metrics") as r:
            assert r.status == 200 and "crowdcheck_database_up 0.0" in await r.text()
    finally:
        await runner.cleanup()
        dead.dispose()


async def test_metrics(site: Site) -> None:
    seed_claim(site.svc.db, "open one", status=ClaimStatus.NEW)
    site.svc.metrics.intake("new_claim", 0.012)
    site.svc.metrics.delivery("sent")
    site.svc.metrics.update("message")
    status, body, r = await site.get("/metrics")
    assert status == 200 and r.content_type == "text/plain"
    for name in (
        "crowdcheck_updates_total",
        "crowdcheck_intake_total",
        "crowdcheck_intake_seconds_bucket",
        "crowdcheck_deliveries_total",
        "crowdcheck_queue_size",
        "crowdcheck_outbox_backlog",
        "crowdcheck_matchable_claims",
    ):
        assert name in body, name
    assert 'crowdcheck_intake_total{outcome="new_claim"} 1.0' in body
    assert 'crowdcheck_deliveries_total{result="sent"} 1.0' in body
    assert "crowdcheck_queue_size 1.0" in body
    assert "crowdcheck_database_up 1.0" in body


async def test_stats_page(site: Site) -> None:
    seed_claim(site.svc.db, "<b>viral</b> rumour", status=ClaimStatus.NEW)
    status, html, _ = await site.get("/stats")
    assert status == 200
    assert "<svg" in html and html.count("<rect") == 30
    assert "rumour" not in html  # unreviewed: counted, never shown (tests/test_public_trust.py)
    assert "Requests today" in html


# -- the reader's language -------------------------------------------------------------------


def _chromium_or_skip() -> str:
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI") and shutil.which("chromium"):
            return shutil.which("chromium")  # type: ignore[return-value]
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium) — the browser check needs it")
    return CHROMIUM


async def _chromium(binary: str, tmp: Path, *args: str) -> bytes:
    proc = await asyncio.create_subprocess_exec(
        binary,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        f"--user-data-dir={tmp / 'profile'}",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    # Async, so this event loop keeps serving the page Chromium is asking for.
    out, err = await asyncio.wait_for(proc.communicate(), 90)
    assert proc.returncode == 0, err.decode(errors="replace")[-2000:]
    return out


async def test_chromium_renders_the_page_and_runs_no_injected_script(site: Site, tmp_path: Path) -> None:
    binary = _chromium_or_skip()
    cid = seed_claim(
        site.svc.db,
        XSS_TEXT,
        summary="This message is a chain letter. The cure it describes does not exist; "
        "doctors at the city hospital confirmed they never said it.",
        sources=["https://hospital.example.org/statement", "https://factcheck.example.org/chain-letters"],
    )
    url = f"{site.base}/claims/{cid}"
    shot = tmp_path / "page.png"
    await _chromium(binary, tmp_path, f"--screenshot={shot}", "--window-size=800,1200", url)
    assert shot.exists() and shot.stat().st_size > 10_000
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    keep = os.environ.get("CROWDCHECK_KEEP_SCREENSHOT")
    if keep:
        shutil.copy(shot, keep)

    dom = (await _chromium(binary, tmp_path, "--dump-dom", url)).decode()
    # Exactly one <script> element, ours; the injected ones are text inside the blockquote.
    assert len(re.findall(r"<script\b", dom)) == 1
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in dom
    assert "&lt;/script&gt;&lt;script&gt;alert(2)&lt;/script&gt;" in dom
    review = jsonld(dom)
    assert review["@type"] == "ClaimReview" and review["claimReviewed"] == XSS_TEXT
