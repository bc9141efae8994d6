"""Pictures, videos, voice and documents: what people send (each file downloadable through
getFile), what the bot sends (sendPhoto, sendDocument), and sendChatAction."""

from __future__ import annotations

import mimetypes
import time
from typing import Any

from tests.emulator.errors import bad_request
from tests.emulator.files import Files
from tests.emulator.messages import Messages
from tests.emulator.objects import JSON, DocumentView
from tests.emulator.photos import Size, jpeg_thumbnail, photo_sizes_of
from tests.emulator.state import StoredFile

_CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
# What a Telegram client sends for each kind when the sender's file does not say.
_DEFAULT_MIME = {
    "document": "application/octet-stream",
    "animation": "video/mp4",
    "video": "video/mp4",
    "video_note": "",
    "voice": "audio/ogg",
    "audio": "audio/mpeg",
}
MEDIA_FILE_KINDS = tuple(_DEFAULT_MIME)


class Media(Files, Messages):
    """``send_photo`` and ``send_media`` for people; sendPhoto, sendDocument, sendChatAction."""

    _photo_groups: dict[str, list[JSON]]
    _chat_actions: list[JSON]

    def _init_media(self) -> None:
        self._photo_groups = {}  # file_id of any size -> the photo's PhotoSize list
        self._chat_actions = []

    # ------------------------------------------------------------------ building objects

    def _photo(self, data: bytes | None, sizes: list[Size] | None = None) -> list[JSON]:
        """A photo as Telegram files it: one stored file per size, smallest first."""
        if sizes is None:
            if data is None:
                raise ValueError("a photo needs data= or sizes=")
            sizes = photo_sizes_of(data)
        photo: list[JSON] = []
        for jpeg, width, height in sizes:
            stored = self._store_file("photo", jpeg, mime_type="image/jpeg")
            photo.append(self._file_object(stored, width=width, height=height))
        with self._lock:
            for size in photo:
                self._photo_groups[size["file_id"]] = photo
        return photo

    def _thumbnail(self, thumbnail: bytes | None) -> JSON | None:
        if thumbnail is None:
            return None
        made = jpeg_thumbnail(thumbnail)
        jpeg, width, height = made if made is not None else (thumbnail, 320, 180)
        stored = self._store_file("thumbnail", jpeg, mime_type="image/jpeg")
        return self._file_object(stored, width=width, height=height)

    def _media_object(
        self,
        kind: str,
        stored: StoredFile,
        *,
        thumbnail: JSON | None = None,
        width: int | None = None,
        height: int | None = None,
        duration: int | None = None,
        title: str | None = None,
    ) -> JSON:
        fields: dict[str, Any] = {}
        if kind in ("animation", "video"):
            fields.update(width=width or 640, height=height or 360, duration=duration or 5)
        elif kind == "video_note":
            fields.update(length=width or 240, duration=duration or 5)
        elif kind in ("voice", "audio"):
            fields.update(duration=duration or 3)
            if kind == "audio":
                fields.update(title=title)
        if kind not in ("video_note", "voice"):
            fields["file_name"] = stored.file_name or None
        if kind != "video_note":
            fields["mime_type"] = stored.mime_type or None
        if thumbnail is not None and kind != "voice":
            fields["thumbnail"] = thumbnail
        return self._file_object(stored, **fields)

    # ------------------------------------------------------------------ what people send

    def send_photo(
        self,
        user_id: int,
        data: bytes | None = None,
        *,
        chat_id: int | None = None,
        caption: str | None = None,
        sizes: list[Size] | None = None,
        forward_origin: JSON | None = None,
    ) -> JSON:
        """The user sends a picture as a photo: Telegram re-encodes it into a few JPEG sizes
        (longest side 90, 320, 800, ≤ 1280 px; the sender's EXIF is gone), each with its own
        file_id. ``sizes=[(jpeg, width, height), …]`` gives them instead of making them."""
        content: JSON = {"photo": self._photo(data, sizes)}
        return self._send_user_media(user_id, chat_id, content, caption, forward_origin)

    def send_media(
        self,
        user_id: int,
        kind: str,
        data: bytes,
        *,
        chat_id: int | None = None,
        caption: str | None = None,
        file_name: str | None = None,
        mime_type: str | None = None,
        thumbnail: bytes | None = None,
        file_size: int | None = None,
        width: int | None = None,
        height: int | None = None,
        duration: int | None = None,
        forward_origin: JSON | None = None,
    ) -> JSON:
        """The user sends a document, animation (a GIF: Telegram turns it into an MP4), video,
        video_note, voice or audio; ``thumbnail`` is a picture Telegram would have made from the
        first frame; ``file_size`` pretends the file is that big (for the 20 MB getFile limit)
        without holding the bytes."""
        if kind not in MEDIA_FILE_KINDS:
            raise ValueError(f"kind must be one of {MEDIA_FILE_KINDS}")
        if kind == "video_note" and caption:
            raise ValueError("video notes have no caption on Telegram")
        name = file_name or ("animation.gif.mp4" if kind == "animation" else "")
        mime = mime_type or mimetypes.guess_type(name)[0] or _DEFAULT_MIME[kind]
        if kind == "animation":
            mime = "video/mp4"
        stored = self._store_file(kind, data, mime_type=mime, file_name=name, size=file_size)
        body = self._media_object(
            kind,
            stored,
            thumbnail=self._thumbnail(thumbnail),
            width=width,
            height=height,
            duration=duration,
            title="Audio" if kind == "audio" else None,
        )
        content: JSON = {kind: body}
        if kind == "animation":
            # Bot API: "for backward compatibility, when this field is set, the document field
            # will also be set".
            content["document"] = {k: v for k, v in body.items() if k not in ("width", "height", "duration")}
        return self._send_user_media(user_id, chat_id, content, caption, forward_origin)

    def send_document(
        self,
        user_id: int,
        filename: str,
        data: bytes,
        *,
        chat_id: int | None = None,
        caption: str | None = None,
        mime_type: str | None = None,
        thumbnail: bytes | None = None,
        file_size: int | None = None,
    ) -> JSON:
        """The user sends a file; the bot can fetch its bytes with getFile and a download."""
        return self.send_media(
            user_id,
            "document",
            data,
            chat_id=chat_id,
            caption=caption,
            file_name=filename,
            mime_type=mime_type,
            thumbnail=thumbnail,
            file_size=file_size,
        )

    def _send_user_media(
        self,
        user_id: int,
        chat_id: int | None,
        content: JSON,
        caption: str | None,
        forward_origin: JSON | None,
    ) -> JSON:
        if caption:
            content.update(self._text_content(caption, "caption"))
        if forward_origin is not None:
            content["forward_origin"] = {"date": int(time.time()) - 3600, **forward_origin}
        return self._user_message(user_id, chat_id, content)

    def _default_media(self, kind: str) -> JSON | list[JSON]:
        """A small real file for ``send_message(photo=True)`` and the like, so getFile works."""
        if kind == "photo":
            try:
                return self._photo(_blank_jpeg())
            except RuntimeError:  # pragma: no cover - no Pillow
                return self._photo(None, [(b"\xff\xd8\xff\xd9", 90, 67), (b"\xff\xd8\xff\xd9", 1280, 960)])
        if kind == "document":
            stored = self._store_file(
                kind, b"%PDF-1.4\n", mime_type="application/pdf", file_name="document.pdf"
            )
        else:
            stored = self._store_file(kind, b"\0" * 64, mime_type=_DEFAULT_MIME[kind])
        return self._media_object(kind, stored, title="Audio" if kind == "audio" else None)

    # ------------------------------------------------------------------- what the bot sends

    async def _m_send_document(self, params: JSON) -> JSON:
        return await self._send_file(params, "document", "sendDocument")

    async def _m_send_photo(self, params: JSON) -> JSON:
        return await self._send_file(params, "photo", "sendPhoto")

    async def _send_file(self, params: JSON, kind: str, method: str) -> JSON:
        with self._lock:
            caption = self._parse_formatted(
                params.get("caption"), params.get("parse_mode"), params.get("caption_entities"), caption=True
            )
            markup = self._check_markup(params.get("reply_markup"))
            chat = self._resolve_chat(params)
            stored, uploaded = self._take_file(params, kind, kind)
            content: JSON = {}
            if kind == "photo":
                content["photo"] = self._bot_photo(stored, uploaded)
            else:
                content["document"] = self._file_object(
                    stored, file_name=stored.file_name, mime_type=stored.mime_type
                )
            if caption.text:
                content["caption"] = caption.text
            if caption.entities:
                content["caption_entities"] = caption.entities
            content.update(self._reply_content(chat, params))
            if markup is not None:
                content["reply_markup"] = markup
            self._check_rate(chat.data["id"])
            document = DocumentView(stored.file_name, stored.data, stored.mime_type, stored.file_id)
            return self._store_bot_message(chat, method, content, document)

    def _bot_photo(self, stored: StoredFile, uploaded: bool) -> list[JSON]:
        if not uploaded:
            return self._photo_groups[stored.file_id]
        if not stored.data:  # a URL: nothing to look at
            return self._photo(None, [(b"", 1280, 960)])
        try:
            photo = self._photo(stored.data)
        except ValueError:
            raise bad_request("IMAGE_PROCESS_FAILED") from None
        except RuntimeError:  # pragma: no cover - no Pillow: one size, as uploaded
            photo = self._photo(None, [(stored.data, 1280, 960)])
        with self._lock:  # the upload's own file_id names the photo too
            self._photo_groups[stored.file_id] = photo
        return photo

    async def _m_send_chat_action(self, params: JSON) -> bool:
        with self._lock:
            action = params.get("action")
            if action not in _CHAT_ACTIONS:
                raise bad_request("wrong parameter action in request")
            chat = self._resolve_chat(params)
            self._record_sent("sendChatAction", chat.data["id"], None)
            self._chat_actions.append(
                {"chat_id": chat.data["id"], "action": action, "timestamp": time.monotonic()}
            )
            return True

    def chat_actions(self, chat_id: int) -> list[str]:
        """The actions ("typing", "upload_photo", …) the bot showed in a chat, in order."""
        with self._lock:
            return [a["action"] for a in self._chat_actions if a["chat_id"] == chat_id]


def _blank_jpeg() -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (640, 480), (200, 200, 200)).save(out, format="JPEG")
    return out.getvalue()
