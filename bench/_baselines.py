"""The baselines bench.match_quality measures our matcher against: a full rapidfuzz scan,
BM25, and PostgreSQL's pg_trgm."""

from __future__ import annotations

import re
from collections.abc import Callable

Ranker = Callable[[str], list[tuple[int, float]]]  # query -> [(claim_id, score)] best first


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
