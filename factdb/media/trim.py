"""Find the picture inside what a phone made of it: peel uniform borders and app bars.

A picture that travels picks up furniture: a phone screenshot adds a status bar (clock,
battery), the chat app's header (a name, a back arrow), black or wallpaper-coloured space
around the picture, a navigation bar; a repost adds a caption bar above it. Perceptual hashes
compare whole frames, so all of that must go before hashing, and the same way for the
original as for every copy.

The rule, applied to each side in turn until nothing changes:
- a *uniform* border: rows that are one colour (within a tolerance) almost everywhere;
- a *bar*: a band at the edge, at most `MAX_BAR` of the remaining height, whose rows are
  mostly one colour (icons or a line of text on a flat background) and that ends in a sharp
  edge (the next rows are mostly other colours, within a few rows).
A smooth photo (a sky) fades gradually, so it has no sharp edge and is not peeled as a bar;
a chat screenshot's own header is a bar and is peeled, from the original as from its copies.

It works on a small copy (long side `WORK_SIDE`), so it costs about a millisecond.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

__all__ = ["content_box", "trimmed"]

WORK_SIDE = 512
# per channel, of 255: JPEG noise in flat areas stays "the same colour", while a dark-mode
# header (#1f2c34) is not the same as the chat background below it (#0b141a): 22 made them one
TOLERANCE = 12
# share of a row in the edge colour for the row to be a uniform border: high, so that a row
# with a small line of text (about 0.95) is never uniform by a hair in one copy and not another
UNIFORM = 0.995
BAR_ROW = 0.60  # share of a row in the bar colour for the row to belong to a bar
BAR_DROP = 0.40  # the share must fall by this much within EDGE_ROWS rows at the bar's end
EDGE_ROWS = 3
MAX_BAR = 0.22  # a bar is at most this share of what is left...
EMPTY_BAND = 0.7  # ...unless this share of its rows are uniform: space with a few overlays
SEAM = 2  # rows at an edge that may be a blend of two colours (resampling, JPEG)
# never keep less than this share of the long side, in either direction: a picture can be a
# small part of a tall phone screenshot
MIN_KEEP = 0.06


def content_box(image: Image.Image) -> tuple[int, int, int, int]:
    """(left, top, right, bottom) of the picture's content, in `image`'s pixels."""
    width, height = image.size
    scale = min(1.0, WORK_SIDE / max(width, height))
    small = image.convert("RGB")
    if scale < 1.0:
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        small = small.resize(size, Image.Resampling.BOX)
    pixels = np.asarray(small, dtype=np.int16)
    top, bottom, left, right = 0, pixels.shape[0], 0, pixels.shape[1]
    min_h = min_w = max(8, int(max(pixels.shape[:2]) * MIN_KEEP))
    for _ in range(12):
        before = (top, bottom, left, right)
        top += _peel(pixels[top:bottom, left:right], min_h)
        bottom -= _peel(pixels[top:bottom, left:right][::-1], min_h)
        left += _peel(pixels[top:bottom, left:right].transpose(1, 0, 2), min_w)
        right -= _peel(pixels[top:bottom, left:right].transpose(1, 0, 2)[::-1], min_w)
        if (top, bottom, left, right) == before:
            break
    inv = 1.0 / scale
    return (
        int(left * inv),
        int(top * inv),
        min(width, round(right * inv)),
        min(height, round(bottom * inv)),
    )


def trimmed(image: Image.Image) -> Image.Image:
    """`image` cropped to its content box."""
    box = content_box(image)
    return image if box == (0, 0, *image.size) else image.crop(box)


def _peel(rows: np.ndarray, min_keep: int) -> int:
    """How many rows to remove from the top of `rows` (h, w, 3): a uniform border, else a bar."""
    height = rows.shape[0]
    if height <= min_keep + SEAM:
        return 0
    # The colour of the border or bar: the median over its first rows, since the very first
    # row of a resized or recompressed copy is often a blend with whatever was beyond it.
    edge = np.median(rows[: SEAM + 1].reshape(-1, 3), axis=0)
    share = (np.abs(rows - edge).max(axis=2) <= TOLERANCE).mean(axis=1)
    uniform = _run(share, UNIFORM)
    if uniform:
        return min(uniform, height - min_keep)
    bar = _run(share, BAR_ROW)
    if bar == 0 or bar + EDGE_ROWS >= height:
        return 0
    if bar > MAX_BAR * height and (share[:bar] >= UNIFORM).mean() < EMPTY_BAND:
        return 0  # too tall for a bar, and not empty space (a letterbox) either
    after = share[bar : bar + EDGE_ROWS].min()
    if share[bar - 1] - after < BAR_DROP:
        return 0  # a gradual fade (sky, shadow), not the edge of a bar
    return min(bar, height - min_keep)


def _run(share: np.ndarray, at_least: float) -> int:
    """Length of the run of leading rows whose share is at least `at_least`, where up to
    SEAM blended rows at the very edge may fall short (0 when the run never starts)."""
    start = next((i for i in range(SEAM + 1) if share[i] >= at_least), None)
    if start is None:
        return 0
    below = np.flatnonzero(share[start:] < at_least)
    return start + (int(below[0]) if below.size else int(share.size - start))
