"""`crowdcheck demo`: the whole tipline offline — the Bot API emulator and the real bot on
loopback, a temporary SQLite database with sample claims we wrote ourselves.

What you type, and each line of a `--script` file, is one of:

    [LABEL]                  press the button LABEL, written as the demo shows it
                             (`[👍 Helpful]`, `[This isn't my message]`; `[Helpful]` works too),
                             on the latest message that has it in your chats
    /citizen                 from now on you are Mei, a citizen (where the demo starts)
    /reviewer                you are Ana, a reviewer, in her private chat with the bot
    /group                   you are Ana writing in the moderators' group
    /forward CHANNEL: TEXT   forward TEXT as if from a channel called CHANNEL
    /quit                    end the demo (or the script)
    /anything else           a command to the bot (/start, /queue, /mychecks, …)
    # …                      a comment (a # then a space; #hashtags are messages)
    anything else            a message to the bot, sent exactly as written: `URGENT: …`,
                             a link, a quote with apostrophes

Older scripts still play: `press citizen|reviewer|group LABEL` presses LABEL in that chat, and a
line starting with `citizen:`, `reviewer:` or `group:` (lower case) is a message from them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import sys
import tempfile
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from bot.app import BotRuntime
from bot.config import Config
from factdb import outbox
from factdb.db import Database
from factdb.interchange import importer

if TYPE_CHECKING:
    from tests.emulator import BotApiEmulator, ChatMessage

SAMPLE_CLAIMS = Path(__file__).with_name("demo_data") / "claims.jsonl"
CITIZEN, REVIEWER, GROUP = 2001, 1001, -1001000000999
NAMES = {CITIZEN: "citizen", REVIEWER: "reviewer", GROUP: "group"}
# who → (who is writing, in which chat, the chats whose buttons they can press)
PERSONAS: dict[str, tuple[int, int, tuple[int, ...]]] = {
    "citizen": (CITIZEN, CITIZEN, (CITIZEN,)),
    "reviewer": (REVIEWER, REVIEWER, (REVIEWER, GROUP)),
    "group": (REVIEWER, GROUP, (GROUP, REVIEWER)),
}
_LEGACY_PRESS = re.compile(r"^press (citizen|reviewer|group)\s+(.+)$")
_LEGACY_SAY = re.compile(r"^(citizen|reviewer|group):\s*(\S.*)$")
_FORWARD = re.compile(r"^/forward(?:@\w+)?\s+(.+?):\s*(\S.*)$", re.IGNORECASE)
# How a label may be typed differently from how it is shown: typographic quotes and the ellipsis
# as ASCII, and emoji or invisible direction marks left out.
_TYPOGRAPHY = str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"', "…": "..."})


NO_EMULATOR = (
    "The demo runs from a source checkout: the Bot API emulator it plays against lives in the "
    "repository's tests/emulator/ and is not part of the installed package. Clone the "
    "repository and run `crowdcheck demo` (or `python bot.py demo`) there."
)


def load_emulator() -> type[BotApiEmulator]:
    """The emulator, a test double that lives beside the tests, not in the product package.

    A console script's sys.path does not hold the checkout, so put the checkout that holds this
    `bot` package there first; an installed wheel has no tests/ beside it and gets a clear exit.
    """
    checkout = Path(__file__).resolve().parent.parent
    if (checkout / "tests" / "emulator" / "__init__.py").is_file() and str(checkout) not in sys.path:
        sys.path.append(str(checkout))
    try:
        from tests.emulator import BotApiEmulator
    except ImportError:
        raise SystemExit(NO_EMULATOR) from None
    return BotApiEmulator


class ScriptError(ValueError):
    """A line of a demo script that does not say anything we understand."""


def _unquoted(label: str) -> str:
    """Older scripts quoted labels for shlex (`press group "Take"`); the quotes are not the label."""
    label = label.strip()
    if len(label) >= 2 and label[0] == label[-1] and label[0] in "\"'":
        return label[1:-1].strip()
    return label


def _visible(text: str) -> str:
    """Text as the terminal shows it: without the invisible direction isolates."""
    return text.replace("\u2068", "").replace("\u2069", "")


def _loose(label: str) -> str:
    """A label's words: case, quote style and emoji (symbols, their joiners and variation
    selectors) do not matter when typing it."""
    kept = (
        c
        for c in label.translate(_TYPOGRAPHY)
        if not unicodedata.category(c).startswith(("S", "C", "M")) or c.isspace()
    )
    return " ".join("".join(kept).casefold().split())


@dataclass
class Demo:
    emu: BotApiEmulator
    runtime: BotRuntime
    out: list[str] = field(default_factory=list)
    shown: dict[tuple[int, int], str] = field(default_factory=dict)
    persona: str = "citizen"
    # (chat, message id) in the order they were last shown: a press finds the newest first
    recent: list[tuple[int, int]] = field(default_factory=list)
    finished: bool = False

    async def step(self, line: str) -> None:
        line = line.strip()
        if not line or line == "#" or line.startswith("# "):
            return
        self.echo(line)
        word = line.split(maxsplit=1)[0].lower()
        if word in ("/citizen", "/reviewer", "/group") and word == line.lower():
            self.persona = word[1:]
            return
        if word == "/quit":
            self.finished = True
            return
        if word.startswith("/forward"):
            forward = _FORWARD.match(line)
            if forward is None:
                raise ScriptError(f"expected `/forward CHANNEL: TEXT`, got {line!r}")
            await self.forward(forward.group(1).strip().strip('"'), forward.group(2))
        elif line.startswith("[") and line.endswith("]") and len(line) > 2:
            who = self.persona
            await self.press(line[1:-1].strip(), PERSONAS[who][2], who)
        elif legacy := _LEGACY_PRESS.match(line):
            who = legacy.group(1)
            await self.press(_unquoted(legacy.group(2)), (PERSONAS[who][1],), who)
        elif legacy := _LEGACY_SAY.match(line):
            await self.say(legacy.group(1), legacy.group(2))
        else:
            await self.say(self.persona, line)
        await self.settle()

    async def say(self, who: str, text: str) -> None:
        sender, chat, _ = PERSONAS[who]
        self.emu.send_text(sender, text, chat_id=chat if chat != sender else None)
        await self.reply_from(chat)

    async def forward(self, channel: str, text: str) -> None:
        sender = PERSONAS[self.persona][0]
        origin = {
            "type": "channel",
            "chat": {"id": -1009999, "type": "channel", "title": channel or "A channel"},
            "message_id": 1,
        }
        self.emu.forward(sender, text, origin=origin)
        await self.reply_from(sender)

    async def reply_from(self, chat: int) -> None:
        """Most lines get an answer; wait for it (a few, like group chatter, get none)."""
        with contextlib.suppress(AssertionError):
            await self.emu.wait_for_bot_message(chat, timeout=5)

    async def press(self, label: str, chats: tuple[int, ...], who: str) -> None:
        chat, message_id, data = self.find_button(label, chats)
        presser = PERSONAS[who][0]
        query_id = self.emu.press_button(presser, chat, message_id, data)
        answer = await self.emu.wait_for_callback_answer(query_id, timeout=10)
        if answer.get("text"):
            self.echo(f"🤖 bot pops up: {answer['text']}")

    def find_button(self, label: str, chats: tuple[int, ...]) -> tuple[int, int, str]:
        """The button meant by `label` on the newest message that has it: the label exactly as
        shown, else the same words however typed (case, quotes, emoji left out), else a button
        whose label contains those words."""
        messages = {(m.chat_id, m.message_id): m for chat in chats for m in self.emu.bot_messages(chat)}
        newest_first = [key for key in reversed(self.recent) if key in messages]
        newest_first += sorted((k for k in messages if k not in newest_first), key=lambda k: -k[1])
        buttons = [
            (key, _visible(text), data)
            for key in newest_first
            for text, data in (b for row in messages[key].buttons for b in row)
        ]
        wanted = _loose(label)
        for matches in (
            lambda shown: shown == label,
            lambda shown: _loose(shown) == wanted,
            lambda shown: bool(wanted) and wanted in _loose(shown),
        ):
            for (chat, message_id), shown, data in buttons:
                if matches(shown):
                    return chat, message_id, data
        where = " and ".join(f"the {NAMES[c]}'s chat" if c != GROUP else "the group" for c in chats)
        offered = " ".join(dict.fromkeys(f"[{shown}]" for _, shown, _ in buttons)) or "none"
        raise ScriptError(f"no button [{label}] in {where} (buttons there: {offered})")

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
        rendered = _visible(message.text)
        if message.buttons:
            rendered += "\n" + " ".join(
                f"[{_visible(t)}]" for t, _ in (b for row in message.buttons for b in row)
            )
        if self.shown.get(key) == rendered:
            return
        verb = "edited" if key in self.shown else "says"
        self.shown[key] = rendered
        if key in self.recent:
            self.recent.remove(key)
        self.recent.append(key)
        prefix = f"🤖 bot {verb} to {NAMES[chat]}: "
        self.echo(prefix + rendered.replace("\n", "\n" + " " * 4))

    def echo(self, text: str) -> None:
        self.out.append(text)
        print(text, flush=True)


async def run_demo(config: Config, *, script: Path | None, database_url: str | None = None) -> list[str]:
    """Run the demo; returns the transcript lines (also printed as they happen)."""
    emulator = load_emulator()
    logging.getLogger().setLevel(logging.WARNING)  # the transcript is the output
    tmp = tempfile.TemporaryDirectory(prefix="crowdcheck-demo-")
    url = database_url or f"sqlite:///{tmp.name}/demo.sqlite3"
    db = Database(url)
    db.ensure_schema()
    importer.import_file(db, SAMPLE_CLAIMS, fmt="jsonl")
    emu = emulator()
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
                if demo.finished:
                    break
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
    print("/reviewer, /group or /citizen switches who you are; [Label] presses a button; /quit ends.\n")
    loop = asyncio.get_running_loop()
    while not demo.finished:
        line = await loop.run_in_executor(None, _read, f"{demo.persona}> ")
        if line is None:
            return
        before = demo.persona
        try:
            await demo.step(line)
        except ScriptError as exc:
            print(exc)
        if demo.persona != before:
            print(SWITCHED[demo.persona])


SWITCHED = {
    "citizen": "You are Mei, a citizen, again.",
    "reviewer": "You are now Ana, a reviewer, in her private chat with the bot. Try /queue, "
    "or /group and then [Take] on a card.",
    "group": "You are Ana in the moderators' group: [Take] on a card takes it, /queue lists them.",
}


def _read(prompt: str) -> str | None:
    try:
        return input(prompt)
    except EOFError:
        return None


if __name__ == "__main__":  # pragma: no cover
    asyncio.run(run_demo(Config(), script=Path(sys.argv[1]) if len(sys.argv) > 1 else None))
