"""Telegram's ``parse_mode=HTML`` parser, ported from tdlib's ``parse_html``.

The port is deliberately byte-oriented like the original so that every
``at byte offset N`` in an error message points at the same UTF-8 byte that
Telegram would report.  Entity offsets and lengths are in UTF-16 code units,
as in the Bot API.

Behaviour mirrored from tdlib (and therefore from the real Bot API):

* A bare ``&`` that does not start one of ``&lt; &gt; &amp; &quot; &#NN; &#xNN;``
  is kept literally; the trailing ``;`` of an entity is optional.
* ``<`` always starts a tag.  ``a < b`` fails with
  ``Unsupported start tag "" at byte offset 2`` (the tag name is empty), ``1<2 x``
  fails with ``Unsupported start tag "2"`` and a ``<`` with no ``>`` or space after
  it fails with ``Unclosed start tag at byte offset N``.
* ``</>`` closes whatever tag is open; an end tag with another name is an error.
* Entities with no text inside (``<b></b>``) are silently dropped.
* ``<a>`` without ``href`` uses its text as the URL; URLs that tdlib would reject
  are dropped instead of raising, and ``tg://user?id=N`` becomes ``text_mention``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from bot.emulator.errors import EntityParseError

_SUPPORTED_TAGS = frozenset(
    {
        "a",
        "b",
        "strong",
        "i",
        "em",
        "s",
        "strike",
        "del",
        "u",
        "ins",
        "tg-spoiler",
        "tg-emoji",
        "span",
        "pre",
        "code",
        "blockquote",
    }
)

_SIMPLE_TAG_TYPES = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "u": "underline",
    "ins": "underline",
    "tg-spoiler": "spoiler",
}

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

_SPACE_BYTES = frozenset(b" \t\r\n\v\f\0")


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


def _mention_user_id(url: str) -> int | None:
    lowered = url.lower()
    if not lowered.startswith("tg://user?id="):
        return None
    value = url[len("tg://user?id=") :]
    return int(value) if value.isdigit() and int(value) > 0 else None


class _Reader:
    """Byte access that reads NUL past the end, the way tdlib reads its C string."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.size = len(data)

    def __getitem__(self, i: int) -> int:
        return self.data[i] if i < self.size else 0


def _is_space(c: int) -> bool:
    return c in _SPACE_BYTES


def _is_alpha(c: int) -> bool:
    return 65 <= c <= 90 or 97 <= c <= 122


def _is_digit(c: int) -> bool:
    return 48 <= c <= 57


def _is_hex(c: int) -> bool:
    return _is_digit(c) or 65 <= c <= 70 or 97 <= c <= 102


def _decode_entity(text: _Reader, pos: int) -> tuple[int, int]:
    """Return (code point, position after the entity); code point 0 means "not an entity"."""
    end = pos + 1
    res = 0
    if text[pos + 1] == ord("#"):
        end += 1
        if text[pos + 2] == ord("x"):
            end += 1
            while _is_hex(text[end]):
                res = res * 16 + int(chr(text[end]), 16)
                end += 1
        else:
            while _is_digit(text[end]):
                res = res * 10 + text[end] - 48
                end += 1
        if res == 0 or res >= 0x10FFFF or end - pos >= 10:
            return 0, pos
    else:
        while _is_alpha(text[end]):
            end += 1
        name = text.data[pos + 1 : end]
        named = {b"lt": "<", b"gt": ">", b"amp": "&", b"quot": '"'}.get(name)
        if named is None:
            return 0, pos
        res = ord(named)
    if text[end] == ord(";"):
        end += 1
    return res, end


@dataclass
class _Open:
    tag: str
    argument: str
    utf16_offset: int
    out_pos: int


def parse_html(source: str) -> ParsedText:
    """Parse Telegram-flavoured HTML; raises EntityParseError with tdlib's wording."""
    if "\0" in source:
        raise EntityParseError("Text must not contain null bytes")
    text = _Reader(source.encode("utf-8"))
    out = bytearray()
    entities: list[dict[str, Any]] = []
    stack: list[_Open] = []
    utf16 = 0
    saw_surrogate = False
    i = 0
    while i < text.size:
        c = text[i]
        if c == ord("&"):
            code, after = _decode_entity(text, i)
            if code:
                utf16 += 2 if code > 0xFFFF else 1
                if 0xD800 <= code <= 0xDFFF:
                    saw_surrogate = True
                out += chr(code).encode("utf-8", "surrogatepass")
                i = after
                continue
        if c != ord("<"):
            if c & 0xC0 != 0x80:
                utf16 += 2 if c >= 0xF0 else 1
            out.append(c)
            i += 1
            continue

        begin = i
        i += 1
        if text[i] != ord("/"):
            while not _is_space(text[i]) and text[i] != ord(">"):
                i += 1
            if text[i] == 0:
                raise EntityParseError(f"Unclosed start tag at byte offset {begin}")
            tag = text.data[begin + 1 : i].decode("utf-8", "replace").lower()
            if tag not in _SUPPORTED_TAGS:
                raise EntityParseError(f'Unsupported start tag "{tag}" at byte offset {begin}')
            argument, i = _parse_attributes(text, i, tag, begin)
            if tag == "span" and argument != "spoiler":
                raise EntityParseError(f'Tag "span" must have class "tg-spoiler" at byte offset {begin}')
            stack.append(_Open(tag, argument, utf16, len(out)))
            i += 1  # skip '>'
            continue

        # An end tag.
        if not stack:
            raise EntityParseError(f"Unexpected end tag at byte offset {begin}")
        while not _is_space(text[i]) and text[i] != ord(">"):
            i += 1
        end_name = text.data[begin + 2 : i].decode("utf-8", "replace").lower()
        while _is_space(text[i]) and text[i] != 0:
            i += 1
        if text[i] != ord(">"):
            raise EntityParseError(f"Unclosed end tag at byte offset {begin}")
        opened = stack[-1]
        if end_name and end_name != opened.tag:
            raise EntityParseError(
                f'Unmatched end tag at byte offset {begin}, expected "</{opened.tag}>", found "</{end_name}>"'
            )
        if utf16 > opened.utf16_offset:
            _close_entity(entities, opened, utf16, bytes(out[opened.out_pos :]))
        stack.pop()
        i += 1
    if stack:
        raise EntityParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1].tag}"')
    for entity in entities:
        if entity["type"] == "code":
            entity.pop("language", None)
    try:
        plain = out.decode("utf-8")
    except UnicodeDecodeError as exc:
        if saw_surrogate:
            raise EntityParseError(
                "Text contains invalid Unicode characters after decoding HTML entities, "
                "check for unmatched surrogate code units"
            ) from exc
        raise
    return ParsedText(plain, sort_entities(entities))


def _parse_attributes(text: _Reader, i: int, tag: str, begin: int) -> tuple[str, int]:
    """Consume attributes up to (not past) '>'; return the tag's meaningful argument."""
    argument = ""
    while text[i] != ord(">"):
        while text[i] != 0 and _is_space(text[i]):
            i += 1
        if text[i] == ord(">"):
            break
        name_begin = i
        while not _is_space(text[i]) and text[i] not in b"=>/\"'":
            i += 1
        name = text.data[name_begin:i].decode("utf-8", "replace")
        if not name:
            raise EntityParseError(f'Empty attribute name in the tag "{tag}" at byte offset {begin}')
        while text[i] != 0 and _is_space(text[i]):
            i += 1
        if text[i] != ord("="):
            if text[i] == 0:
                raise EntityParseError(f'Unclosed start tag "{tag}" at byte offset {begin}')
            if tag == "blockquote" and name == "expandable":
                argument = "1"
            continue
        i += 1
        while text[i] != 0 and _is_space(text[i]):
            i += 1
        if text[i] == 0:
            raise EntityParseError(f'Unclosed start tag "{tag}" at byte offset {begin}')
        if text[i] not in b"'\"":
            # An unquoted HTML "name token": letters, digits, '.', '-'; case-insensitive.
            token_begin = i
            while (_is_alpha(text[i]) or _is_digit(text[i]) or text[i] in (ord("."), ord("-"))) and text[
                i
            ] != 0:
                i += 1
            value = text.data[token_begin:i].decode("utf-8", "replace").lower()
            if not _is_space(text[i]) and text[i] != ord(">"):
                raise EntityParseError(f"Unexpected end of name token at byte offset {token_begin}")
        else:
            quote = text[i]
            i += 1
            raw = bytearray()
            while text[i] != quote and text[i] != 0:
                if text[i] == ord("&"):
                    code, after = _decode_entity(text, i)
                    if code:
                        raw += chr(code).encode("utf-8", "surrogatepass")
                        i = after
                        continue
                raw.append(text[i])
                i += 1
            if text[i] == quote:
                i += 1
            value = raw.decode("utf-8", "replace")
        if text[i] == 0:
            raise EntityParseError(f"Unclosed start tag at byte offset {begin}")
        if tag == "a" and name == "href":
            argument = value
        elif tag == "code" and name == "class" and value.startswith("language-"):
            argument = value[len("language-") :]
        elif tag == "span" and name == "class" and value.startswith("tg-"):
            argument = value[len("tg-") :]
        elif tag == "tg-emoji" and name == "emoji-id":
            argument = value
        elif tag == "blockquote" and name == "expandable":
            argument = "1"
    return argument, i


def _close_entity(entities: list[dict[str, Any]], opened: _Open, utf16_end: int, inner: bytes) -> None:
    offset = opened.utf16_offset
    length = utf16_end - offset
    tag = opened.tag
    if tag in _SIMPLE_TAG_TYPES:
        entities.append({"type": _SIMPLE_TAG_TYPES[tag], "offset": offset, "length": length})
    elif tag == "span":
        entities.append({"type": "spoiler", "offset": offset, "length": length})
    elif tag == "tg-emoji":
        if not opened.argument.isdigit() or int(opened.argument) == 0:
            raise EntityParseError("Invalid custom emoji identifier specified")
        entities.append(
            {
                "type": "custom_emoji",
                "offset": offset,
                "length": length,
                "custom_emoji_id": opened.argument,
            }
        )
    elif tag == "a":
        url = opened.argument or inner.decode("utf-8", "replace")
        user_id = _mention_user_id(url)
        if user_id is not None:
            entities.append(
                {
                    "type": "text_mention",
                    "offset": offset,
                    "length": length,
                    "user": {"id": user_id, "is_bot": False, "first_name": ""},
                }
            )
        else:
            checked = check_link(url)
            if checked:
                entities.append({"type": "text_link", "offset": offset, "length": length, "url": checked})
    elif tag == "pre":
        last = entities[-1] if entities else None
        if (
            last is not None
            and last["type"] == "code"
            and last["offset"] == offset
            and last["length"] == length
            and last.get("language")
        ):
            last["type"] = "pre"
        else:
            entities.append({"type": "pre", "offset": offset, "length": length})
    elif tag == "code":
        last = entities[-1] if entities else None
        if (
            last is not None
            and last["type"] == "pre"
            and last["offset"] == offset
            and last["length"] == length
            and opened.argument
        ):
            last["language"] = opened.argument
        else:
            entity: dict[str, Any] = {"type": "code", "offset": offset, "length": length}
            if opened.argument:
                # Kept only until the enclosing </pre> turns it into pre+language.
                entity["language"] = opened.argument
            entities.append(entity)
    elif tag == "blockquote":
        kind = "expandable_blockquote" if opened.argument else "blockquote"
        entities.append({"type": kind, "offset": offset, "length": length})


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


def utf16_slice(text: str, offset: int, length: int) -> str:
    data = text.encode("utf-16-le")
    return data[offset * 2 : (offset + length) * 2].decode("utf-16-le", "replace")


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
