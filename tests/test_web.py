"""The public web side on a real loopback port: pages, search, feed, health, metrics, escaping,
and a headless Chromium that renders a claim page the way a reader's browser would."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from sqlmodel import Session

from bot.config import Config
from bot.web import make_web_app, script_json
from factdb.db import Database
from factdb.models import Claim, ClaimStatus, Clarification, utcnow
from factdb.normalize import normalize
from handlers.services import Services
from handlers.views.i18n import Translator
from tests.harness import add_translation

PUBLIC = "https://checks.example.org"
ORG = "Example Fact Check"
XSS_TEXT = "Share now! <script>alert(1)</script> then </script><script>alert(2)</script> & <!-- done"
CHROMIUM = "/usr/bin/chromium"


def seed_claim(
    db: Database,
    text: str,
    *,
    status: str = ClaimStatus.PUBLISHED,
    verdict: str = "false",
    summary: str = "This is not true.",
    sources: list[str] | None = None,
    lang: str = "en",
    age: timedelta = timedelta(0),
    **claim_kw: Any,
) -> int:
    def work(session: Session) -> int:
        now = utcnow() - age
        published = status in (ClaimStatus.PUBLISHED, ClaimStatus.RETRACTED)
        claim = Claim(
            text=text,
            normalized=normalize(text),
            lang=lang,
            status=status,
            published_at=now if published else None,
            first_seen=now - timedelta(hours=3),
            **claim_kw,
        )
        session.add(claim)
        session.flush()
        if published:
            session.add(
                Clarification(
                    claim_id=claim.id,  # type: ignore[arg-type]
                    lang=lang,
                    verdict=verdict,
                    summary=summary,
                    sources=json.dumps(
                        sources if sources is not None else ["https://factcheck.example.org/a"]
                    ),
                    published_at=now,
                    is_current=status == ClaimStatus.PUBLISHED,
                    status="published" if status == ClaimStatus.PUBLISHED else "retracted",
                    retracted_at=now if status == ClaimStatus.RETRACTED else None,
                    retract_reason="The photo turned out to be genuine."
                    if status == ClaimStatus.RETRACTED
                    else None,
                )
            )
        return claim.id  # type: ignore[return-value]

    return db.transaction(work)


class Site:
    def __init__(self, base: str, http: aiohttp.ClientSession, svc: Services) -> None:
        self.base, self.http, self.svc = base, http, svc

    async def get(self, path: str, **kw: Any) -> tuple[int, str, aiohttp.ClientResponse]:
        async with self.http.get(self.base + path, allow_redirects=False, **kw) as r:
            return r.status, await r.text(), r


async def start_site(svc: Services) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(make_web_app(svc))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    return runner, f"http://127.0.0.1:{port}"


@pytest.fixture
async def site(db: Database) -> AsyncIterator[Site]:
    svc = Services(Config(database_url=db.url, public_url=PUBLIC, org_name=ORG), db)
    runner, base = await start_site(svc)
    try:
        async with aiohttp.ClientSession() as http:
            yield Site(base, http, svc)
    finally:
        await runner.cleanup()


def jsonld(html: str) -> Any:
    blocks = re.findall(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)
    assert len(blocks) == 1, blocks
    return json.loads(blocks[0])


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
    runner, base = await start_site(Services(config, db))
    try:
        async with aiohttp.ClientSession() as http:
            site = Site(base, http, Services(config, db))
            _, html, _ = await site.get(f"/claims/{cid}")
            _, body, _ = await site.get("/feed/claimreview.json")
        expected = {"@type": "Organization", "name": ORG, "url": "https://example.org/about"}
        assert jsonld(html)["author"] == expected
        assert json.loads(body)["dataFeedElement"][0]["author"] == expected
    finally:
        await runner.cleanup()


async def test_empty_feed_is_valid(site: Site) -> None:
    _, body, _ = await site.get("/feed/claimreview.json")
    assert json.loads(body)["dataFeedElement"] == []


async def test_healthz(site: Site) -> None:
    status, body, _ = await site.get("/healthz")
    assert (status, body) == (200, "ok\n")


async def test_healthz_when_the_database_is_away() -> None:
    dead = Database("postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=2")
    runner, base = await start_site(Services(Config(database_url=dead.url), dead))
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
def switcher_links(html: str) -> dict[str, str]:
    nav = re.search(r'<nav class="languages"[^>]*>(.*?)</nav>', html, re.S)
    assert nav is not None
    return {
        tag: href.replace("&amp;", "&")
        for href, tag in re.findall(r'href="([^"]*)" hreflang="([^"]+)"', nav[1])
    }


async def test_a_spanish_reader_gets_the_spanish_page_and_the_spanish_clarification(site: Site) -> None:
    db = site.svc.db
    cid = seed_claim(
        db, "Hot water cures the virus", summary="Hot water does not kill viruses.", request_count=12345
    )
    add_translation(db, cid, "es", "false", "El agua caliente no mata los virus.")

    status, html, r = await site.get(f"/claims/{cid}", headers={"Accept-Language": "es-AR,es;q=0.9,en;q=0.5"})
    assert status == 200
    assert '<html lang="es">' in html and r.headers["Content-Language"] == "es"
    assert r.headers["Vary"] == "Accept-Language"
    assert "<h1>Verificación" in html and ">Falso<" in html and "Fuentes" in html
    # Their clarification first; the English original one click away, not instead.
    assert html.index("El agua caliente no mata los virus.") < html.index("Hot water does not kill viruses.")
    assert "También en English" in html and "no está disponible" not in html
    es = Translator("es")
    assert f"Publicado el {es.date(utcnow().date())}." in html  # Babel's Spanish date
    assert "12.345 veces" in html  # and Spanish digit grouping
    review = jsonld(html)  # describes the clarification shown, in its language
    assert review["inLanguage"] == "es" and review["reviewBody"] == "El agua caliente no mata los virus."
    assert review["url"].endswith(f"/claims/{cid}?lang=es")  # where this review is read
    _, english, _ = await site.get(f"/claims/{cid}", headers={"Accept-Language": "en"})
    assert jsonld(english)["url"].endswith(f"/claims/{cid}")  # the original: the bare address


async def test_a_reader_without_their_language_gets_the_original_with_a_note(site: Site) -> None:
    cid = seed_claim(site.svc.db, "5G spreads the virus", summary="Radio waves do not carry viruses.")
    _, html, _ = await site.get(f"/claims/{cid}", headers={"Accept-Language": "lt-LT,lt;q=0.9"})
    assert '<html lang="lt">' in html and "Patikrinimas" in html and ">Netiesa<" in html
    assert "Radio waves do not carry viruses." in html
    assert Translator("lt")._("This answer is not available in your language yet.") in html
    assert jsonld(html)["inLanguage"] == "en"


async def test_lang_in_the_address_overrides_the_browser_and_stays_on_every_link(site: Site) -> None:
    db = site.svc.db
    target = seed_claim(db, "The original rumour")
    dup = seed_claim(db, "A copy of the rumour", status=ClaimStatus.MERGED, merged_into_id=target)
    es_browser = {"Accept-Language": "es"}

    status, html, r = await site.get(f"/claims/{target}?lang=zh_TW", headers=es_browser)
    assert status == 200 and '<html lang="zh-TW">' in html and r.headers["Content-Language"] == "zh-TW"
    assert "查核結果" in html and ">錯誤<" in html
    assert 'href="/claims?lang=zh-TW"' in html and 'href="/stats?lang=zh-TW"' in html

    _, listing, _ = await site.get("/claims?lang=zh-TW", headers=es_browser)
    assert f'href="/claims/{target}?lang=zh-TW"' in listing
    assert '<input type="hidden" name="lang" value="zh-TW">' in listing  # a search keeps it too
    status, _, r = await site.get(f"/claims/{dup}?lang=zh-TW", headers=es_browser)
    assert status == 302 and r.headers["Location"] == f"/claims/{target}?lang=zh-TW"

    # Chosen by the browser, the language needs no carrying: the links stay clean.
    _, html, _ = await site.get("/claims", headers=es_browser)
    assert '<html lang="es">' in html and '<a class="brand" href="/claims">' in html
    assert 'href="/stats">Cifras</a>' in html and 'name="lang"' not in html


async def test_an_unknown_language_falls_back_to_english(site: Site) -> None:
    cid = seed_claim(site.svc.db, "Garlic protects you")
    for query, header in [
        ("", "pt-BR,pt;q=0.9,de;q=0.8"),
        ("?lang=klingon", ""),
        ("?lang=xx", "fr"),
        ("", "*"),
    ]:
        _, html, r = await site.get(f"/claims/{cid}{query}", headers={"Accept-Language": header})
        assert '<html lang="en">' in html and r.headers["Content-Language"] == "en", (query, header)
        assert "<h1>Fact check" in html and 'href="/claims"' in html  # nothing to carry on
    # An unknown ?lang= is ignored, not obeyed: the browser's language still counts.
    _, html, _ = await site.get(f"/claims/{cid}?lang=klingon", headers={"Accept-Language": "lt"})
    assert '<html lang="lt">' in html


async def test_the_browsers_weights_decide_not_the_order(site: Site) -> None:
    for header, expected in [
        ("en;q=0.2, lt;q=0.9", "lt"),
        ("lt;q=0, es", "es"),  # q=0: "not this one"
        ("de, es;q=0.5, lt;q=0.5", "es"),  # equal weights: the browser's order
        ("es;q=bad, lt;q=0.3", "lt"),  # a malformed weight does not pick a language
        ("zh-CN,zh;q=0.9,en;q=0.8", "zh-TW"),  # our Chinese serves every Chinese reader, as in the bot
    ]:
        _, html, _ = await site.get("/claims", headers={"Accept-Language": header})
        assert f'<html lang="{expected}">' in html, header


async def test_the_language_switcher_keeps_the_page(site: Site) -> None:
    db = site.svc.db
    for i in range(22):
        seed_claim(db, f"Bleach rumour number {i}", age=timedelta(minutes=i))

    _, html, _ = await site.get("/claims?q=bleach&page=2")
    links = switcher_links(html)
    assert list(links) == ["en", "zh-TW", "es", "lt"]
    assert links["es"] == "/claims?q=bleach&page=2&lang=es"
    assert re.search(r'hreflang="en" lang="en" aria-current="true"', html)

    _, spanish, _ = await site.get(links["es"])
    assert '<html lang="es">' in spanish
    assert "22 resultados para “bleach”" in spanish and "página 2 de 2" in spanish
    assert 'rel="prev" href="/claims?q=bleach&amp;page=1&amp;lang=es"' in spanish
    assert switcher_links(spanish)["lt"] == "/claims?q=bleach&page=2&lang=lt"  # not lang=es&lang=lt


async def test_stats_in_each_language_from_one_cache(site: Site) -> None:
    seed_claim(site.svc.db, "<b>viral</b> rumour", status=ClaimStatus.NEW)
    pages = {}
    for lang in ("en", "es", "lt", "zh-TW"):
        status, pages[lang], r = await site.get("/stats", headers={"Accept-Language": lang})
        assert status == 200 and r.headers["Content-Language"] == lang
    assert "Requests today" in pages["en"] and "Consultas de hoy" in pages["es"]
    assert "Užklausos šiandien" in pages["lt"] and "今天的詢問" in pages["zh-TW"]
    assert "Nueva" in pages["es"] and "Naujas" in pages["lt"]  # the claim statuses too
    assert "Consultas por día, últimos 30 días" in pages["es"]
    assert "paskutinių 30 dienų" in pages["lt"]  # Lithuanian's third plural form
    assert all("rumour" not in page for page in pages.values())


async def test_error_pages_speak_the_readers_language(site: Site) -> None:
    gone = seed_claim(site.svc.db, "Withdrawn one", status=ClaimStatus.RETRACTED)
    status, html, r = await site.get("/claims/999999", headers={"Accept-Language": "lt"})
    assert status == 404 and '<html lang="lt">' in html and "<h1>Nerasta</h1>" in html
    assert r.headers["Vary"] == "Accept-Language"
    status, html, _ = await site.get(f"/claims/{gone}?lang=es")
    assert status == 410
    assert f"Retiramos esta verificación el {Translator('es').date(utcnow().date())}" in html
    assert "The photo turned out to be genuine." in html and 'href="/claims?lang=es"' in html


async def test_translated_pages_still_escape_what_people_typed(site: Site) -> None:
    _, html, _ = await site.get("/claims", params={"q": '"><script>alert(6)</script>', "lang": "es"})
    assert "<script>alert(6)" not in html and "&lt;script&gt;alert(6)" in html
    assert "0 resultados para “&#34;&gt;&lt;script&gt;" in html


async def test_a_reader_can_go_and_ask_the_bot(db: Database) -> None:
    from bot.config import ConfigError, load

    assert load({"CROWDCHECK_BOT_USERNAME": "@ExampleCheckBot"}).bot_username == "ExampleCheckBot"
    for wrong in ("t.me/ExampleCheckBot", "Example Check Bot", "ExampleCheck"):
        with pytest.raises(ConfigError):
            load({"CROWDCHECK_BOT_USERNAME": wrong})
    config = Config(database_url=db.url, public_url=PUBLIC, org_name=ORG, bot_username="ExampleCheckBot")
    runner, base = await start_site(Services(config, db))
    try:
        async with aiohttp.ClientSession() as http:
            site = Site(base, http, Services(config, db))
            _, html, _ = await site.get("/claims")
            assert '<a class="ask" href="https://t.me/ExampleCheckBot" rel="noopener">Ask the bot</a>' in html
            _, spanish, _ = await site.get("/stats?lang=es")
            assert f">{Translator('es')._('Ask the bot')}</a>" in spanish
            assert "Ask the bot" not in spanish
    finally:
        await runner.cleanup()


async def test_no_bot_link_when_the_bot_is_unknown(site: Site) -> None:
    _, html, _ = await site.get("/claims")
    assert "t.me/" not in html


# -- headless Chromium -----------------------------------------------------------------------
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
