"""Inline buttons: a user presses one (a ``callback_query`` update), the bot answers it."""

from __future__ import annotations

import itertools
import json
import time

from tests.emulator.chats import Chats
from tests.emulator.errors import bad_request
from tests.emulator.objects import JSON

_QUERY_TOO_OLD = "query is too old and response timeout expired or query ID is invalid"


class Buttons(Chats):
    callback_query_ttl: float | None
    _callback_queries: dict[str, JSON]
    _callback_answers: list[JSON]
    _query_ids: itertools.count[int]

    def _init_buttons(self, callback_query_ttl: float | None) -> None:
        self.callback_query_ttl = callback_query_ttl
        self._callback_queries = {}
        self._callback_answers = []
        self._query_ids = itertools.count(4_000_000_000_000_001)

    async def _m_answer_callback_query(self, params: JSON) -> bool:
        with self._lock:
            query_id = str(params.get("callback_query_id") or "")
            query = self._callback_queries.get(query_id)
            expired = (
                query is not None
                and self.callback_query_ttl is not None
                and time.monotonic() - query["created"] > self.callback_query_ttl
            )
            if query is None or query["answered"] or expired:
                raise bad_request(_QUERY_TOO_OLD)
            text = params.get("text")
            if text is not None and len(str(text)) > 200:
                raise bad_request("MESSAGE_TOO_LONG")
            query["answered"] = True
            self._callback_answers.append(
                {
                    "query_id": query_id,
                    "text": text,
                    "show_alert": self._bool(params, "show_alert"),
                    "url": params.get("url"),
                    "cache_time": self._maybe_int(params.get("cache_time")),
                    "timestamp": time.monotonic(),
                }
            )
            self._record_sent("answerCallbackQuery", query["chat_id"], None)
            return True

    def press_button(
        self,
        user_id: int,
        chat_id: int,
        message_id: int,
        callback_data: str,
        *,
        forge: bool = False,
    ) -> str:
        """The user presses an inline button; returns the callback query id."""
        with self._lock:
            sender, chat = self._user_chat(user_id, chat_id)
            stored = chat.messages.get(message_id)
            if not forge:
                if stored is None or stored.deleted:
                    raise ValueError(f"no message {message_id} in chat {chat_id}")
                markup = stored.message.get("reply_markup") or {}
                datas = [b.get("callback_data") for row in markup.get("inline_keyboard", []) for b in row]
                if callback_data not in datas:
                    raise ValueError(
                        f"message {message_id} has no button with callback_data "
                        f"{callback_data!r}; it has {datas}"
                    )
            query_id = str(next(self._query_ids))
            query: JSON = {
                "id": query_id,
                "from": dict(sender),
                "chat_instance": str(abs(hash((self.token, chat_id))) % 10**18),
                "data": callback_data,
            }
            if stored is not None and not stored.deleted:
                query["message"] = json.loads(json.dumps(stored.message))
            else:
                # A forged press on a missing message still needs a message for PTB.
                query["message"] = {
                    "message_id": message_id,
                    "date": 0,
                    "chat": dict(chat.data),
                }
            self._callback_queries[query_id] = {
                "answered": False,
                "created": time.monotonic(),
                "chat_id": chat_id,
            }
            self._enqueue_locked({"callback_query": query})
            self._chat_cursor[chat_id] = self._seq
        self._notify()
        return query_id

    @property
    def callback_answers(self) -> list[JSON]:
        with self._lock:
            return [dict(a) for a in self._callback_answers]

    async def wait_for_callback_answer(self, query_id: str, timeout: float = 5.0) -> JSON:
        def check() -> JSON | None:
            with self._lock:
                return next((dict(a) for a in self._callback_answers if a["query_id"] == query_id), None)

        result = await self._wait_for(check, timeout)
        if result is None:
            raise AssertionError(f"timed out after {timeout}s: callback query {query_id} was never answered")
        return result
