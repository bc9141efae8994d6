"""The records the emulator keeps: chats with their messages, queued updates, uploaded files."""

from __future__ import annotations

from dataclasses import dataclass, field

from tests.emulator.objects import JSON, DocumentView


@dataclass
class UploadedFile:
    filename: str
    data: bytes
    content_type: str


@dataclass
class StoredMessage:
    message: JSON
    from_bot: bool
    edited: bool = False
    deleted: bool = False
    document: DocumentView | None = None


# The bot's own standing in a group, as getChatMember and my_chat_member report it.
BOT_STATUSES = ("member", "administrator", "restricted", "left", "kicked")
IN_CHAT = frozenset({"member", "administrator", "restricted"})


@dataclass
class Chat:
    data: JSON
    messages: dict[int, StoredMessage] = field(default_factory=dict)
    next_message_id: int = 1
    bot_status: str = "member"
    # Only meaningful while restricted: an admin may take away the right to post.
    bot_can_send: bool = True
    # Only meaningful for a channel admin: can_post_messages.
    bot_can_post: bool = True
    members: set[int] = field(default_factory=set)
    # Members who are the group's admins ("administrator" in getChatMember); see make_admin.
    admins: set[int] = field(default_factory=set)
    # A basic group upgraded to a supergroup lives on under this id; the old id answers 400.
    migrated_to: int | None = None

    @property
    def bot_is_member(self) -> bool:
        return self.bot_status in IN_CHAT


@dataclass
class PendingUpdate:
    update: JSON
    delivered: bool = False
    redelivery: bool = False


def update_type(update: JSON) -> str:
    return next((key for key in update if key != "update_id"), "")


@dataclass
class StoredFile:
    """A file the emulator holds: its ids, bytes, and the path getFile gives for downloading."""

    file_id: str
    unique_id: str
    data: bytes
    mime_type: str
    file_name: str
    file_path: str
    # What Telegram reports; may exceed len(data), so a test can send a "25 MB video" cheaply.
    size: int
