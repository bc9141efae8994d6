"""The public pages: `/claims/{id}`, `/claims?q=…`, `/stats`, the public pictures
(`/pictures/{id}.jpg`), and the 404 page for any other address. They read through
`factdb.public` and `factdb.media.public_pictures` (what the public may see) in a worker thread
(`Database.run`): a slow page must never hold up a webhook update on the event loop."""

from __future__ import annotations

import math
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from sqlmodel import Session

from bot.web.keys import SVC
from bot.web.language import linker
from bot.web.rendering import (
    MAX_QUERY_CHARS,
    chart,
    excerpt,
    page_language,
    public_url,
    render,
    safe_href,
    script_json,
)
from factdb import clarifications as clar_db
from factdb import public
from factdb.interchange.claimreview import claimreview_for
from factdb.media import public_pictures
from factdb.models import ClaimStatus, Clarification

STATS_CACHE_SECONDS = 60.0
# Claim ids are database integers; anything longer is no claim (and would overflow the query).
MAX_ID_DIGITS = 18
# A picture may be made private again, or its claim retracted: caches keep it a few minutes only.
PICTURE_CACHE = "public, max-age=300"

SEARCH: web.AppKey[public.RewordedIndex] = web.AppKey("search", public.RewordedIndex)
STATS_CACHE: web.AppKey[dict[str, Any]] = web.AppKey("stats_cache", dict)
STATS_TTL: web.AppKey[float] = web.AppKey("stats_ttl", float)


def add_pages(app: web.Application, *, stats_cache_seconds: float = STATS_CACHE_SECONDS) -> None:
    app[SEARCH] = public.RewordedIndex()
    app[STATS_CACHE] = {}
    app[STATS_TTL] = stats_cache_seconds
    app.router.add_get("/", home)
    app.router.add_get("/claims", claims_page)
    app.router.add_get("/claims/{id}", claim_page)
    app.router.add_get("/stats", stats_page)
    app.router.add_get("/pictures/{file}", picture)


async def home(request: web.Request) -> web.StreamResponse:
    raise web.HTTPFound(linker(page_language(request))("/claims"))


# -- /claims/{id} ----------------------------------------------------------------------------
def _clarification_item(clar: Clarification) -> dict[str, Any]:
    return {"clar": clar, "sources": [{"text": s, "href": safe_href(s)} for s in clar_db.sources_of(clar)]}


def _id(raw: str) -> int:
    # ASCII digits only: int() would also take "٣", "+3", " 3" and "3_0".
    if not (raw.isascii() and raw.isdigit() and len(raw) <= MAX_ID_DIGITS):
        raise web.HTTPNotFound()
    return int(raw)


def _page_of(
    session: Session, claim_id: int, lang: str
) -> tuple[
    public.PublishedClaim | public.Withdrawn | public.Moved | None, list[public_pictures.PublicPicture]
]:
    found = public.published_claim(session, claim_id, lang)
    shown = isinstance(found, public.PublishedClaim)
    return found, public_pictures.public_pictures_of_claim(session, claim_id) if shown else []


async def claim_page(request: web.Request) -> web.StreamResponse:
    claim_id = _id(request.match_info["id"])
    svc, lang = request.app[SVC], page_language(request)
    found, pictures = await svc.db.run(lambda s: _page_of(s, claim_id, lang.tag))
    if found is None:
        raise web.HTTPNotFound()
    if isinstance(found, public.Moved):
        raise web.HTTPFound(
            linker(lang)(f"/claims/{found.claim_id}")
        )  # the duplicate's address keeps working
    if isinstance(found, public.Withdrawn):
        return render(request, "error.html", status=410, withdrawn=found)
    claim, shown = found.claim, found.chosen.clarification
    # One ClaimReview, of the clarification shown, so its inLanguage is the language read here;
    # the other languages are one ?lang= away and all of them are in the feed.
    # A translation's review lives at the address that shows it; the original's at the bare one.
    # claimreview_for masks the claim and the summary itself (factdb.privacy).
    translation = shown.id != clar_db.original(found.rows, claim.lang).id
    review = claimreview_for(
        claim,
        shown,
        org_name=svc.config.org_name,
        org_url=svc.config.org_url,  # the author the feed and `crowdcheck export` name too
        public_url=public_url(request),
        page_lang=lang.tag if translation and shown.lang.lower() == lang.tag.lower() else None,
        # ImageObjects only under the configured public URL, never one a Host header named
        pictures=[p.id for p in pictures] if svc.config.public_url else (),
    )
    masked = public.public_wording(claim)
    return render(
        request,
        "claim.html",
        claim=claim,
        claim_text=masked,
        title=excerpt(masked, 70),
        primary=shown,
        primary_summary_short=excerpt(shown.summary, 200),
        shown=_clarification_item(shown),
        translated=found.chosen.translated,
        others=[_clarification_item(r) for r in found.rows if r.id != shown.id],
        jsonld=script_json(review),
        pictures=[
            {"src": public_pictures.picture_path(p.id), "width": p.width, "height": p.height}
            for p in pictures
        ],
    )


# -- /pictures/{id}.jpg ----------------------------------------------------------------------
async def picture(request: web.Request) -> web.StreamResponse:
    """A public picture's JPEG. Anything else — a private picture, one of a claim not published,
    an id that does not exist — is the same 404, so addresses reveal nothing."""
    raw = request.match_info["file"]
    if not raw.endswith(".jpg"):
        raise web.HTTPNotFound()
    picture_id = _id(raw.removesuffix(".jpg"))
    found = await request.app[SVC].db.run(lambda s: public_pictures.public_picture_bytes(s, picture_id))
    if found is None:
        raise web.HTTPNotFound()
    data, sha256 = found
    headers = {
        "Cache-Control": PICTURE_CACHE,
        "ETag": f'"{sha256[:32]}"',
        "X-Content-Type-Options": "nosniff",
    }
    if headers["ETag"] in (t.strip() for t in request.headers.get("If-None-Match", "").split(",")):
        return web.Response(status=304, headers=headers)
    return web.Response(body=data, content_type="image/jpeg", headers=headers)


# -- /claims ---------------------------------------------------------------------------------
async def claims_page(request: web.Request) -> web.StreamResponse:
    q = request.query.get("q", "").strip()[:MAX_QUERY_CHARS]
    try:
        page = int(request.query.get("page", "1"))
    except ValueError:
        page = 1
    index = request.app[SEARCH]
    found = await request.app[SVC].db.run(lambda s: public.search(s, index, q, page))
    return render(
        request,
        "claims.html",
        q=q,
        rows=found.rows,
        total=found.total,
        page=found.page,
        pages=found.pages,
        max_q=MAX_QUERY_CHARS,
    )


# -- /stats ----------------------------------------------------------------------------------
async def _cached_figures(request: web.Request) -> public.PublicFigures:
    # The figures, not the HTML: a crowd refreshing the page costs one set of queries a minute,
    # and each reader's page is still rendered in their language.
    cache, config = request.app[STATS_CACHE], request.app[SVC].config
    if cache.get("at", -math.inf) + request.app[STATS_TTL] > time.monotonic():
        return cache["figures"]  # type: ignore[no-any-return]
    figures = await request.app[SVC].db.run(
        lambda s: public.public_figures(
            s,
            half_life_hours=config.virality_half_life_hours,
            public_queue=config.public_queue,
            min_askers=config.public_queue_min_askers,
        )
    )
    cache.update(at=time.monotonic(), figures=figures)
    return figures


async def stats_page(request: web.Request) -> web.StreamResponse:
    figures = await _cached_figures(request)
    s = figures.stats
    statuses = [(str(k), s.claims_by_status[str(k)]) for k in ClaimStatus if s.claims_by_status.get(str(k))]
    return render(
        request,
        "stats.html",
        s=s,
        chart=chart(s.requests_per_day),
        statuses=statuses,
        waiting=figures.waiting,
        min_askers=request.app[SVC].config.public_queue_min_askers,
    )


# -- any other address -----------------------------------------------------------------------
@web.middleware
async def not_found_page(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """A reader who mistyped an address gets a page in their language; the webhook's path
    gets a plain 404 (it is no page, and Telegram reads no HTML)."""
    try:
        return await handler(request)
    except web.HTTPNotFound:
        if request.path.startswith("/telegram/"):
            return web.Response(status=404, text="not found\n")
        return render(request, "error.html", status=404, withdrawn=None)
