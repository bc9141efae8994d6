"""Strict HTML as Telegram parses it (parse_mode=HTML), error messages included."""

from __future__ import annotations

from typing import Any

import pytest

from tests.emulator import EntityParseError, parse_html, utf16_len


@pytest.mark.parametrize(
    ("source", "text", "entities"),
    [
        (
            "<b>bold <i>both</i></b> plain",
            "bold both plain",
            [
                {"type": "bold", "offset": 0, "length": 9},
                {"type": "italic", "offset": 5, "length": 4},
            ],
        ),
        (
            "<strong>s</strong><em>e</em><ins>i</ins><strike>k</strike><del>d</del><s>x</s>",
            "seikdx",
            [
                {"type": "bold", "offset": 0, "length": 1},
                {"type": "italic", "offset": 1, "length": 1},
                {"type": "underline", "offset": 2, "length": 1},
                {"type": "strikethrough", "offset": 3, "length": 1},
                {"type": "strikethrough", "offset": 4, "length": 1},
                {"type": "strikethrough", "offset": 5, "length": 1},
            ],
        ),
        (
            '<span class="tg-spoiler">a</span><tg-spoiler>b</tg-spoiler>',
            "ab",
            [
                {"type": "spoiler", "offset": 0, "length": 1},
                {"type": "spoiler", "offset": 1, "length": 1},
            ],
        ),
        (
            '<pre><code class="language-python">x = 1</code></pre><code>y</code>',
            "x = 1y",
            [
                {"type": "pre", "offset": 0, "length": 5, "language": "python"},
                {"type": "code", "offset": 5, "length": 1},
            ],
        ),
        (
            "<blockquote>q</blockquote><blockquote expandable>e</blockquote>",
            "qe",
            [
                {"type": "blockquote", "offset": 0, "length": 1},
                {"type": "expandable_blockquote", "offset": 1, "length": 1},
            ],
        ),
        (
            '<a href="example.com">l</a><a href="https://t.me/x?a=1&amp;b=2">m</a>',
            "lm",
            [
                {"type": "text_link", "offset": 0, "length": 1, "url": "http://example.com/"},
                {
                    "type": "text_link",
                    "offset": 1,
                    "length": 1,
                    "url": "https://t.me/x?a=1&b=2",
                },
            ],
        ),
        ('<tg-emoji emoji-id="5368324170671202286">👍</tg-emoji>', "👍", None),
        ("<B>upper</b >", "upper", [{"type": "bold", "offset": 0, "length": 5}]),
        ("<b>x</>", "x", [{"type": "bold", "offset": 0, "length": 1}]),
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
    assert parsed.entities == [
        {"type": "bold", "offset": 3, "length": 4},
        {"type": "italic", "offset": 8, "length": 1},
    ]
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
