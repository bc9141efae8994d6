"""Decision thresholds for the matcher (scores 0..100 from factdb/matching.py).

Derived from data, not chosen by feel: `python -m bench.match_quality --tune` re-derives them
on the *train* side of ../shared/data and reports the dev side. How (see docs/matching.md):

- CONFIDENT (answer at once): the lowest score at which wrong auto-answers stay within 0.5 %
  of the messages in each training group — CLEF train tweets (719 pairs + 82 negatives whose
  claim is held out) and 1,500 synthetic tipline forwards of known claims plus those
  negatives. 0.5 % is half the 1 % budget, so the unseen dev split keeps a margin
  (dev: 0.5 % wrong auto-answers, 97.9 % precision; forwards: 100 % answered correctly).
- MAYBE (offer the top candidates as buttons): the lowest score from which, going down from
  CONFIDENT, the offered top five still contain the right claim for at least 60 % of the
  messages.
- SHORT_TEXT_CONFIDENT: messages of at most SHORT_TEXT_WORDS words (two CJK/Thai characters
  count as a word) share their few words with many claims; the same rule on short training
  messages, floored at 95 so only a near-verbatim short claim is ever auto-answered.

Scores are mostly IDF-weighted term overlap, so 40 is already a strong lexical match; they are
not percentages of "sameness".
"""

from __future__ import annotations

CONFIDENT = 40.5
MAYBE = 22.5
SHORT_TEXT_CONFIDENT = 95.0
SHORT_TEXT_WORDS = 3
