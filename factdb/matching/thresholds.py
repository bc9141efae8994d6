"""Decision thresholds for the matcher (scores 0..100 from factdb/matching/scoring.py).

Derived from data, not chosen by feel: `python -m bench.match_quality --tune` re-derives them
on the *train* side of ../shared/data and reports the dev side. How (see docs/matching.md):

- CONFIDENT (answer at once): the lowest score at which wrong auto-answers stay within 0.5 %
  of the messages in each training group — CLEF train tweets (719 pairs + 82 negatives whose
  claim is held out) and 1,500 synthetic tipline forwards of known claims plus those
  negatives. 0.5 % is half the 1 % budget, so the unseen dev split keeps a margin
  (dev: 0.5 % wrong auto-answers, 97.9 % precision; forwards: 100 % answered correctly).
- MAYBE (offer the top candidates as buttons): `--tune` proposes the lowest score at which the
  offered top five still contain the right claim for 60 % of the messages (22.5). We raised it
  to 28 by hand: at 22.5, 96 % of the dev negatives (really new claims) were offered unrelated
  candidates; at 28, 26 % are, and the right claim is still among the offers (score ≥ 28, top
  three) for 66 % of the dev paraphrases (52 % at 32, 78 % at 22.5). Only candidates scoring at
  least MAYBE are offered.
- A CONFIDENT match is still downgraded to MAYBE when the citizen's text swaps several of the
  claim's words for others (`matching.words.substitutes`): same frame, likely another claim. Measured:
  mutated forwards answered at once 100 % → 98.7 %; claims with 30 % of their words swapped
  auto-answered ~100 % → 5 %; CLEF dev auto-answers 47 right / 1 wrong → 10 right / 0 wrong
  (the rest are offered as candidates).
- SHORT_TEXT_CONFIDENT: messages of at most SHORT_TEXT_WORDS words (two CJK/Thai characters
  count as a word) share their few words with many claims; the same rule on short training
  messages, floored at 95 so only a near-verbatim short claim is ever auto-answered.

Scores are mostly IDF-weighted term overlap, so 40 is already a strong lexical match; they are
not percentages of "sameness".
"""

from __future__ import annotations

CONFIDENT = 40.5
MAYBE = 28.0
SHORT_TEXT_CONFIDENT = 95.0
SHORT_TEXT_WORDS = 3
