"""Soak: thousands of mixed updates through the real bot and the Bot API emulator, with random
Telegram faults, then the invariants that must hold after a bad day.

    python -m bench.soak                         # 10,000 updates on a temporary SQLite file
    python -m bench.soak --updates 50000 --database-url postgresql+psycopg://postgres@127.0.0.1/test

The mix: citizens sending new claims, known hoaxes (answered at once), duplicates of other
people's claims, trolls flooding, stickers; reviewers publishing now and then (through
factdb.publishing, as the review flow leaves it); the emulator failing a share of the bot's calls
(502, gateway timeouts, late answers, a few 429s). tests/test_soak.py runs a smaller size in CI.
"""

from __future__ import annotations

import asyncio
import collections
import random
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import func, select

from bench._report import arguments
from bench._seed import publish_ready
from bot.app import BotRuntime
from factdb.db import Database
from factdb.models import (
    AuditLog,
    Claim,
    ClaimStatus,
    Clarification,
    Outbox,
    OutboxStatus,
    ProcessedUpdate,
    Request,
)
from factdb.normalize import normalize
from tests.conftest import ADMIN, REVIEW_CHAT, test_config
from tests.emulator import BotApiEmulator

ANSWER = "There's an answer"
TROLLS = (66601, 66602, 66603)
WORDS = [
    "water",
    "bank",
    "vaccine",
    "school",
    "mayor",
    "bridge",
    "election",
    "army",
    "hospital",
    "bread",
    "petrol",
    "lottery",
    "airport",
    "river",
    "virus",
    "tax",
    "border",
    "phone",
    "tower",
    "doctor",
    "minister",
    "police",
    "salary",
    "pension",
    "train",
    "flood",
    "storm",
    "factory",
    "chicken",
    "milk",
    "children",
    "teacher",
    "village",
    "island",
    "court",
    "judge",
    "prison",
    "fire",
    "market",
    "coin",
]
HOAXES = [
    "The central bank will freeze every savings account on Monday, withdraw your cash today",
    "Drinking hot water with lemon every morning cures cancer, doctors hide this from you",
    "The new five euro coins contain a tracking chip that reports where you spend them",
    "Tap water across the whole island will be cut off for three days from tomorrow",
    "Mobile phone towers spread the flu virus in winter, scientists finally admit",
]


@dataclass
class Figures:
    updates: int = 0
    citizen_texts: int = 0
    seconds: float = 0.0
    replies: int = 0
    apologies: int = 0
    requests: int = 0
    claims: int = 0
    published: int = 0
    notices_sent: int = 0
    faults: int = 0
    sent_by_citizen: dict[int, list[int]] = field(default_factory=lambda: collections.defaultdict(list))

    def summary(self) -> str:
        rate = self.updates / self.seconds if self.seconds else 0.0
        return (
            f"{self.updates} updates ({self.citizen_texts} citizen texts) in {self.seconds:.1f} s "
            f"= {rate:.0f} updates/s; {self.replies} direct replies ({self.apologies} 'something went "
            f"wrong'), {self.requests} requests, {self.claims} claims, {self.published} published, "
            f"{self.notices_sent} notices sent, {self.faults} injected Telegram faults"
        )


def _seed_hoaxes(db: Database) -> None:
    def work(session: Any) -> None:
        for text in HOAXES:
            claim = Claim(text=text, normalized=normalize(text), lang="en", status=ClaimStatus.NEW)
            session.add(claim)
            session.flush()
            _publish(session, claim.id)

    db.transaction(work)


def _publish(session: Any, claim_id: int) -> None:
    publish_ready(
        session,
        claim_id,
        ADMIN,
        summary="Checked: nothing supports this.",
        source="https://factcheck.example.org/soak",
    )


def _publish_one_new(db: Database, rng: random.Random) -> bool:
    def work(session: Any) -> bool:
        ids = session.exec(select(Claim.id).where(Claim.status == ClaimStatus.NEW).limit(200)).all()
        if not ids:
            return False
        _publish(session, rng.choice(ids))
        return True

    return db.transaction(work)


def _word(rng: random.Random) -> str:
    return "".join(rng.choice("bcdfghklmnprstvz") + rng.choice("aeiou") for _ in range(rng.randint(2, 4)))


def _sentence(rng: random.Random, n: int) -> str:
    """A claim nobody made before: a few common words and several rare made-up names."""
    words = [rng.choice(WORDS) for _ in range(4)] + [_word(rng) for _ in range(rng.randint(5, 9))]
    rng.shuffle(words)
    return " ".join(words)


async def _until(check: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"soak: timed out waiting for {what}")
        await asyncio.sleep(0.05)


async def run_soak(
    db: Database, *, updates: int, seed: int = 1, faults: float = 0.03, time_limit: float = 300.0
) -> Figures:
    """Drive `updates` updates through a fresh bot on `db`, check the invariants, return figures.
    Raises AssertionError when an invariant is broken and TimeoutError past `time_limit`."""
    return await asyncio.wait_for(_run(db, updates, seed, faults), time_limit)


async def _run(db: Database, updates: int, seed: int, faults: float) -> Figures:
    rng = random.Random(seed)
    figures = Figures()
    emu = BotApiEmulator(fault_timeout_delay=0.2)
    await emu.start()
    emu.create_group(REVIEW_CHAT, "Moderators", members=[ADMIN])
    _seed_hoaxes(db)
    # the tests' bot settings (tests/conftest.py), sending faster: the load is the subject here
    runtime = BotRuntime(test_config(emu, db, outbox_rate_per_second=1000.0), db=db, long_poll_timeout=1)
    await runtime.start()
    citizens = list(range(100_000, 100_000 + max(200, updates // 3)))
    said: list[str] = []
    publish_every = max(20, updates // 40)
    started = time.monotonic()
    try:
        if faults:
            emu.set_random_faults(faults, seed, kinds=("5xx", "timeout", "timeout_after_send"))
        for i in range(updates):
            if i and i % 100 == 0:
                # keep the queue realistic: Telegram hands out at most 100 updates per poll
                await _until(
                    lambda: len(emu.pending_updates) + runtime.app.update_queue.qsize() < 300,
                    120,
                    "the bot to keep up",
                )
            if i and i % publish_every == 0:
                await asyncio.to_thread(_publish_one_new, db, rng)
                runtime.svc.wake_outbox()
            if faults and i and i % (updates // 3 + 1) == 0:
                emu.fail_next("sendMessage", error_code=429, retry_after=1)
            roll = rng.random()
            if roll < 0.10:
                emu.send_text(rng.choice(TROLLS), f"troll {i}: " + _sentence(rng, i))
                continue
            user = rng.choice(citizens)
            if roll < 0.13:
                emu.send_message(user, sticker=True)
                continue
            if roll < 0.28:
                text = rng.choice(HOAXES) + rng.choice(["", "!!", " 😱", " Forward this to everyone!"])
            elif roll < 0.43 and said:
                text = rng.choice(said)
            else:
                text = _sentence(rng, i)
                said.append(text)
            message = emu.send_text(user, text)
            figures.citizen_texts += 1
            figures.sent_by_citizen[user].append(message["message_id"])
        figures.updates = updates
        await _until(lambda: not emu.pending_updates, 300, "every update to be handed out")
        texts = set(_citizen_text_updates(emu))

        def all_handled() -> bool:
            if runtime.app.update_queue.qsize():
                return False
            with db.session() as s:
                done = s.exec(select(func.count()).select_from(ProcessedUpdate)).one()
            return done >= len(texts)

        await _until(all_handled, 300, "every citizen message to be handled")
        await emu.wait_until_idle(timeout=60, quiet=0.3)
        emu.clear_faults()

        def outbox_done() -> bool:
            with db.session() as s:
                return (
                    s.exec(
                        select(func.count()).select_from(Outbox).where(Outbox.status == OutboxStatus.PENDING)
                    ).one()
                    == 0
                )

        runtime.svc.wake_outbox()
        await _until(outbox_done, 180, "the outbox to drain")
        await emu.wait_until_idle(timeout=60, quiet=0.3)
        figures.seconds = time.monotonic() - started
        _check(db, emu, figures)
    finally:
        await runtime.stop()
        await emu.stop()
    return figures


def _citizen_text_updates(emu: BotApiEmulator) -> list[int]:
    return [
        u["update_id"]
        for u in list(emu._update_history.values())  # the emulator's own record of what it sent
        if "message" in u and "text" in u["message"] and u["message"]["chat"]["id"] > 0
    ]


def _check(db: Database, emu: BotApiEmulator, figures: Figures) -> None:
    log = emu.requests_log
    figures.faults = sum(1 for r in log if r["status"] in (429, 502, 504))
    with db.session() as s:
        processed = set(s.exec(select(ProcessedUpdate.update_id)).all())
        requests = s.exec(select(Request)).all()
        claims = s.exec(select(Claim)).all()
        audits = s.exec(select(AuditLog).where(AuditLog.action == "publish")).all()
        first_versions = s.exec(select(Clarification).where(Clarification.version == 1)).all()
        sent_notices = s.exec(
            select(Outbox).where(Outbox.kind == "notice", Outbox.status == OutboxStatus.SENT)
        ).all()
    figures.requests, figures.claims = len(requests), len(claims)
    figures.published = sum(c.status == ClaimStatus.PUBLISHED for c in claims)
    figures.notices_sent = len(sent_notices)

    # 1. every citizen text was handled (recorded as processed); a citizen who stayed under the
    #    flood limit has a request for every message.
    text_updates = _citizen_text_updates(emu)
    unhandled = [u for u in text_updates if u not in processed]
    assert not unhandled, f"{len(unhandled)} citizen messages never handled, e.g. {unhandled[:5]}"
    by_citizen = collections.Counter(r.citizen_id for r in requests)
    with db.session() as s:
        from factdb.models import Citizen

        ids = {c.telegram_user_id: c.id for c in s.exec(select(Citizen)).all()}
    for user, messages in figures.sent_by_citizen.items():
        if len(messages) <= 10:
            assert by_citizen[ids.get(user)] == len(messages), f"citizen {user}: a message was lost"

    # 2. nobody is told the same thing twice
    doubled = []
    replies = apologies = 0
    for user in figures.sent_by_citizen:
        texts = [m.text for m in emu.bot_messages(user)]
        replies += sum(ANSWER not in t for t in texts)
        apologies += sum("went wrong" in t for t in texts)
        counts = collections.Counter(t for t in texts if ANSWER in t)
        doubled += [(user, n) for n in counts.values() if n > 1]
    assert not doubled, f"notices sent twice: {doubled[:5]}"
    pairs = collections.Counter((o.citizen_id, o.clarification_id) for o in sent_notices)
    assert max(pairs.values(), default=1) == 1
    figures.replies, figures.apologies = replies, apologies

    # 3. every claim's request count is the number of requests stored for it
    stored = collections.Counter(r.claim_id for r in requests if r.claim_id is not None)
    wrong = [(c.id, c.request_count, stored[c.id]) for c in claims if c.request_count != stored[c.id]]
    assert not wrong, f"claims whose count differs from their requests (id, count, stored): {wrong[:5]}"

    # 4. the audit log has every publish
    audited = {a.claim_id for a in audits}
    missing = {c.claim_id for c in first_versions} - audited
    assert not missing, f"published without an audit row: {sorted(missing)[:5]}"


def main() -> None:
    parser = arguments(__doc__)
    parser.add_argument("--updates", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--faults", type=float, default=0.03, help="share of bot calls that fail (0 = none)")
    parser.add_argument("--database-url", help="default: a temporary SQLite file")
    parser.add_argument("--time-limit", type=float, default=900.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(args.database_url or f"sqlite:///{tmp}/soak.sqlite3")
        db.ensure_schema()
        try:
            figures = asyncio.run(
                run_soak(
                    db, updates=args.updates, seed=args.seed, faults=args.faults, time_limit=args.time_limit
                )
            )
        finally:
            db.dispose()
    print(figures.summary())
    per_citizen = [len(v) for v in figures.sent_by_citizen.values()]
    if per_citizen:
        print(f"citizens: {len(per_citizen)}, messages each: median {statistics.median(per_citizen):.0f}")
    print(
        "invariants hold: every message handled, no doubled notice, counts match requests, publishes audited"
    )


if __name__ == "__main__":
    main()
