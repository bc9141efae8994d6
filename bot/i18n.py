"""gettext for every word people read, catalogs compiled from .po at start-up with Babel.

Adding a language: put `bot/locales/<locale>/LC_MESSAGES/crowdcheck.po` in place and add the
locale to `CROWDCHECK_LOCALES` (see docs/i18n.md). No build step: the .po is read directly.
"""

from __future__ import annotations

import gettext
import io
from datetime import datetime
from functools import lru_cache
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.dates import format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal

LOCALE_DIR = Path(__file__).with_name("locales")
DOMAIN = "crowdcheck"
DEFAULT = "en"
# What /language offers, in each language's own name.
LANGUAGE_NAMES = {"en": "English", "zh-TW": "繁體中文", "es": "Español", "lt": "Lietuvių"}


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


def N_(message: str) -> str:
    """Mark a string for extraction; it is translated where it is shown."""
    return message
