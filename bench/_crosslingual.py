"""A cross-lingual retrieval set built offline from human translations (no internet here).

The machine's gettext catalogs pair each English message with translators' renderings
(bench/_gettext_text.py). We take sentence-like messages (≥ 6 English words) and use them as
claims checked in one language arriving in another:

- "→ en": a zh-TW / es / lt translation is the citizen's message; the English original is a
  claim in a database that also holds the 3,013 real claims and other English messages as
  distractors. Right: the English original in the first three.
- "en →": the English original is the message; the translations are the claims (with other
  translated messages as distractors). Right: its translation in the first three.

Negatives: further messages of the same catalogs whose counterpart is not in the database
(the right answer is "new"); they measure what a looser cross-language offer costs.

Software messages are not rumours, and a catalog has many near-identical messages ("cannot
open file" / "cannot open directory"), which makes the distractors hard. Split by catalog: the
held-out quarter of catalogs (is_heldout_domain) is never used to calibrate.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from bench._gettext_text import is_heldout_domain, load_messages

__all__ = ["CrossSet", "build_cross_lingual"]

LANGS = ("zh-TW", "es", "lt")
MIN_WORDS = 6


@dataclass(frozen=True)
class CrossSet:
    claims: list[tuple[int, str, str]]  # (id, text, lang) added to the database
    queries: list[tuple[str, int, str, str]]  # (text, right claim id, query lang, direction)
    negatives: list[tuple[str, str]] = field(default_factory=list)  # (text, lang): no claim


def build_cross_lingual(
    heldout: bool,
    direction: str,
    per_lang: int = 60,
    distractors: int = 60,
    negatives: int = 60,
    first_id: int = 1_000_000,
    seed: int = 15,
) -> CrossSet:
    """The set for one direction, "→ en" or "en →" (each is its own database)."""
    rng = random.Random(seed)
    claims: list[tuple[int, str, str]] = []
    queries: list[tuple[str, int, str, str]] = []
    negs: list[tuple[str, str, str]] = []  # (message, its language, its counterpart)
    ids: dict[str, int] = {}  # claim text -> id (an English original is shared by languages)

    def claim(text: str, lang: str) -> int:
        if text not in ids:
            ids[text] = first_id + len(ids)
            claims.append((ids[text], text, lang))
        return ids[text]

    for lang in LANGS:
        pool = [
            m
            for m in load_messages(lang)
            if is_heldout_domain(m.domain) == heldout and len(m.source.split()) >= MIN_WORDS
        ]
        pool.sort(key=lambda m: (m.domain, m.source))
        rng.shuffle(pool)
        for m in pool[:per_lang]:
            if direction == "→ en":
                queries.append((m.text, claim(m.source, "en"), lang, direction))
            else:
                queries.append((m.source, claim(m.text, lang), "en", direction))
        for m in pool[per_lang : per_lang + distractors]:
            claim(m.source, "en") if direction == "→ en" else claim(m.text, lang)
        # after the claims and queries: the sets above do not change with this count
        rest = pool[per_lang + distractors : per_lang + distractors + negatives]
        negs.extend(
            (m.text, lang, m.source) if direction == "→ en" else (m.source, "en", m.text) for m in rest
        )
    # a catalog repeats messages: a negative whose counterpart is a claim after all is left out
    return CrossSet(claims, queries, [(text, lang) for text, lang, other in negs if other not in ids])
