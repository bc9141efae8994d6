"""`crowdcheck match` as a whole process right after `crowdcheck import`, against a full scan.

    .venv/bin/python -m bench.match_cli --sizes 100000 --queries 700

For each size: synthetic claims (the real claims' vocabulary, as in bench.match_latency) are
written as a partner's JSON Lines file and loaded with the real `crowdcheck import` into a fresh
SQLite file (a subprocess, timed). Then the real `crowdcheck match` is started on that file and
fed the queries one line at a time: half tipline forwards of imported claims, half texts it does
not know (CLEF tweets from the shared data, or unimported synthetic claims without it). Each
message is timed from writing its line to reading its answer line, so the figure includes the
pipe round trip and the index's change-feed check, and the command runs unmodified.

The index build is not visible from outside, so it is derived: time to the first answer on the
imported file minus the same on a one-claim file (interpreter, imports, configuration).

Baseline, same run, same queries: what one writes first. Read every claim's normalised text
from the same file, then `rapidfuzz.process.extractOne` over all of them per query (default
scorer, WRatio). It runs in this process, so it pays no start-up of its own. At 10^5 it takes
seconds a query on a shared 2-core box, so it scans the first --scan-queries of the same
queries (default 50) and its total for all of them is printed as an estimate, labelled so.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench._data import CJK_THAI_CLAIMS, load_dataset, make_forwards
from bench.match_latency import percentiles, synthetic_claims

ROOT = Path(__file__).resolve().parents[1]


def cli(db: Path) -> list[str]:
    return [sys.executable, str(ROOT / "bot.py"), "--database-url", f"sqlite:///{db}"]


_HAN = re.compile(r"[\u3400-\u9fff]")
_THAI = re.compile(r"[\u0e00-\u0e7f]")
_KANA = re.compile(r"[\u3040-\u30ff]")


def _lang_of(text: str) -> str:
    """The language a partner would label a synthetic claim with (5 % are Chinese or Thai): the
    matcher offers, not answers, a message in another language than the stored one."""
    if _KANA.search(text):
        return "ja"
    return "zh-TW" if _HAN.search(text) else "th" if _THAI.search(text) else "en"


def write_jsonl(path: Path, claims: list[tuple[int, str]]) -> None:
    with path.open("w", encoding="utf-8") as f:
        for i, text in claims:
            record = {
                "id": f"bench-{i}",
                "text": text,
                "verdict": "false",
                "summary": f"No evidence supports this (case {i}).",
                "url": f"https://factcheck.example.org/{i}",
                "lang": _lang_of(text),
                "published": "2024-06-01",
                "partner": "Example Fact Check",
            }
            f.write(json.dumps(record, ensure_ascii=False) + "\n")


def run_import(db: Path, jsonl: Path) -> float:
    t0 = time.perf_counter()
    # --no-vectors: the lexical path is what is measured here (bench/semantic.py: the semantic one)
    subprocess.run([*cli(db), "import", "--no-vectors", str(jsonl)], check=True, capture_output=True)
    return time.perf_counter() - t0


def run_match(db: Path, queries: list[str], stderr_path: Path) -> tuple[float, list[float], float, int]:
    """(seconds to the first answer, per-message ms for the rest, total wall seconds, matches)."""
    with stderr_path.open("wb") as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(
            [*cli(db), "match"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err, bufsize=0
        )
        assert proc.stdin is not None and proc.stdout is not None
        samples: list[float] = []
        first = 0.0
        matched = 0
        for n, q in enumerate(queries):
            line = json.dumps({"text": q}, ensure_ascii=False).encode() + b"\n"
            t1 = time.perf_counter()
            proc.stdin.write(line)
            answer = proc.stdout.readline()
            if not answer:
                raise RuntimeError(f"crowdcheck match ended early; see {stderr_path}")
            matched += json.loads(answer)["decision"] == "match"
            if n == 0:
                first = time.perf_counter() - t0
            else:
                samples.append((time.perf_counter() - t1) * 1000)
        proc.stdin.close()
        proc.wait()
        total = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"crowdcheck match exited {proc.returncode}; see {stderr_path}")
    return first, samples, total, matched


def naive_scan(db: Path, queries: list[str]) -> tuple[float, list[float], float]:
    """(seconds to load the texts, per-message ms, total seconds) for the full-scan baseline."""
    from rapidfuzz import process

    from factdb.normalize import normalize

    t0 = time.perf_counter()
    with sqlite3.connect(db) as conn:
        texts = [row[0] for row in conn.execute("SELECT normalized FROM claim")]
    load = time.perf_counter() - t0
    samples = []
    for q in queries:
        t1 = time.perf_counter()
        process.extractOne(normalize(q), texts, processor=None)
        samples.append((time.perf_counter() - t1) * 1000)
    return load, samples, time.perf_counter() - t0


def make_queries(claims: list[tuple[int, str]], n: int, size: int) -> list[str]:
    rng = random.Random(size)
    forwards = [q.text for q in make_forwards(rng.sample(claims, min(2000, size)), n // 2, seed=size)]
    try:
        ds = load_dataset()
        unknown = rng.sample([q.text for q in ds.queries], min(len(ds.queries), n - len(forwards)))
    except FileNotFoundError:
        unknown = [t for _, t in synthetic_claims(list(CJK_THAI_CLAIMS), n - len(forwards), seed=size + 1)]
    queries = forwards + unknown
    rng.shuffle(queries)
    return queries


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="100000", help="comma-separated claim counts (10^6 takes long)")
    ap.add_argument("--queries", type=int, default=700)
    ap.add_argument("--scan-queries", type=int, default=50, help="queries the full-scan baseline runs")
    args = ap.parse_args(argv)

    try:
        real = [t for _, t in load_dataset().claims]
    except FileNotFoundError:
        print("note: shared data missing; vocabulary from our CJK sample claims only")
        real = list(CJK_THAI_CLAIMS)

    print(
        f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}, Python {sys.version.split()[0]}"
    )
    rows = []
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        # Fixed cost of a `crowdcheck match` process: interpreter, imports, a one-claim index.
        tiny_db, tiny = tmp / "tiny.sqlite3", tmp / "tiny.jsonl"
        write_jsonl(tiny, [(0, "Garlic cures the flu within two days")])
        run_import(tiny_db, tiny)
        fixed, _, _, _ = run_match(tiny_db, ["hello"], tmp / "tiny.err")
        print(f"start-up to first answer on a one-claim file: {fixed:.2f} s", flush=True)

        for size in [int(s) for s in args.sizes.split(",") if s]:
            claims = synthetic_claims(real, size)
            queries = make_queries(claims, args.queries, size)
            jsonl, db = tmp / f"claims-{size}.jsonl", tmp / f"bench-{size}.sqlite3"
            write_jsonl(jsonl, claims)
            imported = run_import(db, jsonl)
            print(f"{size:,}: crowdcheck import {imported:.1f} s", flush=True)

            first, samples, total, matched = run_match(db, queries, tmp / f"match-{size}.err")
            p50, p99 = percentiles(samples)
            build = first - fixed
            rows.append((size, "crowdcheck match (process)", imported, build, p50, p99, total, len(samples)))
            print(
                f"{size:,}: crowdcheck match {total:.1f} s, p50 {p50:.2f} ms, p99 {p99:.2f} ms, "
                f"{matched} of {len(queries)} answered 'match' ({args.queries // 2} are forwards)",
                flush=True,
            )

            load, samples, total = naive_scan(db, queries[: args.scan_queries])
            p50, p99 = percentiles(samples)
            estimate = load + sum(samples) / len(samples) / 1000 * len(queries)
            print(
                f"{size:,}: full scan of {len(samples)} queries {total:.1f} s; all {len(queries)} "
                f"would take ~{estimate:.0f} s (estimate: load + mean × {len(queries)})",
                flush=True,
            )
            rows.append(
                (size, "full scan extractOne (in-process)", imported, load, p50, p99, total, len(samples))
            )
            print(f"{size:,}: full scan p50 {p50:.1f} ms, p99 {p99:.1f} ms", flush=True)

    print()
    print(
        "| claims | method | import s | index build s | p50 ms/message | p99 ms/message | total wall s | messages |"
    )
    print("|---:|---|---:|---:|---:|---:|---:|---:|")
    for size, method, imported, build, p50, p99, total, n in rows:
        print(
            f"| {size:,} | {method} | {imported:.1f} | {build:.1f} | {p50:.2f} | {p99:.2f} | {total:.1f} | {n} |"
        )
    print(f"load average at the end: {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
