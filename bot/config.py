"""Configuration from the environment, with CLI flags overriding.

Every setting a person can get wrong is checked here, once, so start-up fails with one line
that says what to fix instead of a traceback deep inside a handler.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path
from typing import Any

DEFAULT_API_BASE_URL = "https://api.telegram.org/bot"
DEFAULT_DATA_DIR = Path(os.environ.get("CROWDCHECK_HOME", Path.home() / ".local/share/crowdcheck"))
_TOKEN_RE = re.compile(r"^\d{3,}:[A-Za-z0-9_-]{10,}$")


class ConfigError(ValueError):
    """A setting is missing or malformed; the message is meant for the person starting us."""


def default_database_url() -> str:
    return f"sqlite:///{DEFAULT_DATA_DIR / 'crowdcheck.sqlite3'}"


@dataclass(frozen=True)
class Config:
    token: str | None = None
    database_url: str = field(default_factory=default_database_url)
    api_base_url: str = DEFAULT_API_BASE_URL
    review_chat_id: int | None = None
    admin_ids: frozenset[int] = frozenset()
    public_url: str | None = None
    require_second_review: bool = False
    org_name: str = "crowdcheck"
    # the organisation's own site, ClaimReview's author url (else the public pages' address)
    org_url: str | None = None
    webhook_secret: str | None = None
    # The bot's @username, for the public pages' "Ask the bot" link (t.me/<name>). A bot that
    # runs in this process knows it from getMe; `serve --pages-only` beside a polling bot
    # needs it set.
    bot_username: str | None = None
    # Telegram's published limits for bulk messages; configurable because a bot with paid
    # broadcasts may send more, and tests want them higher.
    outbox_rate_per_second: float = 30.0
    outbox_per_chat_interval: float = 1.0
    outbox_group_per_minute: int = 20
    # A row still `sending` after this long belonged to a worker that died mid-send.
    outbox_lease_seconds: float = 120.0
    virality_half_life_hours: float = 6.0
    flood_per_minute: int = 10
    flood_per_day: int = 200
    # Updates handled at once normally, and while webhook pushes or a full getUpdates batch
    # queue up (docs/inbox.md "Bursts"): acknowledging Telegram comes first then. Raise the
    # burst figure when Telegram's round trip, not the CPU, bounds the handlers.
    handler_concurrency: int = 16
    burst_concurrency: int = 1
    locales: tuple[str, ...] = ("en", "zh-TW", "es", "lt")
    # `crowdcheck run` serves /metrics and /healthz here when set (0: any free port, logged).
    # Loopback by default: the figures are for the operator's scraper, not the internet.
    metrics_port: int | None = None
    metrics_host: str = "127.0.0.1"
    # A bearer token /metrics asks for (docs/web.md "Metrics"); None: on `serve`'s public site
    # /metrics answers direct loopback clients only (not through a proxy), on the metrics port all.
    metrics_token: str | None = None
    # The public "waiting for review" list (factdb/public.py): off unless the operator opts in,
    # and then only for claims at least this many different citizens asked about.
    public_queue: bool = False
    public_queue_min_askers: int = 3
    # A reviewer's hold on a claim (Take) ends after this many minutes without a step on its
    # draft, so a reviewer who walks away does not freeze the claim (factdb/locks.py).
    claim_lease_minutes: float = 30.0
    # A public channel every publication is posted to (the bot must be one of its admins);
    # None: no channel (factdb/channel.py).
    channel_id: int | None = None
    # When the weekly digest goes out: ISO weekday (1 = Monday) and hour, UTC (factdb/digest.py).
    digest_weekday: int = 1
    digest_hour: int = 9
    # Pictures (docs/media.md): how many are read at once (each takes about a CPU second; the
    # rest wait in the durable inbox), and how many one citizen may send in 24 hours.
    picture_workers: int = 2
    pictures_per_day: int = 30

    def with_overrides(self, **overrides: Any) -> Config:
        return replace(self, **{k: v for k, v in overrides.items() if v is not None})

    def require_token(self) -> str:
        if not self.token:
            raise ConfigError(
                "TELEGRAM_BOT_TOKEN is not set: get one from @BotFather and export it, "
                "or run `crowdcheck demo` to try the bot offline."
            )
        if not _TOKEN_RE.match(self.token):
            raise ConfigError(
                "TELEGRAM_BOT_TOKEN does not look like a bot token (expected 123456:ABC-…); "
                "copy it again from @BotFather."
            )
        return self.token

    @property
    def claim_lease(self) -> timedelta:
        return timedelta(minutes=self.claim_lease_minutes)

    def is_admin(self, user_id: int) -> bool:
        return user_id in self.admin_ids


def _int(env: Mapping[str, str], name: str) -> int | None:
    raw = env.get(name, "").strip()
    if not raw:
        return None
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(
            f"{name}={raw!r} is not a whole number (a Telegram chat id such as -1001234567890)."
        ) from None


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a number.") from None
    if value <= 0:
        raise ConfigError(f"{name} must be greater than 0, not {raw}.")
    return value


def _whole(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or int(raw) < 1:
        raise ConfigError(f"{name}={raw!r} must be a whole number of at least 1.")
    return int(raw)


def _port(env: Mapping[str, str], name: str) -> int | None:
    raw = env.get(name, "").strip()
    if not raw:
        return None
    if not raw.isdigit() or int(raw) > 65535:
        raise ConfigError(f"{name}={raw!r} is not a port number (0 to 65535).")
    return int(raw)


def parse_admin_ids(raw: str) -> frozenset[int]:
    ids: set[int] = set()
    for part in raw.replace(" ", "").split(","):
        if not part:
            continue
        if not part.lstrip("-").isdigit():
            raise ConfigError(
                f"CROWDCHECK_ADMIN_IDS has {part!r}, which is not a Telegram user id; "
                "use comma-separated numbers such as 11111,22222."
            )
        ids.add(int(part))
    return frozenset(ids)


def _bool(env: Mapping[str, str], name: str) -> bool:
    raw = env.get(name, "").strip().lower()
    if raw in ("", "0", "false", "no", "off"):
        return False
    if raw in ("1", "true", "yes", "on"):
        return True
    raise ConfigError(f"{name}={raw!r}: use 1 or 0.")


def normalise_database_url(url: str) -> str:
    """Accept the URLs people paste (postgres://, postgresql://) and pick our drivers."""
    url = url.strip()
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    if not (url.startswith("sqlite") or url.startswith("postgresql+")):
        raise ConfigError(
            f"CROWDCHECK_DATABASE_URL must be sqlite:///path or postgresql://…, not {url.split(':')[0]}:…"
        )
    return url


def _web_address(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name, "").strip()
    if not value:
        return None
    if not value.startswith(("http://", "https://")) or " " in value:
        raise ConfigError(f"{name}={value!r} must be a web address starting with https:// (or http://).")
    return value


_BOT_USERNAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]{3,30}[Bb][Oo][Tt]$")


def _bot_username(env: Mapping[str, str]) -> str | None:
    raw = env.get("CROWDCHECK_BOT_USERNAME", "").strip().removeprefix("@")
    if not raw:
        return None
    if not _BOT_USERNAME_RE.match(raw):
        raise ConfigError(
            f"CROWDCHECK_BOT_USERNAME={raw!r} is not a bot's username "
            "(5 to 32 letters, digits or _, ending in bot, as @BotFather gave it)."
        )
    return raw


def _within(env: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise ConfigError(f"{name}={raw!r} must be a whole number from {low} to {high}.")
    return int(raw)


def load(env: Mapping[str, str] | None = None) -> Config:
    env = os.environ if env is None else env
    base_url = env.get("TELEGRAM_API_BASE_URL", "").strip() or DEFAULT_API_BASE_URL
    if not base_url.startswith(("http://", "https://")):
        raise ConfigError(f"TELEGRAM_API_BASE_URL={base_url!r} must start with http:// or https://.")
    locales = (
        tuple(loc.strip() for loc in env.get("CROWDCHECK_LOCALES", "").split(",") if loc.strip())
        or Config.locales
    )
    return Config(
        token=env.get("TELEGRAM_BOT_TOKEN", "").strip() or None,
        database_url=normalise_database_url(env.get("CROWDCHECK_DATABASE_URL", "") or default_database_url()),
        api_base_url=base_url,
        review_chat_id=_int(env, "CROWDCHECK_REVIEW_CHAT_ID"),
        admin_ids=parse_admin_ids(env.get("CROWDCHECK_ADMIN_IDS", "")),
        public_url=(env.get("CROWDCHECK_PUBLIC_URL", "").strip().rstrip("/") or None),
        require_second_review=_bool(env, "CROWDCHECK_REQUIRE_SECOND_REVIEW"),
        org_name=env.get("CROWDCHECK_ORG_NAME", "").strip() or Config.org_name,
        org_url=_web_address(env, "CROWDCHECK_ORG_URL"),
        webhook_secret=env.get("CROWDCHECK_WEBHOOK_SECRET", "").strip() or None,
        bot_username=_bot_username(env),
        outbox_rate_per_second=_float(env, "CROWDCHECK_OUTBOX_RATE", Config.outbox_rate_per_second),
        outbox_per_chat_interval=_float(
            env, "CROWDCHECK_OUTBOX_PER_CHAT_INTERVAL", Config.outbox_per_chat_interval
        ),
        outbox_group_per_minute=int(
            _float(env, "CROWDCHECK_OUTBOX_GROUP_PER_MINUTE", Config.outbox_group_per_minute)
        ),
        outbox_lease_seconds=_float(env, "CROWDCHECK_OUTBOX_LEASE_SECONDS", Config.outbox_lease_seconds),
        virality_half_life_hours=_float(
            env, "CROWDCHECK_VIRALITY_HALF_LIFE_HOURS", Config.virality_half_life_hours
        ),
        flood_per_minute=int(_float(env, "CROWDCHECK_FLOOD_PER_MINUTE", Config.flood_per_minute)),
        flood_per_day=int(_float(env, "CROWDCHECK_FLOOD_PER_DAY", Config.flood_per_day)),
        handler_concurrency=_whole(env, "CROWDCHECK_HANDLER_CONCURRENCY", Config.handler_concurrency),
        burst_concurrency=_whole(env, "CROWDCHECK_BURST_CONCURRENCY", Config.burst_concurrency),
        locales=locales,
        metrics_port=_port(env, "CROWDCHECK_METRICS_PORT"),
        metrics_token=env.get("CROWDCHECK_METRICS_TOKEN", "").strip() or None,
        public_queue=_bool(env, "CROWDCHECK_PUBLIC_QUEUE"),
        public_queue_min_askers=_whole(
            env, "CROWDCHECK_PUBLIC_QUEUE_MIN_ASKERS", Config.public_queue_min_askers
        ),
        claim_lease_minutes=_float(env, "CROWDCHECK_CLAIM_LEASE_MINUTES", Config.claim_lease_minutes),
        channel_id=_int(env, "CROWDCHECK_CHANNEL_ID"),
        digest_weekday=_within(env, "CROWDCHECK_DIGEST_WEEKDAY", Config.digest_weekday, 1, 7),
        digest_hour=_within(env, "CROWDCHECK_DIGEST_HOUR", Config.digest_hour, 0, 23),
        picture_workers=_whole(env, "CROWDCHECK_PICTURE_WORKERS", Config.picture_workers),
        pictures_per_day=_whole(env, "CROWDCHECK_PICTURES_PER_DAY", Config.pictures_per_day),
    )
