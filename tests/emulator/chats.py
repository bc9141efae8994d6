"""Chats and users: who exists, which chats the bot may write to, getChat and getChatMember."""

from __future__ import annotations

from collections.abc import Iterable

from tests.emulator.core import EmulatorCore
from tests.emulator.errors import ApiError, bad_request, forbidden
from tests.emulator.objects import JSON
from tests.emulator.state import Chat


class Chats(EmulatorCore):
    """Users and their private chats, groups and channels, and the checks before a send.

    A user counts as having started the bot (so the bot may write to them) unless registered
    with ``user(..., started=False)``; then sends answer 403 "bot can't initiate conversation
    with a user" until the user writes to the bot in private.
    """

    _users: dict[int, JSON]
    _chats: dict[int, Chat]
    _blocked: set[int]
    _not_started: set[int]

    def _init_chats(self) -> None:
        self._users = {}
        self._chats = {}
        self._blocked = set()
        self._not_started = set()

    def user(
        self,
        user_id: int,
        first_name: str | None = None,
        *,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = None,
        is_premium: bool | None = None,
        started: bool | None = None,
    ) -> JSON:
        """Register (or update) a user and their private chat with the bot.

        ``started=False``: the user never opened a private chat with the bot, so the bot's
        messages to them fail with 403 until they write to it (see the module docstring).
        """
        if user_id <= 0:
            raise ValueError("user ids are positive")
        with self._lock:
            if started is False:
                self._not_started.add(user_id)
            elif started:
                self._not_started.discard(user_id)
            user = self._users.setdefault(
                user_id, {"id": user_id, "is_bot": False, "first_name": f"User{user_id}"}
            )
            for key, value in (
                ("first_name", first_name),
                ("last_name", last_name),
                ("username", username),
                ("language_code", language_code),
                ("is_premium", is_premium),
            ):
                if value is not None:
                    user[key] = value
            chat_data = {"id": user_id, "type": "private", "first_name": user["first_name"]}
            for key in ("last_name", "username"):
                if key in user:
                    chat_data[key] = user[key]
            chat = self._chats.get(user_id)
            if chat is None:
                self._chats[user_id] = Chat(chat_data)
            else:
                chat.data = chat_data
            return dict(user)

    def create_group(
        self,
        chat_id: int,
        title: str = "Test group",
        members: Iterable[int] = (),
        *,
        type: str = "supergroup",
        username: str | None = None,
        bot_is_member: bool = True,
    ) -> JSON:
        """Create a group/supergroup (negative id) the bot is a member of."""
        if chat_id >= 0:
            raise ValueError("group chat ids are negative")
        if type not in ("group", "supergroup"):
            raise ValueError("type must be 'group' or 'supergroup'")
        data: JSON = {"id": chat_id, "type": type, "title": title}
        if username:
            data["username"] = username
        with self._lock:
            member_ids = set(members)
            for member in member_ids:
                if member not in self._users:
                    self.user(member)
            chat = self._chats.get(chat_id)
            status = "member" if bot_is_member else "left"
            if chat is None:
                self._chats[chat_id] = Chat(data, bot_status=status, members=member_ids)
            else:
                chat.data = data
                chat.members |= member_ids
                chat.bot_status = status
            return dict(data)

    def make_admin(self, chat_id: int, user_id: int) -> None:
        """Make a member one of the group's admins (as getChatMember then reports them)."""
        with self._lock:
            chat = self._chats[chat_id]
            chat.members.add(user_id)
            chat.admins.add(user_id)

    def create_channel(
        self,
        chat_id: int,
        title: str = "Test channel",
        username: str | None = None,
        *,
        bot_is_admin: bool = True,
    ) -> JSON:
        """Create a channel; the bot is one of its administrators (a bot can be nothing else in a
        channel) unless ``bot_is_admin=False``. ``add_bot_to_channel`` adds it with the update."""
        if chat_id >= 0:
            raise ValueError("channel ids are negative")
        data: JSON = {"id": chat_id, "type": "channel", "title": title}
        if username:
            data["username"] = username
        with self._lock:
            if chat_id not in self._chats:
                status = "administrator" if bot_is_admin else "left"
                self._chats[chat_id] = Chat(data, bot_status=status)
            return dict(self._chats[chat_id].data)

    def _user_chat(self, user_id: int, chat_id: int | None) -> tuple[JSON, Chat]:
        if user_id not in self._users:
            self.user(user_id)
        target = user_id if chat_id is None else chat_id
        chat = self._chats.get(target)
        if chat is None:
            if target < 0:
                self.create_group(target, members=[user_id])
                chat = self._chats[target]
            else:
                raise ValueError(f"user {user_id} cannot write in chat {target}")
        chat.members.add(user_id)
        return self._users[user_id], chat

    def _resolve_chat(self, params: JSON, *, for_sending: bool = True) -> Chat:
        raw = params.get("chat_id")
        if raw is None or raw == "":
            raise bad_request("chat_id is empty")
        chat_id = self._maybe_int(raw)
        chat: Chat | None = None
        if chat_id is not None:
            chat = self._chats.get(chat_id)
        elif isinstance(raw, str) and raw.startswith("@"):
            wanted = raw[1:].lower()
            chat = next(
                (c for c in self._chats.values() if str(c.data.get("username", "")).lower() == wanted),
                None,
            )
        if chat is None:
            raise bad_request("chat not found")
        if for_sending:
            self._check_can_write(chat)
        return chat

    def _check_can_write(self, chat: Chat) -> None:
        chat_type = chat.data["type"]
        if chat_type == "private":
            if chat.data["id"] in self._blocked:
                raise forbidden("bot was blocked by the user")
            if chat.data["id"] in self._not_started:
                raise forbidden("bot can't initiate conversation with a user")
            return
        self._check_in_chat(chat)
        if chat.bot_status == "restricted" and not chat.bot_can_send:
            raise bad_request("not enough rights to send text messages to the chat")
        if chat_type == "channel" and (chat.bot_status != "administrator" or not chat.bot_can_post):
            raise bad_request("need administrator rights in the channel chat")

    @staticmethod
    def _check_in_chat(chat: Chat) -> None:
        if chat.migrated_to is not None:
            raise ApiError(
                400,
                "Bad Request: group chat was upgraded to a supergroup chat",
                {"migrate_to_chat_id": chat.migrated_to},
            )
        if chat.data["type"] == "private" or chat.bot_is_member:
            return
        if chat.bot_status == "kicked":
            raise forbidden(f"bot was kicked from the {chat.data['type']} chat")
        raise forbidden(f"bot is not a member of the {chat.data['type']} chat")

    async def _m_get_chat(self, params: JSON) -> JSON:
        with self._lock:
            chat = self._resolve_chat(params, for_sending=False)
            # Telegram tells a bot nothing about a group it is not in.
            self._check_in_chat(chat)
            info = dict(chat.data)
            info.update(
                {
                    "accent_color_id": 0,
                    "max_reaction_count": 11,
                    "accepted_gift_types": {
                        "unlimited_gifts": True,
                        "limited_gifts": True,
                        "unique_gifts": True,
                        "premium_subscription": True,
                        "gifts_from_channels": True,
                    },
                }
            )
            return info

    async def _m_get_chat_member(self, params: JSON) -> JSON:
        with self._lock:
            chat = self._resolve_chat(params, for_sending=False)
            self._check_in_chat(chat)
            user_id = self._int(params, "user_id")
            if user_id == self.bot_user["id"]:
                return self._bot_member(chat)
            user = self._users.get(user_id)
            if user is None:
                raise bad_request("user not found")
            in_chat = user_id == chat.data["id"] or user_id in chat.members
            if in_chat and user_id in chat.admins:  # the fields Telegram sends an admin with
                rights = self._bot_member(Chat(chat.data, bot_status="administrator"))
                return {**rights, "user": dict(user)}
            return {"status": "member" if in_chat else "left", "user": dict(user)}

    def _bot_member(self, chat: Chat) -> JSON:
        """The bot's ChatMember in ``chat``, with the fields Telegram sends for its status."""
        status = chat.bot_status
        body: JSON = {"status": status, "user": dict(self.bot_user)}
        if status == "administrator":
            body.update(
                {
                    "can_be_edited": False,
                    "is_anonymous": False,
                    "can_manage_chat": True,
                    "can_delete_messages": True,
                    "can_manage_video_chats": True,
                    "can_restrict_members": True,
                    "can_promote_members": False,
                    "can_change_info": True,
                    "can_invite_users": True,
                    "can_post_stories": False,
                    "can_edit_stories": False,
                    "can_delete_stories": False,
                }
            )
            if chat.data["type"] == "channel":
                body.update({"can_post_messages": chat.bot_can_post, "can_edit_messages": True})
            else:
                body["can_pin_messages"] = True
        elif status == "restricted":
            send = chat.bot_can_send
            body.update(
                {
                    "is_member": True,
                    "can_send_messages": send,
                    "can_send_audios": send,
                    "can_send_documents": send,
                    "can_send_photos": send,
                    "can_send_videos": send,
                    "can_send_video_notes": send,
                    "can_send_voice_notes": send,
                    "can_send_polls": send,
                    "can_send_other_messages": send,
                    "can_add_web_page_previews": send,
                    "can_react_to_messages": send,
                    "can_change_info": False,
                    "can_invite_users": False,
                    "can_pin_messages": False,
                    "can_manage_topics": False,
                    "can_edit_tag": False,
                    "until_date": 0,
                }
            )
        elif status == "kicked":
            body["until_date"] = 0
        return body

    def is_blocked(self, user_id: int) -> bool:
        with self._lock:
            return user_id in self._blocked

    def has_started(self, user_id: int) -> bool:
        """Whether the bot may write to the user (they opened a private chat with it)."""
        with self._lock:
            return user_id in self._users and user_id not in self._not_started

    def bot_status(self, chat_id: int) -> str:
        """The bot's standing in a group: member, administrator, restricted, left or kicked."""
        with self._lock:
            return self._chats[chat_id].bot_status
