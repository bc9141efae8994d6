"""Masking what identifies a person in a citizen's text, before it is stored and wherever it is shown.

A citizen's message is masked once, on the intake path, before anything is written (claim,
request, match index); reviewers' cards, the public pages and the exports mask again when they
render, for rows stored before masking existed and for imported text. Masking replaces a span
with a fixed token (`[phone]`, `[email]`, `[iban]`, `[card]`, `[contact]`, `@[user]`): the same
rumour with a different number in it still matches, and masking twice changes nothing.

Detection runs on a normalised copy of the text (NFKC, decimal digits of any script as ASCII,
invisible format characters and combining marks dropped) so that a number split by zero-width
characters or written in full-width digits is still a number; every character of the copy
remembers where it came from, and the masked spans are cut out of the original text, so
everything else the person wrote (CJK punctuation, emoji) stays exactly as sent.

Covered: phone numbers (libphonenumber's Python port for what is a valid number in our regions,
plus any long digit run split by spaces, dots, dashes, slashes, underscores or brackets),
e-mail addresses (also with a full-width ＠ and written "(at)" / "[dot]"), IBANs (checksum),
payment-card numbers (Luhn), Telegram and WhatsApp contact links, and @usernames. Not covered:
names, street addresses, ID numbers, anything in a picture (SECURITY.md).
"""

from __future__ import annotations

import dataclasses
import functools
import re
import unicodedata
from typing import TypeVar

import phonenumbers
from phonenumbers import Leniency, PhoneNumberMatcher

# Our languages' countries (zh-TW, es, lt, en); a number with a leading + is read internationally.
REGIONS = ("TW", "ES", "LT", "US", "GB")

PHONE, EMAIL, IBAN, CARD, CONTACT, USER = "[phone]", "[email]", "[iban]", "[card]", "[contact]", "@[user]"

# Invisible characters that are not format characters (category Cf, dropped anyway): fillers
# and joiners people use to split a number so that a filter misses it.
_INVISIBLE = frozenset(
    "\u034f\u115f\u1160\u17b4\u17b5\u180b\u180c\u180d\u180e\u180f\u3164\uffa0"
    + "".join(chr(c) for c in range(0xFE00, 0xFE10))
)

# -- contact links: t.me/…, telegram.me/…, wa.me/…, api.whatsapp.com/send?phone=…, tg://…
_CONTACT = re.compile(
    r"(?:https?://)?(?:www\.)?"
    r"(?:(?:t|telegram)\.(?:me|dog)|wa\.me|(?:api|web|chat)\.whatsapp\.com|whatsapp\.com)"
    r"(?:/[^\s<>\"']*)?"
    r"|tg://[^\s<>\"']+"
    r"|whatsapp://[^\s<>\"']+",
    re.IGNORECASE,
)

# -- e-mail: "@" or a written at in brackets ("(at)", "[at]", "{at}", also es "arroba", lt "eta"),
# dots also written "(dot)" / "[dot]" (es "punto", lt "taškas").
_AT = r"(?:\s*@\s*|\s*[(\[{<]\s*(?:at|arroba|eta|ät)\s*[)\]}>]\s*|\s+(?:at|arroba)\s+(?=[\w-]{1,63}\s*[(\[{<]\s*(?:dot|punto|taškas)))"
_DOT = r"(?:[.\u3002]|\s*[(\[{<]\s*(?:dot|punto|taškas|dt)\s*[)\]}>]\s*)"
# Every repeat is bounded (a local part has at most 64 characters, a domain label 63): with an
# unbounded local part, 8 KiB of letters without an "@" cost seconds of backtracking, each
# starting position scanning to the end of the run.
_EMAIL = re.compile(rf"[\w.+%-]{{1,64}}{_AT}[\w-]{{1,63}}(?:{_DOT}[\w-]{{1,63}}){{1,8}}", re.IGNORECASE)

_HANDLE = re.compile(r"(?<![\w@/\[])@[A-Za-z][A-Za-z0-9_]{3,31}\b")

# -- IBAN: country, check digits, then 11–30 letters or digits, compact or in groups.
_IBAN_START = re.compile(r"(?<![A-Za-z0-9])([A-Za-z]{2})(\d{2})(?=[ \-]?[A-Za-z0-9])")
_IBAN_LENGTHS = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22,
    "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DK": 18, "DO": 28,
    "EE": 20, "EG": 29, "ES": 24, "FI": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23,
    "GL": 18, "GR": 27, "GT": 28, "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IS": 26,
    "IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LC": 32, "LI": 21, "LT": 20, "LU": 20,
    "LV": 21, "MC": 27, "MD": 24, "ME": 22, "MK": 19, "MR": 27, "MT": 31, "MU": 30, "NL": 18,
    "NO": 15, "PK": 24, "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "SA": 24,
    "SC": 31, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "ST": 25, "SV": 28, "TL": 23, "TN": 24,
    "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20,
}  # fmt: skip

# -- digit runs: digits with up to three separators between them (spaces, dots, dashes,
# slashes, underscores, brackets), an optional leading + and opening bracket.
_SEP = r"[\s.\-/_()\u2010-\u2015\u2212\u00b7\u2022\u2027\u30fb\u30fc]"
_RUN = re.compile(rf"\+?\(?\d(?:{_SEP}{{0,3}}\d)*")
_GROUP_SPLIT = re.compile(rf"{_SEP}+")
_URL = re.compile(r"(?:https?://|www\.)[^\s<>\"']+", re.IGNORECASE)

T = TypeVar("T")


def _detection_copy(text: str) -> tuple[str, list[int]]:
    """The text as detection reads it, and for each of its characters the original index."""
    out: list[str] = []
    origin: list[int] = []
    for i, ch in enumerate(text):
        if ch in _INVISIBLE:
            continue
        cat = unicodedata.category(ch)
        if cat in ("Cf", "Mn", "Me"):
            continue  # zero-width spaces and joiners, bidi marks, soft hyphens, combining marks
        if cat == "Nd":
            out.append(str(unicodedata.decimal(ch)))  # ٠١٢, ０１２, 𝟘𝟙𝟚 → 012
            origin.append(i)
            continue
        folded = unicodedata.normalize("NFKC", ch)
        for part in folded:
            if unicodedata.category(part) in ("Cf", "Mn", "Me"):
                continue
            out.append(str(unicodedata.decimal(part)) if unicodedata.category(part) == "Nd" else part)
            origin.append(i)
    return "".join(out), origin


def _iban_spans(det: str) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    for m in _IBAN_START.finditer(det):
        country = m.group(1).upper()
        if country not in _IBAN_LENGTHS:
            continue
        length = _IBAN_LENGTHS[country]
        chars: list[str] = [country, m.group(2)]
        count, pos, end = 4, m.end(), m.end()
        while count < length and pos < len(det):
            ch = det[pos]
            if ch.isascii() and ch.isalnum():
                chars.append(ch.upper())
                count += 1
                end = pos + 1
            elif ch in " -" and pos + 1 < len(det) and det[pos + 1].isascii() and det[pos + 1].isalnum():
                pass  # a group separator
            else:
                break
            pos += 1
        if count != length or (end < len(det) and det[end].isascii() and det[end].isalnum()):
            continue
        compact = "".join(chars)
        rearranged = compact[4:] + compact[:4]
        if int("".join(str(int(c, 36)) for c in rearranged)) % 97 == 1:
            spans.append((m.start(), end))
    return spans


def _luhn(digits: str) -> bool:
    total = 0
    for i, d in enumerate(reversed(digits)):
        n = int(d)
        if i % 2:
            n = n * 2 - 9 if n > 4 else n * 2
        total += n
    return total % 10 == 0


def _valid_phone(digits: str, international: bool) -> bool:
    try:
        if international:
            return phonenumbers.is_valid_number(phonenumbers.parse("+" + digits, None))
        return any(phonenumbers.is_valid_number(phonenumbers.parse(digits, r)) for r in REGIONS)
    except phonenumbers.NumberParseException:
        return False


def _grouped_amount(run: str) -> bool:
    """1 000 000, 1.000.000, 100,000: thousands, not a phone (unless it is a valid one)."""
    groups = [g for g in _GROUP_SPLIT.split(run.strip("+()")) if g]
    seps = set(re.findall(_SEP + "+", run.strip("+()")))
    return (
        len(groups) >= 2
        and 1 <= len(groups[0]) <= 3
        and all(len(g) == 3 for g in groups[1:])
        and len(seps) == 1
        and seps <= {" ", ".", ","}
    )


def _run_label(run: str, in_url: bool) -> str | None:
    """What a run of digits is: a card, a phone number, or nothing to mask."""
    digits = re.sub(r"\D", "", run)
    international = run.startswith("+")
    if 13 <= len(digits) <= 19 and not international and not in_url and _luhn(digits):
        return CARD
    if 7 <= len(digits) <= 15 and _valid_phone(digits, international):
        return PHONE
    if in_url:
        return None  # an article id or a date in a link is not anybody's number
    if international and 7 <= len(digits) <= 15:
        return PHONE
    if len(digits) >= 9 and not _grouped_amount(run):
        return PHONE  # a long number split to dodge a filter: somebody's number all the same
    return None


def _spans(det: str) -> list[tuple[int, int, str]]:
    """Spans of `det` to mask, with their tokens; earlier kinds win where two overlap."""
    found: list[tuple[int, int, str]] = []
    found += [(m.start(), m.end(), CONTACT) for m in _CONTACT.finditer(det)]
    found += [(m.start(), m.end(), EMAIL) for m in _EMAIL.finditer(det)]
    found += [(s, e, IBAN) for s, e in _iban_spans(det)]
    urls = [(m.start(), m.end()) for m in _URL.finditer(det)]
    for m in _RUN.finditer(det):
        label = _run_label(m.group(), any(s <= m.start() < e for s, e in urls))
        if label is not None:
            found.append((m.start(), m.end(), label))
    if sum(c.isdigit() for c in det) >= 7 and len(det) <= 2000:  # bounded cost on any input
        # libphonenumber's own reading of the text finds formats the runs above do not take
        # apart, e.g. "+44 (0)20 7946 0958" or "Tel. (02) 2345-6789 ext. 12".
        for region in REGIONS:
            for match in PhoneNumberMatcher(det, region, leniency=Leniency.VALID):
                found.append((match.start, match.end, PHONE))
    found += [(m.start(), m.end(), USER) for m in _HANDLE.finditer(det)]
    chosen: list[tuple[int, int, str]] = []
    for start, end, label in found:
        if start < end and all(end <= s or start >= e for s, e, _ in chosen):
            chosen.append((start, end, label))
    return sorted(chosen)


def _mask_once(text: str) -> str:
    det, origin = _detection_copy(text)
    spans = _spans(det)
    if not spans:
        return text
    out: list[str] = []
    last = 0
    for start, end, label in spans:
        a, b = origin[start], origin[end - 1] + 1
        if a < last:
            continue
        out.append(text[last:a])
        out.append(label)
        last = b
    out.append(text[last:])
    return "".join(out)


@functools.lru_cache(maxsize=4096)
def mask_personal(text: str) -> str:
    """`text` with phone numbers, e-mails, IBANs, card numbers, contact links and @usernames
    replaced by fixed tokens. Idempotent; never raises on any string.

    Cached: pages and exports mask the same claims again and again.
    """
    for _ in range(3):  # a mask can expose what overlapped it; three passes reach a fixpoint
        masked = _mask_once(text)
        if masked == text:
            return masked
        text = masked
    return text


def mask_fields(item: T, *names: str) -> T:
    """A copy of a dataclass with the named text fields masked (None stays None)."""
    changes = {n: mask_personal(v) for n in names if isinstance(v := getattr(item, n), str)}
    return dataclasses.replace(item, **changes)  # type: ignore[type-var]
