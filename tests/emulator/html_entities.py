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

from dataclasses import dataclass
from typing import Any

from tests.emulator.entities import ParsedText, check_link, sort_entities
from tests.emulator.errors import EntityParseError

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

_SPACE_BYTES = frozenset(b" \t\r\n\v\f\0")


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
