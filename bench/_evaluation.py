"""How bench.match_quality scores a ranking and a matcher's decisions (shared by its lexical
and semantic parts)."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from bench._data import Query
from factdb.matching import Matcher

Ranker = Callable[[str], list[tuple[int, float]]]  # query -> [(claim_id, score)] best first


@dataclass
class Ranked:
    query: Query
    ids: list[int]
    scores: list[float]


def run_ranker(rank: Ranker, queries: Sequence[Query]) -> tuple[list[Ranked], float]:
    t0 = time.perf_counter()
    out = []
    for q in queries:
        res = rank(q.text)
        out.append(Ranked(q, [c for c, _ in res], [s for _, s in res]))
    return out, (time.perf_counter() - t0) / max(len(queries), 1) * 1000


def same_claim(ds_keys: dict[int, str]) -> Callable[[int, int | None], bool]:
    def same(pred: int, truth: int | None) -> bool:
        return truth is not None and (pred == truth or ds_keys.get(pred) == ds_keys.get(truth))

    return same


def metrics(
    rows: list[Ranked], same: Callable[[int, int | None], bool], threshold: float | None
) -> dict[str, float]:
    pos = [r for r in rows if r.query.claim_id is not None]
    neg = [r for r in rows if r.query.claim_id is None]

    def rank_of(r: Ranked) -> int | None:
        for i, c in enumerate(r.ids[:5]):
            if same(c, r.query.claim_id):
                return i
        return None

    ranks = [rank_of(r) for r in pos]
    m: dict[str, float] = {
        "n": len(rows),
        "r@1": sum(k == 0 for k in ranks) / max(len(pos), 1),
        "r@5": sum(k is not None for k in ranks) / max(len(pos), 1),
        "mrr": sum(1 / (k + 1) for k in ranks if k is not None) / max(len(pos), 1),
    }
    if threshold is not None:
        auto = [r for r in rows if r.scores and r.scores[0] >= threshold]
        right = [r for r in auto if same(r.ids[0], r.query.claim_id)]
        m["auto"] = len(right) / max(len(pos), 1)  # positives answered at once, correctly
        m["wrong_auto"] = (len(auto) - len(right)) / max(len(rows), 1)
        m["precision"] = len(right) / len(auto) if auto else float("nan")
        m["fmr_neg"] = sum(1 for r in neg if r.scores and r.scores[0] >= threshold) / max(len(neg), 1)
    return m


def decisions(matcher: Matcher, queries: list, same) -> dict[str, float]:
    """What a citizen gets: the bot's decision, not just the score ranking."""
    pos = [q for q in queries if q.claim_id is not None]
    neg = [q for q in queries if q.claim_id is None]
    right = wrong = offered = neg_answered = neg_offered = 0
    for q in queries:
        r = matcher.match(q.text)
        if q.claim_id is None:
            neg_answered += r.decision == "match"
            neg_offered += r.decision == "maybe"
            wrong += r.decision == "match"
        elif r.decision == "match":
            ok = same(r.claim_id, q.claim_id)
            right += ok
            wrong += not ok
        elif r.decision == "maybe":
            offered += any(same(c.claim_id, q.claim_id) for c in r.offered[:3])
    return {
        "answered_right": right / max(len(pos), 1),
        "wrong": wrong / max(len(queries), 1),
        "offered_right": offered / max(len(pos), 1),
        "neg_answered": neg_answered / max(len(neg), 1),
        "neg_offered": neg_offered / max(len(neg), 1),
    }


def stored_languages(claims: Sequence[tuple[int, str]]) -> dict[int, str | None]:
    """The claims' languages as the bot stores them (`crowdcheck import` and intake detect
    them on the claim's text): the matcher offers, not answers, a confident claim in another
    language than the message."""
    from factdb.language import detect_language

    return {cid: detect_language(text) for cid, text in claims}


# --- baselines -------------------------------------------------------------------------------
