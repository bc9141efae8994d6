"""Inline mode: a person types ``@bot words`` in any chat (an ``inline_query`` update), the bot
answers with answerInlineQuery, the person picks a result, and the message goes into the chat
they were typing in, marked ``via_bot``; with inline feedback on, the bot also gets a
``chosen_inline_result`` update.

As on Telegram, answers are cached for ``cache_time`` seconds per query text (per person when
``is_personal``): a repeated query inside that time gets the cached answer and the bot never sees
it. Only InlineQueryResultArticle is implemented; other result types answer 400.
"""

from __future__ import annotations

import itertools
import json
import re
import time
from typing import Any

from tests.emulator.errors import bad_request
from tests.emulator.messages import Messages
from tests.emulator.objects import JSON
from tests.emulator.state import Chat, StoredMessage

MAX_RESULTS = 50
MAX_QUERY_LENGTH = 256
_QUERY_TOO_OLD = "query is too old and response timeout expired or query ID is invalid"
_START_PARAMETER = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
CHAT_TYPES = ("sender", "private", "group", "supergroup", "channel")


def _result_error(detail: str) -> Exception:
    return bad_request(f"can't parse inline query result: {detail}")


class Inline(Messages):
    inline_query_ttl: float | None
    _inline_mode: bool
    _inline_feedback: bool
    _inline_queries: dict[str, JSON]
    _inline_ids: itertools.count[int]
    _inline_messages: dict[str, tuple[Chat, int]]
    _other_chats: dict[int, Chat]

    def _init_inline(self, inline_query_ttl: float | None) -> None:
        self.inline_query_ttl = inline_query_ttl
        self._inline_mode = False
        self._inline_feedback = False
        self._inline_queries = {}
        self._inline_ids = itertools.count(7_000_000_000_000_001)
        self._inline_messages = {}  # inline_message_id -> (chat, message_id)
        # Chats the bot is not in and cannot see (a person's private chat with a friend).
        self._other_chats = {}

    def set_inline_mode(self, enabled: bool = True, *, feedback: bool = False) -> None:
        """What BotFather's /setinline and /setinlinefeedback say: whether people can use the bot
        inline (getMe's supports_inline_queries) and whether it hears which result they chose."""
        with self._lock:
            self._inline_mode = enabled
            self._inline_feedback = feedback

    # ------------------------------------------------------------------ the person's side

    def inline_query(
        self, user_id: int, query: str = "", *, chat_type: str = "sender", offset: str = ""
    ) -> str:
        """The user types ``@bot query`` in a chat of ``chat_type``; returns the query id."""
        if chat_type not in CHAT_TYPES:
            raise ValueError(f"chat_type must be one of {CHAT_TYPES}")
        with self._lock:
            if not self._inline_mode:
                raise ValueError("inline mode is off for this bot: call set_inline_mode() first")
            if user_id not in self._users:
                self.user(user_id)
            query = query[:MAX_QUERY_LENGTH]
            query_id = str(next(self._inline_ids))
            record: JSON = {
                "id": query_id,
                "from": dict(self._users[user_id]),
                "query": query,
                "offset": offset,
                "chat_type": chat_type,
                "created": time.monotonic(),
                "answer": self._cached_answer(user_id, query, offset),
            }
            self._inline_queries[query_id] = record
            if record["answer"] is None:
                body = {k: record[k] for k in ("id", "from", "query", "offset", "chat_type")}
                self._enqueue_locked({"inline_query": json.loads(json.dumps(body))})
        self._notify()
        return query_id

    def _cached_answer(self, user_id: int, query: str, offset: str) -> JSON | None:
        now = time.monotonic()
        for earlier in reversed(self._inline_queries.values()):
            answer = earlier["answer"]
            if answer is None or (earlier["query"], earlier["offset"]) != (query, offset):
                continue
            if answer["is_personal"] and earlier["from"]["id"] != user_id:
                continue
            if now - answer["answered_at"] < answer["cache_time"]:
                return answer
        return None

    def inline_answer(self, query_id: str) -> JSON | None:
        """The bot's answer to an inline query (results, cache_time, …), or None yet."""
        with self._lock:
            answer = self._inline_queries[query_id]["answer"]
            if answer is None:
                return None
            shown = json.loads(json.dumps(answer))
            for result in shown["results"]:
                result.pop("_content")  # the message choosing it would post: kept for choosing
            return shown

    async def wait_for_inline_answer(self, query_id: str, timeout: float = 5.0) -> JSON:
        result = await self._wait_for(lambda: self.inline_answer(query_id), timeout)
        if result is None:
            raise AssertionError(f"timed out after {timeout}s: inline query {query_id} was never answered")
        return result

    def choose_inline_result(self, user_id: int, query_id: str, result_id: str, *, chat_id: int) -> JSON:
        """The user picks a result: its message appears in ``chat_id`` (a group, the user's chat
        with the bot, or any other user's id for a private chat with them) as sent by the user
        ``via_bot``. Returns the message."""
        with self._lock:
            record = self._inline_queries.get(query_id)
            answer = record["answer"] if record else None
            if record is None or answer is None or record["from"]["id"] != user_id:
                raise ValueError(f"user {user_id} has no answered inline query {query_id}")
            result = next((r for r in answer["results"] if r["id"] == result_id), None)
            if result is None:
                raise ValueError(f"no result {result_id!r} among {[r['id'] for r in answer['results']]}")
            chat = self._chat_for_inline(user_id, chat_id)
            content: JSON = {"via_bot": dict(self.bot_user), **result["_content"]}
            inline_message_id = None
            if result.get("reply_markup"):
                content["reply_markup"] = result["reply_markup"]
                inline_message_id = f"AgAAA{next(self._inline_ids)}"
            message = self._new_message(chat, self._users[user_id], content)
            chat.messages[message["message_id"]] = StoredMessage(message, from_bot=False)
            if inline_message_id is not None:
                self._inline_messages[inline_message_id] = (chat, message["message_id"])
            # The bot sees it where it reads messages: its own chat with the user, or a group
            # it is in (even in privacy mode, messages sent via the bot reach it).
            if chat.data["id"] == user_id or (chat.data["type"] != "channel" and chat.bot_is_member):
                self._enqueue_locked({"message": json.loads(json.dumps(message))})
            if self._inline_feedback:
                chosen: JSON = {
                    "result_id": result_id,
                    "from": dict(record["from"]),
                    "query": record["query"],
                }
                if inline_message_id is not None:
                    chosen["inline_message_id"] = inline_message_id
                self._enqueue_locked({"chosen_inline_result": chosen})
            self._chat_cursor[chat.data["id"]] = self._seq
            posted = json.loads(json.dumps(message))
        self._notify()
        return posted

    def _chat_for_inline(self, user_id: int, chat_id: int) -> Chat:
        if chat_id < 0 or chat_id == user_id:
            chat = self._chats.get(chat_id)
            if chat is None:
                raise ValueError(f"no chat {chat_id}")
            chat.members.add(user_id)
            return chat
        friend = self.user(chat_id) if chat_id not in self._users else self._users[chat_id]
        chat = self._other_chats.get(chat_id)
        if chat is None:
            data = {"id": chat_id, "type": "private", "first_name": friend["first_name"]}
            chat = self._other_chats[chat_id] = Chat(data, bot_status="left")
        return chat

    def inline_message(self, inline_message_id: str) -> JSON:
        """A message sent via the bot, as it now reads (the bot may have edited it)."""
        with self._lock:
            chat, message_id = self._inline_messages[inline_message_id]
            return json.loads(json.dumps(chat.messages[message_id].message))

    def _inline_message_for_edit(self, inline_message_id: str) -> tuple[Chat, StoredMessage]:
        found = self._inline_messages.get(inline_message_id)
        if found is None:
            raise bad_request("MESSAGE_ID_INVALID")
        chat, message_id = found
        return chat, chat.messages[message_id]

    # --------------------------------------------------------------------- the bot's side

    async def _m_answer_inline_query(self, params: JSON) -> bool:
        with self._lock:
            query_id = str(params.get("inline_query_id") or "")
            record = self._inline_queries.get(query_id)
            expired = (
                record is not None
                and self.inline_query_ttl is not None
                and time.monotonic() - record["created"] > self.inline_query_ttl
            )
            if record is None or record["answer"] is not None or expired:
                raise bad_request(_QUERY_TOO_OLD)
            results = params.get("results")
            if not isinstance(results, list):
                raise bad_request("can't parse inline query results JSON object")
            if len(results) > MAX_RESULTS:
                raise bad_request("RESULTS_TOO_MUCH")
            checked = [self._check_result(result) for result in results]
            ids = [result["id"] for result in checked]
            if len(set(ids)) != len(ids):
                raise bad_request("RESULT_ID_DUPLICATE")
            cache_time = self._int(params, "cache_time", required=False, default=300)
            if cache_time < 0:
                raise bad_request("invalid cache_time specified")
            next_offset = str(params.get("next_offset") or "")
            if len(next_offset.encode()) > 64:
                raise bad_request("NEXT_OFFSET_INVALID")
            button = params.get("button")
            if button is not None:
                self._check_results_button(button)
            record["answer"] = {
                "results": checked,
                "cache_time": cache_time,
                "is_personal": self._bool(params, "is_personal"),
                "next_offset": next_offset,
                "button": button,
                "answered_at": time.monotonic(),
            }
            self._record_sent("answerInlineQuery", record["from"]["id"], None)
            return True

    def _check_result(self, result: Any) -> JSON:
        """An InlineQueryResultArticle checked like Telegram; keeps the message it would post."""
        if not isinstance(result, dict):
            raise _result_error("Object expected")
        for name in ("type", "id"):
            if name not in result:
                raise _result_error(f'Can\'t find field "{name}"')
        result_id = result["id"]
        if not isinstance(result_id, str) or not 1 <= len(result_id.encode()) <= 64:
            raise bad_request("RESULT_ID_INVALID")
        if result["type"] != "article":
            raise _result_error(f'the emulator implements only "article" results, not "{result["type"]}"')
        for name in ("title", "input_message_content"):
            if name not in result:
                raise _result_error(f'Can\'t find field "{name}"')
        if not isinstance(result["title"], str) or not result["title"].strip():
            raise bad_request("RESULT_TITLE_EMPTY")
        content = result["input_message_content"]
        if not isinstance(content, dict) or "message_text" not in content:
            raise _result_error('Can\'t find field "message_text"')
        if not str(content["message_text"]).strip():
            raise bad_request("MESSAGE_EMPTY")
        parsed = self._parse_formatted(
            content["message_text"], content.get("parse_mode"), content.get("entities")
        )
        checked = {k: v for k, v in result.items() if k != "reply_markup"}
        markup = self._check_markup(result.get("reply_markup"))
        if markup is not None:
            checked["reply_markup"] = markup
        message: JSON = {"text": parsed.text}
        if parsed.entities:
            message["entities"] = parsed.entities
        if isinstance(content.get("link_preview_options"), dict):
            message["link_preview_options"] = content["link_preview_options"]
        checked["_content"] = message
        return checked

    @staticmethod
    def _check_results_button(button: Any) -> None:
        if not isinstance(button, dict) or not str(button.get("text") or "").strip():
            raise bad_request("can't parse inline query results button")
        start = button.get("start_parameter")
        if start is not None and not _START_PARAMETER.match(str(start)):
            raise bad_request("START_PARAM_INVALID")
        if start is None and "web_app" not in button:
            raise bad_request("can't parse inline query results button")
