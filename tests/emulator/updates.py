"""Updates and webhooks: the queue of updates, getUpdates long polling, setWebhook and delivery
to the webhook (in order, one at a time, retried with backoff until accepted).

Deliberate deviations from Telegram, documented because tests rely on them: ``setWebhook``
accepts plain ``http://`` URLs on loopback (Telegram requires HTTPS) so tests can run a receiver
without certificates. A second concurrent ``getUpdates`` terminates the first with 409, as
Telegram does.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import time

import aiohttp

from tests.emulator.core import EmulatorCore
from tests.emulator.errors import ApiError, bad_request
from tests.emulator.objects import JSON
from tests.emulator.state import PendingUpdate, update_type

# Telegram delivers everything except these unless allowed_updates asks for them.
_NOT_DEFAULT_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
_SECRET_RE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
_CONFLICT_WEBHOOK = (
    "Conflict: can't use getUpdates method while webhook is active; "
    "use deleteWebhook to delete the webhook first"
)
_CONFLICT_POLLING = (
    "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"
)


class Updates(EmulatorCore):
    webhook_retry_delay: float
    webhook_max_retry_delay: float
    _updates: list[PendingUpdate]
    _update_history: dict[int, JSON]
    _next_update_id: int
    _allowed_updates: list[str] | None
    _poll_generation: int
    _webhook: JSON | None
    _webhook_task: asyncio.Task[None] | None
    _webhook_session: aiohttp.ClientSession | None
    _webhook_error: tuple[int, str] | None
    _webhook_description: str

    def _init_updates(self, webhook_retry_delay: float, webhook_max_retry_delay: float) -> None:
        self.webhook_retry_delay = webhook_retry_delay
        self.webhook_max_retry_delay = webhook_max_retry_delay
        self._updates = []
        self._update_history = {}
        self._next_update_id = 100_001
        self._allowed_updates = None
        self._poll_generation = 0
        self._webhook = None
        self._webhook_task = None
        self._webhook_session = None
        self._webhook_error = None
        self._webhook_description = "Webhook was set"

    def _result_description(self, method: str) -> str | None:
        """The ``description`` Telegram adds to a successful set/deleteWebhook."""
        return self._webhook_description if method in ("setwebhook", "deletewebhook") else None

    async def _stop_webhook(self) -> None:
        task = self._webhook_task
        self._webhook_task = None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self._webhook_session is not None:
            await self._webhook_session.close()
            self._webhook_session = None

    def _enqueue_locked(self, body: JSON, update_id: int | None = None, *, redelivery: bool = False) -> JSON:
        if update_id is None:
            update_id = self._next_update_id
            self._next_update_id += 1
        else:
            self._next_update_id = max(self._next_update_id, update_id + 1)
        update = {"update_id": update_id, **body}
        self._update_history[update_id] = update
        self._updates.append(PendingUpdate(update, redelivery=redelivery))
        self._seq += 1
        return update

    def _enqueue(self, body: JSON, update_id: int | None = None, *, redelivery: bool = False) -> JSON:
        with self._lock:
            update = self._enqueue_locked(body, update_id, redelivery=redelivery)
        self._notify()
        return update

    def _allowed(self, update: JSON, allowed: list[str] | None) -> bool:
        kind = update_type(update)
        if not allowed:
            return kind not in _NOT_DEFAULT_UPDATES
        return kind in allowed

    def _take_updates_locked(self, limit: int, allowed: list[str] | None) -> list[JSON]:
        kept: list[PendingUpdate] = []
        for pending in self._updates:
            if self._allowed(pending.update, allowed):
                kept.append(pending)
        # Telegram drops updates of types the bot said it does not want.
        self._updates = kept
        batch = kept[:limit]
        for pending in batch:
            pending.delivered = True
        return [json.loads(json.dumps(p.update)) for p in batch]

    def _confirm_locked(self, offset: int) -> None:
        if offset > 0:
            # A redelivered copy survives confirmations until it has been handed out once.
            self._updates = [
                p
                for p in self._updates
                if p.update["update_id"] >= offset or (p.redelivery and not p.delivered)
            ]
        elif offset < 0:
            self._updates = self._updates[offset:]

    async def _m_get_updates(self, params: JSON) -> list[JSON]:
        with self._lock:
            if self._webhook is not None:
                raise ApiError(409, _CONFLICT_WEBHOOK)
            offset = self._int(params, "offset", required=False)
            limit = max(1, min(100, self._int(params, "limit", required=False, default=100)))
            timeout = max(0, self._int(params, "timeout", required=False))
            allowed = params.get("allowed_updates")
            if isinstance(allowed, list):
                self._allowed_updates = [str(a) for a in allowed] or None
            self._confirm_locked(offset)
            self._poll_generation += 1
            generation = self._poll_generation
        self._notify()

        def check() -> list[JSON] | ApiError | None:
            with self._lock:
                if self._webhook is not None:
                    return ApiError(409, _CONFLICT_WEBHOOK)
                if self._poll_generation != generation:
                    return ApiError(409, _CONFLICT_POLLING)
                if self._stopping:
                    return []
                batch = self._take_updates_locked(limit, self._allowed_updates)
                return batch or None

        result = await self._wait_for(check, float(timeout))
        if isinstance(result, ApiError):
            raise result
        if result is None:
            with self._lock:
                # The long poll ran out: one last look, as Telegram answers at the deadline.
                if self._poll_generation != generation:
                    raise ApiError(409, _CONFLICT_POLLING)
                return self._take_updates_locked(limit, self._allowed_updates)
        return result

    _webhook_description = "Webhook was set"

    async def _m_set_webhook(self, params: JSON) -> bool:
        url = str(params.get("url") or "")
        if not url:
            return await self._m_delete_webhook(params)
        if not (
            url.startswith("https://")
            or url.startswith(("http://127.0.0.1", "http://localhost", "http://[::1]"))
        ):
            raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        secret = params.get("secret_token")
        if secret is not None and secret != "" and not _SECRET_RE.match(str(secret)):
            raise bad_request("secret token contains unallowed characters")
        allowed = params.get("allowed_updates")
        with self._lock:
            if self._bool(params, "drop_pending_updates"):
                self._updates.clear()
            was_set = self._webhook is not None and self._webhook["url"] == url
            self._webhook = {
                "url": url,
                "secret_token": str(secret) if secret else None,
                "max_connections": self._maybe_int(params.get("max_connections")) or 40,
                "allowed_updates": [str(a) for a in allowed] if isinstance(allowed, list) else None,
            }
            self._webhook_error = None
            self._webhook_description = "Webhook is already set" if was_set else "Webhook was set"
            # A long poll in progress must end with a conflict, as on Telegram.
            self._poll_generation += 1
        if self._webhook_task is None or self._webhook_task.done():
            self._webhook_task = asyncio.get_running_loop().create_task(self._webhook_worker())
        return True

    async def _m_delete_webhook(self, params: JSON) -> bool:
        with self._lock:
            was_set = self._webhook is not None
            self._webhook = None
            if self._bool(params, "drop_pending_updates"):
                self._updates.clear()
            self._webhook_description = "Webhook was deleted" if was_set else "Webhook is already deleted"
        return True

    async def _m_get_webhook_info(self, params: JSON) -> JSON:
        with self._lock:
            info: JSON = {
                "url": self._webhook["url"] if self._webhook else "",
                "has_custom_certificate": False,
                "pending_update_count": len(self._updates),
            }
            if self._webhook is not None:
                info["max_connections"] = self._webhook["max_connections"]
                if self._webhook["allowed_updates"] is not None:
                    info["allowed_updates"] = self._webhook["allowed_updates"]
            if self._webhook_error is not None:
                info["last_error_date"], info["last_error_message"] = self._webhook_error
            return info

    async def _webhook_worker(self) -> None:
        """Push pending updates one at a time, in order, retrying until accepted."""
        delay = self.webhook_retry_delay
        while not self._stopping:
            with self._lock:
                hook = self._webhook
                if hook is None:
                    return
                kept = [p for p in self._updates if self._allowed(p.update, hook["allowed_updates"])]
                self._updates = kept
                pending = kept[0] if kept else None
                if pending is not None:
                    self._in_flight += 1
            if pending is None:
                await self._wait_for(
                    lambda: True if (self._updates or self._webhook is None or self._stopping) else None,
                    3600.0,
                )
                continue
            try:
                error = await self._post_update(hook, pending.update)
            finally:
                with self._lock:
                    self._in_flight -= 1
            with self._lock:
                if error is None:
                    with contextlib.suppress(ValueError):
                        self._updates.remove(pending)
                    delay = self.webhook_retry_delay
                else:
                    self._webhook_error = (int(time.time()), error)
            self._notify()
            if error is not None:
                await self._sleep(delay)
                delay = min(delay * 2, self.webhook_max_retry_delay)

    async def _post_update(self, hook: JSON, update: JSON) -> str | None:
        if self._webhook_session is None or self._webhook_session.closed:
            self._webhook_session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))
        headers = {"Content-Type": "application/json"}
        if hook["secret_token"]:
            headers["X-Telegram-Bot-Api-Secret-Token"] = hook["secret_token"]
        try:
            async with self._webhook_session.post(
                hook["url"], data=json.dumps(update), headers=headers
            ) as response:
                await response.read()
                if 200 <= response.status < 300:
                    return None
                return f"Wrong response from the webhook: {response.status} {response.reason}"
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            if isinstance(exc, TimeoutError):
                return "Read timeout expired"
            return "Connection refused"

    def send_raw_update(self, update: JSON) -> int:
        """Enqueue an arbitrary update dict (update_id assigned unless given)."""
        body = {k: v for k, v in update.items() if k != "update_id"}
        given = update.get("update_id")
        return self._enqueue(body, int(given) if given is not None else None)["update_id"]

    def redeliver(self, update_id: int) -> JSON:
        """Deliver an earlier update again with the same update_id, as Telegram may."""
        with self._lock:
            original = self._update_history.get(update_id)
            if original is None:
                raise KeyError(f"no update {update_id} was ever enqueued")
            body = {k: v for k, v in original.items() if k != "update_id"}
        return self._enqueue(json.loads(json.dumps(body)), update_id, redelivery=True)

    @property
    def pending_updates(self) -> list[JSON]:
        with self._lock:
            return [dict(p.update) for p in self._updates]
