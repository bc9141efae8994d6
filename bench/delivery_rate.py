"""Delivery rate: a 1,000-subscriber broadcast through the real delivery loop and the emulator.

Compares, in one run, the configured Telegram limit (30 msg/s) with the loop unthrottled (what
the machine could do), on SQLite; prints messages/s and the worst per-second burst observed by
the emulator, which enforces Telegram's limits and answers 429 if they are exceeded.

    .venv/bin/python -m bench.delivery_rate [--subscribers 1000] [--postgres]
"""

from __future__ import annotations

import asyncio
import collections
import tempfile
import time
from pathlib import Path

from bench._report import arguments, pg_schema, print_table
from bench._seed import claim_with_subscribers, publish_ready
from bot.app import BotRuntime
from bot.config import Config
from factdb.db import Database
from tests.emulator import BotApiEmulator

FIRST_ID = 700_000


def seed(db: Database, emu: BotApiEmulator, n: int) -> None:
    for i in range(n):
        emu.user(FIRST_ID + i, f"C{i}")

    def work(session) -> None:
        claim_id = claim_with_subscribers(session, "bench claim", FIRST_ID, n)
        publish_ready(session, claim_id, 1, summary="Not true.", source="https://example.org/x")

    db.transaction(work)


async def one_run(label: str, url: str, n: int, rate: float, enforce: bool) -> dict[str, object]:
    emu = BotApiEmulator()
    await emu.start()
    if enforce:
        emu.enforce_limits(per_chat_per_second=1, overall_per_second=30, group_per_minute=20)
    db = Database(url)
    db.ensure_schema()
    seed(db, emu, n)
    config = Config(
        token=emu.token,
        database_url=url,
        api_base_url=emu.base_url,
        outbox_rate_per_second=rate,
        outbox_per_chat_interval=1.0,
    )
    runtime = BotRuntime(config, db=db, long_poll_timeout=1)
    started = time.monotonic()
    await runtime.start()
    try:
        while True:
            sends = [e for e in emu.sent_log if e["method"] == "sendMessage" and e["chat_id"] >= FIRST_ID]
            if len(sends) >= n:
                break
            if time.monotonic() - started > 600:
                raise SystemExit(f"{label}: only {len(sends)} of {n} delivered in 600 s")
            await asyncio.sleep(0.05)
    finally:
        await runtime.stop()
        await emu.stop()
        db.dispose()
    stamps = sorted(e["timestamp"] for e in sends)
    span = stamps[-1] - stamps[0]
    per_second = collections.Counter(int(t - stamps[0]) for t in stamps)
    refused = sum(1 for r in emu.requests_log if r["error_code"] == 429)
    return {
        "run": label,
        "messages": n,
        "seconds": round(span, 2),
        "msg/s": round((n - 1) / span, 1),
        "max in any 1 s": max(per_second.values()),
        "429s": refused,
    }


async def main() -> None:
    parser = arguments(__doc__)
    parser.add_argument("--subscribers", type=int, default=1000)
    parser.add_argument(
        "--postgres", action="store_true", help="also run on PostgreSQL at 127.0.0.1:5432/test"
    )
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp())
    rows = [
        await one_run(
            "limit 30/s (default), SQLite", f"sqlite:///{tmp}/a.sqlite3", args.subscribers, 30.0, True
        ),
        await one_run("unthrottled, SQLite", f"sqlite:///{tmp}/b.sqlite3", args.subscribers, 100000.0, False),
    ]
    if args.postgres:
        with pg_schema("bench_delivery") as url:
            rows.append(await one_run("unthrottled, PostgreSQL", url, args.subscribers, 100000.0, False))
    print_table(rows)


if __name__ == "__main__":
    asyncio.run(main())
