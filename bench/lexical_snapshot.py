"""Cold start of the lexical match index at national scale: built from the claim table (the
baseline, as before the saved index) against restored from disk and caught up.

    python -m bench.lexical_snapshot --claims 100000
    python -m bench.lexical_snapshot --claims 1000000

One SQLite file with `--claims` synthetic claims (bench.match_latency's: the real claims'
vocabulary, 5 % Chinese or Thai), half of them with an imported fact-check's headline (the
second wording the index holds under -id), written straight into the claim table (the change
feed's triggers stamp them). Then the bot's start-up call, `Matcher().refresh(session)`, in one
process: (1) no saved index: build it (the baseline), saved in the background (timed apart);
(2) a restart with nothing changed; (3) a restart after `--changed` of the claims were edited, a
tenth as many deleted, merged, given a public wording, and added; (4) a fresh build of (3)'s
claims, with the saved index off. Reported: wall and CPU seconds of the refresh, RSS growth,
the file's size, the load average; and whether the restarted matchers answer `--queries`
messages (forwards of claims, with words dropped, and unknown texts) as they should: (2) as
(1) to the score, (3) as the worker (1) that stayed up and caught up live, to the score, and
as the fresh build (4), to the decision and claim.
"""

from __future__ import annotations

import gc
import os
import random
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import delete, insert, update

from bench._data import load_dataset, shared_data_dir
from bench._report import load_average, print_table, time_calls
from bench.match_cli import _lang_of
from bench.match_latency import rss_mb, synthetic_claims
from factdb.db import Database
from factdb.matching import Matcher, saved_index
from factdb.models import Claim, ClaimStatus
from factdb.normalize import normalize

CLAIM = Claim.__table__  # type: ignore[attr-defined]


def write_claims(db: Database, claims: list[tuple[int, str]], headlines: dict[int, str]) -> None:
    now = datetime.now(UTC)
    with db.engine.begin() as conn:
        for s in range(0, len(claims), 20_000):
            conn.execute(
                insert(CLAIM),
                [
                    {
                        "id": cid,
                        "text": text,
                        "normalized": normalize(text),
                        "lang": _lang_of(text),
                        "status": ClaimStatus.PUBLISHED.value,
                        "headline": headlines.get(cid),
                        "request_count": 0,
                        "public_hidden": False,
                        "first_seen": now,
                        "last_seen": now,
                        "created_at": now,
                        "updated_at": now,
                    }
                    for cid, text in claims[s : s + 20_000]
                ],
            )


def start(db: Database, what: str, saves: list[float]) -> tuple[Matcher, dict[str, object]]:
    gc.collect()
    saves.clear()
    matcher = Matcher(semantic=False)
    before, wall, cpu = rss_mb(), time.perf_counter(), time.process_time()
    with db.session() as s:
        matcher.refresh(s)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    if matcher.saving is not None:
        matcher.saving.join()
    r = matcher.restored
    row = {
        "start": what,
        "wall s": f"{wall:.2f}",
        "CPU s": f"{cpu:.2f}",
        "saved after (background) s": f"{sum(saves):.2f}" if saves else "-",
        "read file s / changes caught up": f"{r.seconds:.2f} / {r.changed}" if r else "built",
        "claims": len(matcher),
        "RSS +MB": f"{rss_mb() - before:.0f}",
        "load": load_average(),
    }
    print(row, flush=True)
    return matcher, row


def answers(matcher: Matcher, db: Database, queries: list[str], scores: bool) -> list[tuple]:  # type: ignore[type-arg]
    out = []
    with db.session() as s:
        for q in queries:
            r = matcher.match(q, s)
            answer = (r.decision, r.claim_id, tuple(c.claim_id for c in r.offered))
            out.append((*answer, round(r.score, 9)) if scores else answer)
    return out


def main() -> None:
    import argparse

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--claims", type=int, default=100_000)
    parser.add_argument("--changed", type=float, default=0.005, help="fraction of claims edited before (3)")
    parser.add_argument("--queries", type=int, default=600)
    parser.add_argument("--dir", default=None, help="working directory (default: a temporary one)")
    args = parser.parse_args()
    os.environ.setdefault("CROWDCHECK_SHARED_DATA", str(shared_data_dir() or "/work/shared/data"))
    n = args.claims
    saved_index.SAVE_FROM = min(saved_index.SAVE_FROM, n)
    real = [t for _, t in load_dataset().claims]
    extra = max(1, int(n * args.changed / 10))
    pool = synthetic_claims(real, 2 * n + 2 * extra + 2)
    rng = random.Random(11)
    claims = [(i + 1, text) for i, text in pool[:n]]
    # the fact-checks' headlines: shorter texts of the same vocabulary, as a question
    headlines = {cid: " ".join(pool[n + cid][1].split()[:9]) + "?" for cid, _ in claims if cid % 2 == 0}

    def forward(text: str) -> str:
        words = text.split()
        if len(words) > 6:
            words.pop(rng.randrange(len(words)))
        return " ".join(words)

    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        where = Path(tmp) / "indexes"
        os.environ["CROWDCHECK_VECTOR_INDEX_DIR"] = str(where)
        db = Database(f"sqlite:///{tmp}/c.sqlite3")
        db.ensure_schema()
        print(f"{n} claims, {len(headlines)} with a headline, {load_average()}", flush=True)
        began = time.perf_counter()
        write_claims(db, claims, headlines)
        print(f"wrote {n} claims in {time.perf_counter() - began:.1f} s", flush=True)
        known = [forward(t) for _, t in rng.sample(claims, args.queries // 2)]
        unknown = [t for _, t in pool[2 * n + 2 * extra : 2 * n + 2 * extra + 1]]
        unknown += [forward(t) for _, t in rng.sample(pool[n : 2 * n], args.queries - len(known) - 1)]
        queries = known + unknown

        saves: list[float] = []
        time_calls(saved_index, "save", saves)
        rows = []
        running, row = start(db, "(1) no saved index: build (baseline), then save", saves)
        rows.append(row)
        size = (where / saved_index.FILE).stat().st_size
        first = answers(running, db, queries, scores=True)
        restored, row = start(db, "(2) restart, nothing changed", saves)
        rows.append(row)
        same_2 = sum(a == b for a, b in zip(answers(restored, db, queries, True), first, strict=True))
        del restored

        k = int(n * args.changed)
        ids = rng.sample(range(1, n + 1), k + 3 * (k // 10))
        edited, deleted, merged, worded = (
            ids[:k],
            ids[k : k + k // 10],
            ids[k + k // 10 : k + 2 * (k // 10)],
            ids[k + 2 * (k // 10) :],
        )
        added = [(n + 1 + i, pool[2 * n + i][1]) for i in range(k // 10)]
        with db.engine.begin() as conn:
            for cid in edited:
                text = pool[n + n // 2 + (cid % (n // 2))][1]
                conn.execute(
                    update(CLAIM).where(CLAIM.c.id == cid).values(text=text, normalized=normalize(text))
                )
            conn.execute(delete(CLAIM).where(CLAIM.c.id.in_(deleted)))
            conn.execute(update(CLAIM).where(CLAIM.c.id.in_(merged)).values(status=ClaimStatus.MERGED.value))
            for cid in worded:
                conn.execute(
                    update(CLAIM)
                    .where(CLAIM.c.id == cid)
                    .values(public_text=f"reviewed wording {pool[cid][1]}")
                )
        write_claims(db, added, {})
        what = f"(3) restart after {len(edited)} edits, {len(deleted)} deletions, {len(merged)} merges, {len(worded)} public wordings, {len(added)} new"
        caught, row = start(db, what, saves)
        rows.append(row)
        queries += [forward(t) for _, t in added[:50]]
        live = answers(running, db, queries, scores=True)  # the worker that stayed up catches up here
        same_3_live = sum(a == b for a, b in zip(answers(caught, db, queries, True), live, strict=True))
        del running
        os.environ["CROWDCHECK_VECTOR_INDEX_DIR"] = "off"
        fresh, row = start(db, "(4) fresh build of (3)'s claims (saved index off)", saves)
        rows.append(row)
        got, want = answers(caught, db, queries, False), answers(fresh, db, queries, False)
        same_3_fresh = sum(a == b for a, b in zip(got, want, strict=True))
        decisions = sum(a[:2] == b[:2] for a, b in zip(got, want, strict=True))

    print()
    print_table(rows, markdown=True)
    print(f"\nsaved index on disk: {size / 2**20:.0f} MB")
    print(f"(2) answers as (1), score included: {same_2} of {len(first)}")
    print(f"(3) answers as the worker that stayed up, score included: {same_3_live} of {len(queries)}")
    print(
        f"(3) answers as a fresh build (4): decision and claim {decisions}, and offers {same_3_fresh} of {len(queries)}"
    )
    print(load_average())


if __name__ == "__main__":
    main()
