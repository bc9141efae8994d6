"""How fast `crowdcheck import` loads a partner's JSON Lines file, against a naive baseline.

    .venv/bin/python -m bench.import_speed --sizes 100000,1000000

Synthetic claims (unique texts, all contract fields) are imported into a fresh SQLite file and,
when reachable, into a throw-away PostgreSQL schema. The baseline is what one writes first:
one ORM object per row, `session.add`, a commit every 1000 rows; it runs on a smaller size
because at full size it would take the whole coffee break.
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
import uuid
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from bench._report import pg_reachable, pg_schema
from factdb.db import Database
from factdb.interchange import importer
from factdb.models import Claim, Clarification, utcnow
from factdb.normalize import normalize

_SUBJECTS = [
    "Drinking hot water",
    "Garlic",
    "The new 5G tower",
    "A banana a day",
    "Vitamin C",
    "The city council",
    "The health ministry",
    "Onions in socks",
    "Bleach",
    "Ginger tea",
]
_VERBS = ["cures", "causes", "prevents", "spreads", "hides", "doubles", "stops", "reveals"]
_OBJECTS = [
    "the flu",
    "cancer",
    "COVID-19",
    "memory loss",
    "a blackout",
    "the tax rise",
    "radiation",
    "the election result",
    "heart disease",
    "hair loss",
]
_VERDICTS = [
    "false",
    "misleading",
    "missing_context",
    "mixed",
    "true",
    "unproven",
    "Pants on Fire",
    "Falso",
    "錯誤",
]


def make_file(path: Path, n: int, seed: int = 7) -> None:
    rnd = random.Random(seed)
    with path.open("w", encoding="utf-8") as f:
        for i in range(n):
            claim = (
                f"{rnd.choice(_SUBJECTS)} {rnd.choice(_VERBS)} {rnd.choice(_OBJECTS)} "
                f"within {rnd.randint(2, 90)} days, says report no. {i}"
            )
            f.write(
                json.dumps(
                    {
                        "id": f"bench-{i}",
                        "text": claim,
                        "verdict": rnd.choice(_VERDICTS),
                        "summary": f"No study supports this (case {i}).",
                        "url": f"https://factcheck.example.org/{i}",
                        "lang": "en",
                        "published": f"2024-{rnd.randint(1, 12):02d}-{rnd.randint(1, 28):02d}",
                        "partner": "Example Fact Check",
                    },
                    ensure_ascii=False,
                )
                + "\n"
            )


def naive_import(db: Database, path: Path) -> int:
    """The baseline: per-row ORM objects, a commit every 1000 rows."""
    n = 0
    with db.session() as session:
        for line in path.open(encoding="utf-8"):
            rec = json.loads(line)
            claim = Claim(
                text=rec["text"],
                normalized=normalize(rec["text"]),
                lang=rec["lang"],
                status="published",
                external_id=rec["id"],
                source_url=rec["url"],
            )
            session.add(claim)
            session.flush()  # the clarification needs the claim's id
            session.add(
                Clarification(
                    claim_id=claim.id,
                    lang=rec["lang"],  # type: ignore[arg-type]
                    verdict="false",
                    summary=rec["summary"],
                    sources=json.dumps([rec["url"]]),
                    url=rec["url"],
                    published_at=utcnow(),
                )
            )
            n += 1
            if n % 1000 == 0:
                session.commit()
        session.commit()
    return n


@contextmanager
def sqlite_db(tmp: Path) -> Any:
    db = Database(f"sqlite:///{tmp}/bench-{uuid.uuid4().hex[:8]}.sqlite3")
    db.ensure_schema()
    try:
        yield db
    finally:
        db.dispose()


@contextmanager
def postgres_db() -> Any:
    with pg_schema(f"bench_{uuid.uuid4().hex[:10]}") as url:
        db = Database(url)
        try:
            db.ensure_schema()
            yield db
        finally:
            db.dispose()


def timed(fn: Callable[[], object]) -> tuple[float, object]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="100000,1000000", help="comma-separated claim counts")
    parser.add_argument("--baseline-size", type=int, default=20000)
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s]
    backends: list[tuple[str, Callable[[Path], Any]]] = [("SQLite", sqlite_db)]
    if not args.no_postgres and pg_reachable():
        backends.append(("PostgreSQL", lambda _tmp: postgres_db()))

    console = Console()
    table = Table(title="crowdcheck import, JSON Lines")
    for column in ("database", "method", "claims", "seconds", "claims/s", "result"):
        table.add_column(column, justify="right" if column not in ("database", "method") else "left")

    def add_row(database: str, method: str, rows: int, seconds: float, note: str) -> None:
        table.add_row(database, method, f"{rows:,}", f"{seconds:.1f}", f"{rows / seconds:,.0f}", note)

    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        for n in sorted({*sizes, args.baseline_size}):
            make_file(tmp / f"claims-{n}.jsonl", n)
        for name, make_db in backends:
            with make_db(tmp) as db:
                path = tmp / f"claims-{args.baseline_size}.jsonl"
                seconds, count = timed(lambda db=db, path=path: naive_import(db, path))
                add_row(name, "naive ORM, commit/1000", args.baseline_size, seconds, f"{count:,} added")
                console.print(f"{name} baseline: {seconds:.1f}s")
            for n in sizes:
                path = tmp / f"claims-{n}.jsonl"
                with make_db(tmp) as db:
                    seconds, report = timed(lambda db=db, path=path: importer.import_file(db, path))
                    assert isinstance(report, importer.ImportReport)
                    note = f"{report.added:,} added, {len(report.problems)} skipped"
                    add_row(name, "import_file", n, seconds, note)
                    console.print(f"{name} {n:,}: {seconds:.1f}s")
                    if n == min(sizes):  # re-import: every row is looked up and found unchanged
                        seconds, report = timed(lambda db=db, path=path: importer.import_file(db, path))
                        assert isinstance(report, importer.ImportReport)
                        add_row(name, "re-import (idempotent)", n, seconds, f"{report.unchanged:,} unchanged")
    console.print(table)


if __name__ == "__main__":
    main()
