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
