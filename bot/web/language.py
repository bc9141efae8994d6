"""The language of a public page (bot/web/pages.py) and what its templates need to speak it.

`?lang=` first, so a reader can override a browser set to a language they do not read; then
the browser's Accept-Language; then English. A language picked with `?lang=` is carried on
every internal link (the header will not say it again); one from the header needs no carrying.
The words come from the same gettext catalogs as the bot's, through `handlers.views.i18n.Translator`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import urlencode

from yarl import URL

from handlers.views import i18n, texts
from handlers.views.i18n import Translator
from handlers.views.texts import STATUS_LABELS

# Longer than any language tag a person would type; a long one is junk, not a language.
MAX_TAG_CHARS = 35


@dataclass(frozen=True)
class PageLanguage:
    t: Translator
    chosen: bool  # picked with ?lang=: internal links keep it

    @property
    def tag(self) -> str:
        return self.t.lang


def pick(query: Mapping[str, str], headers: Mapping[str, str], supported: Sequence[str]) -> PageLanguage:
    """`?lang=` when it names a language we have (an unknown one is ignored), then
    Accept-Language, then English."""
    asked = query.get("lang", "").strip()[:MAX_TAG_CHARS]
    chosen = i18n.best_match([asked], supported) if asked else None
    wanted = chosen or i18n.best_match(
        i18n.parse_accept_language(headers.get("Accept-Language", "")), supported
    )
    return PageLanguage(Translator(wanted, tuple(supported)), chosen is not None)


def _day(value: datetime | date) -> date:
    # Days are UTC days on every page, as in factdb.stats.
    return value.astimezone(UTC).date() if isinstance(value, datetime) else value


def helpers(lang: PageLanguage, url: URL, supported: Sequence[str]) -> dict[str, Any]:
    """Names the templates use: `_` and `ngettext` (what `scripts/i18n` extracts), Babel's
    formats for the locale, links that keep `?lang=`, and the language switcher."""
    t = lang.t

    def date_(value: datetime | date | None, style: str = "long") -> str:
        return "—" if value is None else t.date(_day(value), style)

    def duration(hours: float | None) -> str:
        return "—" if hours is None else t.duration(hours)

    def label(verdict: str) -> str:
        _emoji, text = texts.VERDICT_LABELS.get(verdict, ("", verdict.replace("_", " ").capitalize()))
        return t._(text)

    def status(value: str) -> str:
        return t._(STATUS_LABELS.get(value, value))

    return {
        "_": t._,
        "ngettext": t.ngettext,
        "num": t.number,
        "percent": t.percent,
        "short_datetime": t.short_datetime,
        "date": date_,
        "duration": duration,
        "label": label,
        "status": status,
        "language_name": i18n.language_name,
        "link": linker(lang),
        "lang": lang.tag,
        "lang_chosen": lang.chosen,
        "languages": switcher(url, lang.tag, supported),
    }


def linker(lang: PageLanguage) -> Callable[..., str]:
    def link(path: str, **params: Any) -> str:
        if lang.chosen:
            params.setdefault("lang", lang.tag)
        query = urlencode({k: v for k, v in params.items() if v is not None})
        return f"{path}?{query}" if query else path

    return link


def switcher(url: URL, current: str, supported: Sequence[str]) -> list[dict[str, Any]]:
    """This same page (path and query) in each language we offer."""
    return [
        {
            "tag": tag,
            "name": i18n.language_name(tag),
            "href": str(url.update_query(lang=tag)),
            "current": tag == current,
        }
        for tag in supported
    ]
