"""Properties over any input. normalize (never raises, idempotent) and "a claim always matches
itself" are in test_normalize.py and test_matching.py; these add what hostile input reaches next:
the button parser, the masking of personal data and the escaping of citizens' text."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from bot import callbacks as cb
from bot.texts import excerpt, isolate
from factdb.matching import what_changed
from factdb.privacy import mask_personal

ids = st.integers(min_value=0, max_value=2**31 - 1)  # database integer ids
words = st.from_regex(r"[A-Za-z_-]{1,12}", fullmatch=True)


@settings(max_examples=500, deadline=None)
@given(st.one_of(st.text(), st.text(alphabet=":0123456789abcdefghijklmnopqrstuvwxyz_-"), st.none()))
def test_any_callback_data_a_client_sends_parses_or_is_refused_never_raises(data: str | None) -> None:
    parsed = cb.parse(data)
    if parsed is not None:
        assert parsed.action in cb.ACTIONS
        assert len(parsed.args) == len(cb.ACTIONS[parsed.action])


@st.composite
def made(draw: st.DrawFn) -> tuple[str, tuple[int | str, ...]]:
    action = draw(st.sampled_from(sorted(cb.ACTIONS)))
    args = tuple(draw(ids) if kind == "i" else draw(words) for kind in cb.ACTIONS[action])
    return action, args


@settings(max_examples=300, deadline=None)
@given(made())
def test_every_button_we_make_parses_back_to_what_we_meant(spec: tuple[str, tuple[int | str, ...]]) -> None:
    action, args = spec
    data = cb.make(action, *args)
    assert len(data.encode()) <= cb.MAX_BYTES
    assert cb.parse(data) == cb.Callback(action, args)


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_masking_never_raises_is_idempotent_and_leaves_no_email(text: str) -> None:
    once = mask_personal(text)
    assert mask_personal(once) == once
    assert not re.search(r"[\w.+-]+@[\w-]+\.[A-Za-z]{2,}", once)


@settings(max_examples=200, deadline=None)
@given(st.from_regex(r"\+?[1-9][0-9]{8,12}", fullmatch=True), st.text(alphabet=" abcdefgh", max_size=20))
def test_a_phone_number_anywhere_in_a_message_is_masked(number: str, around: str) -> None:
    assert number not in mask_personal(f"{around} call {number} now {around}")


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_citizen_text_can_never_open_a_tag_or_escape_its_isolate(text: str) -> None:
    shown = isolate(excerpt(text))
    inner = shown[1:-1]
    assert "<" not in inner and ">" not in inner
    assert shown.startswith("\u2068") and shown.endswith("\u2069")
    assert len(excerpt(text, 40)) <= 40


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=300), st.text(max_size=300))
def test_what_changed_never_raises(a: str, b: str) -> None:
    assert isinstance(what_changed(a, b), list)


@settings(max_examples=100, deadline=None)
@given(st.text(alphabet="ab \u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069", min_size=1))
def test_citizen_text_cannot_close_our_direction_isolate_early(text: str) -> None:
    inner = isolate(text)[1:-1]
    assert "\u2069" not in inner and "\u202e" not in inner
