"""The public site on a real loopback port, for the web tests: a claim seeded as the review flow
leaves it, the site started for some services, and a reader that fetches its pages."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import aiohttp
from aiohttp import web
from sqlmodel import Session

from bot.config import Config
from bot.services import build_services
from bot.web import make_web_app
from factdb.db import Database
from factdb.models import Claim, ClaimStatus, Clarification, utcnow
from factdb.normalize import normalize
from handlers.services import Services

PUBLIC = "https://checks.example.org"
ORG = "Example Fact Check"


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


async def start_site(svc: Services, **app_kw: Any) -> tuple[web.AppRunner, str]:
    """The site (make_web_app with `app_kw`) on a free loopback port: its runner and address."""
    runner = web.AppRunner(make_web_app(svc, **app_kw))
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    port = runner.addresses[0][1]
    return runner, f"http://127.0.0.1:{port}"


@asynccontextmanager
async def open_site(config: Config, db: Database) -> AsyncIterator[Site]:
    """The public site on a free port, for the services built from `config`, and a reader."""
    svc = build_services(config, db)
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
