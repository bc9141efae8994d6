"""Files: the store behind every file_id, getFile with Telegram's limit for bots, and downloads at
``/file/bot<token>/<file_path>`` as on Telegram."""

from __future__ import annotations

import itertools
import mimetypes

from aiohttp import web

from tests.emulator.core import EmulatorCore
from tests.emulator.errors import bad_request
from tests.emulator.objects import JSON
from tests.emulator.state import StoredFile, UploadedFile

# Bots may download files up to this size through getFile (larger ones: "file is too big").
MAX_DOWNLOAD_BYTES = 20 * 1024 * 1024

# Where Telegram files each kind (the first part of file_path), its usual extension, and the start
# of its file_ids (they encode the kind; a file_id of one kind cannot be sent as another).
FOLDERS = {
    "photo": ("photos", ".jpg", "AgACAgIAAxkBAAI"),
    "document": ("documents", "", "BQACAgIAAxkBAAI"),
    "animation": ("animations", ".mp4", "CgACAgIAAxkBAAI"),
    "video": ("videos", ".mp4", "BAACAgIAAxkBAAI"),
    "video_note": ("video_notes", ".mp4", "DQACAgIAAxkBAAI"),
    "voice": ("voice", ".oga", "AwACAgIAAxkBAAI"),
    "audio": ("music", ".mp3", "CQACAgIAAxkBAAI"),
    "thumbnail": ("thumbnails", ".jpg", "AAMCAgADGQEAAI"),
    "sticker": ("stickers", ".webp", "CAACAgIAAxkBAAI"),
}


class Files(EmulatorCore):
    _file_numbers: itertools.count[int]
    _files: dict[str, StoredFile]
    _file_paths: dict[str, str]
    _file_kinds: dict[str, str]

    def _init_files(self) -> None:
        self._file_numbers = itertools.count(1)
        self._files = {}
        self._file_paths = {}  # file_path -> file_id
        self._file_kinds = {}  # file_id -> photo, document, video, …

    def _store_file(
        self,
        kind: str,
        data: bytes,
        *,
        mime_type: str = "",
        file_name: str = "",
        size: int | None = None,
    ) -> StoredFile:
        """Keep a file under a new file_id; the caller holds the lock or is the only writer."""
        folder, extension, prefix = FOLDERS[kind]
        number = next(self._file_numbers)
        if kind == "document":
            extension = (
                "." + file_name.rsplit(".", 1)[-1]
                if "." in file_name
                else mimetypes.guess_extension(mime_type) or ""
            )
        stored = StoredFile(
            file_id=f"{prefix}{number:06d}",
            unique_id=f"AgAD{number:06d}",
            data=data,
            mime_type=mime_type,
            file_name=file_name,
            file_path=f"{folder}/file_{number}{extension}",
            size=len(data) if size is None else size,
        )
        with self._lock:
            self._files[stored.file_id] = stored
            self._file_paths[stored.file_path] = stored.file_id
            self._file_kinds[stored.file_id] = kind
        return stored

    @staticmethod
    def _file_object(stored: StoredFile, **fields: object) -> JSON:
        """The Bot API object for a file (PhotoSize, Document, Video, …) with its own fields."""
        body: JSON = {"file_id": stored.file_id, "file_unique_id": stored.unique_id}
        body.update({key: value for key, value in fields.items() if value is not None})
        body["file_size"] = max(stored.size, 1)
        return body

    def _take_file(self, params: JSON, name: str, kind: str) -> tuple[StoredFile, bool]:
        """The file a send method names: an upload (new) or a known file_id of the same kind.
        Returns the file and whether it is a new upload."""
        value = params.get(name)
        if isinstance(value, str) and value.startswith("attach://"):
            value = params.get(value[len("attach://") :])
        if isinstance(value, UploadedFile):
            if not value.data:
                raise bad_request("file must be non-empty")
            mime = value.content_type
            if mime in ("application/octet-stream", ""):
                mime = mimetypes.guess_type(value.filename)[0] or "application/octet-stream"
            return self._store_file(kind, value.data, mime_type=mime, file_name=value.filename), True
        if isinstance(value, str) and value:
            with self._lock:
                known = self._files.get(value)
                known_kind = self._file_kinds.get(value)
            if known is not None:
                if known_kind != kind:
                    raise bad_request("type of file mismatch")
                return known, False
            if value.startswith(("http://", "https://")):
                filename = value.rstrip("/").rsplit("/", 1)[-1] or "file"
                mime = mimetypes.guess_type(filename)[0] or "application/octet-stream"
                return self._store_file(kind, b"", mime_type=mime, file_name=filename), True
            raise bad_request("wrong file identifier/HTTP URL specified")
        raise bad_request(f"there is no {name} in the request")

    async def _m_get_file(self, params: JSON) -> JSON:
        file_id = str(params.get("file_id") or "")
        with self._lock:
            known = self._files.get(file_id)
        if known is None:
            raise bad_request("invalid file_id")
        if known.size > MAX_DOWNLOAD_BYTES:
            raise bad_request("file is too big")
        return {
            "file_id": known.file_id,
            "file_unique_id": known.unique_id,
            "file_size": known.size,
            "file_path": known.file_path,
        }

    async def _serve_file(self, request: web.Request) -> web.Response:
        """Bot API file downloads: /file/bot<token>/<file_path from getFile>."""
        if request.match_info["token"] != self.token:
            return web.Response(status=401, text="Unauthorized")
        with self._lock:
            file_id = self._file_paths.get(request.match_info["path"])
            known = self._files.get(file_id) if file_id else None
        if known is None or known.size > MAX_DOWNLOAD_BYTES:
            return web.Response(status=404, text="Not Found")
        return web.Response(body=known.data, content_type=known.mime_type or "application/octet-stream")
