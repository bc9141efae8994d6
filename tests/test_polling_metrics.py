"""An operator who runs the bot with long polling (`crowdcheck run`) can still scrape it:
`--metrics-port` serves /metrics and /healthz, and nothing else, beside the polling bot."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys

import aiohttp
import pytest

from factdb.db import Database
from tests import conftest
from tests.emulator import BotApiEmulator
from tests.harness import Tipline

CITIZEN = 4242
RUMOUR = "The city will switch off all the traffic lights on Friday to save electricity, share this"


async def scrape(port: int, path: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as http, http.get(f"http://127.0.0.1:{port}{path}") as r:
        return r.status, await r.text()


async def refused(port: int) -> bool:
    try:
        await scrape(port, "/healthz")
    except aiohttp.ClientConnectorError:
        return True
    return False


async def test_an_operator_scrapes_a_polling_bot_and_sees_a_citizens_message_counted(
    db: Database, emulator: BotApiEmulator
) -> None:
    emulator.create_group(conftest.REVIEW_CHAT, "Moderators", members=[])
    # `crowdcheck run --metrics-port 0`, in process: any free port, read back from the runtime.
    async with conftest.running_bot(emulator, db, metrics_port=0) as tipline:
        server = tipline.runtime.metrics_server
        assert server is not None and server.port and server.host == "127.0.0.1"  # loopback by default
        port = server.port

        await tipline.ask(CITIZEN, RUMOUR)
        status, body = await scrape(port, "/metrics")
        assert status == 200
        assert 'crowdcheck_updates_total{kind="message"} 1.0' in body
        assert 'crowdcheck_intake_total{outcome="new_claim"} 1.0' in body
        assert "crowdcheck_queue_size 1.0" in body and "crowdcheck_database_up 1.0" in body
        for _ in range(50):  # the reply lands a moment before its handler returns
            if "crowdcheck_inbox_updates 0.0" in body:
                break
            await asyncio.sleep(0.05)
            body = (await scrape(port, "/metrics"))[1]
        assert "crowdcheck_inbox_updates 0.0" in body  # handled, so no longer held
        assert await scrape(port, "/healthz") == (200, "ok\n")
        for page in ("/claims", "/stats", "/feed/claimreview.json", "/telegram/anything"):
            assert (await scrape(port, page))[0] == 404, page  # only those two
    assert await refused(port)  # stopping the bot closed the port


async def test_without_the_option_a_polling_bot_opens_no_port(tipline: Tipline) -> None:
    # Counting is in memory and always on (bot/services.py: counted from the first update, so a
    # web server started beside the bot later reports them); only the port needs the option.
    assert tipline.runtime.metrics_server is None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def wait_until_listening(port: int, bot: asyncio.subprocess.Process) -> None:
    for _ in range(300):
        assert bot.returncode is None, "the bot exited"
        if not await refused(port):
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"nothing answered on {port}")


@pytest.mark.timeout(120)
async def test_crowdcheck_run_with_the_env_var_serves_metrics_until_sigterm(
    db: Database, emulator: BotApiEmulator, tmp_path
) -> None:
    port = free_port()
    env = {
        **os.environ,
        "TELEGRAM_BOT_TOKEN": emulator.token,
        "TELEGRAM_API_BASE_URL": emulator.base_url,
        "CROWDCHECK_DATABASE_URL": db.url,
        "CROWDCHECK_METRICS_PORT": str(port),
    }
    log = tmp_path / "bot.log"
    with log.open("ab") as out:
        bot = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot.cli", "run", env=env, stdout=out, stderr=asyncio.subprocess.STDOUT
        )
    try:
        await wait_until_listening(port, bot)
        emulator.send_text(CITIZEN, RUMOUR)
        await emulator.wait_for_bot_message(
            CITIZEN, timeout=30
        )  # a fresh process: loads its language models first
        status, body = await scrape(port, "/metrics")
        assert status == 200 and 'crowdcheck_updates_total{kind="message"} 1.0' in body
    finally:
        bot.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(bot.wait(), 30) == 0, log.read_text()
    assert await refused(port)


def test_a_taken_metrics_port_stops_start_up_with_one_clear_line(tmp_path) -> None:
    from tests.test_cli import run_cli

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_cli(
            "run",
            "--metrics-port",
            str(port),
            env={"CROWDCHECK_HOME": str(tmp_path), "TELEGRAM_BOT_TOKEN": "123456:ABCDEFGHIJKLMNOP"},
        )
    assert result.returncode == 1
    lines = [line for line in result.stderr.splitlines() if line.strip() and " INFO " not in line]
    assert len(lines) == 1 and f"cannot serve /metrics on 127.0.0.1:{port}" in lines[0], result.stderr
