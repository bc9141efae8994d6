"""What we hand partners stays data: CSV cells no spreadsheet runs, links only to web pages.

CSV injection (OWASP): a spreadsheet opening a CSV treats a cell that starts with `=`, `+`,
`-` or `@` as a formula (`=HYPERLINK("http://evil", "click")` runs when a partner opens our
export), and some tools strip a leading tab or carriage return before looking. Such a cell is
written with one apostrophe in front, which spreadsheets show as text; `reread_cell` takes it
off again, so `crowdcheck import` reads our own CSV back exactly (docs/interchange.md).

URLs: a `javascript:` or `data:` address in ClaimReview `url`, `appearance` or `citation`
becomes a link a partner's site or a fact-check reader may render; only http(s) goes out, and
the importer refuses other schemes with the record's line number.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

__all__ = ["FORMULA_STARTS", "inert_cell", "is_web_url", "reread_cell"]

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# ASCII controls and spaces never belong in a URL; a browser may drop them and see another scheme
# (`java\tscript:`), so such a value is not a web address however it starts.
_CONTROL_OR_SPACE = re.compile(r"[\x00-\x20\x7f]")


def inert_cell(value: str) -> str:
    """A CSV cell a spreadsheet shows as text, never evaluates."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def reread_cell(value: str) -> str:
    """The value `inert_cell` was given: one apostrophe before a formula character comes off.

    A cell that truly began with an apostrophe followed by one of those characters loses its
    apostrophe too; that ambiguity is the price of OWASP's rule and is documented."""
    return value[1:] if value.startswith("'") and value[1:].startswith(FORMULA_STARTS) else value


def is_web_url(value: object) -> bool:
    """An absolute http:// or https:// address with a host, and nothing a browser would strip."""
    if not isinstance(value, str) or not value or _CONTROL_OR_SPACE.search(value):
        return False
    try:
        parts = urlsplit(value)
    except ValueError:  # e.g. an unbalanced IPv6 bracket
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.hostname)
