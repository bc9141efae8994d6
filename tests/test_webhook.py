"""Webhook mode end to end: the emulator pushes updates to our aiohttp endpoint the way Telegram
does, a real python-telegram-bot Application answers, and forged pushes are refused."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

import aiohttp
import pytest
from sqlmodel import select

from bot.app import BotRuntime
from bot.cli.running import web_server
from bot.web import SECRET_HEADER, SECURITY_HEADERS, WebServer, webhook_path, webhook_secret
from factdb.db import Database
from factdb.models import Request
from tests import conftest
from tests.conftest import REVIEW_CHAT
from tests.emulator import BotApiEmulator
from tests.harness import shown

CLAIM = "The city will switch off all mobile networks tonight at 22:00 for a secret test, tell everyone"


def free_port() -> int:
    # setWebhook needs the URL before we listen; a just-freed port is the usual loopback trick.
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Hooked:
    emu: BotApiEmulator
    server: WebServer
    db: Database

    @property
    def url(self) -> str:
        assert self.server.webhook_url is not None
        return self.server.webhook_url


@pytest.fixture
async def hooked(db: Database, emulator: BotApiEmulator) -> AsyncIterator[Hooked]:
    emulator.create_group(REVIEW_CHAT, "Moderators", members=[9001])
    port = free_port()
    config = conftest.test_config(
        emulator, db, public_url=f"http://127.0.0.1:{port}", webhook_secret="s3cret-Value_1"
    )
    runtime = BotRuntime(config, db=db, long_poll_timeout=1)
    server = WebServer(config, host="127.0.0.1", port=port, runtime=runtime)
    await server.start()
    try:
        yield Hooked(emulator, server, db)
    finally:
        await server.stop()


def forged_update(update_id: int, user_id: int, text: str) -> dict[str, object]:
    return {
        "update_id": update_id,
        "message": {
            "message_id": 1,
            "date": int(time.time()),
            "chat": {"id": user_id, "type": "private", "first_name": "Eve"},
            "from": {"id": user_id, "is_bot": False, "first_name": "Eve"},
            "text": text,
        },
    }


async def test_a_citizen_is_answered_through_the_webhook(hooked: Hooked) -> None:
    info = await hooked.server.runtime.app.bot.get_webhook_info()  # type: ignore[union-attr]
    assert info.url == hooked.url
    assert "/telegram/" in info.url and "s3cret" not in info.url and hooked.emu.token not in info.url

    hooked.emu.send_text(501, CLAIM, first_name="Ada")
    reply = await hooked.emu.wait_for_bot_message(501, timeout=10)
    assert "Thanks, Ada" in shown(reply)
    card = await hooked.emu.wait_for_bot_message(REVIEW_CHAT, timeout=10)
    assert "mobile networks" in shown(card)
    with hooked.db.session() as s:
        assert len(s.exec(select(Request)).all()) == 1
    metrics = hooked.server.svc.metrics.render().decode()  # type: ignore[union-attr]
    assert 'crowdcheck_updates_total{kind="message"} 1.0' in metrics
    assert 'crowdcheck_intake_total{outcome="new_claim"} 1.0' in metrics


@pytest.mark.parametrize("header", [None, "wrong", "s3cret-Value_", "s3cret-Value_1x", "ünïcode"])
async def test_a_push_without_the_secret_is_refused_and_ignored(hooked: Hooked, header: str | None) -> None:
    headers = {"Content-Type": "application/json"}
    if header is not None:
        headers[SECRET_HEADER] = header.encode().decode("latin-1")
    async with (
        aiohttp.ClientSession() as http,
        http.post(hooked.url, data=json.dumps(forged_update(7_000_001, 777, CLAIM)), headers=headers) as r,
    ):
        assert r.status == 403
        assert all(r.headers.get(k) == v for k, v in SECURITY_HEADERS.items())
    await asyncio.sleep(0.5)  # had it been queued, the bot would have answered by now
    assert hooked.emu.bot_messages(777) == []
    with hooked.db.session() as s:
        assert s.exec(select(Request).where(Request.update_id == 7_000_001)).first() is None


async def test_malformed_pushes(hooked: Hooked) -> None:
    good = {"Content-Type": "application/json", SECRET_HEADER: "s3cret-Value_1"}
    async with aiohttp.ClientSession() as http:
        async with http.post(hooked.url, data="{not json", headers=good) as r:
            assert r.status == 400
        async with http.post(hooked.url, data="[1, 2]", headers=good) as r:
            assert r.status == 400
        # The right secret on the wrong path: the path is part of the secret too.
        wrong = hooked.url.rsplit("/", 1)[0] + "/" + "0" * 32
        async with http.post(wrong, data=json.dumps(forged_update(7_000_002, 778, "x")), headers=good) as r:
            assert r.status == 404
        async with http.get(hooked.url) as r:
            assert r.status == 405


async def test_the_secret_comes_from_config_or_the_token(emulator: BotApiEmulator, db: Database) -> None:
    configured = conftest.test_config(emulator, db, webhook_secret="abc_DEF-123")
    assert webhook_secret(configured) == "abc_DEF-123"
    derived = webhook_secret(conftest.test_config(emulator, db))
    assert derived == webhook_secret(conftest.test_config(emulator, db))  # stable across workers
    assert emulator.token not in derived and len(derived) == 64
    assert webhook_path(derived) not in (derived, emulator.token)
    with pytest.raises(ValueError):
        webhook_secret(conftest.test_config(emulator, db, webhook_secret="has spaces"))


async def test_pages_only_has_no_webhook(emulator: BotApiEmulator, db: Database) -> None:
    # `serve --pages-only` with a token set: the CLI builds no bot, so no webhook.
    server = web_server(conftest.test_config(emulator, db), host="127.0.0.1", port=0, pages_only=True)
    await server.start()
    try:
        assert server.runtime is None and server.webhook_url is None
        async with aiohttp.ClientSession() as http:
            async with http.get(f"http://127.0.0.1:{server.port}/healthz") as r:
                assert r.status == 200
            async with http.post(f"http://127.0.0.1:{server.port}/telegram/x", data="{}") as r:
                assert r.status in (404, 405)
        assert (await emulator_webhook_url(emulator)) == ""
    finally:
        await server.stop()


async def emulator_webhook_url(emulator: BotApiEmulator) -> str:
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{emulator.base_url}{emulator.token}/getWebhookInfo") as r,
    ):
        return str((await r.json())["result"]["url"])


async def test_serve_stops_cleanly_on_sigterm(tmp_path: object) -> None:
    """`crowdcheck serve` as its own process (pages only, no token): answers, then exits 0 on
    SIGTERM."""
    import os
    import signal
    import sys

    port = free_port()
    env = {**os.environ, "CROWDCHECK_DATABASE_URL": f"sqlite:///{tmp_path}/serve.sqlite3"}
    env.pop("TELEGRAM_BOT_TOKEN", None)
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "serve", "--port", str(port), env=env
    )
    try:
        async with aiohttp.ClientSession() as http:
            # Up to 30 s: a fresh database is migrated first, slow on a busy machine.
            for _ in range(300):
                try:
                    async with http.get(f"http://127.0.0.1:{port}/healthz") as r:
                        if r.status == 200:
                            break
                except aiohttp.ClientConnectionError:
                    await asyncio.sleep(0.1)
            else:
                pytest.fail("serve did not start")
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(proc.wait(), 15) == 0
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


async def test_a_taken_port_fails_start_and_leaves_nothing_running(
    emulator: BotApiEmulator, db: Database
) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        runtime = BotRuntime(conftest.test_config(emulator, db), db=db, long_poll_timeout=1)
        server = WebServer(runtime.config, host="127.0.0.1", port=port, runtime=runtime)
        with pytest.raises(OSError):
            await server.start()
        assert not runtime.app.running


NESTED = "[" * 100_000 + "]" * 100_000  # json.loads raises RecursionError, not ValueError


@pytest.mark.parametrize(
    "body",
    [
        NESTED,
        '{"update_id": ' + NESTED + "}",
        '{"update_id": 9223372036854775808, "message": {"message_id": 1}}',  # 2^63: not a BIGINT
        '{"update_id": 99999999999999999999999999999999}',
        '{"update_id": -1}',
        '{"update_id": "7000003"}',
        '{"update_id": 7000003.0}',
        '{"update_id": true}',
        '{"update_id": null}',
        '{"message": {"message_id": 1}}',
        '"just a string"',
        "7000003",
        "null",
        "\udcff".encode("utf-8", "surrogatepass").decode("latin-1"),  # not UTF-8
    ],
    ids=lambda b: b[:40],
)
async def test_a_hostile_body_with_the_right_secret_gets_400_never_500(
    hooked: Hooked, body: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Telegram redelivers anything that is not 2xx for ever; a 500 on a bad body would also
    fail the inbox's whole group commit. A body that is not an update is refused up front."""
    good = {"Content-Type": "application/json", SECRET_HEADER: "s3cret-Value_1"}
    caplog.clear()
    async with aiohttp.ClientSession() as http:
        async with http.post(hooked.url, data=body.encode("latin-1", "replace"), headers=good) as r:
            assert r.status == 400, await r.text()
            assert all(r.headers.get(k) == v for k, v in SECURITY_HEADERS.items())
        refused = [
            rec for rec in caplog.records if rec.name == "bot.web.webhook" and "refused" in rec.getMessage()
        ]
        assert len(refused) == 1, [rec.getMessage() for rec in caplog.records]
    # Telegram's next real update still goes through: nothing was left half stored.
    hooked.emu.send_text(779, CLAIM, first_name="Ada")
    assert "Thanks, Ada" in shown(await hooked.emu.wait_for_bot_message(779, timeout=10))


async def test_the_pages_link_to_the_bot_that_answers_here(hooked: Hooked) -> None:
    """The bot's username comes from getMe at start: a reader can go and ask it."""
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"http://127.0.0.1:{hooked.server.port}/claims") as r,
    ):
        html = await r.text()
    assert '<a class="ask" href="https://t.me/crowdcheck_test_bot" rel="noopener">Ask the bot</a>' in html
