"""Speed and memory of the semantic stage at 10^5 and 10^6 claims.

    python -m bench.semantic --claims 100000 --lexical     # per message: lexical + embed + vectors
    python -m bench.semantic --claims 1000000              # vector indexes only, memory

Per message, in one loop and one process: the lexical match (factdb.matching over synthetic
claims from the real claims' vocabulary, as bench/match_latency.py), the query embedding
(multilingual-e5-small 4-bit, one thread) and the vector search; the baseline in the same run
is the lexical match alone. Claim vectors at scale are synthetic: the real claims' e5 vectors
(3,013, from the shared data) each copied with Gaussian noise and re-normalised, so the index
sees the real distribution's spread; embedding 10^6 real texts would take ~9 CPU-hours here.
Queries: CLEF dev tweets and forwards, embedded for real. Memory: RSS growth of each index.
Also: storing and reloading the vectors (float16 in claim_vector, SQLite file) at that scale.
"""

from __future__ import annotations

import gc
import os
import tempfile
import time

import numpy as np
from sqlalchemy import create_engine, insert

from bench._data import load_dataset, make_forwards, shared_data_dir
from bench._report import arguments, print_table
from bench._vectors import embed_cached, lexical_matcher
from bench.match_latency import percentiles, rss_mb, synthetic_claims
from factdb.matching.semantic import FUSE_DEPTH
from factdb.normalize import normalize
from factdb.semantic.embedder import DIM, MESSAGE_TOKENS, THREADS, Embedder, message_for_model
from factdb.semantic.index import ApproximateIndex, ExactIndex
from factdb.semantic.stage import SemanticStage
from factdb.semantic.store import claim_vector, load_vectors


def synthetic_vectors(real: np.ndarray, n: int, noise: float = 0.35, seed: int = 7) -> np.ndarray:
    """n unit vectors around the real ones (cosine to their source ~0.9 at noise 0.35)."""
    rng = np.random.default_rng(seed)
    out = np.empty((n, DIM), dtype=np.float32)
    for start in range(0, n, 50_000):
        m = min(50_000, n - start)
        block = real[rng.integers(0, len(real), m)] + noise / np.sqrt(DIM) * rng.standard_normal((m, DIM))
        out[start : start + m] = block / np.linalg.norm(block, axis=1, keepdims=True)
    return out


def timed(fn, items) -> tuple[list[float], list[float]]:  # type: ignore[no-untyped-def]
    """Wall-clock and this thread's CPU time per call, in ms. On a box shared with other
    helpers (load average 30-40 on 2 cores) wall time is mostly waiting for a core; CPU time
    is what the call costs and what an idle machine's wall time would be close to."""
    wall, cpu = [], []
    for item in items:
        start, start_cpu = time.perf_counter(), time.thread_time()
        fn(item)
        wall.append((time.perf_counter() - start) * 1000)
        cpu.append((time.thread_time() - start_cpu) * 1000)
    return wall, cpu


def timing_columns(samples: tuple[list[float], list[float]]) -> dict[str, str]:
    """Wall and CPU p50/p99 of `timed`'s samples, as table columns."""
    (p50, p99), (c50, c99) = percentiles(samples[0]), percentiles(samples[1])
    return {
        "wall p50 ms": f"{p50:.2f}",
        "wall p99 ms": f"{p99:.2f}",
        "CPU p50 ms": f"{c50:.2f}",
        "CPU p99 ms": f"{c99:.2f}",
    }


def _row(n: int, what: str, samples: tuple[list[float], list[float]], **extra: object) -> dict[str, object]:
    return {"claims": n, "what": what, **timing_columns(samples), **extra}


def main() -> None:
    parser = arguments(__doc__)
    parser.add_argument("--claims", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--lexical", action="store_true", help="also build the lexical index (slow at 10^6)")
    parser.add_argument("--no-exact", action="store_true", help="skip the exact index")
    parser.add_argument("--store", action="store_true", help="also time storing/reloading the vectors")
    args = parser.parse_args()
    os.environ.setdefault("CROWDCHECK_SHARED_DATA", str(shared_data_dir() or "/work/shared/data"))
    ds = load_dataset()
    n = args.claims
    real = embed_cached([normalize(t) for _, t in ds.claims], "passage")
    forwards = [q.text for q in make_forwards(ds.claims, args.queries // 2, seed=99)]
    texts = ([q.text for q in ds.split("dev")] + forwards)[: args.queries]
    qvecs = embed_cached([normalize(t) for t in texts], "query")
    rows: list[dict[str, object]] = []

    embedder = Embedder(query_cache=0)  # every message embedded: no repeated message here
    embedder.query("warm up")
    threads = f"{THREADS} thread{'s' if THREADS > 1 else ''}, {embedder.engine} engine"
    whole = embedder._model.query  # the engine itself: the whole message, no token budget
    rows.append(
        _row(
            n,
            f"embed query, whole message (baseline; e5-small q4, {threads})",
            timed(lambda t: whole(message_for_model(normalize(t))), texts),
        )
    )
    rows.append(
        _row(
            n,
            f"embed query, first {MESSAGE_TOKENS} tokens (the bot; {threads})",
            timed(lambda t: embedder.query(message_for_model(normalize(t))), texts),
        )
    )

    base = rss_mb()
    vectors = synthetic_vectors(real, n)
    ids = list(range(n))
    print(f"synthetic vectors: {vectors.nbytes / 2**20:.0f} MB float32", flush=True)
    indexes: dict[str, object] = {}

    def built(name: str, what: str, make):  # type: ignore[no-untyped-def]
        """Build an index of the vectors (its time and RSS growth), time FUSE_DEPTH-nearest searches."""
        gc.collect()
        before, start = rss_mb(), time.perf_counter()
        index = make()
        index.add(ids, vectors)
        build, grew = time.perf_counter() - start, rss_mb() - before
        indexes[name] = index
        searches = timed(lambda q: index.search(q, FUSE_DEPTH), qvecs)
        size = f"{index.nbytes() / 2**20:.0f} (RSS +{grew:.0f})"
        rows.append(_row(n, what, searches))
        # the table's columns are its first row's (the embedding's): build and memory apart
        print(f"{name}: built in {build:.1f} s, index MB {size}", flush=True)
        return index

    if not args.no_exact:
        exact = built("exact (numpy float32)", "exact search", lambda: ExactIndex(DIM))
    approx = built("approximate (usearch HNSW i8)", "approximate search", lambda: ApproximateIndex(DIM))
    if "exact (numpy float32)" in indexes:
        agree = np.mean(
            [
                len({c for c, _ in exact.search(q, 10)} & {c for c, _ in approx.search(q, 10)}) / 10
                for q in qvecs
            ]
        )
        print(f"approximate recall@10 against exact: {agree:.3f}")

    if args.lexical:
        start, before = time.perf_counter(), rss_mb()
        lexical = lexical_matcher(synthetic_claims([t for _, t in ds.claims], n))
        took, grew = time.perf_counter() - start, rss_mb() - before
        print(f"lexical index built in {took:.1f} s (RSS +{grew:.0f} MB, with its claims' texts)", flush=True)
        lex = timed(lexical.match, texts)
        rows.append(_row(n, "lexical match alone (baseline)", lex))
        for name, index in indexes.items():
            search = index.search  # type: ignore[attr-defined]

            def message(t: str, search=search) -> None:  # type: ignore[no-untyped-def]
                lexical.match(t)
                search(embedder.query(message_for_model(normalize(t))), FUSE_DEPTH)

            rows.append(_row(n, f"per message: lexical + embed + {name}", timed(message, texts)))
            # the bot's path: Matcher.match with the stage (fusion, decision, languages); the
            # synthetic claims answer none of these messages lexically, so each is embedded.
            # The first pass also detects the candidate claims' languages (the bot reads them
            # from the claim table; detected once for claims stored without one).
            lexical.semantic = SemanticStage(embedder, index)
            first = timed(lexical.match, texts)
            rows.append(_row(n, f"Matcher.match + stage ({name}), claims' languages detected", first))
            rows.append(
                _row(n, f"Matcher.match + stage ({name}), languages known", timed(lexical.match, texts))
            )
            lexical.semantic = None

    if args.store:
        with tempfile.TemporaryDirectory() as tmp:
            engine = create_engine(f"sqlite:///{tmp}/v.sqlite3")
            claim_vector.metadata.create_all(engine)
            start = time.perf_counter()
            with engine.begin() as conn:
                for s in range(0, n, 20_000):
                    conn.execute(
                        insert(claim_vector),
                        [
                            {
                                "claim_id": i,
                                "model": embedder.model_id,
                                "text_hash": "x",
                                "vector": vectors[i].astype(np.float16).tobytes(),
                            }
                            for i in range(s, min(n, s + 20_000))
                        ],
                    )
            stored = time.perf_counter() - start
            start = time.perf_counter()
            loaded_ids, _ = load_vectors(engine, embedder.model_id)
            load = time.perf_counter() - start
            size = os.path.getsize(f"{tmp}/v.sqlite3") / 2**20
            print(
                f"store {len(loaded_ids)} vectors: {stored:.1f} s, reload {load:.1f} s, SQLite file {size:.0f} MB"
            )
    print(f"process RSS {rss_mb():.0f} MB (vectors and indexes +{rss_mb() - base:.0f} MB)")
    print_table(rows)


if __name__ == "__main__":
    main()
