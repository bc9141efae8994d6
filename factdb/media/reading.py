"""Read one file a citizen sent: the picture to keep, its hashes, the text in it.

Blocking (decoding, ffmpeg, Tesseract: up to a few seconds): the bot calls `read_file` from
its bounded picture pool (factdb/media/reader.py), never on the event loop.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from PIL import Image

from factdb.media.decode import ImageRejected, decode, sniff_format, stripped_jpeg
from factdb.media.hashing import PictureHash, picture_hash
from factdb.media.ocr import read_text
from factdb.media.video import key_frames

__all__ = ["MOVING_KINDS", "PictureRead", "read_file", "with_text"]

# The kinds of file (Telegram's names) read by their key frames; any other kind (photo,
# document, thumbnail) is one still picture.
MOVING_KINDS = ("animation", "video", "video_note")


@dataclass(frozen=True)
class PictureRead:
    kind: str  # photo, document, animation, video, video_note, thumbnail
    jpeg: bytes  # the picture we keep: re-encoded from pixels, no EXIF or location
    size: tuple[int, int]
    hashes: tuple[PictureHash, ...]  # the kept picture's first; then other key frames'
    text: str  # what OCR read, chat furniture removed ("" when nothing or OCR is off)
    # the decoded frames, kept until the text is read (`with_text`)
    frames: tuple[Image.Image, ...] = field(default=(), repr=False, compare=False)

    @property
    def phash(self) -> PictureHash:
        return self.hashes[0]


def with_text(read: PictureRead, *, lang_hint: str | None = None) -> PictureRead:
    """The picture's text read by OCR (blocking: a second or two). A video's first frame with
    text counts, at most two frames read: OCR is the costly part and caption frames come first."""
    for frame, phash in zip(read.frames[:2], read.hashes, strict=False):
        result = read_text(frame, lang_hint=lang_hint, flat=phash.flat)
        if result is not None:
            return dataclasses.replace(read, text=result.text, frames=())
    return dataclasses.replace(read, frames=())


def read_file(data: bytes, kind: str, *, lang_hint: str | None = None, ocr: bool = True) -> PictureRead:
    """Decode and hash a photo, an image document, or a GIF's or video's key frames, and read
    its text unless `ocr` is False (then `with_text` reads it later, if it is still needed).
    Raises ImageRejected (reason: too_big, too_many_pixels, not_an_image, broken, no_frames when
    a video cannot be read here: the caller may fall back to its thumbnail)."""
    frames = _frames(data, kind)
    hashes = [picture_hash(frame) for frame in frames]
    kept = frames[0]
    read = PictureRead(kind, stripped_jpeg(kept), kept.size, tuple(hashes), "", tuple(frames))
    return with_text(read, lang_hint=lang_hint) if ocr else read


def _frames(data: bytes, kind: str) -> list[Image.Image]:
    if kind in MOVING_KINDS:
        frames = key_frames(data)  # a video's key frames, or a GIF's frames; [] without ffmpeg
        if frames:
            return frames
        if sniff_format(data) is None:
            raise ImageRejected("no_frames", "ffmpeg is not installed here")
    return [decode(data).image]  # refuses what is not a picture, by content
