"""The public pages in the reader's language: the browser's choice or the address's, the
switcher, the translated clarification or the original with a note, and error pages."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from bot.config import Config
from factdb.db import Database
from factdb.models import ClaimStatus, utcnow
from handlers.views.i18n import Translator
from tests.harness import add_translation
from tests.web_site import ORG, PUBLIC, Site, jsonld, open_site, seed_claim


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
    async with open_site(config, db) as site:
        _, html, _ = await site.get("/claims")
        assert '<a class="ask" href="https://t.me/ExampleCheckBot" rel="noopener">Ask the bot</a>' in html
        _, spanish, _ = await site.get("/stats?lang=es")
        assert f">{Translator('es')._('Ask the bot')}</a>" in spanish
        assert "Ask the bot" not in spanish


async def test_no_bot_link_when_the_bot_is_unknown(site: Site) -> None:
    _, html, _ = await site.get("/claims")
    assert "t.me/" not in html
