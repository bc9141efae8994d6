"""Text and entities rendered back to HTML, so tests can assert on formatting compactly."""

from __future__ import annotations

from typing import Any

from tests.emulator.entities import sort_entities

_ESCAPES = {"<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;"}


def escape_html(text: str) -> str:
    return "".join(_ESCAPES.get(ch, ch) for ch in text)


def to_html(text: str, entities: list[dict[str, Any]]) -> str:
    """Render text+entities back to HTML so tests can assert on formatting compactly."""
    units = text.encode("utf-16-le")
    opens: dict[int, list[str]] = {}
    closes: dict[int, list[str]] = {}
    for entity in sort_entities(entities):
        open_tag, close_tag = _tags_for(entity)
        if not open_tag:
            continue
        opens.setdefault(entity["offset"], []).append(open_tag)
        closes.setdefault(entity["offset"] + entity["length"], []).insert(0, close_tag)
    pieces: list[str] = []
    total = len(units) // 2
    pos = 0
    while pos <= total:
        pieces.extend(closes.get(pos, []))
        pieces.extend(opens.get(pos, []))
        if pos == total:
            break
        unit = int.from_bytes(units[pos * 2 : pos * 2 + 2], "little")
        width = 2 if 0xD800 <= unit <= 0xDBFF else 1
        pieces.append(escape_html(units[pos * 2 : (pos + width) * 2].decode("utf-16-le")))
        pos += width
    return "".join(pieces)


def _tags_for(entity: dict[str, Any]) -> tuple[str, str]:
    kind = entity["type"]
    simple = {
        "bold": "b",
        "italic": "i",
        "underline": "u",
        "strikethrough": "s",
        "spoiler": "tg-spoiler",
        "code": "code",
        "blockquote": "blockquote",
    }
    if kind in simple:
        return f"<{simple[kind]}>", f"</{simple[kind]}>"
    if kind == "expandable_blockquote":
        return "<blockquote expandable>", "</blockquote>"
    if kind == "pre":
        if entity.get("language"):
            lang = escape_html(entity["language"])
            return f'<pre><code class="language-{lang}">', "</code></pre>"
        return "<pre>", "</pre>"
    if kind == "text_link":
        return f'<a href="{escape_html(entity["url"])}">', "</a>"
    if kind == "text_mention":
        return f'<a href="tg://user?id={entity["user"]["id"]}">', "</a>"
    if kind == "custom_emoji":
        return f'<tg-emoji emoji-id="{entity["custom_emoji_id"]}">', "</tg-emoji>"
    return "", ""
