"""Builders for Bot API objects and the test-facing views of stored messages."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tests.emulator.entities import JSON
from tests.emulator.html_render import to_html


def media_default(kind: str, file_id: str, unique: str) -> Any:
    """A plausible, PTB-deserialisable object for a user-sent message of this kind."""
    base = {"file_id": file_id, "file_unique_id": unique}
    defaults: dict[str, Any] = {
        "sticker": {
            **base,
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": "👍",
        },
        "location": {"latitude": 51.5007, "longitude": -0.1246},
        "contact": {"phone_number": "+10000000000", "first_name": "Contact"},
        "dice": {"emoji": "🎲", "value": 3},
        "venue": {
            "location": {"latitude": 51.5007, "longitude": -0.1246},
            "title": "Somewhere",
            "address": "1 Example Street",
        },
        "poll": {
            "id": file_id,
            "question": "Is it true?",
            "options": [
                {"text": "Yes", "voter_count": 0, "persistent_id": "0"},
                {"text": "No", "voter_count": 0, "persistent_id": "1"},
            ],
            "total_voter_count": 0,
            "is_closed": False,
            "is_anonymous": True,
            "type": "regular",
            "allows_multiple_answers": False,
            # Required by newer Bot API versions (and PTB 22.8).
            "allows_revoting": False,
            "members_only": False,
        },
    }
    if kind not in defaults:
        raise ValueError(f"no default object for message kind {kind!r}")
    return defaults[kind]


MEDIA_KINDS = (
    "sticker",
    "voice",
    "video_note",
    "video",
    "audio",
    "animation",
    "document",
    "photo",
    "location",
    "contact",
    "dice",
    "venue",
    "poll",
)


@dataclass(frozen=True)
class DocumentView:
    filename: str
    data: bytes
    mime_type: str
    file_id: str


@dataclass(frozen=True)
class ChatMessage:
    """A message as a chat participant would currently see it.

    Supports both attribute access and ``msg["text"]`` so tests can treat it like a dict.
    """

    chat_id: int
    message_id: int
    from_bot: bool
    from_id: int | None
    text: str
    entities: list[JSON]
    html: str
    buttons: list[list[tuple[str, str]]]
    edited: bool
    kind: str
    document: DocumentView | None = None
    raw: JSON = field(default_factory=dict, repr=False)

    def __getitem__(self, key: str) -> Any:
        return getattr(self, key)

    def button_texts(self) -> list[str]:
        return [text for row in self.buttons for text, _ in row]

    def callback_data(self, button_text: str) -> str:
        """The callback_data (or URL) of the button labelled ``button_text``."""
        for row in self.buttons:
            for text, data in row:
                if text == button_text:
                    return data
        raise KeyError(f"no button {button_text!r} in {self.button_texts()}")


def message_kind(message: JSON) -> str:
    if "text" in message:
        return "text"
    for kind in MEDIA_KINDS:
        if kind in message:
            return kind
    return "other"


def build_view(message: JSON, from_bot: bool, edited: bool, document: DocumentView | None) -> ChatMessage:
    text = message.get("text", message.get("caption", ""))
    entities = message.get("entities", message.get("caption_entities", []))
    buttons: list[list[tuple[str, str]]] = []
    markup = message.get("reply_markup") or {}
    for row in markup.get("inline_keyboard", []):
        buttons.append(
            [
                (
                    button.get("text", ""),
                    str(
                        button.get("callback_data")
                        or button.get("url")
                        or button.get("switch_inline_query")
                        or ""
                    ),
                )
                for button in row
            ]
        )
    sender = message.get("from") or {}
    return ChatMessage(
        chat_id=message["chat"]["id"],
        message_id=message["message_id"],
        from_bot=from_bot,
        from_id=sender.get("id"),
        text=text,
        entities=[dict(e) for e in entities],
        html=to_html(text, entities),
        buttons=buttons,
        edited=edited,
        kind=message_kind(message),
        document=document,
        raw=message,
    )


def render_transcript(messages: list[ChatMessage], names: dict[int, str]) -> str:
    lines: list[str] = []
    for msg in messages:
        who = "🤖 bot" if msg.from_bot else f"🧑 {names.get(msg.from_id or 0, 'user')}"
        body = msg.text if msg.text else f"<{msg.kind}>"
        if msg.kind not in ("text", "other") and msg.text:
            body = f"<{msg.kind}> {msg.text}"
        first, *rest = body.split("\n") or [""]
        suffix = " (edited)" if msg.edited else ""
        lines.append(f"{who}: {first}{suffix}")
        lines.extend(f"    {line}" for line in rest)
        if msg.document is not None:
            lines.append(f"    📎 {msg.document.filename} ({len(msg.document.data)} bytes)")
        for row in msg.buttons:
            lines.append("    " + " ".join(f"[{text}]" for text, _ in row))
    return "\n".join(lines)
