"""`crowdcheck doctor`: check a setup end to end and say, one line each, what to fix.

It only reads: it asks Telegram (getMe, getWebhookInfo, getChat, getChatMember), looks at the
database's schema version and at the settings. It never registers a webhook, creates a database
file or sends a message, so it is safe to run beside a running bot, as often as you like.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from sqlalchemy import inspect
from sqlalchemy.engine import Engine, make_url

from bot.config import Config, ConfigError

CALL_TIMEOUT = 10.0  # seconds for each Bot API call
DB_CONNECT_TIMEOUT = 5  # seconds; a PostgreSQL that does not answer should not hang the doctor


@dataclass(frozen=True)
class Check:
    ok: bool
    line: str  # what was found and, when not ok, what to do about it

    def render(self) -> str:
        return f"{'✓' if self.ok else '✗'} {self.line}"


class _Unreachable(Exception):
    pass


@dataclass
class _Answer:
    status: int
    body: dict[str, Any]

    @property
    def ok(self) -> bool:
        return bool(self.body.get("ok"))

    @property
    def result(self) -> Any:
        return self.body.get("result")

    @property
    def description(self) -> str:
        return str(self.body.get("description") or f"HTTP {self.status}")


class _BotApi:
    """The few read-only Bot API calls the doctor makes, errors kept as Telegram words them."""

    def __init__(self, session: aiohttp.ClientSession, base_url: str, token: str) -> None:
        self.session = session
        self.url = f"{base_url.rstrip('/')}{token}/"

    async def call(self, method: str, **params: Any) -> _Answer:
        try:
            async with self.session.post(self.url + method, json=params) as response:
                try:
                    body = await response.json(content_type=None)
                except ValueError:
                    body = None
                if not isinstance(body, dict):
                    raise _Unreachable(f"HTTP {response.status} without a Bot API answer")
                return _Answer(response.status, body)
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            raise _Unreachable(_network_error(exc)) from None


def _network_error(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return f"no answer within {CALL_TIMEOUT:.0f} s"
    text = str(exc) or type(exc).__name__
    return text.splitlines()[0][:200]


async def diagnose(config: Config) -> list[Check]:
    checks: list[Check] = []
    checks.extend(await _telegram_checks(config))
    checks.append(_admins(config))
    checks.append(await asyncio.to_thread(_database, config.database_url))
    checks.append(_public_url(config))
    checks.extend(await asyncio.to_thread(_capabilities, config.database_url))
    return checks


def report(checks: list[Check]) -> str:
    lines = [c.render() for c in checks]
    problems = sum(not c.ok for c in checks)
    if problems:
        lines.append(
            f"{problems} problem{'s' if problems != 1 else ''}: fix the ✗ lines above, then run this again."
        )
    else:
        lines.append("All good.")
    return "\n".join(lines)


# -- Telegram ----------------------------------------------------------------------------------
async def _telegram_checks(config: Config) -> list[Check]:
    base = config.api_base_url
    try:
        token = config.require_token()
    except ConfigError as exc:
        return [
            Check(False, str(exc)),
            Check(False, f"the Bot API at {base}: not checked (needs TELEGRAM_BOT_TOKEN)"),
            *_not_checked(config, "needs TELEGRAM_BOT_TOKEN"),
        ]
    checks = [Check(True, "TELEGRAM_BOT_TOKEN is set")]
    timeout = aiohttp.ClientTimeout(total=CALL_TIMEOUT)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        api = _BotApi(session, base, token)
        try:
            me = await api.call("getMe")
        except _Unreachable as exc:
            checks.append(
                Check(
                    False,
                    f"the Bot API at {base} is not reachable ({exc}): check the network, a proxy, "
                    "or TELEGRAM_API_BASE_URL",
                )
            )
            checks.extend(_not_checked(config, "the Bot API is not reachable"))
            return checks
        checks.append(Check(True, f"the Bot API at {base} answers"))
        if not me.ok:
            checks.append(
                Check(
                    False,
                    f"Telegram refuses TELEGRAM_BOT_TOKEN ({me.description}): it was revoked or "
                    "mistyped; copy it again from @BotFather (/mybots → API Token)",
                )
            )
            checks.extend(_not_checked(config, "Telegram refuses the token"))
            return checks
        bot = me.result or {}
        checks.append(Check(True, f"Telegram accepts the token: the bot is @{bot.get('username', '?')}"))
        checks.extend(_reach(bot))
        try:
            checks.extend(await _webhook(api, config))
            checks.append(await _review_group(api, config, int(bot.get("id", 0))))
        except _Unreachable as exc:
            checks.append(Check(False, f"the Bot API stopped answering ({exc}): run this again"))
    return checks


def _reach(bot: dict[str, Any]) -> list[Check]:
    """What the bot can do beyond private chats (docs/reach.md): information, never a problem."""
    if bot.get("can_read_all_group_messages"):
        privacy = "privacy mode is off: in quiet groups the bot sees the messages it may answer"
    else:
        privacy = (
            "privacy mode is on: in groups where it is not an admin the bot sees only commands and "
            "replies, so quiet mode answers nothing there (make it a group admin, or @BotFather "
            "/setprivacy → Disable)"
        )
    inline = (
        "inline mode is on: @bot words offers published fact-checks in any chat"
        if bot.get("supports_inline_queries")
        else "inline mode is off (@BotFather /setinline turns on answers in any chat)"
    )
    return [Check(True, privacy), Check(True, inline)]


def _capabilities(url: str) -> list[Check]:
    """Reading pictures and matching by meaning: optional, said either way; a problem only when
    the stored claim vectors were made by another model or recipe (the stage stays off)."""
    from factdb import semantic
    from factdb.media.ocr import ocr_status

    ocr = ocr_status()
    on, said = semantic.status()
    meaning = Check(True, f"matching by meaning: {said}")
    if on and (old := _old_vectors(url, semantic.model_id())):
        meaning = Check(
            False,
            f"matching by meaning: {old} stored claim vectors were made by another model or recipe "
            f"than {semantic.model_id()}: run `crowdcheck db upgrade` (matching stays lexical until then)",
        )
    return [Check(True, f"pictures: {ocr.advice}"), meaning]


def _old_vectors(url: str, model: str) -> int:
    """How many stored claim vectors another model made (0 when the database cannot be read:
    the database line says why)."""
    from factdb.semantic.store import other_model_vectors

    if _missing_sqlite_file(url) is not None:
        return 0
    try:
        engine = _read_only_engine(url)
    except Exception:
        return 0
    try:
        return other_model_vectors(engine, model)
    finally:
        engine.dispose()


def _not_checked(config: Config, why: str) -> list[Check]:
    """The Telegram checks that could not run: still one line each, so nothing looks fine."""
    group = (
        f"the moderators' group {config.review_chat_id}"
        if config.review_chat_id is not None
        else "the moderators' group"
    )
    return [Check(False, f"webhook: not checked ({why})"), Check(False, f"{group}: not checked ({why})")]


async def _webhook(api: _BotApi, config: Config) -> list[Check]:
    from bot.web import webhook_path, webhook_secret

    info = await api.call("getWebhookInfo")
    if not info.ok:
        return [Check(False, f"webhook: Telegram did not say ({info.description})")]
    data = info.result or {}
    url = str(data.get("url") or "")
    pending = int(data.get("pending_update_count") or 0)
    waiting = f"; {pending} update{'s' if pending != 1 else ''} waiting" if pending else ""
    expected: str | None = None
    if config.public_url:
        try:
            expected = f"{config.public_url}/telegram/{webhook_path(webhook_secret(config))}"
        except ConfigError as exc:
            return [Check(False, f"webhook: {exc}")]
    ours = f"{config.public_url}/telegram/…"
    if not url:
        serve = f"; `crowdcheck serve` would register {ours} when it starts" if expected else ""
        checks = [
            Check(
                True,
                f"no webhook registered: `crowdcheck run` (long polling) gets the updates{waiting}{serve}",
            )
        ]
    elif url == expected:
        checks = [Check(True, f"webhook registered at {ours} (`crowdcheck serve`){waiting}")]
    else:
        where = f"not at this setup's {ours}" if expected else "but CROWDCHECK_PUBLIC_URL is not set"
        checks = [
            Check(
                False,
                f"a webhook is registered at {_origin(url)}, {where}: another deployment may be "
                "using this token. `crowdcheck serve` registers ours, `crowdcheck run` removes it"
                f"{waiting}",
            )
        ]
    if url and data.get("last_error_message"):
        when = ""
        if isinstance(data.get("last_error_date"), int):
            stamp = dt.datetime.fromtimestamp(data["last_error_date"], dt.UTC)
            when = f" at {stamp:%Y-%m-%d %H:%M} UTC"
        checks.append(
            Check(
                False,
                f"Telegram's last webhook delivery failed{when}: {data['last_error_message']}. "
                f"Check that {_origin(url)} reaches `crowdcheck serve` (proxy, TLS certificate, firewall)",
            )
        )
    return checks


def _origin(url: str) -> str:
    """Scheme and host only: the path of a webhook is a secret of whoever registered it."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}/…" if parts.netloc else "(an unreadable address)"


async def _review_group(api: _BotApi, config: Config, bot_id: int) -> Check:
    chat_id = config.review_chat_id
    if chat_id is None:
        return Check(
            False,
            "CROWDCHECK_REVIEW_CHAT_ID is not set: add the bot to the moderators' group and it sends "
            "you the group's id in a private message (or send /whoami in the group)",
        )
    named = f"the moderators' group {chat_id}"
    add_it = f"add the bot to the group, or fix CROWDCHECK_REVIEW_CHAT_ID={chat_id}"
    chat = await api.call("getChat", chat_id=chat_id)
    moved = (chat.body.get("parameters") or {}).get("migrate_to_chat_id")
    if not chat.ok and moved:
        return Check(
            False,
            f"{named} became a supergroup and Telegram gave it a new id: set "
            f"CROWDCHECK_REVIEW_CHAT_ID={moved} and restart the bot",
        )
    if not chat.ok:
        if chat.status == 403:
            unban = " (a group admin must unban it first)" if "kicked" in chat.description else ""
            return Check(False, f"the bot is not in {named} (Telegram: {chat.description}): {add_it}{unban}")
        return Check(False, f"Telegram does not know {named} ({chat.description}): {add_it}")
    title = (chat.result or {}).get("title") or ""
    named = f"the moderators' group “{title}” ({chat_id})"
    member = await api.call("getChatMember", chat_id=chat_id, user_id=bot_id)
    if not member.ok:
        return Check(False, f"the bot is not in {named} (Telegram: {member.description}): {add_it}")
    standing = member.result or {}
    status = standing.get("status")
    if status in ("member", "administrator") or (
        status == "restricted" and standing.get("is_member") and standing.get("can_send_messages")
    ):
        return Check(True, f"{named}: the bot is a member and can post")
    if status == "restricted":
        return Check(
            False,
            f"the bot is in {named} but may not post there: a group admin must give it back the "
            "right to send messages (or make it an admin)",
        )
    return Check(False, f"the bot is not a member of {named} (it is {status}): {add_it}")


# -- settings and the database -----------------------------------------------------------------
def _admins(config: Config) -> Check:
    if not config.admin_ids:
        return Check(
            False,
            "CROWDCHECK_ADMIN_IDS is not set: nobody can add reviewers from Telegram; send /whoami "
            "to the bot for your user id and set CROWDCHECK_ADMIN_IDS to it",
        )
    n = len(config.admin_ids)
    return Check(True, f"CROWDCHECK_ADMIN_IDS names {n} admin{'s' if n != 1 else ''}")


def _database(url: str) -> Check:
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    from factdb.db import alembic_config

    shown = make_url(url).render_as_string(hide_password=True)
    if (path := _missing_sqlite_file(url)) is not None:
        return Check(
            False,
            f"the database file {path} does not exist yet: `crowdcheck db upgrade` creates it "
            "(so does the bot's first start)",
        )
    try:
        engine = _read_only_engine(url)
    except Exception as exc:
        return Check(False, f"cannot open the database {shown}: {_first_line(exc)}")
    try:
        with engine.connect() as conn:
            current = MigrationContext.configure(conn).get_current_revision()
            empty = current is None and not inspect(conn).get_table_names()
        head = ScriptDirectory.from_config(alembic_config(engine)).get_current_head()
    except Exception as exc:
        return Check(
            False,
            f"the database {shown} is not reachable: {_first_line(exc)}; check CROWDCHECK_DATABASE_URL",
        )
    finally:
        engine.dispose()
    if current == head:
        return Check(True, f"the database answers and its schema is up to date ({head})")
    if empty:
        return Check(
            False, "the database is empty: run `crowdcheck db upgrade` (the bot's first start does it too)"
        )
    return Check(
        False,
        f"the database schema is at {current or 'an unknown version'}, this crowdcheck needs {head}: back it up, then run "
        "`crowdcheck db upgrade`",
    )


def _missing_sqlite_file(url: str) -> Path | None:
    """The SQLite file `url` names when it does not exist (the doctor is read-only: opening it
    would create it); None otherwise."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return None
    path = Path(parsed.database).expanduser()
    return None if path.exists() else path


def _read_only_engine(url: str) -> Engine:
    """An engine for the doctor's reads: a server that does not answer gives up after
    DB_CONNECT_TIMEOUT seconds."""
    from factdb.db import make_engine

    if make_url(url).get_backend_name() == "sqlite":
        return make_engine(url)
    return make_engine(url, connect_args={"connect_timeout": DB_CONNECT_TIMEOUT})


def _first_line(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None) or exc
    text = str(orig).strip() or type(orig).__name__
    return text.splitlines()[0][:200]


def _public_url(config: Config) -> Check:
    from factdb.interchange.claimreview import missing_public_url_warning

    warning = missing_public_url_warning(config.public_url)
    if warning:
        return Check(False, warning)
    return Check(True, f"CROWDCHECK_PUBLIC_URL is {config.public_url}")


def run(config: Config) -> tuple[str, bool]:
    """The report, and whether everything is fine."""
    checks = asyncio.run(diagnose(config))
    return report(checks), all(c.ok for c in checks)
