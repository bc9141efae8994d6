"""Strict HTML as Telegram parses it (parse_mode=HTML), error messages included."""

from __future__ import annotations

from typing import Any

import pytest

from tests.emulator import EntityParseError, parse_html, utf16_len


def entity(kind: str, offset: int, length: int, **extra: str) -> dict[str, Any]:
    """A message entity as the Bot API writes it."""
    return {"type": kind, "offset": offset, "length": length, **extra}


@pytest.mark.parametrize(
    ("source", "text", "entities"),
    [
        (
            "<b>bold <i>both</i></b> plain",
            "bold both plain",
            [entity("bold", 0, 9), entity("italic", 5, 4)],
        ),
        (
            "<strong>s</strong><em>e</em><ins>i</ins><strike>k</strike><del>d</del><s>x</s>",
            "seikdx",
            [
                entity("bold", 0, 1),
                entity("italic", 1, 1),
                entity("underline", 2, 1),
                entity("strikethrough", 3, 1),
                entity("strikethrough", 4, 1),
                entity("strikethrough", 5, 1),
            ],
        ),
        (
            '<span class="tg-spoiler">a</span><tg-spoiler>b</tg-spoiler>',
            "ab",
            [entity("spoiler", 0, 1), entity("spoiler", 1, 1)],
        ),
        (
            '<pre><code class="language-python">x = 1</code></pre><code>y</code>',
            "x = 1y",
            [entity("pre", 0, 5, language="python"), entity("code", 5, 1)],
        ),
        (
            "<blockquote>q</blockquote><blockquote expandable>e</blockquote>",
            "qe",
            [entity("blockquote", 0, 1), entity("expandable_blockquote", 1, 1)],
        ),
        (
            '<a href="example.com">l</a><a href="https://t.me/x?a=1&amp;b=2">m</a>',
            "lm",
            [
                entity("text_link", 0, 1, url="http://example.com/"),
                entity("text_link", 1, 1, url="https://t.me/x?a=1&b=2"),
            ],
        ),
        ('<tg-emoji emoji-id="5368324170671202286">👍</tg-emoji>', "👍", None),
        ("<B>upper</b >", "upper", [entity("bold", 0, 5)]),
        ("<b>x</>", "x", [entity("bold", 0, 1)]),
        ("<b></b>empty tags vanish", "empty tags vanish", []),
    ],
)
def test_html_valid_markup(source: str, text: str, entities: list[dict[str, Any]] | None) -> None:
    parsed = parse_html(source)
    assert parsed.text == text
    if entities is not None:
        assert parsed.entities == entities


def test_html_character_references_and_bare_ampersand() -> None:
    parsed = parse_html("&lt;b&gt; &amp; &quot;q&quot; &#65;&#x42; &#128512; AT&T &foo; &amp")
    assert parsed.text == '<b> & "q" AB 😀 AT&T &foo; &'
    assert parsed.entities == []


def test_html_offsets_are_utf16_code_units() -> None:
    parsed = parse_html("😀 <b>ü😀x</b> <i>é</i>")
    assert parsed.text == "😀 ü😀x é"
    # The emoji is two UTF-16 units, ü and é one each.
    assert parsed.entities == [entity("bold", 3, 4), entity("italic", 8, 1)]
    assert utf16_len(parsed.text) == 9


@pytest.mark.parametrize(
    ("source", "error"),
    [
        ("<foo>x</foo>", 'Unsupported start tag "foo" at byte offset 0'),
        ("😀 <p>x</p>", 'Unsupported start tag "p" at byte offset 5'),
        ("price a < b", 'Unsupported start tag "" at byte offset 8'),
        ("1<2 and more", 'Unsupported start tag "2" at byte offset 1'),
        ("trailing <", "Unclosed start tag at byte offset 9"),
        ("<b>never closed", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<b><i>x</i>", 'Can\'t find end tag corresponding to start tag "b"'),
        ("stray </b> end", "Unexpected end tag at byte offset 6"),
        ("<b>x</i>", 'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"'),
        ("<b>x</b", "Unclosed end tag at byte offset 4"),
        ("<span>x</span>", 'Tag "span" must have class "tg-spoiler" at byte offset 0'),
        ('<a href="x" ="y">x</a>', 'Empty attribute name in the tag "a" at byte offset 0'),
        ("<a href=x!>x</a>", "Unexpected end of name token at byte offset 8"),
        ("<tg-emoji emoji-id=abc>x</tg-emoji>", "Invalid custom emoji identifier specified"),
    ],
)
def test_html_errors_match_telegram(source: str, error: str) -> None:
    with pytest.raises(EntityParseError) as info:
        parse_html(source)
    assert str(info.value) == error
