"""Turn bytes a stranger sent into a picture we can safely work on, or refuse them clearly.

Nothing here trusts a file name or a declared MIME type: the content decides. A picture is
decoded only after its header says how big it is, so a decompression bomb (a small file that
expands to gigabytes of pixels) is refused before it is expanded. What we keep is re-encoded
from the pixels alone, so EXIF (GPS position, camera serial), XMP, ICC and comments never
reach the database.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

__all__ = [
    "MAX_BYTES",
    "MAX_PIXELS",
    "ImageRejected",
    "SafeImage",
    "decode",
    "sniff_format",
    "stripped_jpeg",
]

# Telegram hands bots files of up to 20 MB; nothing bigger is ever downloaded.
MAX_BYTES = 20 * 1024 * 1024
# 40 megapixels: more than any phone camera's photo (a 200 MP sensor saves 50 MP only in a
# special mode), far less than what would exhaust memory (40 MP RGB is 120 MB decoded).
MAX_PIXELS = 40_000_000
# Pillow's own guard, set to the same cap: it raises DecompressionBombError at twice this, and
# our explicit check below refuses anything above it before decoding.
Image.MAX_IMAGE_PIXELS = MAX_PIXELS
# Between that and twice it Pillow only warns; make the warning an error, process-wide (a
# `catch_warnings` block is not thread-safe, and decoding runs in a pool of threads).
warnings.simplefilter("error", Image.DecompressionBombWarning)
# An animated GIF or WebP: we look at a few frames, never at thousands.
MAX_FRAMES = 400
# Stored pictures are for reviewers' eyes and the public page: a long side of 2048 px is plenty.
MAX_STORED_SIDE = 2048

# Magic bytes of the formats we accept; everything else (HTML, PDF, ZIP, executables, SVG
# with its scripts, HEIC for now) is refused whatever its name says.
_SIGNATURES: tuple[tuple[bytes, int, str], ...] = (
    (b"\xff\xd8\xff", 0, "JPEG"),
    (b"\x89PNG\r\n\x1a\n", 0, "PNG"),
    (b"GIF87a", 0, "GIF"),
    (b"GIF89a", 0, "GIF"),
    (b"WEBP", 8, "WEBP"),  # after "RIFF" and the chunk size
)


class ImageRejected(ValueError):
    """The bytes are not a picture we will work on. `reason` is a stable code for callers:
    too_big (bytes), too_many_pixels (a bomb or absurd size), not_an_image, broken."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason


@dataclass(frozen=True)
class SafeImage:
    image: Image.Image  # RGB, EXIF orientation applied, no metadata
    format: str  # the format the content really is (JPEG, PNG, GIF, WEBP)
    frames: int  # 1 for a still picture
    original_size: tuple[int, int]


def sniff_format(data: bytes) -> str | None:
    """The picture format named by the content's first bytes, or None."""
    for magic, offset, name in _SIGNATURES:
        if data[offset : offset + len(magic)] == magic and (name != "WEBP" or data[:4] == b"RIFF"):
            return name
    return None


def decode(data: bytes, *, max_pixels: int = MAX_PIXELS, max_bytes: int = MAX_BYTES) -> SafeImage:
    """Decode `data` into an RGB picture, refusing non-images, bombs and broken files.

    Raises ImageRejected. The first frame of an animation is the picture.
    """
    if len(data) > max_bytes:
        raise ImageRejected("too_big", f"{len(data)} bytes, the limit is {max_bytes}")
    fmt = sniff_format(data)
    if fmt is None:
        raise ImageRejected("not_an_image", "the content is not a JPEG, PNG, GIF or WebP picture")
    try:
        probe = Image.open(io.BytesIO(data), formats=[fmt])
        _check_size(probe.size, max_pixels)
        probe.verify()  # structure and checksums, without decoding the pixels
        image = Image.open(io.BytesIO(data), formats=[fmt])
        frames = int(getattr(image, "n_frames", 1))
        if frames > MAX_FRAMES:
            raise ImageRejected("too_many_pixels", f"{frames} frames, the limit is {MAX_FRAMES}")
        image.load()
        rgb = _to_rgb(ImageOps.exif_transpose(image))
    except ImageRejected:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageRejected("too_many_pixels", str(exc)) from exc
    except UnidentifiedImageError as exc:
        raise ImageRejected("not_an_image", str(exc)) from exc
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        # truncated data, bad checksums, malformed chunks: Pillow's ways of saying "broken"
        raise ImageRejected("broken", f"{type(exc).__name__}: {exc}") from exc
    return SafeImage(rgb, fmt, frames, probe.size)


def _check_size(size: tuple[int, int], max_pixels: int) -> None:
    width, height = size
    if width <= 0 or height <= 0:
        raise ImageRejected("broken", f"impossible size {width}x{height}")
    if width * height > max_pixels:
        raise ImageRejected(
            "too_many_pixels", f"{width}x{height} is {width * height} pixels, the limit is {max_pixels}"
        )


def _to_rgb(image: Image.Image) -> Image.Image:
    """RGB pixels only: transparency is laid on white (what a chat app shows behind it)."""
    if image.mode in ("RGBA", "LA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        flat = Image.new("RGB", rgba.size, (255, 255, 255))
        flat.paste(rgba, mask=rgba.getchannel("A"))
        return flat
    # A fresh image from the pixels alone: no `info` (EXIF, XMP, ICC, comments) comes along.
    return (
        image.convert("RGB") if image.mode != "RGB" else Image.frombytes("RGB", image.size, image.tobytes())
    )


def stripped_jpeg(image: Image.Image, *, quality: int = 88, max_side: int = MAX_STORED_SIDE) -> bytes:
    """The picture as a JPEG with no metadata at all, its long side at most `max_side`."""
    if max(image.size) > max_side:
        image = image.copy()
        image.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    # exif=b"" and no icc_profile: Pillow writes only the JFIF header and the pixels.
    image.convert("RGB").save(out, "JPEG", quality=quality, optimize=True, exif=b"")
    return out.getvalue()
