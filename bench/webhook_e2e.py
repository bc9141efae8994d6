"""End to end: citizen updates per second through the webhook, and time from update to reply.

For each database, 2,000 citizen messages (half a known hoax answered at once, half new claims)
are POSTed to the bot's webhook endpoint by 40 concurrent connections (Telegram's default
`max_connections`) with the secret header, exactly as Telegram would push them, from a separate
process (Telegram's side; the bot process is what is measured). The bot answers through the
Bot API emulator, with no added latency and with a realistic round trip to Telegram's servers.
Baselines in the same run: the same webhook without the burst priority (handlers at full
concurrency while pushes queue up), and the same messages through long polling.

Prints: ingest rate (updates acknowledged per second: the webhook answers 200 once the update
is committed to the inbox), processing rate (updates answered per second) and p50/p99 time from
the POST to the bot's reply arriving at the emulator (all 2,000 arrive at once, so these are
times through a backlog).

    .venv/bin/python -m bench.webhook_e2e [--updates 2000] [--postgres] [--latency-ms 50]
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import multiprocessing
import socket
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp

from bench._report import arguments, pg_schema, print_table
from bot.app import BotRuntime
from bot.config import Config
from bot.web import SECRET_HEADER, WebServer, webhook_secret
from factdb.db import Database
from factdb.interchange import importer
from tests.emulator import BotApiEmulator

FIRST_USER = 3_000_000
HOAX = "Banks will close all accounts with less than 100 euros on Monday, withdraw your money now!"
WORDS = [
    "river",
    "bridge",
    "council",
    "vaccine",
    "school",
    "petrol",
    "lion",
    "harbour",
    "festival",
    "tax",
    "election",
    "storm",
    "bakery",
    "train",
    "museum",
    "stadium",
    "clinic",
    "library",
    "metro",
    "airport",
    "ferry",
    "market",
    "lottery",
    "pension",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def message(n: int) -> str:
    if n % 2 == 0:
        return HOAX
    a, b, c = WORDS[n % len(WORDS)], WORDS[(n // 7) % len(WORDS)], WORDS[(n // 31) % len(WORDS)]
    return f"Rumour {n}: the {a} near the {b} will be closed because of the {c} scandal"


def update(n: int) -> dict[str, object]:
    uid = FIRST_USER + n
    return {
        "update_id": 10_000_000 + n,
        "message": {
            "message_id": 1,
            "date": int(time.time()),
            "text": message(n),
            "chat": {"id": uid, "type": "private", "first_name": f"C{n}"},
            "from": {"id": uid, "is_bot": False, "first_name": f"C{n}", "language_code": "en"},
        },
    }


def seed(db: Database, tmp: Path) -> None:
    claims = tmp / "seed.jsonl"
    claims.write_text(
        json.dumps(
            {
                "id": "hoax",
                "text": HOAX,
                "verdict": "false",
                "summary": "No such rule.",
                "url": "https://fc.example.org/banks",
                "lang": "en",
            }
        )
        + "\n"
    )
    importer.import_file(db, claims, fmt="jsonl")


async def replies_done(emu: BotApiEmulator, n: int, timeout: float = 600) -> dict[int, float]:
    deadline = time.monotonic() + timeout
    while True:
        first: dict[int, float] = {}
        for e in emu.sent_log:
            if e["method"] == "sendMessage" and e["chat_id"] >= FIRST_USER and e["chat_id"] not in first:
                first[e["chat_id"]] = e["timestamp"]
        if len(first) >= n or time.monotonic() > deadline:
            return first
        await asyncio.sleep(0.05)


def summary(
    label: str,
    n: int,
    posted: dict[int, float],
    ingest_s: float | None,
    answered: dict[int, float],
    started: float,
) -> dict[str, object]:
    lat = sorted(
        (answered[FIRST_USER + i] - posted[i]) * 1000 for i in range(n) if FIRST_USER + i in answered
    )
    done = max(answered.values()) - started
    return {
        "run": label,
        "updates": n,
        "answered": len(lat),
        "ingest/s": "—" if ingest_s is None else round(n / ingest_s),
        "answered/s": round(len(lat) / done, 1),
        "p50 ms": round(statistics.median(lat)),
        "p99 ms": round(lat[int(len(lat) * 0.99) - 1]),
    }


def _label(kind: str, url: str, latency: float) -> str:
    db = "PostgreSQL" if "postgresql" in url else "SQLite"
    return f"{kind}, {db}, API {latency * 1000:.0f} ms"


def push_all(hook: str, headers: dict[str, str], n: int) -> tuple[float, float, dict[int, float]]:
    """POST n updates with 40 connections, like Telegram; (start, seconds, post time per update)."""

    async def push() -> tuple[float, float, dict[int, float]]:
        posted: dict[int, float] = {}
        queue: asyncio.Queue[int] = asyncio.Queue()
        for i in range(n):
            queue.put_nowait(i)
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=40)) as http:

            async def client() -> None:
                while not queue.empty():
                    i = queue.get_nowait()
                    posted[i] = time.monotonic()  # CLOCK_MONOTONIC: the same clock in every process
                    async with http.post(hook, json=update(i), headers=headers) as resp:
                        assert resp.status == 200, resp.status

            started = time.monotonic()
            await asyncio.gather(*(client() for _ in range(40)))
            return started, time.monotonic() - started, posted

    return asyncio.run(push())


async def run_webhook(
    url: str,
    n: int,
    tmp: Path,
    latency: float = 0.0,
    *,
    burst_priority: bool = True,
    burst_concurrency: int = 1,
) -> dict[str, object]:
    emu = BotApiEmulator(latency=latency)
    await emu.start()
    for i in range(n):
        emu.user(FIRST_USER + i, f"C{i}")
    db = Database(url)
    db.ensure_schema()
    seed(db, tmp)
    port = free_port()
    config = Config(
        token=emu.token,
        database_url=url,
        api_base_url=emu.base_url,
        public_url=f"http://127.0.0.1:{port}",
        webhook_secret="bench-secret_1",
        burst_concurrency=burst_concurrency,
    )
    runtime = BotRuntime(config, db=db, long_poll_timeout=1)
    if not burst_priority:  # the baseline: handling never steps aside for receiving
        runtime.processor.receiving = None
    server = WebServer(config, host="127.0.0.1", port=port, runtime=runtime)
    await server.start()
    hook, headers = server.webhook_url, {SECRET_HEADER: webhook_secret(config)}
    assert hook is not None
    try:
        # Telegram's side pushes from another process, as it would: the bot process's one core
        # is measured, not shared with the load generator.
        with concurrent.futures.ProcessPoolExecutor(
            1, mp_context=multiprocessing.get_context("spawn")
        ) as pool:
            started, ingest, posted = await asyncio.get_running_loop().run_in_executor(
                pool, push_all, hook, headers, n
            )
        answered = await replies_done(emu, n)
        return summary(
            _label(
                "webhook, no burst priority (baseline)"
                if not burst_priority
                else "webhook"
                if burst_concurrency == 1
                else f"webhook, {burst_concurrency} at once in a burst",
                url,
                latency,
            ),
            n,
            posted,
            ingest,
            answered,
            started,
        )
    finally:
        await server.stop()
        await emu.stop()


async def run_polling(url: str, n: int, tmp: Path, latency: float = 0.0) -> dict[str, object]:
    emu = BotApiEmulator(latency=latency)
    await emu.start()
    db = Database(url)
    db.ensure_schema()
    seed(db, tmp)
    config = Config(token=emu.token, database_url=url, api_base_url=emu.base_url)
    runtime = BotRuntime(config, db=db, long_poll_timeout=1)
    await runtime.start()
    posted: dict[int, float] = {}
    try:
        started = time.monotonic()
        for i in range(n):
            posted[i] = time.monotonic()
            emu.send_text(FIRST_USER + i, message(i), first_name=f"C{i}", language_code="en")
        answered = await replies_done(emu, n)
        return summary(
            _label("long polling (baseline)", url, latency),
            n,
            posted,
            None,
            answered,
            started,
        )
    finally:
        await runtime.stop()
        await emu.stop()


async def main() -> None:
    parser = arguments(__doc__)
    parser.add_argument("--updates", type=int, default=2000)
    parser.add_argument("--postgres", action="store_true", help="also on PostgreSQL at 127.0.0.1:5432/test")
    parser.add_argument(
        "--latency-ms",
        type=float,
        default=50.0,
        help="also run with this Bot API round trip (Telegram's servers are not on loopback); 0: skip",
    )
    parser.add_argument(
        "--burst-concurrency",
        type=int,
        default=0,
        help="also run the webhook with CROWDCHECK_BURST_CONCURRENCY at this value (default 1)",
    )
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp())
    latencies = [0.0] + ([args.latency_ms / 1000] if args.latency_ms else [])
    # The webhook as shipped, then its baselines and variants, on each database.
    variants: list[tuple[str, dict[str, Any]]] = [("w", {}), ("b", {"burst_priority": False})]
    if args.burst_concurrency > 1:
        variants.append(("c", {"burst_concurrency": args.burst_concurrency}))
    rows = []
    for i, latency in enumerate(latencies):
        for tag, options in variants:
            url = f"sqlite:///{tmp}/run{i}-{tag}.sqlite3"
            rows.append(await run_webhook(url, args.updates, tmp, latency, **options))
        rows.append(await run_polling(f"sqlite:///{tmp}/run{i}-p.sqlite3", args.updates, tmp, latency))
        if args.postgres:
            for tag, options in variants:
                with pg_schema(f"bench_e2e_{tag}{i}") as url:
                    rows.append(await run_webhook(url, args.updates, tmp, latency, **options))
    print_table(rows)


if __name__ == "__main__":
    asyncio.run(main())
