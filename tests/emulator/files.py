"""Files: what users send (documents) and the bot sends (sendDocument, sendPhoto), getFile and
downloads at ``/file/bot<token>/<file_path>``, and sendChatAction."""

from __future__ import annotations

import itertools
import mimetypes

from aiohttp import web

from tests.emulator.errors import bad_request
from tests.emulator.messages import Messages
from tests.emulator.objects import JSON, DocumentView, photo_sizes
from tests.emulator.state import UploadedFile

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


class Files(Messages):
    _file_ids: itertools.count[int]
    _files: dict[str, DocumentView]

    def _init_files(self) -> None:
        self._file_ids = itertools.count(1)
        self._files = {}

    def _take_file(self, params: JSON, name: str) -> tuple[str, bytes, str, str]:
        """Return (filename, bytes, mime type, file_id) for an uploaded or reused file."""
        value = params.get(name)
        if isinstance(value, str) and value.startswith("attach://"):
            value = params.get(value[len("attach://") :])
        if isinstance(value, UploadedFile):
            if not value.data:
                raise bad_request("file must be non-empty")
            file_id = f"BQACAgIAAxkDAAI{next(self._file_ids):06d}"
            mime = value.content_type
            if mime in ("application/octet-stream", ""):
                mime = mimetypes.guess_type(value.filename)[0] or "application/octet-stream"
            return value.filename, value.data, mime, file_id
        if isinstance(value, str) and value:
            known = self._files.get(value)
            if known is not None:
                return known.filename, known.data, known.mime_type, known.file_id
            if value.startswith(("http://", "https://")):
                filename = value.rstrip("/").rsplit("/", 1)[-1] or "file"
                file_id = f"BQACAgIAAxkDAAI{next(self._file_ids):06d}"
                mime = mimetypes.guess_type(filename)[0] or "application/octet-stream"
                return filename, b"", mime, file_id
            raise bad_request("wrong file identifier/HTTP URL specified")
        raise bad_request(f"there is no {name} in the request")

    async def _m_get_file(self, params: JSON) -> JSON:
        file_id = str(params.get("file_id") or "")
        with self._lock:
            known = self._files.get(file_id)
        if known is None:
            raise bad_request("invalid file_id")
        return {
            "file_id": known.file_id,
            "file_unique_id": "AgAD" + known.file_id[-6:],
            "file_size": len(known.data),
            "file_path": f"documents/{known.file_id}/{known.filename}",
        }

    async def _serve_file(self, request: web.Request) -> web.Response:
        """Bot API file downloads: /file/bot<token>/<file_path from getFile>."""
        if request.match_info["token"] != self.token:
            return web.Response(status=401, text="Unauthorized")
        parts = request.match_info["path"].split("/")
        with self._lock:
            known = self._files.get(parts[1]) if len(parts) >= 2 else None
        if known is None:
            return web.Response(status=404, text="Not Found")
        return web.Response(body=known.data, content_type=known.mime_type)

    def send_document(
        self,
        user_id: int,
        filename: str,
        data: bytes,
        *,
        chat_id: int | None = None,
        caption: str | None = None,
        mime_type: str | None = None,
    ) -> JSON:
        """The user sends a file; the bot can fetch its bytes with getFile and a download."""
        file_id = f"BQACAgIAAxkBAAI{next(self._file_ids):06d}"
        mime = mime_type or mimetypes.guess_type(filename)[0] or "application/octet-stream"
        with self._lock:
            self._files[file_id] = DocumentView(filename=filename, data=data, mime_type=mime, file_id=file_id)
        content: JSON = {
            "document": {
                "file_id": file_id,
                "file_unique_id": "AgAD" + file_id[-6:],
                "file_name": filename,
                "mime_type": mime,
                "file_size": len(data),
            }
        }
        if caption:
            content.update(self._text_content(caption, "caption"))
        return self._user_message(user_id, chat_id, content)

    async def _m_send_document(self, params: JSON) -> JSON:
        return await self._send_file(params, "document", "sendDocument")

    async def _m_send_photo(self, params: JSON) -> JSON:
        return await self._send_file(params, "photo", "sendPhoto")

    async def _send_file(self, params: JSON, kind: str, method: str) -> JSON:
        with self._lock:
            caption = self._parse_formatted(
                params.get("caption"),
                params.get("parse_mode"),
                params.get("caption_entities"),
                caption=True,
            )
            markup = self._check_markup(params.get("reply_markup"))
            chat = self._resolve_chat(params)
            filename, data, mime, file_id = self._take_file(params, kind)
            document = DocumentView(filename=filename, data=data, mime_type=mime, file_id=file_id)
            self._files[file_id] = document
            unique = "AgAD" + file_id[-6:]
            content: JSON = {}
            if kind == "photo":
                content["photo"] = photo_sizes(file_id, unique, len(data))
            else:
                content["document"] = {
                    "file_id": file_id,
                    "file_unique_id": unique,
                    "file_name": filename,
                    "mime_type": mime,
                    "file_size": len(data),
                }
            if caption.text:
                content["caption"] = caption.text
            if caption.entities:
                content["caption_entities"] = caption.entities
            content.update(self._reply_content(chat, params))
            if markup is not None:
                content["reply_markup"] = markup
            self._check_rate(chat.data["id"])
            return self._store_bot_message(chat, method, content, document)

    async def _m_send_chat_action(self, params: JSON) -> bool:
        with self._lock:
            action = params.get("action")
            if action not in _CHAT_ACTIONS:
                raise bad_request("wrong parameter action in request")
            chat = self._resolve_chat(params)
            self._record_sent("sendChatAction", chat.data["id"], None)
            return True
