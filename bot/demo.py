"""`crowdcheck demo`: the whole tipline offline — the Bot API emulator and the real bot on
loopback, a temporary SQLite database with sample claims we wrote ourselves.

Lines you type (and lines of a `--script` file) are one of:

    citizen: TEXT            the citizen sends TEXT to the bot (a bare line does the same)
    forward CHANNEL: TEXT    the citizen forwards TEXT from a channel called CHANNEL
    reviewer: TEXT           the reviewer writes to the bot in private (e.g. /queue)
    group: TEXT              the reviewer writes in the moderators' group
    press WHO LABEL          WHO (citizen, reviewer, group) presses the button LABEL on the
                             latest message that has it, e.g. `press group Take`
    # …                      a comment

Interactively, `/reviewer` and `/citizen` switch who a bare line comes from, `[LABEL]` presses
a button in the current chat, and `/quit` ends the demo.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shlex
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from bot.app import BotRuntime
from bot.config import Config
from bot.emulator import BotApiEmulator, ChatMessage
from factdb import outbox
from factdb.db import Database
from factdb.interchange import importer

SAMPLE_CLAIMS = Path(__file__).with_name("demo_data") / "claims.jsonl"
CITIZEN, REVIEWER, GROUP = 2001, 1001, -1001000000999
NAMES = {CITIZEN: "citizen", REVIEWER: "reviewer", GROUP: "group"}


class ScriptError(ValueError):
    """A line of a demo script that does not say anything we understand."""


@dataclass
class Demo:
    emu: BotApiEmulator
    runtime: BotRuntime
    out: list[str] = field(default_factory=list)
    shown: dict[tuple[int, int], str] = field(default_factory=dict)
    persona: int = CITIZEN

    async def step(self, line: str) -> None:
        line = line.strip()
        if not line or line.startswith("#"):
            return
        self.echo(line)
        head, _, rest = line.partition(":")
        who = head.strip().lower()
        if who in ("citizen", "reviewer", "group") and rest:
            chat = GROUP if who == "group" else None
            sender = CITIZEN if who == "citizen" else REVIEWER
            self.emu.send_text(sender, rest.strip(), chat_id=chat)
            await self.reply_from(GROUP if chat else sender)
        elif who.startswith("forward ") and rest:
            channel = head.strip()[len("forward ") :].strip().strip('"') or "A channel"
            origin = {
                "type": "channel",
                "chat": {"id": -1009999, "type": "channel", "title": channel},
                "message_id": 1,
            }
            self.emu.forward(CITIZEN, rest.strip(), origin=origin)
            await self.reply_from(CITIZEN)
        elif line.lower().startswith("press "):
            parts = shlex.split(line)
            if len(parts) < 3 or parts[1] not in ("citizen", "reviewer", "group"):
                raise ScriptError(f"expected `press citizen|reviewer|group LABEL`, got {line!r}")
            query_id = self.press(parts[1], " ".join(parts[2:]))
            answer = await self.emu.wait_for_callback_answer(query_id, timeout=10)
            if answer.get("text"):
                self.echo(f"🤖 bot pops up: {answer['text']}")
        else:
            raise ScriptError(f"I don't understand {line!r} (see `crowdcheck demo --help`)")
        await self.settle()

    async def reply_from(self, chat: int) -> None:
        """Most lines get an answer; wait for it (a few, like group chatter, get none)."""
        with contextlib.suppress(AssertionError):
            await self.emu.wait_for_bot_message(chat, timeout=5)

    def press(self, who: str, label: str) -> str:
        chat = {"citizen": CITIZEN, "reviewer": REVIEWER, "group": GROUP}[who]
        presser = CITIZEN if who == "citizen" else REVIEWER
        for message in reversed(self.emu.bot_messages(chat)):
            for text, data in (b for row in message.buttons for b in row):
                if text.lower() == label.lower() or label.lower() in text.lower():
                    return self.emu.press_button(presser, chat, message.message_id, data)
        raise ScriptError(f"no button {label!r} in the {who}'s chat")

    async def settle(self) -> None:
        """Wait for the bot (and its delivery loop) to go quiet, then show what changed."""
        await asyncio.sleep(0.05)
        for _ in range(200):  # the outbox drained: cards and notices are out
            with self.runtime.db.session() as session:
                backlog = outbox.backlog(session)
            if not backlog.get("pending") and not backlog.get("sending"):
                break
            await asyncio.sleep(0.05)
        await self.emu.wait_until_idle(timeout=10, quiet=0.3)
        for chat in (CITIZEN, REVIEWER, GROUP):
            for message in self.emu.bot_messages(chat):
                self.show(chat, message)

    def show(self, chat: int, message: ChatMessage) -> None:
        key = (chat, message.message_id)
        rendered = message.text.replace("\u2068", "").replace("\u2069", "")
        if message.buttons:
            rendered += "\n" + " ".join(f"[{t}]" for t, _ in (b for row in message.buttons for b in row))
        if self.shown.get(key) == rendered:
            return
        verb = "edited" if key in self.shown else "says"
        self.shown[key] = rendered
        prefix = f"🤖 bot {verb} to {NAMES[chat]}: "
        self.echo(prefix + rendered.replace("\n", "\n" + " " * 4))

    def echo(self, text: str) -> None:
        self.out.append(text)
        print(text, flush=True)


async def run_demo(config: Config, *, script: Path | None, database_url: str | None = None) -> list[str]:
    """Run the demo; returns the transcript lines (also printed as they happen)."""
    logging.getLogger().setLevel(logging.WARNING)  # the transcript is the output
    tmp = tempfile.TemporaryDirectory(prefix="crowdcheck-demo-")
    url = database_url or f"sqlite:///{tmp.name}/demo.sqlite3"
    db = Database(url)
    db.ensure_schema()
    importer.import_file(db, SAMPLE_CLAIMS, fmt="jsonl")
    emu = BotApiEmulator()
    await emu.start()
    emu.user(CITIZEN, "Mei", language_code="en")
    emu.user(REVIEWER, "Ana", language_code="en")
    emu.create_group(GROUP, "Moderators", members=[REVIEWER])
    demo_config = Config(
        token=emu.token,
        database_url=url,
        api_base_url=emu.base_url,
        review_chat_id=GROUP,
        admin_ids=frozenset({REVIEWER}),
        public_url=config.public_url,
        org_name=config.org_name,
        outbox_rate_per_second=100.0,
        outbox_per_chat_interval=0.05,
        outbox_group_per_minute=600,
    )
    runtime = BotRuntime(demo_config, db=db, long_poll_timeout=1)
    await runtime.start()
    demo = Demo(emu, runtime)
    try:
        if script is not None:
            for n, line in enumerate(script.read_text(encoding="utf-8").splitlines(), start=1):
                try:
                    await demo.step(line)
                except ScriptError as exc:
                    raise SystemExit(f"{script}:{n}: {exc}") from None
        else:
            await interactive(demo)
    finally:
        await runtime.stop()
        await emu.stop()
        db.dispose()
        tmp.cleanup()
    return demo.out


async def interactive(demo: Demo) -> None:
    print("crowdcheck demo — you are Mei, a citizen. Forward or paste a message to check it.")
    print("Try: Banks will close all accounts with less than 100 euros on Monday")
    print("/reviewer or /citizen switches who you are; [Label] presses a button; /quit ends.\n")
    loop = asyncio.get_running_loop()
    while True:
        prompt = "citizen> " if demo.persona == CITIZEN else "reviewer> "
        line = await loop.run_in_executor(None, _read, prompt)
        if line is None or line.strip() == "/quit":
            return
        line = line.strip()
        if line in ("/reviewer", "/citizen"):
            demo.persona = REVIEWER if line == "/reviewer" else CITIZEN
            print(
                "You are now the reviewer (Ana). Try /queue, or press [Take] on a card with `press group Take`."
                if demo.persona == REVIEWER
                else "You are Mei, a citizen, again."
            )
            continue
        who = "citizen" if demo.persona == CITIZEN else "reviewer"
        if line.startswith("[") and line.endswith("]"):
            line = f"press {who} {line[1:-1]}"
        elif ":" not in line.split(" ", 1)[0] and not line.startswith(("press ", "forward ")):
            line = f"{who}: {line}"
        try:
            await demo.step(line)
        except ScriptError as exc:
            print(exc)


def _read(prompt: str) -> str | None:
    try:
        return input(prompt)
    except EOFError:
        return None


if __name__ == "__main__":  # pragma: no cover
    asyncio.run(run_demo(Config(), script=Path(sys.argv[1]) if len(sys.argv) > 1 else None))
