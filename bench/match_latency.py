"""Match latency and index memory at 10^4..10^6 claims: ours vs a full rapidfuzz scan vs pg_trgm.

    .venv/bin/python -m bench.match_latency --sizes 10000,100000,1000000 --queries 300

Claims are synthetic, made with a fixed seed from the real claims' vocabulary (word
frequencies kept) plus 5 % Chinese/Thai claims from our own CJK sentences' characters, so the
index sees realistic term statistics without the research data being copied anywhere.
Queries are tipline-style forwards of indexed claims (half) and CLEF tweets (half).
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import re
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence

from bench._data import CJK_THAI_CLAIMS, load_dataset, make_forwards

_WORD = re.compile(r"[A-Za-z0-9']+|[^\sA-Za-z0-9']")


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def synthetic_claims(real: Sequence[str], n: int, seed: int = 7) -> list[tuple[int, str]]:
    rng = random.Random(seed)
    counts = Counter(w for t in real for w in _WORD.findall(t))
    words, weights = zip(*counts.items(), strict=True)
    lengths = [len(_WORD.findall(t)) for t in real]
    han = [ch for t in CJK_THAI_CLAIMS for ch in t if "\u4e00" <= ch <= "\u9fff"]
    thai = [ch for t in CJK_THAI_CLAIMS for ch in t if "\u0e00" <= ch <= "\u0e7f"]
    out: list[tuple[int, str]] = []
    n_latin = n - n // 20
    for i, length in enumerate(rng.choices(lengths, k=n_latin)):
        out.append((i, " ".join(rng.choices(words, weights, k=max(3, length)))))
    for i in range(n_latin, n):
        alphabet = han if i % 3 else thai
        out.append((i, "".join(rng.choices(alphabet, k=rng.randint(12, 40)))))
    return out


def percentiles(samples: list[float]) -> tuple[float, float]:
    samples = sorted(samples)
    p50 = statistics.median(samples)
    p99 = samples[min(len(samples) - 1, round(0.99 * (len(samples) - 1)))]
    return p50, p99


def time_queries(fn: Callable[[str], object], queries: Sequence[str]) -> tuple[float, float]:
    fn(queries[0])  # warm-up: lazy imports, caches
    samples = []
    for q in queries:
        t0 = time.perf_counter()
        fn(q)
        samples.append((time.perf_counter() - t0) * 1000)
    return percentiles(samples)


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="10000,100000,1000000")
    ap.add_argument("--queries", type=int, default=300)
    ap.add_argument(
        "--scan-queries",
        type=int,
        default=30,
        help="queries for the full scan at >= 10^6 (it takes seconds each)",
    )
    ap.add_argument("--pg-max-size", type=int, default=100_000)
    ap.add_argument("--pg-queries", type=int, default=50)
    args = ap.parse_args(argv)

    from rapidfuzz import fuzz, process, utils

    from factdb.matching import Matcher

    try:
        ds = load_dataset()
        real = [t for _, t in ds.claims]
        tweets = [q.text for q in ds.queries]
    except FileNotFoundError:
        print("note: shared data missing; vocabulary from our CJK sample claims only")
        real, tweets = list(CJK_THAI_CLAIMS), []

    print("| claims | method | build s | index MB | p50 ms | p99 ms | queries |")
    print("|---:|---|---:|---:|---:|---:|---:|")
    for size in [int(s) for s in args.sizes.split(",")]:
        claims = synthetic_claims(real, size)
        rng = random.Random(size)
        fw = [
            q.text
            for q in make_forwards(rng.sample(claims, min(2000, size)), args.queries // 2 + 1, seed=size)
        ]
        queries = (fw + rng.sample(tweets, min(len(tweets), args.queries - len(fw))))[: args.queries]
        gc.collect()
        before = rss_mb()
        t0 = time.perf_counter()
        matcher = Matcher.from_items(claims)
        build = time.perf_counter() - t0
        gc.collect()
        mem = rss_mb() - before
        p50, p99 = time_queries(matcher.match, queries)
        print(
            f"| {size:,} | ours | {build:.1f} | {mem:.0f} | {p50:.2f} | {p99:.2f} | {len(queries)} |",
            flush=True,
        )
        del matcher
        gc.collect()

        texts = [t for _, t in claims]
        scan_q = queries if size < 1_000_000 else queries[: args.scan_queries]
        if size >= 100_000:
            scan_q = scan_q[: max(args.scan_queries, len(scan_q) // 3)]
        processed = [utils.default_process(t) for t in texts]

        def scan(q: str, processed: list[str] = processed) -> object:
            return process.extract(utils.default_process(q), processed, scorer=fuzz.token_set_ratio, limit=5)

        p50, p99 = time_queries(scan, scan_q)
        print(
            f"| {size:,} | full scan token_set_ratio | 0 | – | {p50:.1f} | {p99:.1f} | {len(scan_q)} |",
            flush=True,
        )
        del processed

        if size <= args.pg_max_size:
            try:
                from bench._baselines import PgTrgm

                t0 = time.perf_counter()
                pg = PgTrgm(claims, table="bench_latency_trgm")
                build = time.perf_counter() - t0
            except Exception as e:  # optional baseline
                print(f"| {size:,} | pg_trgm | skipped: {type(e).__name__} | | | | |")
                continue
            try:
                size_mb = pg.conn.execute(
                    "SELECT pg_total_relation_size('bench_latency_trgm') / 1048576.0"
                ).fetchone()
                pg_q = queries[: args.pg_queries]
                p50, p99 = time_queries(pg.rank, pg_q)
                mb = float(size_mb[0]) if size_mb else float("nan")
                print(
                    f"| {size:,} | pg_trgm similarity (GIN) | {build:.1f} | {mb:.0f} (disk) | "
                    f"{p50:.1f} | {p99:.1f} | {len(pg_q)} |",
                    flush=True,
                )
            finally:
                pg.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
