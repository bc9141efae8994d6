"""Read the text in a picture with Tesseract, or say clearly that we cannot.

Tesseract is a Debian package (tesseract-ocr plus one package per language: -eng, -spa, -lit,
-chi-tra), not a Python one; pytesseract runs it as a subprocess with a time limit. When it is
missing, `ocr_status()` says so and how to install it (for `crowdcheck doctor` and the start-up
log), `read_text` returns None, and pictures are still matched by their hash.

Pre-processing, measured in bench/media.py: grey; light text on a dark background (dark mode)
inverted; small pictures upscaled so that chat-size text is about 30 px tall, where
Tesseract's LSTM reads best.
"""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

import numpy as np
from PIL import Image, ImageOps

from factdb.media.chat_furniture import clean_ocr_lines
from factdb.media.trim import content_box

log = logging.getLogger(__name__)
# Tesseract's OpenMP threads fight each other and the other pool threads on a small machine:
# one thread per picture, and as many pictures at once as the pool allows, is faster.
os.environ.setdefault("OMP_THREAD_LIMIT", "1")

__all__ = ["OcrResult", "OcrStatus", "ocr_status", "read_text"]

# Our languages and Tesseract's names for them.
TESSERACT_LANGS = {"en": "eng", "es": "spa", "lt": "lit", "zh-TW": "chi_tra"}
DEBIAN_PACKAGES = (
    "tesseract-ocr",
    "tesseract-ocr-eng",
    "tesseract-ocr-spa",
    "tesseract-ocr-lit",
    "tesseract-ocr-chi-tra",
)
LATIN = ("eng", "spa", "lit")
TIMEOUT_S = 20  # a pathological picture must not hold a pool thread for ever
MIN_WIDTH = 900  # upscale narrower text areas to about this width (at most 3x)
MIN_CONFIDENCE = 60  # below this mean word confidence the other script is tried
# Below this mean word confidence a reading is noise (a photo's texture read as letters: 19-32
# on the generated photos, 85-96 on screenshots and meme captions): no text rather than junk.
MIN_KEEP_CONFIDENCE = 40
CAPTION_WHITE = 215  # a meme caption's letters: every channel above this
CAPTION_SHARE = (0.002, 0.35)  # of the picture's pixels: a caption, not a light background


@dataclass(frozen=True)
class OcrStatus:
    available: bool
    version: str | None
    languages: tuple[str, ...]  # ours that Tesseract can read here
    missing: tuple[str, ...]  # ours that it cannot
    advice: str  # one line for the log and `crowdcheck doctor`


@dataclass(frozen=True)
class OcrResult:
    text: str  # the message, chat furniture removed
    raw: str  # what Tesseract read, line by line
    script: str  # "latin" or "han"
    confidence: float  # mean word confidence, 0-100


@cache
def ocr_status() -> OcrStatus:
    """Whether OCR works here, and if not, how to turn it on. Cached: call it freely."""
    install = "apt-get install " + " ".join(DEBIAN_PACKAGES)
    try:
        import pytesseract
    except ImportError:
        return OcrStatus(
            False,
            None,
            (),
            tuple(TESSERACT_LANGS),
            f"OCR is off: pytesseract is not installed (pip install pytesseract; {install})",
        )
    if shutil.which(pytesseract.pytesseract.tesseract_cmd) is None:
        return OcrStatus(
            False,
            None,
            (),
            tuple(TESSERACT_LANGS),
            f"OCR is off: Tesseract is not installed ({install}); pictures are matched by hash only",
        )
    try:
        version = str(pytesseract.get_tesseract_version())
        installed = set(pytesseract.get_languages(config=""))
    except Exception as exc:  # a broken install: say what it said
        return OcrStatus(
            False, None, (), tuple(TESSERACT_LANGS), f"OCR is off: Tesseract does not run ({exc}); {install}"
        )
    have = tuple(lang for lang, code in TESSERACT_LANGS.items() if code in installed)
    missing = tuple(lang for lang in TESSERACT_LANGS if lang not in have)
    if not have:
        return OcrStatus(
            False,
            version,
            (),
            missing,
            f"OCR is off: Tesseract {version} has none of our languages ({install})",
        )
    advice = f"OCR is on: Tesseract {version}, languages {', '.join(have)}"
    if missing:
        advice += f"; missing {', '.join(missing)} ({install})"
    return OcrStatus(True, version, have, missing, advice)


def prepare(image: Image.Image) -> Image.Image:
    """The content box (a screenshot's bars and header carry no claim), grey, dark mode
    inverted, small text upscaled."""
    left, top, right, bottom = content_box(image)
    pad = max(4, (right - left) // 50)  # glyphs that touch the box's edge still read whole
    box = (
        max(0, left - pad),
        max(0, top - pad),
        min(image.width, right + pad),
        min(image.height, bottom + pad),
    )
    grey = image.crop(box).convert("L")
    # Dark mode: Tesseract is trained on dark text on light paper.
    if sum(i * n for i, n in enumerate(grey.histogram())) / (grey.width * grey.height) < 110:
        grey = ImageOps.invert(grey)
    if grey.width < MIN_WIDTH:
        factor = min(3.0, MIN_WIDTH / grey.width)
        grey = grey.resize(
            (round(grey.width * factor), round(grey.height * factor)), Image.Resampling.LANCZOS
        )
    return grey


def caption_mask(image: Image.Image) -> Image.Image | None:
    """A meme's caption alone: white letters with a dark outline over a photo defeat the grey
    reading (the photo behind is as bright as the letters). Only near-white pixels are kept, as
    black on white, twice the size. None when the picture has too little white to be a caption
    or so much that it is a light background (a screenshot: the grey reading is right there)."""
    rgb = np.asarray(image.convert("RGB"))
    white = rgb.min(axis=2) > CAPTION_WHITE
    share = float(white.mean())
    if not CAPTION_SHARE[0] <= share <= CAPTION_SHARE[1]:
        return None
    mask = Image.fromarray(np.where(white, 0, 255).astype(np.uint8))
    return mask.resize((mask.width * 2, mask.height * 2), Image.Resampling.NEAREST)


def _run(image: Image.Image, langs: tuple[str, ...], psm: int = 3) -> tuple[list[str], float]:
    import pytesseract

    data = pytesseract.image_to_data(
        image,
        lang="+".join(langs),
        # 3: automatic page layout (screenshots have a header, bubbles, a footer); 11: sparse
        # text anywhere (a meme's caption lines)
        config=f"--psm {psm}",
        timeout=TIMEOUT_S,
        output_type=pytesseract.Output.DICT,
    )
    lines: dict[tuple[int, int, int], list[str]] = {}
    confidences = []
    for i, word in enumerate(data["text"]):
        if not word.strip():
            continue
        lines.setdefault((data["block_num"][i], data["par_num"][i], data["line_num"][i]), []).append(word)
        confidences.append(float(data["conf"][i]))
    mean = sum(confidences) / len(confidences) if confidences else 0.0
    return [" ".join(words) for _, words in sorted(lines.items())], mean


def read_text(
    image: Image.Image, *, lang_hint: str | None = None, flat: bool | None = None
) -> OcrResult | None:
    """The text in `image`, or None when OCR is off or reads nothing.

    Latin script (English, Spanish, Lithuanian together) first, unless the hint is Chinese; the
    other script is tried when the first reads little or with low confidence, and the better
    reading wins. A picture that is not `flat` (a photo or a meme, not a screenshot of text: see
    hashing.py) is read as a meme first, its white caption letters alone, and in grey only when
    that finds nothing. Blocking (one to a few seconds): call it from a worker thread.
    """
    status = ocr_status()
    if not status.available:
        return None
    codes = {TESSERACT_LANGS[lang] for lang in status.languages}
    latin = tuple(c for c in LATIN if c in codes)
    han = ("chi_tra",) if "chi_tra" in codes else ()
    order = [(han, "han"), (latin, "latin")] if lang_hint == "zh-TW" else [(latin, "latin"), (han, "han")]
    order = [(langs, script) for langs, script in order if langs]
    # (page maker, Tesseract's page segmentation mode); a page is made only if its pass runs
    passes: list[tuple[Callable[[Image.Image], Image.Image | None], int]] = [(prepare, 3), (caption_mask, 11)]
    if flat is False:
        passes.reverse()
    best: OcrResult | None = None
    for make_page, psm in passes:
        page = make_page(image)
        if page is None:
            continue
        best = _read(page, psm, order, best)
        if _good(best):
            break
    if best is None or not best.text or best.confidence < MIN_KEEP_CONFIDENCE:
        return None
    return best


def _good(result: OcrResult | None) -> bool:
    return result is not None and result.confidence >= MIN_CONFIDENCE and len(result.text) >= 8


def _read(
    page: Image.Image, psm: int, order: list[tuple[tuple[str, ...], str]], best: OcrResult | None
) -> OcrResult | None:
    """Read `page` in each script in turn until one reads well; the better of that and `best`."""
    for langs, script in order:
        try:
            lines, confidence = _run(page, langs, psm=psm)
        except RuntimeError as exc:  # pytesseract's timeout
            log.warning("OCR gave up on a picture: %s", exc)
            continue
        if not lines:
            break  # no word-like shape at all: another script would find none either
        text = clean_ocr_lines(lines)
        result = OcrResult(text, "\n".join(lines), script, confidence)
        if text and (
            best is None or not best.text or confidence > best.confidence or len(text) > 2 * len(best.text)
        ):
            best = result
        if _good(result):
            break
    return best
