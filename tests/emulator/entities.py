"""Text with Bot API entities: UTF-16 lengths (Telegram's unit for offsets and limits), the
order tdlib gives entities, link checks, trimming, and the entities Telegram detects by itself
(urls, mentions, bot commands, …)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

JSON = dict[str, Any]

# tdlib orders entities sharing a start offset and length by this priority, so
# nested tags come back in the same order as from the real server.
_TYPE_PRIORITY = {
    "blockquote": 0,
    "expandable_blockquote": 0,
    "pre": 11,
    "code": 20,
    "text_link": 49,
    "text_mention": 49,
    "mention": 50,
    "hashtag": 50,
    "cashtag": 50,
    "bot_command": 50,
    "url": 50,
    "email": 50,
    "phone_number": 50,
    "bold": 90,
    "italic": 91,
    "underline": 92,
    "strikethrough": 93,
    "spoiler": 94,
    "custom_emoji": 99,
}


@dataclass
class ParsedText:
    """Plain text plus Bot API ``MessageEntity`` dicts."""

    text: str
    entities: list[dict[str, Any]] = field(default_factory=list)


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit Telegram uses for offsets and limits."""
    return len(text.encode("utf-16-le")) // 2


def sort_entities(entities: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(
        entities,
        key=lambda e: (e["offset"], -e["length"], _TYPE_PRIORITY.get(e["type"], 50)),
    )


def check_link(url: str) -> str | None:
    """Normalise a link like tdlib's ``get_checked_link``; None means "drop it"."""
    url = url.strip()
    if not url or any(ord(ch) <= 0x20 for ch in url):
        return None
    if "://" not in url and not url.lower().startswith(("tg:", "ton:", "tonsite:")):
        url = "http://" + url
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme in ("tg", "ton", "tonsite"):
        return url
    if scheme not in ("http", "https"):
        return None
    host = parts.hostname or ""
    if not host or ("." not in host and host != "localhost"):
        return None
    path = parts.path or "/"
    rebuilt = f"{scheme}://{parts.netloc}{path}"
    if parts.query or url.endswith("?"):
        rebuilt += "?" + parts.query
    if parts.fragment:
        rebuilt += "#" + parts.fragment
    return rebuilt


def strip_text(text: str, entities: list[dict[str, Any]]) -> ParsedText:
    """Trim surrounding whitespace like Telegram does, clipping entities to what is left."""
    stripped = text.strip()
    if stripped == text:
        return ParsedText(text, entities)
    lead = utf16_len(text[: len(text) - len(text.lstrip())])
    new_len = utf16_len(stripped)
    result: list[dict[str, Any]] = []
    for entity in entities:
        start = max(entity["offset"] - lead, 0)
        end = min(entity["offset"] + entity["length"] - lead, new_len)
        if end > start:
            result.append({**entity, "offset": start, "length": end - start})
    return ParsedText(stripped, result)


# Telegram detects these in every text it stores, bot and user alike; PTB's
# CommandHandler in particular only fires when a bot_command entity is present.
_DETECTORS: list[tuple[str, re.Pattern[str]]] = [
    ("email", re.compile(r"(?<![\w.+-])[\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")),
    (
        "url",
        re.compile(
            r"(?<![\w@/.])(?:https?://[^\s<>\"]+|(?:[A-Za-z0-9-]+\.)+"
            r"(?:com|org|net|io|info|gov|edu|me|co|uk|de|fr|ru|tv|app|dev|news|ly|in|es|it|int)"
            r"(?:/[^\s<>\"]*)?(?![\w.]))",
            re.IGNORECASE,
        ),
    ),
    (
        "bot_command",
        re.compile(r"(?<!\S)/[A-Za-z0-9_]{1,64}(?:@[A-Za-z][A-Za-z0-9_]{2,31})?(?![\w@/])"),
    ),
    ("mention", re.compile(r"(?<![\w@])@[A-Za-z][A-Za-z0-9_]{3,31}(?![\w@])")),
    ("hashtag", re.compile(r"(?<![\w#])#(?=\w*[^\W\d_])\w+")),
]
_TRAILING_URL_PUNCTUATION = ".,;:!?)]}'\""
_NO_DETECTION_INSIDE = {"code", "pre", "text_link", "text_mention", "custom_emoji"}


def detect_entities(text: str, existing: list[JSON]) -> list[JSON]:
    """Return auto-detected entities (url, mention, ...) not overlapping markup ones."""
    taken: list[tuple[int, int]] = [
        (e["offset"], e["offset"] + e["length"]) for e in existing if e["type"] in _NO_DETECTION_INSIDE
    ]
    found: list[JSON] = []
    for kind, pattern in _DETECTORS:
        for match in pattern.finditer(text):
            chunk = match.group(0)
            if kind == "url":
                chunk = chunk.rstrip(_TRAILING_URL_PUNCTUATION)
            start = utf16_len(text[: match.start()])
            end = start + utf16_len(chunk)
            if end <= start or any(s < end and start < e for s, e in taken):
                continue
            taken.append((start, end))
            found.append({"type": kind, "offset": start, "length": end - start})
    return found
