"""gettext for every word people read, catalogs compiled from .po at start-up with Babel.

Adding a language: put `handlers/views/locales/<locale>/LC_MESSAGES/crowdcheck.po` in place and add the
locale to `CROWDCHECK_LOCALES` (see docs/i18n.md). No build step: the .po is read directly.
"""

from __future__ import annotations

import gettext
import io
import re
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from pathlib import Path

from babel import Locale, UnknownLocaleError, negotiate_locale
from babel.dates import format_date, format_datetime, format_timedelta
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal, format_percent

LOCALE_DIR = Path(__file__).with_name("locales")
DOMAIN = "crowdcheck"
DEFAULT = "en"
# What /language offers, in each language's own name.
LANGUAGE_NAMES = {"en": "English", "zh-TW": "繁體中文", "es": "Español", "lt": "Lietuvių"}
# A language range in Accept-Language (RFC 9110: `*` is left out, it names no catalog).
_LANGUAGE_RANGE = re.compile(r"^[A-Za-z]{1,8}(?:[-_][A-Za-z0-9]{1,8})*$")


def language_name(tag: str) -> str:
    """A language's name in that language (Babel's, for languages we have not named)."""
    if tag in LANGUAGE_NAMES:
        return LANGUAGE_NAMES[tag]
    try:
        name = Locale.parse(_catalog_name(tag)).get_display_name(_catalog_name(tag)) or tag
    except (UnknownLocaleError, ValueError):
        return tag
    return name[:1].upper() + name[1:]


def _catalog_name(tag: str) -> str:
    return tag.replace("-", "_")


@lru_cache(maxsize=64)
def _load(tag: str) -> gettext.NullTranslations:
    path = LOCALE_DIR / _catalog_name(tag) / "LC_MESSAGES" / f"{DOMAIN}.po"
    if not path.exists():
        return gettext.NullTranslations()
    with path.open("rb") as fh:
        catalog = read_po(fh, locale=_catalog_name(tag))
    buf = io.BytesIO()
    write_mo(buf, catalog)
    buf.seek(0)
    return gettext.GNUTranslations(buf)


def available() -> list[str]:
    tags = [DEFAULT]
    if LOCALE_DIR.exists():
        for d in sorted(LOCALE_DIR.iterdir()):
            if (d / "LC_MESSAGES" / f"{DOMAIN}.po").exists():
                tag = d.name.replace("_", "-")
                if tag not in tags:
                    tags.append(tag)
    return tags


def negotiate(lang: str | None, supported: tuple[str, ...] | list[str] | None = None) -> str:
    """Map a citizen's language (zh-tw, zh-Hant, es-AR, …) to a catalog we have."""
    options = list(supported or LANGUAGE_NAMES)
    if not lang:
        return DEFAULT
    low = lang.replace("_", "-").lower()
    for tag in options:
        if tag.lower() == low:
            return tag
    base = low.split("-")[0]
    if base == "zh":  # our Chinese catalog is Traditional (Taiwan); Simplified readers read it too
        return next((t for t in options if t.lower().startswith("zh")), DEFAULT)
    for tag in options:
        if tag.lower().split("-")[0] == base:
            return tag
    return DEFAULT


def parse_accept_language(header: str) -> list[str]:
    """Language tags of an Accept-Language header, most wanted first.

    Highest q first and, among equal q, the order the browser sent; q=0 means "not this one"
    and a malformed q is treated the same, so a broken header never picks a language.
    """
    weighted: list[tuple[float, int, str]] = []
    for position, part in enumerate(header.split(",")):
        tag, *params = (p.strip() for p in part.split(";"))
        if not _LANGUAGE_RANGE.match(tag):
            continue
        q = 1.0
        for param in params:
            name, _sep, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if 0.0 < q <= 1.0:
            weighted.append((-q, position, tag))
    return [tag for _q, _position, tag in sorted(weighted)]


def best_match(preferred: Iterable[str], supported: Sequence[str]) -> str | None:
    """The supported tag that serves the first of `preferred` we can serve, or None.

    Babel's `negotiate_locale` does the matching (exact tag, then the bare language). Each tag
    is followed by its bare language, and a bare language we only have with a region is an
    alias for it, so zh-CN, zh-HK and zh-Hant reach our one Chinese catalog (zh-TW), as they do
    in `negotiate()` for Telegram's language_code.
    """
    tags: list[str] = []
    for tag in preferred:
        tag = tag.replace("_", "-")
        tags += [tag, tag.split("-")[0]]
    lower = {t.lower() for t in supported}
    aliases: dict[str, str] = {}
    for tag in supported:
        aliases.setdefault(tag.lower().split("-")[0], tag)
    aliases = {base: tag for base, tag in aliases.items() if base not in lower}
    found = negotiate_locale(tags, supported, sep="-", aliases=aliases)
    return next((t for t in supported if found and t.lower() == found.lower()), None)


class Translator:
    """The strings and formats of one locale."""

    def __init__(self, lang: str | None, supported: tuple[str, ...] | None = None) -> None:
        self.lang = negotiate(lang, supported)
        self._t = _load(self.lang)
        try:
            self.locale = Locale.parse(_catalog_name(self.lang))
        except (UnknownLocaleError, ValueError):
            self.locale = Locale.parse(DEFAULT)

    def _(self, message: str) -> str:
        return self._t.gettext(message)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self._t.ngettext(singular, plural, n)

    def number(self, n: float) -> str:
        return format_decimal(n, locale=self.locale)

    def datetime(self, value: datetime) -> str:
        return format_datetime(value, format="medium", locale=self.locale)

    def short_datetime(self, value: datetime) -> str:
        return format_datetime(value, format="short", tzinfo="UTC", locale=self.locale) + " UTC"

    def date(self, value: date, style: str = "long") -> str:
        return format_date(value, format=style, locale=self.locale)

    def percent(self, share: float) -> str:
        return format_percent(share, locale=self.locale)

    def ago(self, when: datetime, now: datetime | None = None) -> str:
        """How long ago `when` was: "47 seconds ago", "hace 3 horas".

        Babel words a positive delta as the future ("in 47 seconds"), so the delta is taken as
        `when - now`; a time a moment ahead of this worker's clock (another worker's) reads as
        "0 seconds ago", never as the future.
        """
        now = now or datetime.now(UTC)
        delta = min(when - now, -timedelta(microseconds=1))
        return format_timedelta(delta, add_direction=True, threshold=1.1, locale=self.locale)

    def duration(self, hours: float) -> str:
        # threshold 2: "30 hours" rather than "1 day" until two whole days have passed.
        return format_timedelta(timedelta(hours=hours), threshold=2, locale=self.locale)


def N_(message: str) -> str:
    """Mark a string for extraction; it is translated where it is shown."""
    return message
