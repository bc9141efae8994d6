"""Perceptual hashes: nearby pictures get hashes a few bits apart.

pHash (Zauner 2010, as the imagehash package computes it): the picture in grey at 32x32, its
2-D DCT, the 8x8 lowest frequencies, one bit each for "above the median". 64 bits.
PDQ (Meta's ThreatExchange, through the pdqhash package): a 256-bit relative of pHash with a
better filter and a quality score. Which one we use, and the distance that counts as "the same
picture", were chosen by measurement (bench/media.py, docs/media.md).

Hashes are computed on the content box (trim.py), so a phone screenshot's bars and a repost's
borders do not move them.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np
from PIL import Image

from factdb.media.trim import trimmed

__all__ = ["FLAT", "PictureHash", "flatness", "hamming", "phash", "picture_hash"]

# A picture with at least this share in one tone counts as flat (text on a plain background).
# Measured (bench/media.py): generated chat screenshots 0.51-0.87 after trimming (5th
# percentile to maximum), memes and photos 0.16-0.38.
FLAT = 0.45


@cache
def _dct_matrix(n: int) -> np.ndarray:
    # Unnormalised DCT-II as a matrix (scipy.fft.dct's default): D @ X @ D.T is the 2-D DCT.
    # Not the orthonormal one: that scales the first row and column differently, which moves
    # the median and so the bits.
    k = np.arange(n)[:, None]
    i = np.arange(n)[None, :]
    return 2.0 * np.cos(np.pi * (2 * i + 1) * k / (2 * n))


def phash(image: Image.Image, *, hash_size: int = 8, highfreq_factor: int = 4) -> bytes:
    """64-bit pHash of the whole frame (no trimming), packed big-endian into 8 bytes.

    Bit for bit what imagehash.phash computes (the same unnormalised DCT, without scipy), so the plain baseline in the benchmark is the same
    algorithm minus our trimming.
    """
    size = hash_size * highfreq_factor
    grey = np.asarray(image.convert("L").resize((size, size), Image.Resampling.LANCZOS), dtype=np.float64)
    d = _dct_matrix(size)
    low = (d @ grey @ d.T)[:hash_size, :hash_size]
    return np.packbits(low > np.median(low)).tobytes()


@dataclass(frozen=True, slots=True)
class PictureHash:
    """What we store and look up for one picture, all computed on its content box.

    `coarse`: 64-bit pHash, tolerant of crops and recompression; the index searches on it.
    `fine`: 256-bit pHash (16x16 of a 64x64 DCT), which tells apart pictures that share a
    layout, such as two chat screenshots with different texts, where `coarse` cannot.
    `flat`: most of the picture is one tone (a screenshot of text, a document): such pictures
    are matched on `fine`, with its own measured threshold.
    """

    coarse: bytes
    fine: bytes
    flat: bool


def flatness(image: Image.Image) -> float:
    """Share of the picture in its most common tone (grey, 32 levels, +-1 level)."""
    grey = np.asarray(image.convert("L").resize((64, 64), Image.Resampling.BOX)) // 8
    counts = np.bincount(grey.ravel(), minlength=32)
    window = np.convolve(counts, np.ones(3, dtype=np.int64), mode="same")
    return float(window.max() / grey.size)


def picture_hash(image: Image.Image) -> PictureHash:
    """The hashes we store and look up, of the picture's content box."""
    content = trimmed(image)
    return PictureHash(
        coarse=phash(content),
        fine=phash(content, hash_size=16),
        flat=flatness(content) >= FLAT,
    )


def hamming(a: bytes, b: bytes) -> int:
    """Number of differing bits between two packed hashes of the same length."""
    return int.from_bytes(a, "big").__xor__(int.from_bytes(b, "big")).bit_count()
