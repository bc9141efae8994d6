"""`POST /telegram/{path}`: Telegram's updates, when this process runs the bot in webhook mode.

An update is stored, then answered: Telegram forgets an update once we say 200, so we say it
only once the update is committed to the inbox (bot/inbox.py, docs/inbox.md); handling runs
behind it. Every way a body can be wrong ends as a 4xx, never a 500 (Telegram redelivers a 5xx
for ever); a database that cannot store it, or a full inbox, answers 503 so Telegram keeps it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
from typing import Any

from aiohttp import web

from bot.config import Config, ConfigError
from bot.inbox import InboxFull
from bot.web.keys import TELEGRAM, WEBHOOK

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
# Telegram accepts 1-256 characters from this set as a webhook secret_token.
_SECRET_RE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
# update_id is stored in a BIGINT (the inbox); Telegram's are small and never negative.
MAX_UPDATE_ID = 2**63 - 1


def webhook_secret(config: Config) -> str:
    """The secret Telegram sends back in X-Telegram-Bot-Api-Secret-Token.

    CROWDCHECK_WEBHOOK_SECRET when set; otherwise derived from the bot token with HMAC, which
    needs no storage and gives every worker behind a load balancer the same value. It is
    one-way, so the secret (and the path below) never reveal the token, and rotating the token
    at @BotFather rotates it too.
    """
    if config.webhook_secret:
        if not _SECRET_RE.match(config.webhook_secret):
            raise ConfigError(
                "CROWDCHECK_WEBHOOK_SECRET may only use letters, digits, _ and - (1 to 256 of them)."
            )
        return config.webhook_secret
    token = config.require_token()
    return hmac.new(token.encode(), b"crowdcheck webhook secret v1", hashlib.sha256).hexdigest()


def webhook_path(secret: str) -> str:
    """The URL path segment: derived from the secret so that access logs, which record paths,
    never contain the header secret itself (nor the token)."""
    return hashlib.sha256(b"crowdcheck webhook path v1:" + secret.encode()).hexdigest()[:32]


def add_webhook(app: web.Application, telegram_app: Any, secret: str) -> None:
    app[TELEGRAM] = telegram_app
    app[WEBHOOK] = (webhook_path(secret), secret)
    app.router.add_post("/telegram/{secret_path}", telegram_webhook)


class _NotAnUpdate(ValueError):
    """The body is not a Telegram update; the message says why, for the log line."""


def _update_id(body: str) -> tuple[int, dict[str, Any]]:
    """The update's id and its JSON, or _NotAnUpdate.

    An id the database cannot store would fail the inbox's group commit, taking the good
    updates committed with it down too: it is refused here.
    """
    try:
        data = json.loads(body)
    except RecursionError:  # deeply nested lists or objects: json raises this, not ValueError
        raise _NotAnUpdate("JSON nested too deeply") from None
    except ValueError:
        raise _NotAnUpdate("malformed JSON") from None
    if not isinstance(data, dict):
        raise _NotAnUpdate(f"a JSON {type(data).__name__}, not an object")
    update_id = data.get("update_id")
    # bool is an int subclass: `true` must not pass for update 1.
    if type(update_id) is not int:
        raise _NotAnUpdate(f"update_id is {type(update_id).__name__}, not an integer")
    if not 0 <= update_id <= MAX_UPDATE_ID:
        raise _NotAnUpdate("update_id out of range")
    return update_id, data


def _refuse(request: web.Request, why: str) -> web.Response:
    # One line per refused body, without the body: it is a stranger's and may be huge.
    log.warning("webhook: refused a body from %s: %s", request.remote, why)
    return web.Response(status=400, text="not a Telegram update\n")


async def telegram_webhook(request: web.Request) -> web.StreamResponse:
    hook, tg = request.app[WEBHOOK], request.app[TELEGRAM]
    assert hook is not None and tg is not None
    path, secret = hook
    # Constant-time comparisons, on bytes (compare_digest refuses non-ASCII str).
    if not hmac.compare_digest(request.match_info["secret_path"].encode(), path.encode()):
        raise web.HTTPNotFound()
    if not hmac.compare_digest(request.headers.get(SECRET_HEADER, "").encode(), secret.encode()):
        log.warning("webhook: refused a request without the right secret header from %s", request.remote)
        return web.Response(status=403, text="forbidden\n")
    try:
        body = await request.text()  # kept as sent: the inbox stores it without re-serialising
        update_id, data = _update_id(body)
        from telegram import Update

        update = Update.de_json(data, tg.bot)
    except _NotAnUpdate as exc:
        return _refuse(request, str(exc))
    except web.HTTPException:
        raise  # e.g. 413 for a body over client_max_size
    except Exception as exc:  # de_json, or a body that is not text at all
        return _refuse(request, f"not a Telegram update ({type(exc).__name__})")
    # A crash after the commit and before handling replays the update at the next start.
    inbox = tg.update_queue.inbox  # type: ignore[attr-defined]
    try:
        fresh = await inbox.accept(update_id, body, wait_for_room=False)
    except InboxFull:
        return web.Response(status=503, text="busy, send it again later\n", headers={"Retry-After": "5"})
    except Exception:
        # The database, not the update: 503 so Telegram keeps it and sends it again.
        log.warning("webhook: could not store update %s", update_id, exc_info=True)
        return web.Response(status=503, text="could not store the update\n", headers={"Retry-After": "5"})
    if fresh:
        tg.update_queue.put_nowait(update)
    return web.Response(text="ok\n")
