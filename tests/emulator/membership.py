"""The bot's standing in chats: added to a group, promoted, restricted, removed, blocked by a
user, a group upgraded to a supergroup; each change sends the ``my_chat_member`` update
Telegram sends."""

from __future__ import annotations

import json
import time

from tests.emulator.chats import Chats
from tests.emulator.errors import bad_request
from tests.emulator.objects import JSON
from tests.emulator.state import BOT_STATUSES, Chat, StoredMessage


class Membership(Chats):
    """``add_bot_to_group``, ``set_bot_status``, ``upgrade_group``, ``block`` and leaveChat."""

    async def _m_leave_chat(self, params: JSON) -> bool:
        with self._lock:
            chat = self._resolve_chat(params, for_sending=False)
            if chat.data["type"] == "private":
                raise bad_request("chat member status can't be changed in private chats")
            self._check_in_chat(chat)
            old = self._bot_member(chat)
            chat.bot_status, chat.bot_can_send = "left", True
            self._enqueue_locked(
                {"my_chat_member": self._chat_member_update(chat, self.bot_user, old, self._bot_member(chat))}
            )
            return True

    def _chat_member_update(self, chat: Chat, actor: JSON, old: JSON | str, new: JSON | str) -> JSON:
        """A ChatMemberUpdated about the bot; ``old``/``new`` are ChatMember dicts or statuses."""

        def member(status: JSON | str) -> JSON:
            if isinstance(status, dict):
                return status
            body: JSON = {"status": status, "user": dict(self.bot_user)}
            if status == "kicked":
                body["until_date"] = 0
            return body

        return {
            "chat": dict(chat.data),
            "from": dict(actor),
            "date": int(time.time()),
            "old_chat_member": member(old),
            "new_chat_member": member(new),
        }

    def add_bot_to_group(
        self,
        user_id: int,
        chat_id: int,
        title: str = "Test group",
        *,
        type: str = "supergroup",
        status: str = "member",
    ) -> JSON:
        """``user_id`` adds the bot to a group (``status`` "administrator" to add it as an
        admin); returns the my_chat_member update, old status "left" as Telegram sends it."""
        with self._lock:
            if user_id not in self._users:
                self.user(user_id)
            if chat_id not in self._chats:
                self.create_group(chat_id, title, [user_id], type=type, bot_is_member=False)
            self._chats[chat_id].members.add(user_id)
        return self.set_bot_status(chat_id, status, by=user_id)

    def add_bot_to_channel(
        self,
        user_id: int,
        chat_id: int,
        title: str = "Test channel",
        *,
        username: str | None = None,
        can_post_messages: bool = True,
    ) -> JSON:
        """The channel's owner ``user_id`` makes the bot an administrator of a channel (the only
        way a bot joins one); returns the my_chat_member update."""
        with self._lock:
            if user_id not in self._users:
                self.user(user_id)
            if chat_id not in self._chats:
                self.create_channel(chat_id, title, username, bot_is_admin=False)
        return self.set_bot_status(chat_id, "administrator", by=user_id, can_post_messages=can_post_messages)

    def set_bot_status(
        self,
        chat_id: int,
        status: str,
        *,
        by: int,
        can_send_messages: bool = True,
        can_post_messages: bool = True,
    ) -> JSON:
        """A group member ``by`` changes the bot's standing in a group: adds it ("member",
        "administrator"), restricts it ("restricted", optionally without the right to post),
        removes ("left") or bans ("kicked") it; in a channel only "administrator" (optionally
        without can_post_messages), "left" and "kicked" exist for bots. Enqueues and returns the
        my_chat_member update."""
        if status not in BOT_STATUSES:
            raise ValueError(f"status must be one of {BOT_STATUSES}")
        with self._lock:
            chat = self._chats.get(chat_id)
            if chat is None or chat.data["type"] == "private":
                raise ValueError(f"no group or channel {chat_id}")
            if chat.data["type"] == "channel" and status in ("member", "restricted"):
                raise ValueError("a bot in a channel can only be an administrator")
            if by not in self._users:
                self.user(by)
            old = self._bot_member(chat)
            chat.bot_status = status
            chat.bot_can_send = can_send_messages if status == "restricted" else True
            chat.bot_can_post = can_post_messages
            update = self._enqueue_locked(
                {
                    "my_chat_member": self._chat_member_update(
                        chat, self._users[by], old, self._bot_member(chat)
                    )
                }
            )
            self._chat_cursor[chat_id] = self._seq
        self._notify()
        return update

    def upgrade_group(self, chat_id: int, new_chat_id: int, *, by: int) -> None:
        """``by`` turns a basic group into a supergroup, as Telegram does when, for instance, a
        member is made an admin with some rights: the chat gets a new id (-100…), the old id
        answers 400 with ``migrate_to_chat_id``, and the bot receives the two service messages
        (``migrate_to_chat_id`` in the old chat, ``migrate_from_chat_id`` in the new one)."""
        with self._lock:
            old = self._chats.get(chat_id)
            if old is None or old.data["type"] != "group":
                raise ValueError(f"chat {chat_id} is not a basic group")
            if new_chat_id in self._chats:
                raise ValueError(f"chat {new_chat_id} already exists")
            if by not in self._users:
                self.user(by)
            data = {**old.data, "id": new_chat_id, "type": "supergroup"}
            new = Chat(
                data, bot_status=old.bot_status, bot_can_send=old.bot_can_send, members=set(old.members)
            )
            self._chats[new_chat_id] = new
            user = self._users[by]
            for chat, content in (
                (old, {"migrate_to_chat_id": new_chat_id}),
                (new, {"migrate_from_chat_id": chat_id}),
            ):
                message = self._new_message(chat, user, content)
                chat.messages[message["message_id"]] = StoredMessage(message, from_bot=False)
                self._enqueue_locked({"message": json.loads(json.dumps(message))})
            old.migrated_to = new_chat_id
            self._chat_cursor[new_chat_id] = self._seq
        self._notify()

    def block(self, user_id: int, *, emit_update: bool = True) -> None:
        """The user blocks the bot: sends fail with 403 (and the bot gets my_chat_member)."""
        with self._lock:
            if user_id not in self._users:
                self.user(user_id)
            already = user_id in self._blocked
            self._blocked.add(user_id)
            if emit_update and not already:
                self._enqueue_locked(
                    {
                        "my_chat_member": self._chat_member_update(
                            self._chats[user_id],
                            self._users[user_id],
                            "member",
                            "kicked",
                        )
                    }
                )
        self._notify()

    def unblock(self, user_id: int, *, emit_update: bool = True) -> None:
        with self._lock:
            was_blocked = user_id in self._blocked
            self._blocked.discard(user_id)
            if emit_update and was_blocked:
                self._enqueue_locked(
                    {
                        "my_chat_member": self._chat_member_update(
                            self._chats[user_id],
                            self._users[user_id],
                            "kicked",
                            "member",
                        )
                    }
                )
        self._notify()
