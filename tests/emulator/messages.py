"""The bot's messages: sendMessage, the edits, deleteMessage, and what Telegram checks first
(strict HTML, lengths, inline keyboards, replies)."""

from __future__ import annotations

import time
from typing import Any

from tests.emulator.chats import Chats
from tests.emulator.entities import ParsedText, detect_entities, strip_text, utf16_len
from tests.emulator.errors import EntityParseError, bad_request
from tests.emulator.html_entities import parse_html
from tests.emulator.objects import JSON, DocumentView
from tests.emulator.state import Chat, StoredMessage

MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
MAX_CALLBACK_DATA_BYTES = 64

_NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are "
    "exactly the same as a current content and reply markup of the message"
)
_TEXT_BUTTONS_UNALLOWED = (
    "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
)


class Messages(Chats):
    """What the bot sends and edits, stored per chat as the chat's members would see it.

    Only ``parse_mode=HTML`` is parsed (the bot uses nothing else); Markdown modes answer 400.
    """

    def _parse_formatted(
        self,
        text: Any,
        parse_mode: Any,
        explicit_entities: Any,
        *,
        caption: bool = False,
    ) -> ParsedText:
        source = "" if text is None else str(text)
        mode = str(parse_mode).lower() if parse_mode else ""
        try:
            if mode == "html":
                parsed = parse_html(source)
            elif mode in ("markdown", "markdownv2"):
                # The bot writes HTML only; a Markdown send is a mistake worth failing loudly.
                raise bad_request("unsupported parse_mode (the emulator parses HTML only)")
            elif mode:
                raise bad_request("unsupported parse_mode")
            else:
                entities = explicit_entities if isinstance(explicit_entities, list) else []
                parsed = ParsedText(source, [dict(e) for e in entities])
        except EntityParseError as exc:
            raise bad_request(f"can't parse entities: {exc}") from exc
        parsed = strip_text(parsed.text, parsed.entities)
        limit = MAX_CAPTION_LENGTH if caption else MAX_TEXT_LENGTH
        if not caption and not parsed.text:
            raise bad_request("message text is empty")
        if utf16_len(parsed.text) > limit:
            raise bad_request("message caption is too long" if caption else "message is too long")
        for entity in parsed.entities:
            if entity["type"] == "text_mention":
                user = self._users.get(entity["user"]["id"])
                if user is not None:
                    entity["user"] = dict(user)
        parsed.entities.extend(detect_entities(parsed.text, parsed.entities))
        parsed.entities.sort(key=lambda e: (e["offset"], -e["length"]))
        return parsed

    @staticmethod
    def _check_markup(markup: Any) -> JSON | None:
        """Validate reply_markup; return it if it is an inline keyboard (shown in Message)."""
        if markup is None or markup == "":
            return None
        if not isinstance(markup, dict):
            raise bad_request("can't parse reply keyboard markup JSON object")
        if "inline_keyboard" not in markup:
            return None
        rows = markup["inline_keyboard"]
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise bad_request("can't parse inline keyboard button: InlineKeyboardButton must be an Object")
        clean_rows: list[list[JSON]] = []
        for row in rows:
            clean_row: list[JSON] = []
            for button in row:
                if not isinstance(button, dict) or not button.get("text"):
                    raise bad_request(_TEXT_BUTTONS_UNALLOWED)
                if "callback_data" in button:
                    size = len(str(button["callback_data"]).encode("utf-8"))
                    if not 1 <= size <= MAX_CALLBACK_DATA_BYTES:
                        raise bad_request("BUTTON_DATA_INVALID")
                elif not any(
                    key in button
                    for key in (
                        "url",
                        "switch_inline_query",
                        "switch_inline_query_current_chat",
                        "switch_inline_query_chosen_chat",
                        "web_app",
                        "login_url",
                        "pay",
                        "callback_game",
                        "copy_text",
                    )
                ):
                    raise bad_request(_TEXT_BUTTONS_UNALLOWED)
                clean_row.append(dict(button))
            clean_rows.append(clean_row)
        return {"inline_keyboard": clean_rows}

    # ------------------------------------------------------------ message store

    def _new_message(self, chat: Chat, sender: JSON | None, content: JSON) -> JSON:
        message_id = chat.next_message_id
        chat.next_message_id += 1
        message: JSON = {"message_id": message_id}
        if sender is not None:
            message["from"] = dict(sender)
        if chat.data["type"] == "channel":
            message["sender_chat"] = dict(chat.data)
        message["date"] = int(time.time())
        message["chat"] = dict(chat.data)
        message.update(content)
        return message

    def _store_bot_message(
        self, chat: Chat, method: str, content: JSON, document: DocumentView | None = None
    ) -> JSON:
        sender = None if chat.data["type"] == "channel" else self.bot_user
        message = self._new_message(chat, sender, content)
        chat.messages[message["message_id"]] = StoredMessage(message, from_bot=True, document=document)
        self._record_sent(method, chat.data["id"], message["message_id"])
        return message

    def _reply_content(self, chat: Chat, params: JSON) -> JSON:
        reply = params.get("reply_parameters")
        reply_id: int | None = None
        allow_missing = self._bool(params, "allow_sending_without_reply")
        if isinstance(reply, dict):
            reply_id = self._maybe_int(reply.get("message_id"))
            allow_missing = allow_missing or bool(reply.get("allow_sending_without_reply"))
        elif params.get("reply_to_message_id") is not None:
            reply_id = self._maybe_int(params.get("reply_to_message_id"))
        if reply_id is None:
            return {}
        stored = chat.messages.get(reply_id)
        if stored is None or stored.deleted:
            if allow_missing:
                return {}
            raise bad_request("message to be replied not found")
        original = {k: v for k, v in stored.message.items() if k != "reply_to_message"}
        return {"reply_to_message": original}

    def _get_bot_message_for_edit(self, params: JSON) -> tuple[Chat, StoredMessage]:
        if params.get("inline_message_id"):
            # A message sent via the bot (inline mode): the bot may edit it wherever it is.
            return self._inline_message_for_edit(str(params["inline_message_id"]))
        chat = self._resolve_chat(params, for_sending=False)
        message_id = self._int(params, "message_id")
        stored = chat.messages.get(message_id)
        if stored is None or stored.deleted:
            raise bad_request("message to edit not found")
        if not stored.from_bot:
            raise bad_request("message can't be edited")
        self._check_can_write(chat)
        return chat, stored

    def _inline_message_for_edit(self, inline_message_id: str) -> tuple[Chat, StoredMessage]:
        raise bad_request("MESSAGE_ID_INVALID")  # the inline mixin knows these messages

    def _finish_edit(self, chat: Chat, stored: StoredMessage, method: str, params: JSON) -> JSON | bool:
        stored.edited = True
        stored.message["edit_date"] = int(time.time())
        self._record_sent(method, chat.data["id"], stored.message["message_id"])
        # Telegram answers True for an inline message: the bot cannot see its chat.
        return True if params.get("inline_message_id") else dict(stored.message)

    async def _m_send_message(self, params: JSON) -> JSON:
        with self._lock:
            parsed = self._parse_formatted(
                params.get("text"), params.get("parse_mode"), params.get("entities")
            )
            markup = self._check_markup(params.get("reply_markup"))
            chat = self._resolve_chat(params)
            content: JSON = {"text": parsed.text}
            if parsed.entities:
                content["entities"] = parsed.entities
            content.update(self._reply_content(chat, params))
            if isinstance(params.get("link_preview_options"), dict):
                content["link_preview_options"] = params["link_preview_options"]
            if markup is not None:
                content["reply_markup"] = markup
            self._check_rate(chat.data["id"])
            return self._store_bot_message(chat, "sendMessage", content)

    async def _m_edit_message_text(self, params: JSON) -> JSON | bool:
        with self._lock:
            parsed = self._parse_formatted(
                params.get("text"), params.get("parse_mode"), params.get("entities")
            )
            markup = self._check_markup(params.get("reply_markup"))
            chat, stored = self._get_bot_message_for_edit(params)
            message = stored.message
            if "text" not in message:
                raise bad_request("there is no text in the message to edit")
            if (
                message["text"] == parsed.text
                and message.get("entities", []) == parsed.entities
                and message.get("reply_markup") == markup
            ):
                raise bad_request(_NOT_MODIFIED)
            message["text"] = parsed.text
            message.pop("entities", None)
            if parsed.entities:
                message["entities"] = parsed.entities
            # Like Telegram, an edit without reply_markup removes the inline keyboard.
            message.pop("reply_markup", None)
            if markup is not None:
                message["reply_markup"] = markup
            return self._finish_edit(chat, stored, "editMessageText", params)

    async def _m_edit_message_caption(self, params: JSON) -> JSON | bool:
        with self._lock:
            parsed = self._parse_formatted(
                params.get("caption"),
                params.get("parse_mode"),
                params.get("caption_entities"),
                caption=True,
            )
            markup = self._check_markup(params.get("reply_markup"))
            chat, stored = self._get_bot_message_for_edit(params)
            message = stored.message
            if "text" in message:
                raise bad_request("there is no caption in the message to edit")
            if (
                message.get("caption", "") == parsed.text
                and message.get("caption_entities", []) == parsed.entities
                and message.get("reply_markup") == markup
            ):
                raise bad_request(_NOT_MODIFIED)
            for key in ("caption", "caption_entities", "reply_markup"):
                message.pop(key, None)
            if parsed.text:
                message["caption"] = parsed.text
            if parsed.entities:
                message["caption_entities"] = parsed.entities
            if markup is not None:
                message["reply_markup"] = markup
            return self._finish_edit(chat, stored, "editMessageCaption", params)

    async def _m_edit_message_reply_markup(self, params: JSON) -> JSON | bool:
        with self._lock:
            markup = self._check_markup(params.get("reply_markup"))
            chat, stored = self._get_bot_message_for_edit(params)
            if stored.message.get("reply_markup") == markup:
                raise bad_request(_NOT_MODIFIED)
            stored.message.pop("reply_markup", None)
            if markup is not None:
                stored.message["reply_markup"] = markup
            return self._finish_edit(chat, stored, "editMessageReplyMarkup", params)

    async def _m_delete_message(self, params: JSON) -> bool:
        with self._lock:
            chat = self._resolve_chat(params, for_sending=False)
            message_id = self._int(params, "message_id")
            stored = chat.messages.get(message_id)
            if stored is None or stored.deleted:
                raise bad_request("message to delete not found")
            if not stored.from_bot and chat.data["type"] != "private" and not chat.bot_is_member:
                raise bad_request("message can't be deleted")
            stored.deleted = True
            self._record_sent("deleteMessage", chat.data["id"], None)
            self._seq += 1
            return True
