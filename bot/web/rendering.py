"""Turning what the domain returns into the pages' HTML, in the reader's language.

Everything shown comes from strangers (citizens' claims) or from reviewers: templates escape by
default (Jinja2 autoescape), bidi controls are dropped from every `{{ … }}`, only http(s)
sources become links, and JSON-LD is serialised so nothing inside a string can end the
<script>. Claim text arrives masked (`factdb.public.public_wording`).
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup
from yarl import URL

from bot.web.keys import BOT_LINK, SVC
from bot.web.language import PageLanguage, helpers, pick
from factdb.privacy import mask_personal

TEMPLATES = Path(__file__).with_name("templates")
MAX_QUERY_CHARS = 200

JINJA: web.AppKey[Environment] = web.AppKey("jinja", Environment)

# Bidirectional controls: embeddings and overrides (U+202A-E), isolates (U+2066-9) and the
# marks (LRM, RLM, ALM). In a stranger's text they reorder what follows, so a link text or a
# title can show "moc.elgoog" as google.com: they are dropped from everything a page shows.
BIDI_CONTROLS = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"
_NO_BIDI = dict.fromkeys(map(ord, BIDI_CONTROLS))


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


def excerpt(value: str, limit: int = 220) -> str:
    value = " ".join(mask_personal(value).split())
    return value if len(value) <= limit else value[: limit - 1].rstrip() + "…"


def make_jinja() -> Environment:
    return Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=True,  # every template, whatever its name: all of them are HTML
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        finalize=_finalize,
    )


def public_url(request: web.Request) -> str:
    """Where the public reaches us: CROWDCHECK_PUBLIC_URL, else what this request was sent to."""
    return request.app[SVC].config.public_url or str(request.url.origin())


def page_language(request: web.Request) -> PageLanguage:
    return pick(request.query, request.headers, request.app[SVC].config.locales)


def render(request: web.Request, template: str, status: int = 200, **context: Any) -> web.Response:
    """A page in the reader's language (bot/web/language.py): the words, the formats, the
    `lang` attribute and Content-Language all follow `page_language`."""
    svc, lang = request.app[SVC], page_language(request)
    words = helpers(lang, canonical_url(request), svc.config.locales)
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


def canonical_url(request: web.Request) -> URL:
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


def chart(per_day: list[tuple[date, int]], width: int = 600, height: int = 170) -> dict[str, Any]:
    """Bar geometry for /stats' inline SVG, computed here so the page needs no JavaScript."""
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
