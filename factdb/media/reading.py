"""Read one file a citizen sent: the picture to keep, its hashes, the text in it.

Blocking (decoding, ffmpeg, Tesseract: up to a few seconds): the bot calls `read_file` from
its bounded picture pool (factdb/media/reader.py), never on the event loop.
"""

from __future__ import annotations

from dataclasses import dataclass

from PIL import Image

from factdb.media.decode import ImageRejected, decode, sniff_format, stripped_jpeg
from factdb.media.hashing import PictureHash, picture_hash
from factdb.media.ocr import read_text
from factdb.media.video import key_frames

__all__ = ["MOVING_KINDS", "STILL_KINDS", "PictureRead", "read_file"]

# What Telegram calls each kind of file a citizen can send us that holds a picture.
STILL_KINDS = ("photo", "document", "thumbnail")
MOVING_KINDS = ("animation", "video", "video_note")


@dataclass(frozen=True)
class PictureRead:
    kind: str  # photo, document, animation, video, video_note, thumbnail
    jpeg: bytes  # the picture we keep: re-encoded from pixels, no EXIF or location
    size: tuple[int, int]
    hashes: tuple[PictureHash, ...]  # the kept picture's first; then other key frames'
    text: str  # what OCR read, chat furniture removed ("" when nothing or OCR is off)

    @property
    def phash(self) -> PictureHash:
        return self.hashes[0]


def read_file(data: bytes, kind: str, *, lang_hint: str | None = None, ocr: bool = True) -> PictureRead:
    """Decode, hash and read the text of a photo, an image document, or a GIF's or video's key
    frames. Raises ImageRejected (reason: too_big, too_many_pixels, not_an_image, broken,
    no_frames when a video cannot be read here: the caller may fall back to its thumbnail)."""
    frames = _frames(data, kind)
    hashes = tuple(dict.fromkeys(picture_hash(frame) for frame in frames))
    kept = frames[0]
    text = ""
    if ocr:
        # One reading per file: OCR costs a second or two, and a video's caption frames are
        # usually its first. A frame without text gives way to the next one, at most two.
        for frame, phash in zip(frames[:2], hashes, strict=False):
            result = read_text(frame, lang_hint=lang_hint, flat=phash.flat)
            if result is not None:
                text = result.text
                break
    return PictureRead(kind, stripped_jpeg(kept), kept.size, hashes, text)


def _frames(data: bytes, kind: str) -> list[Image.Image]:
    if kind in STILL_KINDS or sniff_format(data) is not None:
        if kind in MOVING_KINDS:  # a GIF sent as is: its frames
            frames = key_frames(data)
            if frames:
                return frames
        return [decode(data).image]
    if kind not in MOVING_KINDS:
        raise ImageRejected("not_an_image", f"a {kind} is not a picture")
    frames = key_frames(data)
    if not frames:
        raise ImageRejected("no_frames", "ffmpeg is not installed here")
    return frames
