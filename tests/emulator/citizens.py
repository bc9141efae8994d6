"""What people do: send text and other messages, forward, edit their own messages, post in a
channel. Each action stores the message in its chat and enqueues the update Telegram sends."""

from __future__ import annotations

import json
import time
from typing import Any

from tests.emulator.entities import detect_entities
from tests.emulator.media import MEDIA_FILE_KINDS, Media
from tests.emulator.objects import JSON, MEDIA_KINDS, media_default
from tests.emulator.state import Chat, StoredMessage
from tests.emulator.updates import Updates


class Citizens(Media, Updates):
    """``send_text``, ``send_message``, ``forward``, ``edit_text`` and ``channel_post``."""

    _privacy_mode: bool  # the profile mixin's set_privacy_mode

    def _user_message(self, user_id: int, chat_id: int | None, content: JSON) -> JSON:
        with self._lock:
            sender, chat = self._user_chat(user_id, chat_id)
            if chat.data["id"] == user_id:
                self._not_started.discard(user_id)  # writing to the bot starts it
            message = self._new_message(chat, sender, content)
            chat.messages[message["message_id"]] = StoredMessage(message, from_bot=False)
            if self._bot_sees(chat, message):
                self._enqueue_locked({"message": json.loads(json.dumps(message))})
            self._chat_cursor[chat.data["id"]] = self._seq
            result = json.loads(json.dumps(message))
        self._notify()
        return result

    def _bot_sees(self, chat: Chat, message: JSON) -> bool:
        """Whether a person's message reaches the bot: in a group with privacy mode on (and the
        bot no admin), only commands (bare ones too: the bot is the only bot in test groups),
        replies to the bot, messages via the bot, and service messages."""
        if not self._privacy_mode or chat.data["type"] not in ("group", "supergroup"):
            return True
        if chat.bot_status == "administrator":
            return True
        text = message.get("text") or message.get("caption")
        if text is None and not any(key in message for key in MEDIA_KINDS):
            return True  # a service message: members joining, a title change, …
        me = self.bot_user["id"]
        if message.get("via_bot", {}).get("id") == me:
            return True
        if message.get("reply_to_message", {}).get("from", {}).get("id") == me:
            return True
        command = (text or "").split(maxsplit=1)[0] if (text or "").startswith("/") else ""
        return bool(command) and (
            "@" not in command or command.lower().endswith("@" + self.bot_user["username"].lower())
        )

    @staticmethod
    def _text_content(text: str, key: str = "text") -> JSON:
        entities = detect_entities(text, [])
        content: JSON = {key: text}
        if entities:
            content["entities" if key == "text" else "caption_entities"] = entities
        return content

    def send_text(
        self,
        user_id: int,
        text: str,
        *,
        chat_id: int | None = None,
        first_name: str | None = None,
        username: str | None = None,
        language_code: str | None = None,
        reply_to_message_id: int | None = None,
    ) -> JSON:
        """The user sends ``text`` (private chat by default); returns the Message dict."""
        if first_name is not None or username is not None or language_code is not None:
            self.user(user_id, first_name, username=username, language_code=language_code)
        content = self._text_content(text)
        if reply_to_message_id is not None:
            content["reply_to_message"] = self._message_dict(
                user_id if chat_id is None else chat_id, reply_to_message_id
            )
        return self._user_message(user_id, chat_id, content)

    def forward(self, user_id: int, text: str, *, origin: JSON, chat_id: int | None = None) -> JSON:
        """The user forwards a text message; ``origin`` is a Bot API MessageOrigin dict."""
        kind = origin.get("type")
        required = {
            "user": "sender_user",
            "hidden_user": "sender_user_name",
            "chat": "sender_chat",
            "channel": "chat",
        }
        if kind not in required:
            raise ValueError(f"origin type must be one of {sorted(required)}")
        if required[kind] not in origin:
            raise ValueError(f"origin of type {kind!r} needs {required[kind]!r}")
        if kind == "channel" and "message_id" not in origin:
            raise ValueError("channel origin needs 'message_id'")
        full_origin = {"date": int(time.time()) - 3600, **origin}
        content = self._text_content(text)
        content["forward_origin"] = full_origin
        return self._user_message(user_id, chat_id, content)

    def send_message(self, user_id: int, chat_id: int | None = None, **fields: Any) -> JSON:
        """Send any kind of message; ``sticker=True`` etc. fill in a plausible object.

        Media kinds: sticker, voice, video_note, video, audio, animation, document,
        photo, location, contact, dice, venue, poll.  Pass a dict to override fields
        of the default object; ``caption`` gets auto-detected caption_entities.
        """
        content: JSON = {}
        for key, value in fields.items():
            if key in MEDIA_KINDS:
                default: Any
                if key == "photo" or key in MEDIA_FILE_KINDS:
                    default = self._default_media(key)  # a real file: getFile works on it
                else:
                    number = next(self._file_numbers)
                    default = media_default(key, f"CAACAgIAAxkBAAI{number:06d}", f"AQAD{number:06d}")
                if isinstance(value, dict) and isinstance(default, dict):
                    default.update(value)
                elif isinstance(value, list):
                    default = value
                content[key] = default
            elif key == "text":
                content.update(self._text_content(str(value)))
            elif key == "caption":
                content.update(self._text_content(str(value), "caption"))
            else:
                content[key] = value
        if not content:
            raise ValueError("send_message needs at least one field")
        return self._user_message(user_id, chat_id, content)

    def _message_dict(self, chat_id: int, message_id: int) -> JSON:
        with self._lock:
            chat = self._chats.get(chat_id)
            stored = chat.messages.get(message_id) if chat else None
            if stored is None or stored.deleted:
                raise ValueError(f"no message {message_id} in chat {chat_id}")
            return json.loads(json.dumps(stored.message))

    def edit_text(self, user_id: int, chat_id: int, message_id: int, new_text: str) -> JSON:
        """The user edits their own earlier message; enqueues ``edited_message``."""
        with self._lock:
            chat = self._chats.get(chat_id)
            stored = chat.messages.get(message_id) if chat else None
            if chat is None or stored is None or stored.deleted:
                raise ValueError(f"no message {message_id} in chat {chat_id}")
            if stored.from_bot or stored.message.get("from", {}).get("id") != user_id:
                raise ValueError("users can only edit their own messages")
            stored.message.update(self._text_content(new_text))
            if "entities" not in self._text_content(new_text):
                stored.message.pop("entities", None)
            stored.message["edit_date"] = int(time.time())
            stored.edited = True
            message = json.loads(json.dumps(stored.message))
            self._enqueue_locked({"edited_message": message})
            self._chat_cursor[chat_id] = self._seq
        self._notify()
        return message

    def channel_post(self, chat_id: int, text: str, *, title: str = "Test channel") -> JSON:
        """Someone posts in a channel; the bot gets ``channel_post`` if it administers it."""
        with self._lock:
            if chat_id not in self._chats:
                self.create_channel(chat_id, title)
            chat = self._chats[chat_id]
            if chat.data["type"] != "channel":
                raise ValueError(f"chat {chat_id} is not a channel")
            message = self._new_message(chat, None, self._text_content(text))
            chat.messages[message["message_id"]] = StoredMessage(message, from_bot=False)
            if chat.bot_status == "administrator":  # only admins (all a bot can be) see posts
                self._enqueue_locked({"channel_post": json.loads(json.dumps(message))})
            self._chat_cursor[chat_id] = self._seq
        self._notify()
        return json.loads(json.dumps(message))
