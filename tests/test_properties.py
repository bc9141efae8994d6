"""Properties over any input. normalize (never raises, idempotent) and "a claim always matches
itself" are in test_normalize.py and test_matching.py; these add what hostile input reaches next:
the button parser, the masking of personal data and the escaping of citizens' text."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from factdb.matching import what_changed
from factdb.privacy import mask_personal
from handlers.views import callbacks as cb
from handlers.views.texts import excerpt, isolate

ids = st.integers(min_value=0, max_value=2**31 - 1)  # database integer ids
words = st.from_regex(r"[A-Za-z_-]{1,12}", fullmatch=True)


@settings(max_examples=500, deadline=None)
@given(st.one_of(st.text(), st.text(alphabet=":0123456789abcdefghijklmnopqrstuvwxyz_-"), st.none()))
def test_any_callback_data_a_client_sends_parses_or_is_refused_never_raises(data: str | None) -> None:
    parsed = cb.parse(data)
    if parsed is not None:
        assert parsed.action in cb.Code
        assert len(parsed.args) == len(parsed.action.args)


@st.composite
def made(draw: st.DrawFn) -> tuple[cb.Code, tuple[int | str, ...]]:
    action = draw(st.sampled_from(list(cb.Code)))
    args = tuple(draw(ids) if kind == "i" else draw(words) for kind in action.args)
    return action, args


@settings(max_examples=300, deadline=None)
@given(made())
def test_every_button_we_make_parses_back_to_what_we_meant(
    spec: tuple[cb.Code, tuple[int | str, ...]],
) -> None:
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


# -- evasions a sender uses to get personal data past a filter (issue 17, item 2)
_splitters = st.sampled_from(
    ["", " ", "\u200b", "\u200c", "\u2060", "\ufeff", "/", "_", "-", ".", "\u200b/", "_\u200d"]
)
_fillers = st.text(alphabet=" abcdefgh,!", max_size=20)


def _spread(draw: st.DrawFn, digits: str) -> str:
    """The digits with a random splitter (or none) between each pair."""
    return digits[0] + "".join(draw(_splitters) + d for d in digits[1:])


@st.composite
def split_phones(draw: st.DrawFn) -> tuple[str, str]:
    # A Taiwanese mobile (09xx xxx xxx) or a Spanish mobile (6xx xxx xxx): valid numbers.
    digits = draw(st.sampled_from(["09", "6"])) + draw(st.from_regex(r"[0-9]{8}", fullmatch=True))
    return digits, _spread(draw, digits)


@settings(max_examples=300, deadline=None)
@given(split_phones(), _fillers, _fillers)
def test_a_phone_split_by_invisible_characters_slashes_or_underscores_is_masked(
    phone: tuple[str, str], before: str, after: str
) -> None:
    digits, written = phone
    masked = mask_personal(f"{before} call {written} now {after}")
    assert digits not in re.sub(r"\D", "", masked)


@st.composite
def evasive_emails(draw: st.DrawFn) -> tuple[str, str]:
    user = draw(st.from_regex(r"[a-z][a-z0-9]{2,10}", fullmatch=True))
    domain = draw(st.from_regex(r"[a-z]{3,10}", fullmatch=True))
    at = draw(st.sampled_from(["@", "\uff20", " @ ", "(at)", " (at) ", "[at]", " [ at ] ", "{at}", "(AT)"]))
    dot = draw(st.sampled_from([".", "\uff0e", "(dot)", " (dot) ", "[dot]", " [DOT] "]))
    tld = draw(st.sampled_from(["com", "es", "lt", "tw", "org"]))
    return user, f"{user}{at}{domain}{dot}{tld}"


@settings(max_examples=300, deadline=None)
@given(evasive_emails(), _fillers)
def test_an_email_with_a_full_width_or_written_at_is_masked(email: tuple[str, str], around: str) -> None:
    user, written = email
    masked = mask_personal(f"{around} write to {written} {around}")
    assert user not in masked and "[email]" in masked


def _iban(country: str, bban: str) -> str:
    """A checksum-valid IBAN for `bban`."""
    num = int("".join(str(int(c, 36)) for c in bban + country + "00"))
    return f"{country}{98 - num % 97:02d}{bban}"


@st.composite
def ibans(draw: st.DrawFn) -> str:
    country, length = draw(st.sampled_from([("ES", 24), ("LT", 20), ("DE", 22), ("GB", 22), ("FR", 27)]))
    if country == "GB":
        bban = draw(st.from_regex(r"[A-Z]{4}", fullmatch=True)) + draw(
            st.from_regex(rf"[0-9]{{{length - 8}}}", fullmatch=True)
        )
    else:
        bban = draw(st.from_regex(rf"[0-9]{{{length - 4}}}", fullmatch=True))
    iban = _iban(country, bban)
    if draw(st.booleans()):  # printed in groups of four, as banks do
        iban = " ".join(iban[i : i + 4] for i in range(0, len(iban), 4))
    return iban


@settings(max_examples=200, deadline=None)
@given(ibans(), _fillers)
def test_an_iban_compact_or_spaced_is_masked(iban: str, around: str) -> None:
    masked = mask_personal(f"{around} donate to {iban} today {around}")
    assert iban.replace(" ", "")[4:12] not in re.sub(r"[^0-9A-Z]", "", masked)


def _with_luhn(body: str) -> str:
    for check in "0123456789":
        total = 0
        for i, d in enumerate(reversed(body + check)):
            n = int(d) * (2 if i % 2 else 1)
            total += n - 9 if n > 9 else n
        if total % 10 == 0:
            return body + check
    raise AssertionError("unreachable")


@st.composite
def cards(draw: st.DrawFn) -> tuple[str, str]:
    body = draw(st.sampled_from(["4", "51", "37"])) + draw(st.from_regex(r"[0-9]{13}", fullmatch=True))
    number = _with_luhn(body[:15])
    sep = draw(st.sampled_from(["", " ", "-", "\u200b"]))
    return number, sep.join(number[i : i + 4] for i in range(0, len(number), 4))


@settings(max_examples=200, deadline=None)
@given(cards(), _fillers)
def test_a_card_number_that_passes_luhn_is_masked(card: tuple[str, str], around: str) -> None:
    number, written = card
    masked = mask_personal(f"{around} pay with {written} {around}")
    assert number[-8:] not in re.sub(r"\D", "", masked)


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from(["t.me/", "https://t.me/", "telegram.me/", "wa.me/", "https://wa.me/", "T.ME/"]),
    st.from_regex(r"[A-Za-z0-9_]{5,20}", fullmatch=True),
    _fillers,
)
def test_telegram_and_whatsapp_contact_links_are_masked(prefix: str, handle: str, around: str) -> None:
    masked = mask_personal(f"{around} join {prefix}{handle} now {around}")
    assert handle not in masked and "[contact]" in masked
