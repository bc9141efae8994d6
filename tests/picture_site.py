"""A citizen's picture as the bot stores it, and the public site read byte for byte: for the
tests of public pictures (tests/test_public_pictures.py)."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from html.parser import HTMLParser
from typing import Any

import aiohttp
from PIL import Image, ImageDraw

from factdb.db import Database
from factdb.media.decode import decode, stripped_jpeg
from factdb.media.hashing import picture_hash
from factdb.media.pictures import Picture, record_picture
from factdb.media.public_pictures import set_publishable
from handlers.services import Services
from tests.conftest import ADMIN
from tests.web_site import PUBLIC, start_site


def jpeg(seed: int) -> tuple[bytes, tuple[int, int], Any]:
    """A small picture as the bot stores it: decoded, stripped, hashed."""
    image = Image.new("RGB", (320, 200), (40 + seed * 20 % 200, 120, 200))
    draw = ImageDraw.Draw(image)
    draw.rectangle((20 + seed, 30, 150, 170), fill=(250, 240, 20))
    draw.text((170, 80), f"rumour {seed}", fill=(0, 0, 0))
    safe = decode(stripped_jpeg(image))
    return stripped_jpeg(safe.image), safe.image.size, picture_hash(safe.image)


def store_picture(
    db: Database, claim_id: int, seed: int = 1, *, publishable: bool = False, citizen_id: int | None = None
) -> int:
    data, size, phash = jpeg(seed)

    def work(session: Any) -> int:
        picture = record_picture(
            session, claim_id=claim_id, citizen_id=citizen_id, jpeg=data, size=size, phash=phash
        )
        assert picture.id is not None
        if publishable:
            set_publishable(session, picture.id, ADMIN, True)
        return picture.id

    return db.transaction(work)


def stored_bytes(db: Database, picture_id: int) -> bytes:
    with db.session() as session:
        picture = session.get(Picture, picture_id)
        assert picture is not None and picture.data
        return picture.data


class Web:
    def __init__(self, base: str, http: aiohttp.ClientSession) -> None:
        self.base, self.http = base, http

    async def get(self, path: str, **kw: Any) -> tuple[int, bytes, aiohttp.ClientResponse]:
        async with self.http.get(self.base + path, allow_redirects=False, **kw) as r:
            return r.status, await r.read(), r

    async def page(self, claim_id: int) -> tuple[int, str]:
        status, body, _ = await self.get(f"/claims/{claim_id}")
        return status, body.decode()

    async def feed(self) -> dict[str, Any]:
        status, body, _ = await self.get("/feed/claimreview.json")
        assert status == 200
        return json.loads(body)  # type: ignore[no-any-return]


async def serving(svc: Services) -> AsyncIterator[Web]:
    # feed_check_seconds=0: every feed request checks whether the claims changed
    runner, base = await start_site(svc, feed_check_seconds=0)
    try:
        async with aiohttp.ClientSession() as http:
            yield Web(base, http)
    finally:
        await runner.cleanup()


def images(html: str) -> list[str]:
    return re.findall(r"<img [^>]*>", html)


def image_objects(review: dict[str, Any]) -> list[str]:
    appearance = review["itemReviewed"].get("appearance", [])
    return [a["contentUrl"] for a in appearance if a.get("@type") == "ImageObject"]


def feed_images(feed: dict[str, Any], claim_id: int) -> list[str]:
    for element in feed["dataFeedElement"]:
        if element["identifier"] == f"{PUBLIC}/claims/{claim_id}":
            return image_objects(element)
    raise AssertionError(f"claim {claim_id} is not in the feed")


def feed_images_any(feed: dict[str, Any]) -> list[str]:
    return [url for element in feed["dataFeedElement"] for url in image_objects(element)]


class _Balance(HTMLParser):
    VOID = frozenset({"meta", "link", "img", "br", "input", "hr", "source"})

    def __init__(self) -> None:
        super().__init__()
        self.open: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "img":
            names = dict(attrs)
            assert names.get("alt") and names.get("loading") == "lazy" and names.get("src"), attrs
        if tag not in self.VOID:
            self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.open and self.open[-1] == tag, (tag, self.open)
        self.open.pop()


def assert_well_formed(html: str) -> None:
    checker = _Balance()
    checker.feed(html)
    checker.close()
    assert checker.open == [], checker.open
