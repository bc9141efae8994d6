"""Text normalisation for matching forwarded messages against known claims.

The goal is that two forwards of the *same* message normalise to the same string even when
one went through a phone's copy/paste, a channel's "Forwarded from" header, a spammer's
homoglyph substitution or a link shortener's tracking parameters. The output is meant for
matching and for storing alongside the raw text, not for showing to people.

`normalize` is idempotent and never raises: it is called on untrusted input from the chat.
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

__all__ = ["extract_urls", "fold_homoglyphs", "normalize"]

# --- URLs -------------------------------------------------------------------------------------

# A URL runs to the next whitespace or quote/angle bracket; trailing sentence punctuation is
# trimmed afterwards because people write "see https://x.y/z." and mean the URL without the dot.
_URL_RE = re.compile(r"(?:https?://|www\.)[^\s<>\"'`]+", re.IGNORECASE)
_URL_TRAILING = ".,;:!?)]}>'\"…。，；：！？）」』】"

# Query parameters that identify the sharer or the campaign, never the content. Dropping them
# makes two shares of the same article the same link.
_TRACKING_PARAMS = frozenset(
    {
        "fbclid",
        "gclid",
        "dclid",
        "gbraid",
        "wbraid",
        "msclkid",
        "yclid",
        "twclid",
        "igshid",
        "igsh",
        "si",
        "mc_cid",
        "mc_eid",
        "_ga",
        "_gl",
        "mibextid",
        "ref_src",
        "ref_url",
        "__cft__",
        "__tn__",
        "sfnsn",
        "wtsrc",
        "share_id",
        "feature",
        "rcm",
        "_hsenc",
        "_hsmi",
        "vero_id",
        "oly_enc_id",
        "oly_anon_id",
        "spm",
        "scm",
    }
)
# Twitter/X put the share client ("s=20") and a per-user token ("t=...") in the query; on
# other hosts "t" is often a meaningful timestamp (YouTube), so only drop them there.
_TWITTER_HOSTS = frozenset({"twitter.com", "www.twitter.com", "x.com", "www.x.com", "mobile.twitter.com"})


def _is_tracking(key: str, host: str) -> bool:
    k = key.lower()
    if k.startswith(("utm_", "hsa_", "pk_", "mtm_")) or k in _TRACKING_PARAMS:
        return True
    return host in _TWITTER_HOSTS and k in {"s", "t"}


def _split_url(candidate: str) -> tuple[str, str]:
    """Split a regex hit into (url, trailing punctuation that belongs to the sentence)."""
    end = len(candidate)
    while end > 0 and candidate[end - 1] in _URL_TRAILING:
        # Keep a closing parenthesis that closes one opened inside the URL (Wikipedia links).
        if candidate[end - 1] == ")" and candidate[:end].count("(") >= candidate[:end].count(")"):
            break
        end -= 1
    return candidate[:end], candidate[end:]


def _clean_url(url: str) -> str:
    try:
        parts = urlsplit(url if "://" in url else "http://" + url)
        host = (parts.hostname or "").lower()
        query = [
            (k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _is_tracking(k, host)
        ]
        # Text fragments ("#:~:text=") are how browsers share a highlighted quote; not content.
        fragment = "" if parts.fragment.startswith(":~:") else parts.fragment
        cleaned = urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query, doseq=True), fragment))
        if "://" not in url:
            cleaned = cleaned.removeprefix("http://")
        return cleaned
    except ValueError:
        # urlsplit rejects e.g. malformed IPv6 hosts; such a "URL" is kept as the user wrote it.
        return url


def extract_urls(text: str) -> list[str]:
    """The links in `text`, tracking parameters removed, in order of appearance, deduplicated."""
    try:
        seen: dict[str, None] = {}
        for hit in _URL_RE.findall(text):
            url, _ = _split_url(hit)
            if len(url) > len("www."):
                seen.setdefault(_clean_url(url), None)
        return list(seen)
    except Exception:  # never let a weird message break the handler
        return []


# --- characters -------------------------------------------------------------------------------

# Cyrillic and Greek letters that look like Latin ones: entries of Unicode TR39's confusables
# table (confusables.txt, "Unicode Security Mechanisms") whose prototype is a Latin letter, the
# common Cyrillic and Greek ones. Case-aware, because it runs before casefolding: Greek capital
# upsilon looks like "Y" but its lower case like "u", Cyrillic capital "Н" is an "H" but its
# lower case "н" a small-capital H. A few lower-case entries that only uppercase shapes explain
# (в, к, м, т: small capitals) are kept from before.
_CONFUSABLE_PAIRS = {
    # Cyrillic capitals
    "А": "A", "В": "B", "Е": "E", "Ѐ": "E", "Ё": "E", "З": "3", "І": "I", "Ї": "I", "Ј": "J",
    "К": "K", "М": "M", "Н": "H", "О": "O", "Р": "P", "С": "C", "Т": "T", "У": "Y", "Х": "X",
    "Ѕ": "S", "Ү": "Y", "Ӏ": "I", "Ԁ": "D", "Ԛ": "Q", "Ԝ": "W", "Һ": "H",
    # Cyrillic small letters
    "а": "a", "в": "b", "е": "e", "ѐ": "e", "ё": "e", "з": "3", "і": "i", "ї": "i", "ј": "j",
    "к": "k", "м": "m", "н": "h", "о": "o", "р": "p", "с": "c", "т": "t", "у": "y", "х": "x",
    "ѕ": "s", "ү": "y", "ӏ": "l", "ԁ": "d", "ԛ": "q", "ԝ": "w", "һ": "h", "ҽ": "e", "ѵ": "v",
    "ѡ": "w",
    # Greek capitals
    "Α": "A", "Β": "B", "Ε": "E", "Ζ": "Z", "Η": "H", "Ι": "I", "Κ": "K", "Μ": "M", "Ν": "N",
    "Ο": "O", "Ρ": "P", "Τ": "T", "Υ": "Y", "Χ": "X", "Ϲ": "C",
    # Greek small letters
    "α": "a", "β": "b", "γ": "y", "ε": "e", "η": "n", "ι": "i", "κ": "k", "μ": "m", "ν": "v",
    "ο": "o", "ρ": "p", "σ": "o", "τ": "t", "υ": "u", "χ": "x", "ζ": "z", "ϲ": "c", "ϳ": "j",
    # Latin letters outside a-z with the same role
    "ɡ": "g", "ɑ": "a", "ı": "i",
}  # fmt: skip
_HOMOGLYPHS = str.maketrans(_CONFUSABLE_PAIRS)
_CONFUSABLE_CHARS = frozenset(_CONFUSABLE_PAIRS) - frozenset("ɡɑı")
_LATIN_RE = re.compile(r"[a-zA-Z]")
_CYR_GREEK_RE = re.compile(r"[\u0370-\u03ff\u0400-\u052f\u0261\u0251\u0131]")
_CYR_GREEK_LETTER_RE = re.compile(r"[\u0370-\u03ff\u0400-\u052f]")
_WORD_RE = re.compile(r"\w+")


def _fold_word(word: str, latin_context: bool) -> str:
    # Real Russian or Greek words are never mixed with Latin letters, so folding inside mixed
    # words leaves those languages untouched while "vасcine" becomes "vaccine". A word made
    # only of look-alikes ("АΝТΙ", "ѕһσѡѕ") is folded too when the message is Latin text, i.e.
    # has more Latin letters than Cyrillic/Greek letters that look like nothing Latin.
    if _LATIN_RE.search(word):
        return word.translate(_HOMOGLYPHS) if _CYR_GREEK_RE.search(word) else word
    if (
        latin_context
        and _CYR_GREEK_RE.search(word)
        and all(ch in _CONFUSABLE_CHARS or not _CYR_GREEK_LETTER_RE.match(ch) for ch in word)
    ):
        return word.translate(_HOMOGLYPHS)
    return word


def fold_homoglyphs(text: str) -> str:
    """Cyrillic/Greek look-alikes to Latin letters (before casefolding), links left alone."""
    if not _CYR_GREEK_RE.search(text):
        return text
    latin = len(_LATIN_RE.findall(text))
    foreign = sum(1 for ch in _CYR_GREEK_LETTER_RE.findall(text) if ch not in _CONFUSABLE_CHARS)
    latin_context = latin > foreign

    def fold(m: re.Match[str]) -> str:
        return _fold_word(m.group(0), latin_context)

    pieces: list[str] = []
    last = 0
    for m in _URL_RE.finditer(text):
        pieces.append(_WORD_RE.sub(fold, text[last : m.start()]))
        pieces.append(m.group(0))
        last = m.end()
    pieces.append(_WORD_RE.sub(fold, text[last:]))
    return "".join(pieces)


def _strippable_base(ch: str) -> bool:
    """Bases whose combining marks are decoration for matching (accents, zalgo).

    Latin, Greek and Cyrillic accents are routinely dropped by people typing on phones, so
    "café" and "cafe" must meet. Indic, Thai, Arabic, Hebrew... vowel signs and points are
    letters in all but name there; stripping them would merge different words.
    """
    cp = ord(ch)
    return cp < 0x0530 or 0x1D00 <= cp <= 0x1FFF or 0x2C60 <= cp <= 0x2C7F or 0xA720 <= cp <= 0xA7FF


_ASCII_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")


def _control(ch: str) -> str:
    # Line breaks survive until forward headers (which are whole lines) have been removed.
    if ch in "\n\r\x0b\x0c\x1c\x1d\x1e\x85":
        return "\n"
    return " " if ch.isspace() else ""


def _ascii_control(m: re.Match[str]) -> str:
    return _control(m.group(0))


def _clean_chars(text: str) -> str:
    """Drop invisible/control characters, emoji and decorative marks in one pass."""
    if text.isascii():
        # Most forwards are plain ASCII; there the only thing to do is blank out controls, and
        # a per-character Python loop would dominate bulk index builds.
        return _ASCII_CONTROL_RE.sub(_ascii_control, text)
    out: list[str] = []
    base_strippable = False
    for ch in unicodedata.normalize("NFD", text):
        cat = unicodedata.category(ch)
        if cat == "Mn" or cat == "Me":
            # Enclosing marks (keycap "1⃣") and variation selectors are emoji plumbing.
            if cat == "Me" or base_strippable or "\ufe00" <= ch <= "\ufe0f" or ch >= "\U000e0100":
                continue
            out.append(ch)
            continue
        if cat == "Cf" or cat == "Cs":
            # Zero-width spaces/joiners, bidi controls, soft hyphens, tag characters: invisible,
            # used to defeat naive matching. Lone surrogates cannot even be stored as UTF-8.
            continue
        if cat == "Cc":
            out.append(_control(ch))
            continue
        if cat == "So" or (cat == "Sk" and ord(ch) >= 0x1F3FB):
            # Emoji, pictographs, flags, skin-tone modifiers: decoration, not content.
            out.append(" ")
            base_strippable = False
            continue
        base_strippable = _strippable_base(ch)
        out.append(ch)
    return unicodedata.normalize("NFC", "".join(out))


# --- boilerplate ------------------------------------------------------------------------------

# Header lines added by Telegram/WhatsApp/e-mail when forwarding. Whole lines go, and only
# lines that end in a newline: normalised text is one line, so a second pass (idempotence)
# cannot mistake the message itself for a header.
_HEADER_LINE_RE = re.compile(
    r"^[ \t]*(?:forwarded[ \t]+from\b|-*[ \t]*forwarded[ \t]+message\b|"
    r"reenviado[ \t]+de\b|mensaje[ \t]+reenviado\b|persiųsta[ \t]+iš\b|转发自|轉發自|轉傳自)"
    r"[^\n]{0,80}(?=\n)",
    re.MULTILINE,
)
# "Fwd: " / "FW: " subject-style prefixes: only the prefix goes.
_FWD_PREFIX_RE = re.compile(r"^[ \t]*(?:(?:fwd?|fw)[ \t]*:[ \t]*)+", re.MULTILINE)
# Calls to spread the message. Removed wherever they occur; the same rule applies to the
# stored claims, so a claim that itself says "please share" loses the same words.
_CALL_TO_SHARE_RE = re.compile(
    r"(?:"
    r"\b(?:please\s+|pls\s+|plz\s+|kindly\s+)?(?:forward|share|send|pass|spread|repost|copy\s+"
    r"(?:and|&)\s+paste)\s+(?:this|it|the\s+word|on|along)?\s*(?:message\s+|msg\s+)?"
    r"(?:on\s+|along\s+)?(?:to|with)\s+(?:everyone|everybody|all|your\s+friends|your\s+family|"
    r"all\s+your\s+(?:friends|contacts|groups|family)|as\s+many\s+(?:people\s+)?as\s+"
    r"(?:you\s+can|possible))\b"
    r"|\b(?:please\s+|pls\s+|plz\s+)(?:share|forward|repost|spread\s+the\s+word)\b"
    r"|\bcopy\s+(?:and|&)\s+paste\b|\bpass\s+it\s+on\b|\bspread\s+the\s+word\b"
    r"|\bshare\s+before\s+(?:it\s*(?:'|’)?s|it\s+is)\s+deleted\b"
    r"|\b(?:reenv[ií]a(?:lo)?|comp[aá]rte(?:lo)?|p[aá]salo|difúnde(?:lo)?|difunde(?:lo)?)\b"
    r"(?:\s+(?:a|con)\s+todos(?:\s+tus\s+contactos)?)?"
    r"|\b(?:pasidalinkite|persiųskite|dalinkitės)\b"
    r"|請轉傳|请转传|請轉發|请转发|請分享|请分享|分享出去|快轉|快转|轉傳|转传|轉發|转发"
    r"|互相轉告|互相转告|擴散|扩散|ส่งต่อ|แชร์ต่อ|แชร์ด่วน"
    r")[!.！。…]*",
    re.IGNORECASE,
)
# The embed signature of a forwarded tweet: "— Name (@handle) January 14, 2020".
_TWEET_SIGNATURE_RE = re.compile(r"\s*[—–-]\s*[^—–\n()]{0,80}\(@\w{1,30}\)\s+\w+\s+\d{1,2},\s+\d{4}\s*$")
# What a chat app or a social network puts where it cut a long post: "… Read more", "... See
# more", "(more)". Only after an ellipsis or at the end of a line, so "read more books" stays.
_MORE_WORDS = r"(?:read|see|show|leer|ver|mostrar|skaityti|rodyti)[ \t]+(?:more|m[aá]s|daugiau)"
_TRUNCATION_MARK_RE = re.compile(
    rf"(?:(?:…|\.{{3}})[ \t]*(?:{_MORE_WORDS}|\({_MORE_WORDS}\))|[ \t]\((?:{_MORE_WORDS}|more|m[aá]s|daugiau)\)"
    r"|(?:…|\.{3})?(?:查看|顯示|显示|閱讀|阅读)(?:更多|全文))[ \t]*$",
    re.MULTILINE | re.IGNORECASE,
)
_HASHTAG_RE = re.compile(r"#(\w+)")
_CAMEL_RE = re.compile(r"(?<=[a-z])(?=[A-Z])")
# Runs of the same punctuation ("!!!!", "????", "...") say the same as one.
_PUNCT_RUN_RE = re.compile(r"([^\w\s])\1+")
_SPACE_RE = re.compile(r"\s+")


def _split_hashtag(m: re.Match[str]) -> str:
    # "#AustralianFires" and "Australian fires" are the same words to a reader.
    return _CAMEL_RE.sub(" ", m.group(1))


# Every call-to-share pattern contains one of these; plain substring tests are much cheaper
# than letting the big alternation try every position of every message.
_SHARE_TRIGGERS = (
    "forward",
    "share",
    "send",
    "pass",
    "spread",
    "repost",
    "copy",
    "reenv",
    "compart",
    "pásalo",
    "pasalo",
    "difund",
    "pasidal",
    "persiųsk",
    "dalink",
    "轉",
    "转",
    "分享",
    "擴散",
    "扩散",
    "ส่งต่อ",
    "แชร์",
)


def _clean_text_segment(seg: str) -> str:
    if any(t in seg for t in _SHARE_TRIGGERS):
        seg = _CALL_TO_SHARE_RE.sub(" ", seg)
    return _PUNCT_RUN_RE.sub(r"\1", seg)


def _normalize_once(text: str) -> str:
    text = unicodedata.normalize("NFKC", text)
    text = _TWEET_SIGNATURE_RE.sub("", text)
    # Hashtags are split before casefolding, which erases the camel-case boundaries.
    text = _HASHTAG_RE.sub(_split_hashtag, text)
    # Look-alikes are folded while the case still tells "Υ" (Y) from "υ" (u).
    text = fold_homoglyphs(text)
    text = unicodedata.normalize("NFKC", text.casefold())
    # Emoji go first so that "😱 Forwarded from X" is seen as a header line.
    text = _FWD_PREFIX_RE.sub("", _HEADER_LINE_RE.sub("\n", _clean_chars(text)))
    text = _TRUNCATION_MARK_RE.sub("", text)
    # Links are cleaned but otherwise left alone: collapsing "//" or folding look-alikes in
    # a path would change where the link points.
    pieces: list[str] = []
    last = 0
    for m in _URL_RE.finditer(text):
        url, trailing = _split_url(m.group(0))
        pieces.append(_clean_text_segment(text[last : m.start()]))
        pieces.append(f" {_clean_url(url)} " if len(url) > len("www.") else url)
        pieces.append(_clean_text_segment(trailing))
        last = m.end()
    pieces.append(_clean_text_segment(text[last:]))
    return _SPACE_RE.sub(" ", "".join(pieces)).strip()


def normalize(text: str) -> str:
    """Canonical form of a message for matching. Idempotent; never raises."""
    try:
        if not isinstance(text, str):
            text = str(text)
        result = _normalize_once(text)
        # Each step is idempotent on its own, but one step can expose work for an earlier one
        # (removing a call to share can bring two "!!" together, NFKC after casefold can form a
        # new letter). Re-running until nothing changes makes idempotence a guarantee rather
        # than a hope; in practice the second pass is the last.
        for _ in range(4):
            again = _normalize_once(result)
            if again == result:
                break
            result = again
        return result
    except Exception:
        # Last resort for inputs no rule anticipated: still give the matcher something usable.
        try:
            return _SPACE_RE.sub(" ", str(text).casefold()).strip()
        except Exception:
            return ""
