"""Start-up of the semantic stage at national scale: the approximate index built from the stored
vectors (the baseline, as before the snapshot) against restored from its snapshot and caught up.

    python -m bench.vector_snapshot --claims 100000
    python -m bench.vector_snapshot --claims 1000000 --changed 0.005

One SQLite file with `--claims` synthetic vectors in claim_vector (bench/semantic.py's: the real
claims' e5 vectors copied with noise) under synthetic texts, and the bot's start-up path,
`SemanticStage.from_database(engine, embed_missing=False, texts=...)`, run three times in one
process: (1) no snapshot: load the vectors, build the index (the baseline), then save the
snapshot (timed apart); (2) a restart with nothing changed; (3) a restart after `--changed` of
the claims were edited (new vector stored), a tenth as many removed and as many added. Below
200,000 claims the approximate index is forced (the bot would use the exact one). Reported:
wall and process CPU seconds (usearch's build uses every core), the snapshot's size, and whether
the restored index answers as the one saved. `--compare` also builds a fresh index after (3)
and reports the overlap of the top 10 with the caught-up one (HNSW: not identical by design).
"""

from __future__ import annotations

import gc
import os
import tempfile
import time
from pathlib import Path

import numpy as np
from sqlalchemy import create_engine, delete, insert

from bench._data import load_dataset, shared_data_dir
from bench._report import load_average, print_table, time_calls
from bench._vectors import embed_cached
from bench.match_latency import rss_mb
from bench.semantic import synthetic_vectors
from factdb.normalize import normalize
from factdb.semantic import index as vector_index
from factdb.semantic import snapshot
from factdb.semantic.embedder import DIM
from factdb.semantic.stage import SemanticStage, _index_keys
from factdb.semantic.store import claim_vector, text_hash

MODEL = "bench-synthetic"


class StoredOnly:
    """The stage's embedder when every vector is stored: start-up never embeds."""

    model_id = MODEL

    def passages(self, texts, batch_size=32, progress=None):  # type: ignore[no-untyped-def]
        raise AssertionError("start-up embedded a claim")

    def query(self, text: str) -> np.ndarray:
        raise AssertionError("start-up embedded a message")


def store(engine, texts: dict[int, str], vectors: np.ndarray, rows: list[int]) -> None:  # type: ignore[no-untyped-def]
    """Write the vectors of claims `rows` (vectors[i] is claim i + 1's) made from `texts`."""
    with engine.begin() as conn:
        for s in range(0, len(rows), 20_000):
            conn.execute(
                insert(claim_vector),
                [
                    {
                        "claim_id": cid,
                        "model": MODEL,
                        "text_hash": text_hash(texts[cid]),
                        "vector": vectors[cid - 1].astype(np.float16).tobytes(),
                    }
                    for cid in rows[s : s + 20_000]
                ],
            )


def start(engine, texts: dict[int, str], what: str, saves: list[float]) -> tuple[SemanticStage, dict]:  # type: ignore[no-untyped-def]
    gc.collect()
    saves.clear()
    before, wall, cpu = rss_mb(), time.perf_counter(), time.process_time()
    stage = SemanticStage.from_database(engine, embed_missing=False, embedder=StoredOnly(), texts=texts)  # type: ignore[arg-type]
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    r = stage.restored
    row = {
        "start": what,
        "wall s": f"{wall:.2f}",
        "CPU s": f"{cpu:.2f}",
        "of which save s": f"{sum(saves):.2f}" if saves else "-",
        "kept / removed / read": f"{r.kept} / {r.removed} / {r.added}" if r else "built",
        "vectors": len(stage),
        "RSS +MB": f"{rss_mb() - before:.0f}",
        "load": load_average(),
    }
    print(row, flush=True)
    return stage, row


def main() -> None:
    import argparse

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--claims", type=int, default=100_000)
    parser.add_argument("--changed", type=float, default=0.005, help="fraction of claims edited before (3)")
    parser.add_argument("--compare", action="store_true", help="build a fresh index after (3) and compare")
    parser.add_argument("--dir", default=None, help="working directory (default: a temporary one)")
    args = parser.parse_args()
    os.environ.setdefault("CROWDCHECK_SHARED_DATA", str(shared_data_dir() or "/work/shared/data"))
    n = args.claims
    # the approximate index (and so the snapshot) even below its 200,000 vectors, as the bot's at 10^6
    vector_index.APPROXIMATE_FROM = min(vector_index.APPROXIMATE_FROM, n)
    ds = load_dataset()
    real = embed_cached([normalize(t) for _, t in ds.claims], "passage")
    queries = real[:300]

    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        where = Path(tmp) / "vector-index"
        os.environ[snapshot.SETTING] = str(where)
        engine = create_engine(f"sqlite:///{tmp}/v.sqlite3")
        claim_vector.metadata.create_all(engine)
        print(f"{n} claims, {load_average()}", flush=True)
        began = time.perf_counter()
        vectors = synthetic_vectors(real, n + n // 10 * 2 + 10)  # spare rows for edits and additions
        texts = {cid: f"synthetic claim number {cid}" for cid in range(1, n + 1)}
        store(engine, texts, vectors, list(texts))
        print(f"stored {n} vectors in {time.perf_counter() - began:.1f} s", flush=True)

        saves: list[float] = []
        time_calls(snapshot, "save", saves)
        rows = []
        built, row = start(engine, texts, "(1) no snapshot: read vectors, build, save (baseline)", saves)
        rows.append(row)
        size = sum(f.stat().st_size for f in where.iterdir())
        expected = [built.index.search(q, 10) for q in queries]
        del built
        restored, row = start(engine, texts, "(2) restart, nothing changed", saves)
        rows.append(row)
        same = np.mean([restored.index.search(q, 10) == e for q, e in zip(queries, expected, strict=True)])
        del restored, expected

        # parts of (2), alone
        t = time.perf_counter()
        snap = snapshot.restore(where, MODEL, DIM, _index_keys)
        t_restore = time.perf_counter() - t
        t = time.perf_counter()
        snapshot.hashes_of(texts)
        t_hash = time.perf_counter() - t
        del snap

        rng = np.random.default_rng(3)
        edited = rng.choice(np.arange(1, n + 1), int(n * args.changed), replace=False).tolist()
        removed = rng.choice(np.arange(1, n + 1), int(n * args.changed / 10), replace=False).tolist()
        removed = sorted(set(removed) - set(edited))
        added = list(range(n + 1, n + 1 + int(n * args.changed / 10)))
        with engine.begin() as conn:
            for s in range(0, len(edited), 500):
                conn.execute(delete(claim_vector).where(claim_vector.c.claim_id.in_(edited[s : s + 500])))
        for cid in edited:
            texts[cid] = f"synthetic claim number {cid}, corrected"
        for cid in removed:
            del texts[cid]
        for cid in added:
            texts[cid] = f"synthetic claim number {cid}"
        # an edited claim's new vector: another synthetic row (the vector changes with the text)
        spare = {cid: n + len(added) + 1 + i for i, cid in enumerate(edited)}
        with engine.begin() as conn:
            conn.execute(
                insert(claim_vector),
                [
                    {
                        "claim_id": cid,
                        "model": MODEL,
                        "text_hash": text_hash(texts[cid]),
                        "vector": vectors[spare[cid] - 1].astype(np.float16).tobytes(),
                    }
                    for cid in edited
                ],
            )
        store(engine, texts, vectors, added)
        caught, row = start(
            engine,
            texts,
            f"(3) restart after {len(edited)} edits, {len(removed)} removals, {len(added)} new",
            saves,
        )
        rows.append(row)
        overlap = None
        if args.compare:
            os.environ[snapshot.SETTING] = "off"
            fresh, row = start(engine, texts, "(4) fresh build of (3)'s claims, no snapshot", saves)
            rows.append(row)
            overlap = np.mean(
                [
                    len(
                        {k for k, _ in caught.index.search(q, 10)} & {k for k, _ in fresh.index.search(q, 10)}
                    )
                    / 10
                    for q in queries
                ]
            )

    print()
    print_table(rows, markdown=True)
    print(f"\nsnapshot on disk: {size / 2**20:.0f} MB (index + sidecar)")
    print(f"(2) alone: restore with checksum {t_restore:.2f} s, hashing {n} texts {t_hash:.2f} s")
    print(f"restored index answers as the saved one (top 10, 300 queries): {same:.3f}")
    if overlap is not None:
        print(f"top-10 overlap, caught-up vs fresh build: {overlap:.3f}")
    print(load_average())


if __name__ == "__main__":
    main()
