"""``parse_mode=MarkdownV2`` and legacy ``Markdown``, modelled on tdlib's parsers.

This is a simpler re-implementation than the HTML port: it accepts everything
that correctly escaped MarkdownV2 produces (``telegram.helpers.escape_markdown``)
and rejects the mistakes bots actually make with tdlib's wording, above all
``Character '.' is reserved and must be escaped with the preceding '\\'`` and
``Can't find end of Bold entity at byte offset N``.  Not modelled: the
``**>`` expandable-blockquote syntax and tdlib's corner cases around entities
that cross each other.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bot.emulator.errors import EntityParseError
from bot.emulator.html_entities import ParsedText, check_link, sort_entities, utf16_len

_RESERVED = frozenset("_*[]()~`>#+-=|{}.!")

_ERROR_NAMES = {
    "bold": "Bold",
    "italic": "Italic",
    "underline": "Underline",
    "strikethrough": "Strikethrough",
    "spoiler": "Spoiler",
    "code": "Code",
    "pre": "Pre",
    "text_link": "TextUrl",
    "custom_emoji": "CustomEmoji",
}


@dataclass
class _Open:
    kind: str
    byte_offset: int
    utf16_offset: int


class _Cursor:
    """Walks a string while knowing each character's UTF-8 byte offset for error messages."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.byte_at = [0] * (len(text) + 1)
        total = 0
        for index, ch in enumerate(text):
            self.byte_at[index] = total
            total += len(ch.encode("utf-8", "surrogatepass"))
        self.byte_at[len(text)] = total

    def peek(self, i: int) -> str:
        return self.text[i] if i < len(self.text) else ""


def _reserved(ch: str) -> EntityParseError:
    return EntityParseError(f"Character '{ch}' is reserved and must be escaped with the preceding '\\'")


def _unclosed(opened: _Open) -> EntityParseError:
    return EntityParseError(
        f"Can't find end of {_ERROR_NAMES[opened.kind]} entity at byte offset {opened.byte_offset}"
    )


def parse_markdown_v2(source: str) -> ParsedText:
    cur = _Cursor(source)
    out: list[str] = []
    utf16 = 0
    entities: list[dict[str, Any]] = []
    stack: list[_Open] = []
    quote_start: int | None = None
    # Where each open link's text starts in ``out``: ``[text]`` without a URL links to its text.
    link_marks: list[int] = []
    i = 0
    n = len(source)

    def emit(chunk: str) -> None:
        nonlocal utf16
        out.append(chunk)
        utf16 += utf16_len(chunk)

    def toggle(kind: str, at: int) -> None:
        if stack and stack[-1].kind == kind:
            opened = stack.pop()
            if utf16 > opened.utf16_offset:
                entities.append(
                    {
                        "type": kind,
                        "offset": opened.utf16_offset,
                        "length": utf16 - opened.utf16_offset,
                    }
                )
        elif any(o.kind == kind for o in stack):
            raise _unclosed(stack[-1])
        else:
            stack.append(_Open(kind, cur.byte_at[at], utf16))

    while i < n:
        ch = source[i]
        at_line_start = i == 0 or source[i - 1] == "\n"
        if ch == ">" and at_line_start:
            if quote_start is None:
                quote_start = utf16
            i += 1
            continue
        if ch == "\n":
            emit(ch)
            i += 1
            if quote_start is not None and cur.peek(i) != ">":
                entities.append({"type": "blockquote", "offset": quote_start, "length": utf16 - quote_start})
                quote_start = None
            continue
        if ch == "\\":
            nxt = cur.peek(i + 1)
            if nxt and 0 < ord(nxt) < 127:
                emit(nxt)
                i += 2
            else:
                emit(ch)
                i += 1
            continue
        if ch == "`":
            i = _parse_code(cur, i, emit, entities, lambda: utf16)
            continue
        if ch == "*":
            toggle("bold", i)
            i += 1
        elif ch == "~":
            toggle("strikethrough", i)
            i += 1
        elif ch == "|" and cur.peek(i + 1) == "|":
            toggle("spoiler", i)
            i += 2
        elif ch == "_":
            top = stack[-1].kind if stack else ""
            if cur.peek(i + 1) == "_" and top != "italic":
                toggle("underline", i)
                i += 2
            else:
                toggle("italic", i)
                i += 1
        elif ch == "[" or (ch == "!" and cur.peek(i + 1) == "["):
            kind = "text_link" if ch == "[" else "custom_emoji"
            stack.append(_Open(kind, cur.byte_at[i], utf16))
            i += 1 if ch == "[" else 2
            link_marks.append(len(out))
        elif ch == "]" and stack and stack[-1].kind in ("text_link", "custom_emoji"):
            opened = stack.pop()
            start_chunk = link_marks.pop()
            i += 1
            url = ""
            if cur.peek(i) == "(":
                url_begin = i
                i += 1
                chars: list[str] = []
                while i < n and source[i] != ")":
                    if source[i] == "\\" and i + 1 < n:
                        i += 1
                    chars.append(source[i])
                    i += 1
                if i >= n:
                    raise EntityParseError(f"Can't find end of a URL at byte offset {cur.byte_at[url_begin]}")
                i += 1
                url = "".join(chars)
            else:
                url = "".join(out[start_chunk:])
            length = utf16 - opened.utf16_offset
            if opened.kind == "custom_emoji":
                emoji_id = url.rsplit("id=", 1)[-1] if "id=" in url else ""
                if not emoji_id.isdigit():
                    raise EntityParseError("Custom emoji URL must have an emoji identifier")
                entities.append(
                    {
                        "type": "custom_emoji",
                        "offset": opened.utf16_offset,
                        "length": length,
                        "custom_emoji_id": emoji_id,
                    }
                )
            else:
                checked = check_link(url)
                if checked and length > 0:
                    entities.append(
                        {
                            "type": "text_link",
                            "offset": opened.utf16_offset,
                            "length": length,
                            "url": checked,
                        }
                    )
        elif ch in _RESERVED:
            raise _reserved(ch)
        else:
            emit(ch)
            i += 1
    if stack:
        raise _unclosed(stack[-1])
    if quote_start is not None and utf16 > quote_start:
        entities.append({"type": "blockquote", "offset": quote_start, "length": utf16 - quote_start})
    return ParsedText("".join(out), sort_entities(entities))


def _parse_code(
    cur: _Cursor,
    i: int,
    emit: Callable[[str], None],
    entities: list[dict[str, Any]],
    utf16_now: Callable[[], int],
) -> int:
    """Parse `code` or ```pre``` starting at i; return the index after the closing fence."""
    source = cur.text
    n = len(source)
    fence = 3 if source.startswith("```", i) else 1
    begin = i
    i += fence
    language = ""
    if fence == 3:
        line_end = source.find("\n", i)
        candidate = source[i:line_end] if line_end != -1 else ""
        if line_end != -1 and candidate and all(33 <= ord(c) <= 126 for c in candidate):
            language = candidate
            i = line_end + 1
    start = utf16_now()
    while True:
        if i >= n:
            kind = "Pre" if fence == 3 else "Code"
            raise EntityParseError(f"Can't find end of {kind} entity at byte offset {cur.byte_at[begin]}")
        if source.startswith("`" * fence, i):
            break
        if source[i] == "\\" and i + 1 < n and source[i + 1] in "`\\":
            i += 1
        emit(source[i])
        i += 1
    length = utf16_now() - start
    if length > 0:
        entity: dict[str, Any] = {
            "type": "pre" if fence == 3 else "code",
            "offset": start,
            "length": length,
        }
        if language:
            entity["language"] = language
        entities.append(entity)
    return i + fence


def parse_markdown(source: str) -> ParsedText:
    """Legacy ``Markdown``: *bold*, _italic_, `code`, ```pre```, [text](url); no nesting."""
    cur = _Cursor(source)
    out: list[str] = []
    entities: list[dict[str, Any]] = []
    utf16 = 0
    i = 0
    n = len(source)
    markers = {"*": "bold", "_": "italic"}
    while i < n:
        ch = source[i]
        if ch == "\\" and cur.peek(i + 1) in ("*", "_", "`", "["):
            out.append(source[i + 1])
            utf16 += 1
            i += 2
            continue
        if ch in markers or ch == "`" or ch == "[":
            if ch == "`" and source.startswith("```", i):
                end = source.find("```", i + 3)
                close_len = 3
            elif ch == "[":
                end = source.find("]", i + 1)
                close_len = 1
            else:
                end = source.find(ch, i + 1)
                close_len = 1
            if end == -1:
                raise EntityParseError(
                    f"Can't find end of the entity starting at byte offset {cur.byte_at[i]}"
                )
            inner = source[i + (3 if close_len == 3 else 1) : end]
            after = end + close_len
            entity: dict[str, Any] = {"offset": utf16, "length": utf16_len(inner)}
            if ch == "[":
                url = ""
                if cur.peek(after) == "(":
                    url_end = source.find(")", after)
                    if url_end == -1:
                        raise EntityParseError(
                            f"Can't find end of the entity starting at byte offset {cur.byte_at[i]}"
                        )
                    url = source[after + 1 : url_end]
                    after = url_end + 1
                checked = check_link(url) if url else None
                entity.update(type="text_link", url=checked)
                if not checked:
                    entity.clear()
            elif ch == "`":
                entity["type"] = "pre" if close_len == 3 else "code"
            else:
                entity["type"] = markers[ch]
            if entity and entity["length"] > 0:
                entities.append(entity)
            out.append(inner)
            utf16 += utf16_len(inner)
            i = after
            continue
        out.append(ch)
        utf16 += utf16_len(ch)
        i += 1
    return ParsedText("".join(out), sort_entities(entities))
