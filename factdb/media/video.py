"""Pictures from moving pictures: a GIF's frames (Pillow), a video's key frames (ffmpeg).

Telegram gives every video, video note and animation a thumbnail, which the bot can hash and
read without any of this. When ffmpeg is installed (Debian package ffmpeg), a few key frames
are taken as well, so a video whose thumbnail is a black first frame is still recognised.
Without ffmpeg, `ffmpeg_available()` says so and only the thumbnail is used.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import tempfile
from functools import cache
from pathlib import Path

from PIL import Image

from factdb.media.decode import MAX_BYTES, ImageRejected, SafeImage, decode, sniff_format

__all__ = ["animation_frames", "ffmpeg_available", "key_frames"]

MAX_KEY_FRAMES = 4
FFMPEG_TIMEOUT_S = 20
FRAME_SIDE = 720  # key frames are scaled to this long side: enough to hash and read


@cache
def ffmpeg_available() -> bool:
    return shutil.which("ffmpeg") is not None


def animation_frames(data: bytes, *, count: int = MAX_KEY_FRAMES) -> list[Image.Image]:
    """Up to `count` frames spread over a GIF or animated WebP (the first one always)."""
    first: SafeImage = decode(data)  # refuses bombs and non-images before we seek frames
    if first.frames <= 1:
        return [first.image]
    image = Image.open(io.BytesIO(data), formats=[first.format])
    picks = sorted({round(i * (first.frames - 1) / max(1, count - 1)) for i in range(count)})
    frames = []
    for index in picks:
        image.seek(index)
        frames.append(image.convert("RGB"))
    return frames


def key_frames(data: bytes, *, count: int = MAX_KEY_FRAMES) -> list[Image.Image]:
    """Up to `count` key frames of a video (MP4, WebM, MOV...), or [] without ffmpeg.

    ffmpeg decodes only key frames (-skip_frame nokey), scaled down, as PNG on stdout; the
    frames then pass through the same safe decoding as any picture. Raises ImageRejected for
    what ffmpeg cannot read.
    """
    if not ffmpeg_available():
        return []
    if len(data) > MAX_BYTES:
        raise ImageRejected("too_big", f"{len(data)} bytes, the limit is {MAX_BYTES}")
    if sniff_format(data) is not None:  # a GIF or a picture sent as a "video"
        return animation_frames(data, count=count)
    with tempfile.TemporaryDirectory(prefix="crowdcheck-video-") as tmp:
        source = Path(tmp) / "in"
        source.write_bytes(data)  # MP4 needs seeking: a file, not a pipe
        scale = f"scale='min({FRAME_SIDE},iw)':-2"
        command = [
            "ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error",
            "-skip_frame", "nokey", "-i", str(source),
            "-an", "-sn", "-dn", "-vsync", "vfr", "-vf", scale,
            "-frames:v", str(count), "-f", "image2pipe", "-c:v", "png", "-",
        ]  # fmt: skip
        try:
            done = subprocess.run(command, capture_output=True, timeout=FFMPEG_TIMEOUT_S, check=False)
        except subprocess.TimeoutExpired as exc:
            raise ImageRejected("broken", "ffmpeg took too long on this video") from exc
    if done.returncode != 0 or not done.stdout:
        raise ImageRejected("not_an_image", "ffmpeg could not read a video frame from it")
    return [decode(png).image for png in _split_pngs(done.stdout)][:count]


_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _split_pngs(stream: bytes) -> list[bytes]:
    """Concatenated PNG files, one per frame, split at their IEND chunks."""
    out, start = [], 0
    while True:
        end = stream.find(b"IEND", start)
        if end < 0:
            break
        end += 8  # "IEND" and its CRC
        if stream.startswith(_PNG_MAGIC, start):
            out.append(stream[start:end])
        start = end
    return out
