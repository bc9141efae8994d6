"""Picture → answer, end to end, with pictures arriving four at once (issue 14's target: p50
≤ 2 s, p99 ≤ 6 s on a 2-core machine).

The bot runs as in production (long polling, durable inbox, delivery loop, a SQLite file)
against the Bot API emulator on loopback. Each round, four citizens send at once one picture
each, in turn of four kinds:
- a chat screenshot of a published claim (OCR reads it, the matcher answers),
- a travelled copy (screenshotted on a phone) of a picture reviewers have (hash answers),
- a meme nobody sent before (OCR of its caption, then a new claim),
- a photo nobody sent before (no text: a new claim with the picture).
Time: from the update being handed to the emulator to the bot's reply arriving there (getFile
and the download included). Baseline in the same run: four typed messages at once (the same
claims' texts), through the same bot.

    .venv/bin/python -m bench.picture_latency [--rounds 12] [--workers 2]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import tempfile
import time
from pathlib import Path

from bench._picture_texts import texts
from bench._pictures import chat_screenshot, jpeg, meme, phone_viewer, photo
from bench._report import print_table
from bench._seed import published_claim
from bot.app import BotRuntime
from bot.config import Config
from factdb.db import Database
from factdb.media.hashing import picture_hash
from factdb.media.ocr import ocr_status
from factdb.media.pictures import record_picture
from tests.emulator import BotApiEmulator

LANGS = ("en", "es", "lt", "zh-TW")
REVIEW_CHAT = -1001000000001
KINDS = ("screenshot", "copy", "new meme", "new photo")


def _seed(db: Database, rounds: int) -> tuple[list[tuple[str, str]], list[int]]:
    """Published claims (a text per round and language) and the photos reviewers have."""
    rumours = [(lang, text) for lang in LANGS for text in texts(lang, rounds, 91)]
    kept = list(range(500, 500 + rounds))

    def work(session) -> None:  # type: ignore[no-untyped-def]
        for lang, text in rumours:
            published_claim(session, text, lang=lang, summary="Not true.", sources=[])
        for seed in kept:
            text = f"Photo number {seed} of the flooded airport"
            claim = published_claim(session, text, summary="Old photo.", sources=[])
            image = photo(seed)
            record_picture(
                session,
                claim_id=claim.id,
                citizen_id=None,
                jpeg=jpeg(image),
                size=image.size,
                phash=picture_hash(image),
            )

    db.transaction(work)
    return rumours, kept


async def _at_once(emu: BotApiEmulator, sends: list[tuple[int, object]]) -> list[float]:
    """Send each (user, send function) at the same moment; seconds until each one's reply."""
    started: dict[int, float] = {}
    for user, send in sends:
        started[user] = time.perf_counter()
        send()  # type: ignore[operator]

    async def wait(user: int) -> float:
        await emu.wait_for_bot_message(user, timeout=120)
        return time.perf_counter() - started[user]

    return list(await asyncio.gather(*(wait(user) for user, _ in sends)))


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def run(rounds: int, workers: int) -> None:
    print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
    print(f"pictures: {ocr_status().advice}; {workers} read at once")
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(f"sqlite:///{Path(tmp) / 'bench.db'}")
        db.ensure_schema()
        rumours, kept = _seed(db, rounds)
        emu = BotApiEmulator()
        await emu.start()
        emu.create_group(REVIEW_CHAT, "Moderators", members=[1])
        config = Config(
            token=emu.token,
            database_url=db.url,
            api_base_url=emu.base_url,
            review_chat_id=REVIEW_CHAT,
            admin_ids=frozenset({1}),
            outbox_rate_per_second=500.0,
            outbox_per_chat_interval=0.001,
            outbox_group_per_minute=60000,
            picture_workers=workers,
            pictures_per_day=10_000,
        )
        runtime = BotRuntime(config, db=db, long_poll_timeout=1)
        await runtime.start()
        await runtime.index_ready()
        try:
            # Pictures drawn before the clock starts: the citizen's phone made them.
            rng = random.Random(5)
            made = []
            for r in range(rounds):
                lang, text = rumours[(r % len(LANGS)) * rounds + r]  # a language each round, in turn
                made.append(
                    [
                        ("screenshot", jpeg(chat_screenshot(text, lang, r))),
                        ("copy", jpeg(phone_viewer(photo(kept[r]), rng), quality=75)),
                        ("new meme", jpeg(meme(900 + r, texts("en", rounds, 17)[r], "en"))),
                        ("new photo", jpeg(photo(1900 + r))),
                    ]
                )
            await _at_once(emu, [(10, lambda: emu.send_photo(10, made[0][1][1]))])  # warm-up
            by_kind: dict[str, list[float]] = {kind: [] for kind in KINDS}
            typed: list[float] = []
            user = 1000
            for r in range(rounds):
                sends, kinds = [], []
                for kind, data in made[r]:
                    user += 1
                    sends.append((user, lambda u=user, d=data: emu.send_photo(u, d)))
                    kinds.append(kind)
                for kind, seconds in zip(kinds, await _at_once(emu, sends), strict=True):
                    by_kind[kind].append(seconds)
                words = [rumours[(r * 4 + i) % len(rumours)][1] for i in range(4)]
                sends = []
                for text in words:
                    user += 1
                    sends.append((user, lambda u=user, t=text: emu.send_text(u, t)))
                typed.extend(await _at_once(emu, sends))
        finally:
            await runtime.stop()
            await emu.stop()
            db.dispose()
    every = [s for values in by_kind.values() for s in values]
    rows = [
        {
            "what": kind,
            "n": len(values),
            "p50 s": f"{statistics.median(values):.2f}",
            "p99 s": f"{_pct(values, 0.99):.2f}",
            "max s": f"{max(values):.2f}",
        }
        for kind, values in [*by_kind.items(), ("every picture", every), ("typed text (baseline)", typed)]
    ]
    print_table(rows)
    p50, p99 = statistics.median(every), _pct(every, 0.99)
    verdict = "met" if p50 <= 2.0 and p99 <= 6.0 else "NOT met"
    print(f"target p50 <= 2 s, p99 <= 6 s with 4 at once: {verdict} (p50 {p50:.2f} s, p99 {p99:.2f} s)")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=12, help="rounds of four pictures at once (default 12)")
    parser.add_argument("--workers", type=int, default=2, help="pictures read at once (default 2)")
    args = parser.parse_args()
    asyncio.run(run(args.rounds, args.workers))


if __name__ == "__main__":
    main()
