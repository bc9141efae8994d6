"""The web side: Telegram's webhook, public fact-check pages, the ClaimReview feed, /healthz, /metrics.

`crowdcheck serve` runs this (see `WebServer`); tests build the same app with `make_web_app`.
See docs/web.md for the routes and the decisions behind them.

Two rules shape the code:
- The database is synchronous (SQLModel), so every query runs in a worker thread
  (`asyncio.to_thread`): a slow page must never hold up a webhook update on the event loop.
- Everything shown comes from strangers (citizens' claims) or from reviewers: templates escape
  by default (Jinja2 autoescape), claim text is masked (`mask_personal`), only http(s) sources
  become links, and JSON-LD is serialised so nothing inside a string can end the <script>.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import hashlib
import hmac
import ipaddress
import json
import logging
import math
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from aiohttp import web
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup
from sqlalchemy import text
from sqlmodel import Session, col, select
from yarl import URL

from bot import web_feed, web_search
from bot.config import Config, ConfigError
from bot.inbox import InboxFull
from bot.metrics import CONTENT_TYPE, Metrics
from bot.page_language import PageLanguage, helpers, linker, pick
from factdb import clarifications as clar_db
from factdb.models import Claim, ClaimStatus, Clarification
from factdb.privacy import mask_personal
from factdb.public import WaitingClaim, public_wording, waiting_for_review
from factdb.stats import Stats, stats
from handlers.services import Services

if TYPE_CHECKING:
    from telegram.ext import Application

    from bot.app import BotRuntime

log = logging.getLogger(__name__)

TEMPLATES = Path(__file__).with_name("templates")
MAX_QUERY_CHARS = 200
STATS_CACHE_SECONDS = 60.0
HEALTH_TIMEOUT_SECONDS = 5.0
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
# Telegram accepts 1-256 characters from this set as a webhook secret_token.
_SECRET_RE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")

SVC: web.AppKey[Services] = web.AppKey("svc", Services)
METRICS: web.AppKey[Metrics] = web.AppKey("metrics", Metrics)
JINJA: web.AppKey[Environment] = web.AppKey("jinja", Environment)
TELEGRAM: web.AppKey[Any] = web.AppKey("telegram", object)
WEBHOOK: web.AppKey[tuple[str, str] | None] = web.AppKey("webhook", object)  # (path, secret)
STATS_CACHE: web.AppKey[dict[str, Any]] = web.AppKey("stats_cache", dict)
STATS_TTL: web.AppKey[float] = web.AppKey("stats_ttl", float)
SEARCH: web.AppKey[web_search.RewordedIndex] = web.AppKey("search", web_search.RewordedIndex)
BOT_LINK: web.AppKey[BotLink] = web.AppKey("bot_link", object)  # type: ignore[arg-type]
FEED: web.AppKey[web_feed.FeedCache] = web.AppKey("feed", web_feed.FeedCache)
FEED_WRITE_SECONDS: web.AppKey[float] = web.AppKey("feed_write_seconds", float)
METRICS_PORT: web.AppKey[bool] = web.AppKey("metrics_port", bool)  # make_metrics_app's own port
HEALTH: web.AppKey[_Health] = web.AppKey("health", object)  # type: ignore[arg-type]

# Content-Security-Policy: the pages need no script at all (JSON-LD is data, not executed) and
# only inline CSS, so anything injected despite the escaping still cannot run or load.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
        "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "X-Frame-Options": "DENY",
}


@dataclass
class BotLink:
    """The bot's @username once known (getMe at start), for the pages' "Ask the bot" link."""

    username: str | None = None


# -- webhook secret --------------------------------------------------------------------------
def webhook_secret(config: Config) -> str:
    """The secret Telegram sends back in X-Telegram-Bot-Api-Secret-Token.

    CROWDCHECK_WEBHOOK_SECRET when set; otherwise derived from the bot token with HMAC, which
    needs no storage and gives every worker behind a load balancer the same value. It is
    one-way, so the secret (and the path below) never reveal the token, and rotating the token
    at @BotFather rotates it too.
    """
    if config.webhook_secret:
        if not _SECRET_RE.match(config.webhook_secret):
            raise ConfigError(
                "CROWDCHECK_WEBHOOK_SECRET may only use letters, digits, _ and - (1 to 256 of them)."
            )
        return config.webhook_secret
    token = config.require_token()
    return hmac.new(token.encode(), b"crowdcheck webhook secret v1", hashlib.sha256).hexdigest()


def webhook_path(secret: str) -> str:
    """The URL path segment: derived from the secret so that access logs, which record paths,
    never contain the header secret itself (nor the token)."""
    return hashlib.sha256(b"crowdcheck webhook path v1:" + secret.encode()).hexdigest()[:32]


# -- rendering helpers -----------------------------------------------------------------------
# Bidirectional controls: embeddings and overrides (U+202A-E), isolates (U+2066-9) and the
# marks (LRM, RLM, ALM). In a stranger's text they reorder what follows, so a link text or a
# title can show "moc.elgoog" as google.com: they are dropped from everything a page shows.
BIDI_CONTROLS = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"
_NO_BIDI = dict.fromkeys(map(ord, BIDI_CONTROLS))


def no_bidi(value: str) -> str:
    return value.translate(_NO_BIDI)


def _finalize(value: Any) -> Any:
    # Every {{ … }} of every template: titles, meta tags, attributes, link texts, body text.
    # Markup is ours (JSON-LD, already \u-escaped by script_json; macro output, already done).
    if isinstance(value, str) and not isinstance(value, Markup):
        return value.translate(_NO_BIDI)
    return value


def script_json(value: Any) -> Markup:
    """JSON for inside <script>: `<`, `>` and `&` become \\u escapes, so `</script>` or `<!--` in
    any string cannot end the element; U+2028/9 too, for old JavaScript parsers. Replacing in
    the serialised text is safe because these characters only ever occur inside JSON strings."""
    out = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    for ch, esc in (
        ("&", "\\u0026"),
        ("<", "\\u003c"),
        (">", "\\u003e"),
        ("\u2028", "\\u2028"),
        ("\u2029", "\\u2029"),
        # bidi controls: the same value for a parser, nothing raw for a viewer of the source
        *((ch, f"\\u{ord(ch):04x}") for ch in BIDI_CONTROLS),
    ):
        out = out.replace(ch, esc)
    return Markup(out)


def safe_href(url: str) -> str | None:
    """Only http(s) URLs become links: a reviewer's `javascript:` source must stay text, and so
    must a URL with bidi controls (its text would not show where it goes)."""
    if any(ch in BIDI_CONTROLS for ch in url):
        return None
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    return url.strip() if parts.scheme.lower() in ("http", "https") and parts.netloc else None


def _excerpt(value: str, limit: int = 220) -> str:
    value = " ".join(mask_personal(value).split())
    return value if len(value) <= limit else value[: limit - 1].rstrip() + "…"


def make_jinja() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=True,  # every template, whatever its name: all of them are HTML
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        finalize=_finalize,
    )
    return env


def claimreview(
    claim: Claim,
    clar: Clarification,
    *,
    org_name: str,
    public_url: str,
    page_lang: str | None = None,
    org_url: str | None = None,
) -> dict[str, Any]:
    # claimreview_for masks the claim and the summary itself (factdb.privacy).
    from factdb.interchange.claimreview import claimreview_for

    return claimreview_for(
        claim, clar, org_name=org_name, org_url=org_url, public_url=public_url, page_lang=page_lang
    )


def _public_url(request: web.Request) -> str:
    svc = request.app[SVC]
    return svc.config.public_url or str(request.url.origin())


def page_language(request: web.Request) -> PageLanguage:
    return pick(request.query, request.headers, request.app[SVC].config.locales)


def render(request: web.Request, template: str, status: int = 200, **context: Any) -> web.Response:
    """A page in the reader's language (bot/page_language.py): the words, the formats, the
    `lang` attribute and Content-Language all follow `page_language`."""
    svc, lang = request.app[SVC], page_language(request)
    words = helpers(lang, _canonical_url(request), svc.config.locales)
    username = request.app[BOT_LINK].username or svc.config.bot_username
    bot_url = f"https://t.me/{username}" if username else None
    html = (
        request.app[JINJA]
        .get_template(template)
        .render(org_name=svc.config.org_name, bot_url=bot_url, **words, **context)
    )
    response = web.Response(text=html, status=status, content_type="text/html", charset="utf-8")
    response.headers["Content-Language"] = lang.tag
    # Without ?lang= the same URL answers in several languages: shared caches must key on it.
    response.headers["Vary"] = "Accept-Language"
    return response


# The parameters a page reads; the language switcher links the same page with these only, so
# nothing a stranger appends to an address (?utm_…=, ?x="><…) is copied into our links.
KNOWN_PARAMS: dict[str, tuple[str, ...]] = {"/claims": ("q", "page")}


def _canonical_url(request: web.Request) -> URL:
    kept: dict[str, str] = {}
    for name in KNOWN_PARAMS.get(request.path, ()):
        value = request.query.get(name, "").strip()
        if name == "q":
            value = value[:MAX_QUERY_CHARS]
        elif name == "page" and not (value.isascii() and value.isdigit() and len(value) < 10):
            value = ""
        if value:
            kept[name] = value
    return URL.build(path=request.path, query=kept)


async def _db(request: web.Request, fn: Callable[[Session], Any]) -> Any:
    svc = request.app[SVC]

    def work() -> Any:
        with svc.db.session() as session:
            return fn(session)

    return await asyncio.to_thread(work)


# -- /claims/{id} ----------------------------------------------------------------------------
@dataclass
class _ClaimPage:
    claim: Claim
    chosen: clar_db.Chosen  # in the reader's language, else the original
    rows: list[Clarification]


@dataclass
class _Withdrawn:
    at: datetime | None
    reason: str | None


def _load_claim(session: Session, claim_id: int, lang: str) -> _ClaimPage | _Withdrawn | int | None:
    claim = session.get(Claim, claim_id)
    if claim is None:
        return None
    if claim.status == ClaimStatus.MERGED and claim.merged_into_id:
        return claim.merged_into_id  # the duplicate's address keeps working
    if claim.status == ClaimStatus.RETRACTED:
        last = session.exec(
            select(Clarification)
            .where(Clarification.claim_id == claim_id, Clarification.status == "retracted")
            .order_by(col(Clarification.retracted_at).desc(), col(Clarification.id).desc())
        ).first()
        return _Withdrawn(last.retracted_at if last else None, last.retract_reason if last else None)
    if claim.status != ClaimStatus.PUBLISHED:
        return None  # new, in review, spam: not public
    # The same choice a citizen's notice makes (handlers/views/notices.py), so the link in the notice
    # opens on the clarification the notice quoted.
    chosen = clar_db.for_language(session, claim_id, lang)
    return _ClaimPage(claim, chosen, clar_db.current(session, claim_id)) if chosen else None


def _clarification_item(clar: Clarification) -> dict[str, Any]:
    return {"clar": clar, "sources": [{"text": s, "href": safe_href(s)} for s in clar_db.sources_of(clar)]}


# Claim ids are database integers; anything longer is no claim (and would overflow the query).
MAX_ID_DIGITS = 18


async def claim_page(request: web.Request) -> web.StreamResponse:
    raw = request.match_info["id"]
    # ASCII digits only: int() would also take "٣", "+3", " 3" and "3_0".
    if not (raw.isascii() and raw.isdigit() and len(raw) <= MAX_ID_DIGITS):
        raise web.HTTPNotFound()
    claim_id = int(raw)
    lang = page_language(request)
    found = await _db(request, lambda s: _load_claim(s, claim_id, lang.tag))
    if found is None:
        raise web.HTTPNotFound()
    if isinstance(found, int):
        raise web.HTTPFound(linker(lang)(f"/claims/{found}"))
    if isinstance(found, _Withdrawn):
        return render(request, "error.html", status=410, withdrawn=found)
    svc, claim, shown = request.app[SVC], found.claim, found.chosen.clarification
    # One ClaimReview, of the clarification shown, so its inLanguage is the language read here;
    # the other languages are one ?lang= away and all of them are in the feed.
    # A translation's review lives at the address that shows it; the original's at the bare one.
    translation = shown.id != clar_db.original(found.rows, claim.lang).id
    review = claimreview(
        claim,
        shown,
        org_name=svc.config.org_name,
        org_url=svc.config.org_url,  # the author the feed and `crowdcheck export` name too
        public_url=_public_url(request),
        page_lang=lang.tag if translation and shown.lang.lower() == lang.tag.lower() else None,
    )
    masked = public_wording(claim)
    return render(
        request,
        "claim.html",
        claim=claim,
        claim_text=masked,
        title=_excerpt(masked, 70),
        primary=shown,
        primary_summary_short=_excerpt(shown.summary, 200),
        shown=_clarification_item(shown),
        translated=found.chosen.translated,
        others=[_clarification_item(r) for r in found.rows if r.id != shown.id],
        jsonld=script_json(review),
    )


# -- /claims ---------------------------------------------------------------------------------
async def claims_page(request: web.Request) -> web.StreamResponse:
    q = request.query.get("q", "").strip()[:MAX_QUERY_CHARS]
    try:
        page = int(request.query.get("page", "1"))
    except ValueError:
        page = 1
    index = request.app[SEARCH]
    rows, total, page, pages = await _db(request, lambda s: web_search.search(s, index, q, page))
    return render(
        request, "claims.html", q=q, rows=rows, total=total, page=page, pages=pages, max_q=MAX_QUERY_CHARS
    )


# -- /feed/claimreview.json ------------------------------------------------------------------
async def feed(request: web.Request) -> web.StreamResponse:
    """Every published ClaimReview as one schema.org DataFeed: the very document
    `crowdcheck export --format claimreview` writes, built once per change (bot/web_feed.py)."""
    body = await request.app[FEED].body(_public_url(request))
    return await web_feed.send(request, body, write_seconds=request.app[FEED_WRITE_SECONDS])


# -- /stats ----------------------------------------------------------------------------------
def chart(per_day: list[tuple[date, int]], width: int = 600, height: int = 170) -> dict[str, Any]:
    """Bar geometry for the inline SVG, computed here so the page needs no JavaScript."""
    left, top, bottom = 34, 8, 20
    base = height - bottom
    peak = max((n for _, n in per_day), default=0)
    slot = (width - left) / max(len(per_day), 1)
    bars = []
    for i, (day, n) in enumerate(per_day):
        h = 0.0 if peak == 0 else (base - top) * n / peak
        bars.append(
            {
                "x": round(left + i * slot + slot * 0.12, 2),
                "w": round(slot * 0.76, 2),
                "y": round(base - h, 2),
                "h": round(h, 2),
                "day": day,
                "n": n,
            }
        )
    return {
        "width": width,
        "height": height,
        "left": left,
        "top": top,
        "base": base,
        "peak": peak,
        "total": sum(n for _, n in per_day),
        "bars": bars,
    }


@dataclass(frozen=True)
class _PublicFigures:
    stats: Stats
    waiting: list[WaitingClaim] | None  # None: the operator has not opted in to the list


def _public_figures(session: Session, config: Config) -> _PublicFigures:
    # open_claims=False: the text of unchecked claims is not even read for the public page.
    figures = stats(session, half_life_hours=config.virality_half_life_hours, open_claims=False)
    waiting = (
        waiting_for_review(session, min_askers=config.public_queue_min_askers)
        if config.public_queue
        else None
    )
    return _PublicFigures(figures, waiting)


async def _cached_stats(request: web.Request) -> _PublicFigures:
    # A public page: cache a minute so a crowd refreshing it costs one set of queries.
    cache, svc = request.app[STATS_CACHE], request.app[SVC]
    if cache.get("at", -math.inf) + request.app[STATS_TTL] > time.monotonic():
        return cache["stats"]  # type: ignore[no-any-return]
    result = await _db(request, lambda s: _public_figures(s, svc.config))
    cache.update(at=time.monotonic(), stats=result)
    return result  # type: ignore[no-any-return]


async def stats_page(request: web.Request) -> web.StreamResponse:
    figures = await _cached_stats(request)
    s = figures.stats
    statuses = [(str(k), s.claims_by_status[str(k)]) for k in ClaimStatus if s.claims_by_status.get(str(k))]
    return render(
        request,
        "stats.html",
        s=s,
        chart=chart(s.requests_per_day),
        statuses=statuses,
        waiting=figures.waiting,
        min_askers=svc_config(request).public_queue_min_askers,
    )


def svc_config(request: web.Request) -> Config:
    return request.app[SVC].config


# -- /healthz, /metrics ----------------------------------------------------------------------
class _Health:
    """The database ping behind /healthz, in its own thread: a load balancer asks it to decide
    whether this worker lives, so it must not queue behind the public's pages and exports.
    Concurrent checks share one ping, so a hung database costs one thread, not one per probe."""

    def __init__(self, db: Any) -> None:
        self.db = db
        self.pool = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="healthz")
        self._ping: asyncio.Future[None] | None = None

    def _select_1(self) -> None:
        with self.db.engine.connect() as conn:
            conn.execute(text("select 1"))

    async def check(self) -> None:
        if self._ping is None or self._ping.done():
            self._ping = asyncio.wrap_future(self.pool.submit(self._select_1))
        await asyncio.wait_for(asyncio.shield(self._ping), HEALTH_TIMEOUT_SECONDS)

    def close(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)


async def healthz(request: web.Request) -> web.StreamResponse:
    try:
        await request.app[HEALTH].check()
    except Exception as exc:
        log.warning("healthz: database not answering: %s", exc)
        return web.Response(text="database unavailable\n", status=503)
    return web.Response(text="ok\n")


_PROXY_HEADERS = ("Forwarded", "X-Forwarded-For", "X-Real-IP")


def _loopback(remote: str | None) -> bool:
    try:
        return remote is not None and ipaddress.ip_address(remote).is_loopback
    except ValueError:
        return False


def metrics_refusal(request: web.Request) -> web.Response | None:
    """Who may read /metrics (the figures describe citizens' traffic: the operator's only).

    With CROWDCHECK_METRICS_TOKEN: whoever sends `Authorization: Bearer <token>`, anyone else
    401. Without it: on `run --metrics-port`'s own listener everyone (the operator chose where
    it listens, loopback by default); on the public site only a direct loopback client, so a
    scraper on the same host works but nothing that comes through a reverse proxy (which adds
    Forwarded / X-Forwarded-For / X-Real-IP) or from another host does: those get 404.
    """
    token = request.app[SVC].config.metrics_token
    if token:
        sent = request.headers.get("Authorization", "")
        scheme, _, value = sent.partition(" ")
        # compare_digest on bytes: it refuses non-ASCII str.
        if scheme.lower() == "bearer" and hmac.compare_digest(value.strip().encode(), token.encode()):
            return None
        return web.Response(
            status=401,
            text="a bearer token is required\n",
            headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
        )
    if request.app.get(METRICS_PORT):
        return None
    if _loopback(request.remote) and not any(h in request.headers for h in _PROXY_HEADERS):
        return None
    return web.Response(status=404, text="not found\n")


async def metrics(request: web.Request) -> web.StreamResponse:
    if (refusal := metrics_refusal(request)) is not None:
        return refusal
    body = await asyncio.to_thread(request.app[METRICS].render, request.app[SVC].db)
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE})


# -- webhook ---------------------------------------------------------------------------------
# update_id is stored in a BIGINT (the inbox); Telegram's are small and never negative.
MAX_UPDATE_ID = 2**63 - 1


class _NotAnUpdate(ValueError):
    """The body is not a Telegram update; the message says why, for the log line."""


def _update_id(body: str) -> tuple[int, dict[str, Any]]:
    """The update's id and its JSON, or _NotAnUpdate.

    Every way a body can be wrong ends here as a 400, never a 500: Telegram redelivers a 5xx
    for ever, and an id the database cannot store would fail the inbox's group commit, taking
    the good updates committed with it down too.
    """
    try:
        data = json.loads(body)
    except RecursionError:  # deeply nested lists or objects: json raises this, not ValueError
        raise _NotAnUpdate("JSON nested too deeply") from None
    except ValueError:
        raise _NotAnUpdate("malformed JSON") from None
    if not isinstance(data, dict):
        raise _NotAnUpdate(f"a JSON {type(data).__name__}, not an object")
    update_id = data.get("update_id")
    # bool is an int subclass: `true` must not pass for update 1.
    if type(update_id) is not int:
        raise _NotAnUpdate(f"update_id is {type(update_id).__name__}, not an integer")
    if not 0 <= update_id <= MAX_UPDATE_ID:
        raise _NotAnUpdate("update_id out of range")
    return update_id, data


def _refuse(request: web.Request, why: str) -> web.Response:
    # One line per refused body, without the body: it is a stranger's and may be huge.
    log.warning("webhook: refused a body from %s: %s", request.remote, why)
    return web.Response(status=400, text="not a Telegram update\n")


async def telegram_webhook(request: web.Request) -> web.StreamResponse:
    hook, tg = request.app[WEBHOOK], request.app[TELEGRAM]
    assert hook is not None and tg is not None
    path, secret = hook
    # Constant-time comparisons, on bytes (compare_digest refuses non-ASCII str).
    if not hmac.compare_digest(request.match_info["secret_path"].encode(), path.encode()):
        raise web.HTTPNotFound()
    if not hmac.compare_digest(request.headers.get(SECRET_HEADER, "").encode(), secret.encode()):
        log.warning("webhook: refused a request without the right secret header from %s", request.remote)
        return web.Response(status=403, text="forbidden\n")
    try:
        body = await request.text()  # kept as sent: the inbox stores it without re-serialising
        update_id, data = _update_id(body)
        from telegram import Update

        update = Update.de_json(data, tg.bot)
    except _NotAnUpdate as exc:
        return _refuse(request, str(exc))
    except web.HTTPException:
        raise  # e.g. 413 for a body over client_max_size
    except Exception as exc:  # de_json, or a body that is not text at all
        return _refuse(request, f"not a Telegram update ({type(exc).__name__})")
    # Stored, then answered: Telegram forgets an update once we say 200, so we say it only once
    # the update is committed to the inbox (bot/inbox.py); handling runs behind, and a crash
    # before it is done replays it at the next start. A full inbox answers 503 and Telegram
    # keeps the update and sends it again later.
    inbox = tg.update_queue.inbox  # type: ignore[attr-defined]
    try:
        fresh = await inbox.accept(update_id, body, wait_for_room=False)
    except InboxFull:
        return web.Response(status=503, text="busy, send it again later\n", headers={"Retry-After": "5"})
    except Exception:
        # The database, not the update: 503 so Telegram keeps it and sends it again.
        log.warning("webhook: could not store update %s", update_id, exc_info=True)
        return web.Response(status=503, text="could not store the update\n", headers={"Retry-After": "5"})
    if fresh:
        tg.update_queue.put_nowait(update)
    return web.Response(text="ok\n")


# -- the app ---------------------------------------------------------------------------------
@web.middleware
async def _pages(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    try:
        response = await handler(request)
    except web.HTTPNotFound:
        if request.path.startswith("/telegram/"):
            response = web.Response(status=404, text="not found\n")
        else:
            response = render(request, "error.html", status=404, withdrawn=None)
    return response


async def _security_headers(_request: web.Request, response: web.StreamResponse) -> None:
    # A signal, not the middleware: it runs for every response aiohttp sends, also the ones no
    # handler made (405, a 404 from the router, 500, a 304) and streamed ones (the feed).
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)


def make_web_app(
    svc: Services,
    *,
    telegram_app: Application | None = None,
    webhook_secret: str | None = None,
    stats_cache_seconds: float = STATS_CACHE_SECONDS,
    feed_write_seconds: float = web_feed.FEED_WRITE_SECONDS,
    feed_check_seconds: float = web_feed.FEED_CHECK_SECONDS,
) -> web.Application:
    """The aiohttp app. With `telegram_app`, POST /telegram/{webhook_path(secret)} takes updates.

    `svc.metrics` is created when missing, so the bot's handlers sharing `svc` start counting.
    """
    if telegram_app is not None and not webhook_secret:
        raise ValueError("a webhook needs a secret: pass webhook_secret (see webhook_secret())")
    if svc.metrics is None:
        svc.metrics = Metrics()
    app = web.Application(middlewares=[_pages], client_max_size=1024**2)
    app.on_response_prepare.append(_security_headers)
    app[SVC] = svc
    app[METRICS] = svc.metrics
    app[JINJA] = make_jinja()
    app[STATS_CACHE] = {}
    app[STATS_TTL] = stats_cache_seconds
    app[BOT_LINK] = BotLink()
    app[SEARCH] = web_search.RewordedIndex()
    app[FEED] = web_feed.FeedCache(svc, check_seconds=feed_check_seconds)
    app[FEED_WRITE_SECONDS] = feed_write_seconds
    _add_health(app, svc)
    app[TELEGRAM] = telegram_app
    app[WEBHOOK] = (webhook_path(webhook_secret), webhook_secret) if telegram_app and webhook_secret else None
    app.router.add_get("/", lambda r: _redirect(linker(page_language(r))("/claims")))
    app.router.add_get("/claims", claims_page)
    app.router.add_get("/claims/{id}", claim_page)
    app.router.add_get("/feed/claimreview.json", feed)
    app.router.add_get("/stats", stats_page)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics)
    if telegram_app is not None:
        app.router.add_post("/telegram/{secret_path}", telegram_webhook)
    return app


def _add_health(app: web.Application, svc: Services) -> None:
    app[HEALTH] = _Health(svc.db)

    async def close_pools(app: web.Application) -> None:
        app[HEALTH].close()
        if FEED in app:
            app[FEED].close()

    app.on_cleanup.append(close_pools)


async def _redirect(location: str) -> web.StreamResponse:
    raise web.HTTPFound(location)


# -- crowdcheck run --metrics-port -----------------------------------------------------------
def make_metrics_app(svc: Services) -> web.Application:
    """Only /metrics and /healthz, through the handlers `serve` uses: no pages, no webhook."""
    if svc.metrics is None:
        svc.metrics = Metrics()
    app = web.Application()
    app.on_response_prepare.append(_security_headers)
    app[SVC] = svc
    app[METRICS] = svc.metrics
    app[METRICS_PORT] = True
    _add_health(app, svc)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics)
    return app


class MetricsServer:
    """/metrics and /healthz beside a polling bot, started and stopped with it (bot/app.py)."""

    def __init__(self, svc: Services, *, host: str, port: int) -> None:
        self.app = make_metrics_app(svc)
        self.host, self.requested_port = host, port
        self.port: int | None = None
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        self._runner = web.AppRunner(self.app, handle_signals=False)
        await self._runner.setup()
        try:
            await web.TCPSite(self._runner, self.host, self.requested_port).start()
        except OSError as exc:
            await self.stop()
            where = f"{self.host}:{self.requested_port}"
            raise ConfigError(f"cannot serve /metrics on {where}: {exc.strerror or exc}") from None
        self.port = self._runner.addresses[0][1]
        log.info("metrics on http://%s:%d/metrics", self.host, self.port)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None


# -- crowdcheck serve ------------------------------------------------------------------------
class WebServer:
    """The bot in webhook mode plus the public pages, on one aiohttp server.

    Without a token (or with pages_only) it serves only the pages, feed, /healthz and /metrics,
    e.g. beside a `crowdcheck run` that polls: the two must not both receive updates, because
    setting a webhook makes Telegram refuse getUpdates.
    """

    def __init__(
        self,
        config: Config,
        *,
        host: str = "127.0.0.1",
        port: int = 8080,
        pages_only: bool = False,
        runtime: BotRuntime | None = None,
    ) -> None:
        from bot.app import BotRuntime
        from factdb.db import Database

        self.config, self.host, self.requested_port = config, host, port
        self.runtime: BotRuntime | None = runtime
        if self.runtime is None and config.token and not pages_only:
            self.runtime = BotRuntime(config)
        self.svc = self.runtime.svc if self.runtime else Services(config, Database(config.database_url))
        self.secret = webhook_secret(config) if self.runtime else None
        self.app = make_web_app(
            self.svc, telegram_app=self.runtime.app if self.runtime else None, webhook_secret=self.secret
        )
        self._runner: web.AppRunner | None = None
        self.port: int | None = None

    @property
    def webhook_url(self) -> str | None:
        if self.runtime is None or not self.config.public_url or self.secret is None:
            return None
        return f"{self.config.public_url}/telegram/{webhook_path(self.secret)}"

    async def start(self) -> None:
        if self.runtime is not None:
            await self.runtime.start(polling=False)
            assert self.svc.metrics is not None
            self.svc.metrics.install(self.runtime.app)
            # initialize() asked Telegram getMe: the pages can now link to the bot.
            self.app[BOT_LINK].username = self.runtime.app.bot.username
        else:
            self.svc.db.ensure_schema()
        self._runner = web.AppRunner(self.app, handle_signals=False)
        try:
            await self._runner.setup()
            await web.TCPSite(self._runner, self.host, self.requested_port).start()
        except BaseException:
            await self.stop()  # e.g. the port is taken: do not leave the bot half started
            raise
        self.port = self._runner.addresses[0][1]
        log.info("serving on http://%s:%d", self.host, self.port)
        if self.runtime is not None:
            url = self.webhook_url
            if url is None:
                log.warning(
                    "CROWDCHECK_PUBLIC_URL is not set: the webhook is not registered with Telegram; "
                    "set it (https://…) so Telegram can reach /telegram/…"
                )
            else:
                from telegram import Update

                await self.runtime.app.bot.set_webhook(
                    url=url, secret_token=self.secret, allowed_updates=Update.ALL_TYPES
                )
                log.info("webhook registered at %s/telegram/…", self.config.public_url)

    async def stop(self) -> None:
        # Stop taking requests first, then let the bot finish what it queued and sends in flight.
        # The webhook stays registered: Telegram keeps updates until a worker answers again.
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self.runtime is not None:
            await self.runtime.stop()
        else:
            self.svc.db.dispose()

    async def run_until_signal(self) -> None:
        from bot.app import run_until_signal

        await run_until_signal(self.start, self.stop, "stopping the web server")


async def serve(
    config: Config, *, host: str = "127.0.0.1", port: int = 8080, pages_only: bool = False
) -> None:
    """`crowdcheck serve`: run until SIGTERM/SIGINT."""
    await WebServer(config, host=host, port=port, pages_only=pages_only).run_until_signal()
