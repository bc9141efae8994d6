"""Matching quality on the shared real data, ours against baselines, in one run.

    .venv/bin/python -m bench.match_quality            # table on the dev split
    .venv/bin/python -m bench.match_quality --tune     # also re-derive factdb/matching/thresholds.py values

Database: the 3,013 claims of ../shared/data/claims.jsonl (plus our own 12 CJK/Thai claims
for the forwards). Queries: CLEF tweet -> claim pairs (train/dev), negatives (their claim
is held out: the right answer is "new"), and synthetic tipline forwards of known claims.
A prediction of a claim whose prepared text equals the right one's counts as right: the
data has a few verbatim duplicates and no method can tell them apart.
"""

from __future__ import annotations

import argparse
import math
import re
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from bench._data import CJK_THAI_CLAIMS, Dataset, Query, load_dataset, make_forwards
from bench._hard_forwards import hard_forwards
from factdb.language import wait_for_models
from factdb.matching import Matcher, Thresholds
from factdb.matching.semantic import FUSE_DEPTH
from factdb.matching.text import prepare, word_count

Ranker = Callable[[str], list[tuple[int, float]]]  # query -> [(claim_id, score)] best first

# The wrong-auto-answer budget from the matching issue: at most 1 % of all messages.
MAX_WRONG_AUTO = 0.01
# Tuning aims lower than the budget, so that the unseen dev split stays inside it.
TUNE_WRONG_AUTO = 0.005
# A "maybe" offer (buttons) should contain the right claim at least this often.
MIN_MAYBE_PRECISION = 0.6


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


def full_scan_ranker(claims: list[tuple[int, str]]) -> Ranker:
    from rapidfuzz import fuzz, process, utils

    ids = [c for c, _ in claims]
    texts = [t for _, t in claims]

    def rank(q: str) -> list[tuple[int, float]]:
        res = process.extract(q, texts, scorer=fuzz.token_set_ratio, processor=utils.default_process, limit=5)
        return [(ids[i], s) for _, s, i in res]

    return rank


_BM25_TOKEN = re.compile(r"\w+")


def bm25_ranker(claims: list[tuple[int, str]]) -> Ranker:
    import numpy as np
    from rank_bm25 import BM25Okapi

    ids = [c for c, _ in claims]
    bm = BM25Okapi([_BM25_TOKEN.findall(t.lower()) for _, t in claims])

    def rank(q: str) -> list[tuple[int, float]]:
        scores = bm.get_scores(_BM25_TOKEN.findall(q.lower()))
        top = np.argsort(-scores)[:5]
        return [(ids[i], float(scores[i])) for i in top]

    return rank


class PgTrgm:
    """pg_trgm kNN (`<->` distance over a GIN trigram index) in a throw-away table."""

    DSN = "host=127.0.0.1 port=5432 dbname=test user=postgres connect_timeout=3"

    def __init__(self, claims: list[tuple[int, str]], table: str = "bench_match_trgm") -> None:
        import psycopg

        self.table = table
        self.conn = psycopg.connect(self.DSN, autocommit=True)
        cur = self.conn.cursor()
        cur.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        cur.execute(f"DROP TABLE IF EXISTS {table}")
        cur.execute(f"CREATE TABLE {table} (id bigint PRIMARY KEY, body text NOT NULL)")
        with cur.copy(f"COPY {table} (id, body) FROM STDIN") as copy:
            for cid, text in claims:
                copy.write_row((cid, text))
        cur.execute(f"CREATE INDEX ON {table} USING gin (body gin_trgm_ops)")
        cur.execute(f"ANALYZE {table}")
        # kNN by distance uses a GiST index; a GIN index serves the `%` similarity filter,
        # so the query filters with `%` at a low threshold and orders by similarity.
        cur.execute("SET pg_trgm.similarity_threshold = 0.05")

    def rank(self, q: str) -> list[tuple[int, float]]:
        cur = self.conn.cursor()
        cur.execute(
            f"SELECT id, similarity(body, %s) AS s FROM {self.table} WHERE body %% %s "
            "ORDER BY s DESC, id LIMIT 5",
            (q, q),
        )
        return [(int(i), float(s) * 100) for i, s in cur.fetchall()]

    def close(self) -> None:
        try:
            self.conn.execute(f"DROP TABLE IF EXISTS {self.table}")
        finally:
            self.conn.close()


# --- thresholds ------------------------------------------------------------------------------


def tune(groups: list[list[Ranked]], same: Callable[[int, int | None], bool]) -> tuple[float, float, float]:
    """(confident, maybe, short_text_confident) from groups of training rows.

    confident: the lowest score at which wrong auto-answers stay within TUNE_WRONG_AUTO of
    the messages *in every group* (CLEF paraphrases and tipline forwards are tuned as
    separate groups, so the easy forwards cannot dilute the paraphrases' errors; short
    messages are excluded, they have their own threshold).
    short_text_confident: the same rule on short messages only, never below 95.
    maybe: the lowest score from which offered top-5 lists contain the right claim at least
    MIN_MAYBE_PRECISION of the time, counted cumulatively downwards from `confident`.
    """

    def words(r: Ranked) -> int:
        return word_count(prepare(r.query.text))

    def lowest_safe(subset: list[Ranked], total: int) -> float:
        best = 100.0
        for t in [x / 2 for x in range(200, 39, -1)]:
            wrong = sum(
                1 for r in subset if r.scores and r.scores[0] >= t and not same(r.ids[0], r.query.claim_id)
            )
            if wrong > TUNE_WRONG_AUTO * total:
                break
            best = t
        return best

    limit = Thresholds().short_text_words
    confident = max(lowest_safe([r for r in g if words(r) > limit], len(g)) for g in groups)
    rows = [r for g in groups for r in g]
    long_rows = [r for r in rows if words(r) > limit]
    short_conf = max(95.0, lowest_safe([r for r in rows if words(r) <= limit], len(rows)))
    maybe = confident
    for t in [x / 2 for x in range(int(confident * 2) - 1, 39, -1)]:
        offered = [r for r in long_rows if r.scores and t <= r.scores[0] < confident]
        if not offered:
            continue
        hit = sum(1 for r in offered if any(same(c, r.query.claim_id) for c in r.ids[:5]))
        if hit / len(offered) < MIN_MAYBE_PRECISION:
            break
        maybe = t
    return confident, maybe, short_conf


# --- lexical, semantic and fused side by side ------------------------------------------------


class _CachedStage:
    """The semantic stage over precomputed vectors (bench/_vectors.py caches them on disk):
    what factdb.semantic.stage.SemanticStage does, without re-embedding on every run."""

    def __init__(self, claims: Sequence[tuple[int, str]]) -> None:
        from bench._vectors import embed_cached
        from factdb.normalize import normalize
        from factdb.semantic.embedder import DIM, shared_embedder
        from factdb.semantic.index import ExactIndex

        self.embedder = shared_embedder()
        self.index = ExactIndex(DIM)
        self.index.add([c for c, _ in claims], embed_cached([normalize(t) for _, t in claims], "passage"))
        self._normalize = normalize
        self._queries: dict[str, object] = {}

    def prefetch(self, texts: Sequence[str]) -> None:
        from bench._vectors import embed_cached
        from factdb.semantic.embedder import message_for_model

        norm = [message_for_model(self._normalize(t)) for t in texts]
        for text, vector in zip(norm, embed_cached(norm, "query"), strict=True):
            self._queries[text] = vector

    def __len__(self) -> int:
        return len(self.index)

    def query_vector(self, text: str) -> object:
        from factdb.semantic.embedder import message_for_model

        norm = message_for_model(self._normalize(text))
        if norm not in self._queries:
            self._queries[norm] = self.embedder.query(norm)
        return self._queries[norm]

    def search(self, vector: object, k: int = 20) -> list[tuple[int, float]]:
        return self.index.search(vector, k)  # type: ignore[arg-type]

    def candidates(self, text: str, k: int = 20) -> list[tuple[int, float]]:
        return self.search(self.query_vector(text), k)


def semantic_side_by_side(ds: Dataset, claims: list[tuple[int, str]], same, hard) -> None:  # type: ignore[no-untyped-def]
    """Rankings and the bot's decisions: lexical alone, semantic alone (rankings only), and
    fused as Matcher does when the semantic package and vectors are there."""
    from factdb import semantic
    from factdb.semantic.fusion import reciprocal_rank_fusion

    if not semantic.available():
        print("## lexical / semantic / fused: skipped (the semantic package is not installed)\n")
        return
    from bench._crosslingual import build_cross_lingual

    stage = _CachedStage(claims)
    langs = stored_languages(claims)
    lexical = Matcher.from_items(claims)
    fused = Matcher.from_items(claims, semantic=stage)  # type: ignore[arg-type]
    lexical._langs = fused._langs = langs
    sets: list[tuple[str, list[Query], Matcher, Matcher, _CachedStage, Callable]] = [  # type: ignore[type-arg]
        ("CLEF dev", ds.split("dev"), lexical, fused, stage, same),
        ("harder forwards, tuning", hard["tuning"], lexical, fused, stage, same),
        ("harder forwards, held-out", hard["heldout"], lexical, fused, stage, same),
    ]
    for heldout, direction in ((False, "→ en"), (False, "en →"), (True, "→ en"), (True, "en →")):
        cs = build_cross_lingual(heldout, direction)
        items = claims + [(cid, text) for cid, text, _ in cs.claims]
        x_stage = _CachedStage(items)
        x_lex = Matcher.from_items(items)
        x_fused = Matcher.from_items(items, semantic=x_stage)  # type: ignore[arg-type]
        # the claims' languages as the bot stores them (both matchers hold cross-language answers)
        x_lex._langs = x_fused._langs = langs | {cid: lang for cid, _, lang in cs.claims}
        x_prep = {cid: prepare(t) for cid, t in items}
        queries = [Query(text, right, "cross", lang) for text, right, lang, _ in cs.queries]
        side = "held-out" if heldout else "dev"
        sets.append(
            (f"cross-lingual {side}, {direction}", queries, x_lex, x_fused, x_stage, same_claim(x_prep))
        )
    print("## lexical, semantic and fused, side by side (fused = Matcher with the semantic stage)")
    print(
        "| set | method | r@1 | r@5 | answered right | wrong answers | right claim offered "
        "| right in first 3 | negatives offered |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for name, queries, lex_m, fused_m, st, same_fn in sets:
        st.prefetch([q.text for q in queries])
        rows = {"lexical": [], "semantic": [], "fused": []}  # type: ignore[var-annotated]
        for q in queries:
            lex = [(c.claim_id, c.score) for c in lex_m.search(q.text, FUSE_DEPTH)]
            sem = st.candidates(q.text, FUSE_DEPTH)
            fus = [(c.claim_id, c.fused) for c in reciprocal_rank_fusion(lex, sem)]
            for key, ranking in (("lexical", lex), ("semantic", sem), ("fused", fus)):
                rows[key].append(Ranked(q, [c for c, _ in ranking], [s for _, s in ranking]))
        for key in ("lexical", "semantic", "fused"):
            m = metrics(rows[key], same_fn, None)
            d: dict[str, float] | None = None
            if key != "semantic":
                d = decisions(lex_m if key == "lexical" else fused_m, queries, same_fn)
            wrong = "–" if d is None else str(round(d["wrong"] * len(queries)))
            cells = (
                ["–", wrong, "–", "–", "–"]
                if d is None
                else [
                    f"{d['answered_right']:.3f}",
                    wrong,
                    f"{d['offered_right']:.3f}",
                    f"{d['answered_right'] + d['offered_right']:.3f}",
                    f"{d['neg_offered']:.3f}" if any(q.claim_id is None for q in queries) else "–",
                ]
            )
            print(f"| {name} | {key} | {m['r@1']:.3f} | {m['r@5']:.3f} | " + " | ".join(cells) + " |")
    print()


# --- report ----------------------------------------------------------------------------------


def fmt(m: dict[str, float], keys: Sequence[str]) -> str:
    cells = []
    for k in keys:
        v = m.get(k)
        cells.append("   –  " if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:6.3f}")
    return " | ".join(cells)


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tune", action="store_true", help="re-derive thresholds on train")
    ap.add_argument("--forwards", type=int, default=3000, help="synthetic forwards to build")
    ap.add_argument("--no-pg", action="store_true", help="skip the pg_trgm baseline")
    ap.add_argument("--ours-only", action="store_true", help="skip every baseline (quick checks)")
    ap.add_argument("--no-semantic", action="store_true", help="skip the lexical/semantic/fused comparison")
    args = ap.parse_args(argv)

    # the matcher compares languages (a confident claim in another language is offered, not
    # answered): decide every message with the final detector, not its stand-in while loading
    wait_for_models()
    try:
        ds: Dataset = load_dataset()
    except FileNotFoundError as e:
        print(f"skipped: {e}")
        return 0
    extra = [(100_000 + i, t) for i, t in enumerate(CJK_THAI_CLAIMS)]
    claims = ds.claims + extra
    prepared = {cid: prepare(t) for cid, t in claims}
    same = same_claim(prepared)
    forwards = make_forwards(claims, args.forwards)
    fw_train, fw_dev = forwards[: len(forwards) // 2], forwards[len(forwards) // 2 :]

    t0 = time.perf_counter()
    matcher = Matcher.from_items(claims)
    build_ms = (time.perf_counter() - t0) * 1000
    matcher._langs = stored_languages(claims)

    def ours(q: str) -> list[tuple[int, float]]:
        return [(c.claim_id, c.score) for c in matcher.match(q).candidates]

    thresholds = matcher.thresholds
    if args.tune:
        train_negatives = [q for q in ds.split("train") if q.claim_id is None]
        groups = [run_ranker(ours, qs)[0] for qs in (ds.split("train"), fw_train + train_negatives)]
        conf, maybe, short = tune(groups, same)
        thresholds = Thresholds(confident=conf, maybe=maybe, short_text_confident=short)
        print(
            f"tuned on train ({sum(map(len, groups))} messages): CONFIDENT = {conf}, "
            f"MAYBE = {maybe}, SHORT_TEXT_CONFIDENT = {short}"
        )
        print("  -> put these into factdb/matching/thresholds.py\n")
        matcher.thresholds = thresholds

    hard = hard_forwards(claims, [q for q in ds.queries if q.claim_id is None])
    rankers: list[tuple[str, Ranker, float | None]] = [("ours (two-stage)", ours, thresholds.confident)]
    if not args.ours_only:
        rankers += [
            ("full scan token_set_ratio", full_scan_ranker(claims), None),
            ("BM25 (rank_bm25)", bm25_ranker(claims), None),
        ]
    pg: PgTrgm | None = None
    if not args.no_pg and not args.ours_only:
        try:
            pg = PgTrgm(claims)
            rankers.append(("pg_trgm similarity (GIN)", pg.rank, None))
        except Exception as e:  # the baseline is optional on machines without PostgreSQL
            print(f"note: pg_trgm baseline skipped ({type(e).__name__}: {e})")

    keys = ["r@1", "r@5", "mrr", "auto", "precision", "wrong_auto", "fmr_neg"]
    header = " | ".join(f"{k:>6s}" for k in keys)
    try:
        for title, queries in [
            ("CLEF dev (171 pairs + 27 negatives)", ds.split("dev")),
            ("CLEF train (719 pairs + 82 negatives)", ds.split("train")),
            (
                f"tipline forwards, held-out half ({len(fw_dev)}) + dev negatives",
                fw_dev + [q for q in ds.split("dev") if q.claim_id is None],
            ),
        ]:
            print(f"## {title}")
            print(f"| method                     | {header} | ms/query |")
            print("|" + "---|" * (len(keys) + 2))
            for name, rank, thr in rankers:
                if pg is not None and rank == pg.rank and "train" in title:
                    continue  # ~150 ms a query: the dev split and the forwards are enough
                rows, ms = run_ranker(rank, queries)
                # Baselines have no calibrated threshold: their auto-answer columns stay empty.
                m = metrics(rows, same, thr)
                print(f"| {name:26s} | {fmt(m, keys)} | {ms:8.2f} |")
            d = decisions(matcher, queries, same)
            print(
                f"ours, as the bot decides (word-swap and content checks included): answered at once and "
                f"right {d['answered_right']:.3f} of positives, wrong answers {d['wrong']:.3f} of all "
                f"messages, right claim offered {d['offered_right']:.3f} of positives, negatives "
                f"answered {d['neg_answered']:.3f} / offered something {d['neg_offered']:.3f}"
            )
            print()
        print("## harder forwards (bench/_hard_forwards.py: other generators, split by claim)")
        print(
            "| side | forwards | negatives | answered at once, right | wrong answers | right claim offered |"
        )
        print("|---|---:|---:|---:|---:|---:|")
        for side in ("tuning", "heldout"):
            queries = hard[side]
            d = decisions(matcher, queries, same)
            n_pos = sum(q.claim_id is not None for q in queries)
            wrong = round(d["wrong"] * len(queries))
            print(
                f"| {side} | {n_pos} | {len(queries) - n_pos} | {d['answered_right']:.3f} | {wrong} | "
                f"{d['offered_right']:.3f} |"
            )
        print()
    finally:
        if pg is not None:
            pg.close()
    if not args.no_semantic:
        semantic_side_by_side(ds, claims, same, hard)
    print(
        f"thresholds: confident={thresholds.confident} maybe={thresholds.maybe} "
        f"short_text_confident={thresholds.short_text_confident} "
        f"(short = at most {thresholds.short_text_words} words)"
    )
    print(f"index build: {build_ms:.0f} ms for {len(claims)} claims")
    print(
        "auto = positives answered at once and correctly; wrong_auto = wrong auto-answers / "
        "all messages; fmr_neg = negatives auto-answered"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
