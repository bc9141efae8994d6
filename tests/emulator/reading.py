"""The test's side: read what chats show, the call logs, and wait for the bot to answer or to go
quiet."""

from __future__ import annotations

import json
import time
from collections.abc import Callable

from tests.emulator.chats import Chats
from tests.emulator.objects import JSON, ChatMessage, build_view, render_transcript
from tests.emulator.updates import Updates


class Reading(Chats, Updates):
    """``chat``, ``bot_messages``, ``transcript``, ``wait_for_bot_message``, ``wait_until_idle``."""

    def chat(self, chat_id: int) -> list[ChatMessage]:
        """Messages in display order with edits applied and deleted ones gone."""
        with self._lock:
            chat = self._chats.get(chat_id)
            if chat is None:
                return []
            return [
                build_view(json.loads(json.dumps(s.message)), s.from_bot, s.edited, s.document)
                for s in sorted(chat.messages.values(), key=lambda s: s.message["message_id"])
                if not s.deleted
            ]

    def bot_messages(self, chat_id: int) -> list[ChatMessage]:
        return [m for m in self.chat(chat_id) if m.from_bot]

    def last_bot_message(self, chat_id: int) -> ChatMessage | None:
        messages = self.bot_messages(chat_id)
        return messages[-1] if messages else None

    @property
    def sent_log(self) -> list[JSON]:
        """Every accepted bot call that touched a chat: method, chat_id, timestamp."""
        with self._lock:
            return [dict(r) for r in self._sent_log]

    @property
    def requests_log(self) -> list[JSON]:
        """Every HTTP call, failed ones included: method, params, status, description."""
        with self._lock:
            return [dict(r) for r in self._requests_log]

    def transcript(self, chat_id: int) -> str:
        with self._lock:
            names = {uid: u.get("first_name") or str(uid) for uid, u in self._users.items()}
        return render_transcript(self.chat(chat_id), names)

    def mark(self) -> int:
        """Current event position; pass as ``since=`` to wait only for later messages."""
        with self._lock:
            return self._seq

    # --------------------------------------------------------------- waiting API

    def _matching(
        self,
        chat_id: int,
        since: int,
        count: int,
        predicate: Callable[[ChatMessage], bool] | None,
    ) -> list[ChatMessage] | None:
        with self._lock:
            candidates: dict[int, int] = {}
            for seq, event_chat, message_id in self._bot_events:
                if event_chat == chat_id and seq > since:
                    candidates[message_id] = seq
            if not candidates:
                return None
            views = {m.message_id: m for m in self.bot_messages(chat_id)}
            chosen: list[tuple[int, ChatMessage]] = []
            for message_id, seq in sorted(candidates.items(), key=lambda item: item[1]):
                view = views.get(message_id)
                if view is not None and (predicate is None or predicate(view)):
                    chosen.append((seq, view))
                if len(chosen) >= count:
                    break
            if len(chosen) < count:
                return None
            self._chat_cursor[chat_id] = max(self._chat_cursor.get(chat_id, 0), chosen[-1][0])
            return [view for _, view in chosen]

    def _timeout_error(self, chat_id: int, what: str, timeout: float) -> AssertionError:
        return AssertionError(
            f"timed out after {timeout}s waiting for {what} in chat {chat_id}.\n"
            f"--- transcript ---\n{self.transcript(chat_id) or '(empty)'}\n------------------"
        )

    async def wait_for_bot_messages(
        self,
        chat_id: int,
        count: int = 1,
        predicate: Callable[[ChatMessage], bool] | None = None,
        timeout: float = 5.0,
        *,
        since: int | None = None,
    ) -> list[ChatMessage]:
        """Wait until the bot has sent/edited ``count`` distinct matching messages.

        Only activity after ``since`` counts; by default that is the chat's last user
        action or the last message an earlier wait returned, so consecutive waits walk
        forward through the conversation.
        """
        with self._lock:
            start = self._chat_cursor.get(chat_id, 0) if since is None else since
        result = await self._wait_for(lambda: self._matching(chat_id, start, count, predicate), timeout)
        if result is None:
            what = f"{count} bot message(s)" + (" matching the predicate" if predicate else "")
            raise self._timeout_error(chat_id, what, timeout)
        return result

    async def wait_for_bot_message(
        self,
        chat_id: int,
        predicate: Callable[[ChatMessage], bool] | None = None,
        timeout: float = 5.0,
        count: int = 1,
        *,
        since: int | None = None,
    ) -> ChatMessage:
        """Like ``wait_for_bot_messages`` but returns the last of the ``count`` messages."""
        messages = await self.wait_for_bot_messages(chat_id, count, predicate, timeout, since=since)
        return messages[-1]

    def wait_for_bot_message_blocking(
        self,
        chat_id: int,
        predicate: Callable[[ChatMessage], bool] | None = None,
        timeout: float = 5.0,
        count: int = 1,
        *,
        since: int | None = None,
    ) -> ChatMessage:
        """Thread-mode variant for code without an event loop."""
        with self._lock:
            start = self._chat_cursor.get(chat_id, 0) if since is None else since
        result = self._wait_for_blocking(lambda: self._matching(chat_id, start, count, predicate), timeout)
        if result is None:
            raise self._timeout_error(chat_id, f"{count} bot message(s)", timeout)
        return result[-1]

    def _idle_check(self, quiet: float) -> bool | None:
        with self._lock:
            undelivered = any(not p.delivered for p in self._updates)
            busy = undelivered or self._in_flight > 0
            if busy:
                return None
            return True if time.monotonic() - self._last_activity >= quiet else None

    async def wait_until_idle(self, timeout: float = 5.0, quiet: float = 0.1) -> None:
        """Wait until every update was handed out and no call happened for ``quiet`` s."""
        result = await self._wait_for(lambda: self._idle_check(quiet), timeout, poll=quiet / 4)
        if result is None:
            with self._lock:
                state = (
                    f"{sum(not p.delivered for p in self._updates)} undelivered updates, "
                    f"{self._in_flight} requests in flight"
                )
            raise AssertionError(f"emulator not idle after {timeout}s: {state}")

    def wait_until_idle_blocking(self, timeout: float = 5.0, quiet: float = 0.1) -> None:
        if self._wait_for_blocking(lambda: self._idle_check(quiet), timeout, quiet / 4) is None:
            raise AssertionError(f"emulator not idle after {timeout}s")
