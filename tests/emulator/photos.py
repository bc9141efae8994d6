"""Photo sizes as Telegram makes them: a photo arrives as a few JPEG sizes (longest side 90,
320, 800 and at most 1280 pixels), re-encoded, so without the sender's EXIF data."""

from __future__ import annotations

import io

# Longest side of each size Telegram stores ("s", "m", "x", "y").
PHOTO_BOXES = (90, 320, 800, 1280)
# Telegram keeps photos up to this many pixels on the longest side.
MAX_PHOTO_SIDE = 1280

Size = tuple[bytes, int, int]


def photo_sizes_of(data: bytes) -> list[Size]:
    """(JPEG bytes, width, height) for each size, smallest first. Needs Pillow, which the
    picture features depend on; a test without it passes ``sizes=`` itself."""
    try:
        from PIL import Image, ImageOps
    except ImportError as exc:  # pragma: no cover - Pillow is installed wherever pictures are tested
        raise RuntimeError("making photo sizes needs Pillow; pass sizes=[(bytes, w, h), …]") from exc
    try:
        with Image.open(io.BytesIO(data)) as opened:
            image = ImageOps.exif_transpose(opened).convert("RGB")
    except Exception as exc:
        # A Telegram client cannot send something that is not a picture as a photo.
        raise ValueError("send_photo needs image bytes (send a document for anything else)") from exc
    longest = max(image.size)
    boxes = [box for box in PHOTO_BOXES if box < longest] + [min(longest, MAX_PHOTO_SIDE)]
    sizes: list[Size] = []
    for box in dict.fromkeys(boxes):
        scaled = image.copy()
        scaled.thumbnail((box, box))
        out = io.BytesIO()
        scaled.save(out, format="JPEG", quality=87)
        sizes.append((out.getvalue(), scaled.width, scaled.height))
    return sizes


def jpeg_thumbnail(data: bytes, box: int = 320) -> Size | None:
    """A JPEG thumbnail of a still picture (for a video, pass a frame), or None without Pillow
    or for bytes that are not a picture."""
    try:
        from PIL import Image
    except ImportError:  # pragma: no cover
        return None
    try:
        with Image.open(io.BytesIO(data)) as opened:
            image = opened.convert("RGB")
    except Exception:
        return None
    image.thumbnail((box, box))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=80)
    return out.getvalue(), image.width, image.height
