"""Scoring: one score 0..100 for each candidate the index found.

The IDF-weighted term overlap (Ochiai coefficient) covers paraphrases that share the rare
words but not the word order; rapidfuzz's character similarity lifts candidates that also
look alike character by character (typos, look-alikes, truncation), through a geometric
mean. Character scores alone ranked paraphrases badly (a long tweet always contains some
window that resembles a short claim: recall@1 0.37 on CLEF dev), so they only lift
candidates that already share the rare words.
"""

from __future__ import annotations

import math

import numpy as np
from rapidfuzz import fuzz, process

from factdb.matching.index import TermIndex

# Claims to rescore with rapidfuzz, and how many of them (by term overlap) also get the
# costlier aligned-window comparison.
RESCORE = 200
WINDOW_RESCORE = 20
# A long message (a tweet, a paragraph) brings many rare terms, and BM25 on them already puts
# its claim near the top: only the best RESCORE_LONG go on to rapidfuzz. Measured with
# bench.match_quality: the same CLEF dev/train and forward results at 50 as at 200 (also
# against 10^5 extra synthetic claims), and rescoring is most of a long query's cost.
LONG_QUERY_TERMS = 24
RESCORE_LONG = 50
# Character comparisons are O(n*m); beyond this many characters a text is compared by its
# beginning only (the term overlap still sees all of it). Without the cap an 8 KB paste
# against a 4 KB claim took over a second, blocking every other citizen's update.
CHAR_LIMIT = 1000


def rank(
    index: TermIndex, query: str, limit: int, own_text: dict[int, float] | None = None
) -> list[tuple[int, float]]:
    """The best `limit` claims for a prepared query as (claim_id, score), best first.

    A claim found through both of its wordings (key id and -id) is listed once, with its
    best score; ties (verbatim duplicate claims) go to the lower id, so results do not
    depend on the order claims were indexed in. `own_text`, when given, receives for each
    listed claim the score of its own text (key id) where it was scored: the matcher asks
    whether a claim would still be answered without its second wording.
    """
    if limit <= 0:
        return []
    found = index.candidates(query, max(RESCORE, limit))
    if len(found) == 0:
        return []
    if found.query_terms >= LONG_QUERY_TERMS and len(found) > max(RESCORE_LONG, limit):
        found = found.best(max(RESCORE_LONG, limit))
    overlap = 100.0 * found.shared / np.sqrt(np.maximum(found.query_mass * found.claim_mass, 1e-9))
    np.minimum(overlap, 100.0, out=overlap)
    claim = np.abs(found.keys)  # a second wording (-id) is claim id
    # Character similarity only ever lifts a score to at most combine(overlap, 100), and no
    # score ends below its overlap; so a candidate whose best possible score is below the
    # `limit`-th best overlap among distinct claims cannot be in the answer. Dropping it
    # before rapidfuzz changes nothing in the result and saves most of the comparisons for
    # a message that clearly matches (and some for one that matches nothing).
    keep = _upper_bound(overlap) >= _kth_best(overlap, claim, limit) - _EPS
    keys = found.keys
    if not keep.all():
        rows, overlap, claim, keys = found.rows[keep], overlap[keep], claim[keep], keys[keep]
    else:
        rows = found.rows
    texts = index.texts_at(rows, CHAR_LIMIT)
    query = query[:CHAR_LIMIT]
    # Whole-text similarity is cheap (one C loop over all candidates)...
    whole = process.cdist([query], texts, scorer=fuzz.ratio, dtype=np.float32)[0]
    score = np.maximum(overlap, np.sqrt(overlap * whole))
    # ...the aligned-window score is not (O(n*m) for long texts), and it only matters
    # for candidates that already share many terms, so only the best few get it; and only
    # those it could still lift above both their score and the `limit`-th best score.
    floor = _kth_best(score, claim, limit) - _EPS
    q_len = len(query)
    for i in np.argsort(-overlap, kind="stable")[:WINDOW_RESCORE].tolist():
        c_len = len(texts[i])
        if min(q_len, c_len) < 0.9 * max(q_len, c_len):
            best_window = 100.0 * min(1.0, 0.55 + 0.5 * min(q_len, c_len) / max(q_len, c_len))
            reach = combine(float(overlap[i]), best_window)
            if reach > score[i] and reach >= floor:
                score[i] = max(score[i], combine(float(overlap[i]), window(query, texts[i])))
    out: list[tuple[int, float]] = []
    seen: set[int] = set()
    for i in np.lexsort((claim, -score)).tolist():
        cid = int(claim[i])
        if cid not in seen:
            seen.add(cid)
            out.append((cid, round(float(score[i]), 2)))
            if len(out) == limit:
                break
    if own_text is not None:
        for i in np.flatnonzero(keys > 0).tolist():
            if (cid := int(claim[i])) in seen:
                own_text[cid] = max(own_text.get(cid, 0.0), round(float(score[i]), 2))
    return out


# Slack for float rounding in the bounds above (scores are 0..100, shown to 2 decimals).
_EPS = 1e-6


def _upper_bound(overlap: np.ndarray) -> np.ndarray:
    """The highest score character similarity could give each candidate: combine(overlap, 100)."""
    return np.maximum(overlap, np.sqrt(overlap * 100.0))


def _kth_best(score: np.ndarray, claim: np.ndarray, k: int) -> float:
    """The k-th best score among distinct claims (each at its best wording), or -inf when
    fewer than k claims are there."""
    if len(score) < k:
        return -math.inf
    best: dict[int, float] = {}
    for i in np.argsort(-score, kind="stable").tolist():
        cid = int(claim[i])
        if cid not in best:
            best[cid] = float(score[i])
            if len(best) == k:
                return best[cid]
    return -math.inf


def combine(overlap: float, chars: float) -> float:
    """One score from the term overlap and the character similarity.

    Term overlap ranks paraphrases best (on the CLEF train pairs, character scores alone
    halve recall@1: a long tweet always contains *some* window resembling a short claim).
    Character similarity only lifts a candidate that also shares the rare words, through
    the geometric mean, which is what near-duplicate forwards with typos look like.
    """
    return max(overlap, math.sqrt(overlap * chars))


def window(query: str, claim: str) -> float:
    """Similarity of the best-aligned window when one text is much shorter than the other
    (truncated forwards, a claim quoted inside a long message), discounted by how much of
    the longer text it covers so that three words found in a long claim are not a match."""
    short, long_ = (query, claim) if len(query) <= len(claim) else (claim, query)
    if not short:
        return 0.0
    coverage = len(short) / len(long_)
    return fuzz.partial_ratio(short, long_) * min(1.0, 0.55 + 0.5 * coverage)
