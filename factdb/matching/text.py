"""The forms of a text the matcher works on: prepared text, index terms, word count, tokens.

`prepare` is what the index stores, takes terms from and compares characters of: the
normalised text (factdb/normalize.py) with punctuation gone and no spaces inside CJK runs.
"""

from __future__ import annotations

import functools
import re

from factdb.normalize import normalize

HAN = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ffff"
SEA = "\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff"
# Combining vowel signs and viramas of Indic, Arabic and Hebrew scripts are not \w in
# Python's re; without them a Hindi word would fall apart at every vowel sign.
MARKS = "\u0300-\u036f\u0483-\u0489\u0591-\u05c7\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed\u0900-\u0dff"
_SEGMENT_RE = re.compile(rf"(?P<han>[{HAN}]+)|(?P<sea>[{SEA}]+)|(?P<word>(?:[^\W_{HAN}{SEA}]|[{MARKS}])+)")
HAN_OR_SEA_RE = re.compile(rf"[{HAN}{SEA}]")
SEA_RE = re.compile(rf"[{SEA}]")
# Prefix length of the poor man's stemmer: "released"/"releases" -> "releas", "vaccines" ->
# "vaccin". Measured on the CLEF train pairs, 6 beat full words and 5/7 (bench/match_quality).
STEM = 6


def terms(norm: str) -> list[str]:
    """Index terms of a prepared text, in order, with repeats: words cut to STEM characters
    (numbers whole), character bigrams for Han/kana, trigrams for Thai-type scripts."""
    out: list[str] = []
    for m in _SEGMENT_RE.finditer(norm):
        run = m.group(0)
        kind = m.lastgroup
        if kind == "word":
            out.append(run if run.isdigit() else run[:STEM])
        elif kind == "han":
            if len(run) == 1:
                out.append(run)
            else:
                out.extend(run[i : i + 2] for i in range(len(run) - 1))
        elif len(run) <= 3:
            out.append(run)
        else:
            out.extend(run[i : i + 3] for i in range(len(run) - 2))
    return out


# QWERTY neighbours of each key (rows staggered by half a key): the letters a finger that
# missed most likely hit. Typos are corrected towards terms the index knows (index.py).
_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")
KEYBOARD: dict[str, str] = {
    ch: "".join(
        o
        for r2, row2 in enumerate(_ROWS)
        for c2, o in enumerate(row2)
        if o != ch
        and (
            (r2 == r and abs(c2 - c) == 1)
            or (r2 == r - 1 and c2 in (c, c + 1))
            or (r2 == r + 1 and c2 in (c - 1, c))
        )
    )
    for r, row in enumerate(_ROWS)
    for c, ch in enumerate(row)
}


def typo_variants(word: str) -> set[str]:
    """Index terms the word could have been before one slip of a finger: a letter dropped, two
    swapped, one replaced by a keyboard neighbour, or a neighbour typed beside it. Only the
    first STEM + 1 letters matter: terms are cut to STEM characters."""
    w = word[: STEM + 1]
    out: set[str] = set()
    for i in range(len(w)):
        out.add((w[:i] + w[i + 1 :])[:STEM])  # the typo added a letter
        if i + 1 < len(w):
            out.add((w[:i] + w[i + 1] + w[i] + w[i + 2 :])[:STEM])
        for near in KEYBOARD.get(w[i], ""):
            out.add((w[:i] + near + w[i + 1 :])[:STEM])  # a neighbour instead of the letter
        for near in set(KEYBOARD.get(w[i], "")) | set(KEYBOARD.get(w[i - 1], "") if i else ""):
            out.add((w[:i] + near + w[i:])[:STEM])  # the typo dropped a letter
    out.discard(w[:STEM])
    return out


def words(norm: str) -> list[str]:
    """The prepared text's words (not numbers, not CJK/Thai runs), in order."""
    return [
        m.group(0) for m in _SEGMENT_RE.finditer(norm) if m.lastgroup == "word" and not m.group(0).isdigit()
    ]


def word_count(norm: str) -> int:
    """How many words a message has; for scripts without spaces, two characters a word."""
    n = 0
    for m in _SEGMENT_RE.finditer(norm):
        n += 1 if m.lastgroup == "word" else max(1, len(m.group(0)) // 2)
    return n


_NON_WORD_RE = re.compile(rf"[^\w{MARKS}]+")
_SPACE_BETWEEN_HAN_RE = re.compile(rf"(?<=[{HAN}]) (?=[{HAN}])")


def compact(norm: str) -> str:
    """Text for character-level comparison: punctuation gone, no spaces inside CJK."""
    return _SPACE_BETWEEN_HAN_RE.sub("", _NON_WORD_RE.sub(" ", norm)).strip()


# One message is normalised for the index, then again for each decision check (and a claim's
# wording for every query it is a candidate of); normalize runs to a fixed point, so each call
# costs two passes or more. A small cache of recent texts makes the repeats free.
normalized = functools.lru_cache(maxsize=1024)(normalize)


def prepare(text: str) -> str:
    """The form of a text the index stores, takes terms from and compares characters of."""
    return compact(normalized(text))


_SHOW_RE = re.compile(rf"(?:https?://|www\.)\S+|[{HAN}]|[{SEA}]+|(?:[^\W_{HAN}{SEA}]|[{MARKS}])+")


def display_tokens(text: str) -> list[str]:
    """Words, links and single CJK characters of a raw text, for diffs: one token per CJK
    character so a diff finds the inserted "所有" inside a run."""
    return _SHOW_RE.findall(normalized(text))


def claim_wordings(claim_id: int, normalized: str, second: str | None) -> dict[int, str]:
    """A claim's texts for the model by vector key: its normalised text under its id, its
    second wording (normalised) under -id."""
    texts = {claim_id: normalized}
    if second and (second_text := normalize(second)):
        texts[-claim_id] = second_text
    return texts
