"""Language detection for incoming messages.

The detected language picks the reply language and is stored with each request, so a wrong
guess is worse than no guess: short or ambiguous texts return the caller's fallback (usually
the citizen's Telegram language) instead of langdetect's best effort.
"""

from __future__ import annotations

import re
import threading
from functools import lru_cache
from pathlib import Path

from langdetect import DetectorFactory, detect_langs
from langdetect.detector_factory import PROFILES_DIRECTORY
from langdetect.lang_detect_exception import LangDetectException

__all__ = ["detect_language"]

# langdetect samples n-grams at random; a fixed seed makes the same text always get the same
# answer (tests, and a citizen re-sending a message, must not flip languages).
DetectorFactory.seed = 0

# Below these amounts of evidence langdetect is close to a coin toss.
MIN_LETTERS = 12
MIN_CJK_CHARS = 4  # one CJK character carries about as much evidence as a short word
MIN_PROBABILITY = 0.80

# langdetect's own codes that differ from the BCP 47 tags the rest of the app uses.
_TAGS = {"zh-cn": "zh-CN", "zh-tw": "zh-TW"}

# Links, @handles and hashtags' '#' are language-neutral noise for the detector.
_NOISE_RE = re.compile(r"(?:https?://|www\.)\S+|@\w+|[\d_]+")
_HAN_RE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_KANA_RE = re.compile(r"[\u3040-\u30ff]")
_HANGUL_RE = re.compile(r"[\uac00-\ud7af\u1100-\u11ff\u3130-\u318f]")
# langdetect's profile loading is not thread-safe; the lock costs nothing next to detection.
_LOCK = threading.Lock()
_zh_factory: DetectorFactory | None = None


def _chinese_variant(text: str) -> tuple[str, float]:
    """zh-TW vs zh-CN, deciding between just those two profiles.

    langdetect's Korean profile is full of Han characters and wins on most Chinese text with
    ~0.99 confidence (Mimino666/langdetect#51), so Han-only text never goes to the full set.
    """
    global _zh_factory
    if _zh_factory is None:
        factory = DetectorFactory()
        profiles = [
            (Path(PROFILES_DIRECTORY) / name).read_text(encoding="utf-8") for name in ("zh-cn", "zh-tw")
        ]
        factory.load_json_profile(profiles)
        factory.set_seed(0)
        _zh_factory = factory
    detector = _zh_factory.create()
    detector.append(text)
    best = detector.get_probabilities()[0]
    return _TAGS.get(best.lang, best.lang), best.prob


def detect_language(text: str, fallback: str | None = None) -> str | None:
    """Short BCP 47 tag of `text` ("en", "zh-TW", ...), or `fallback` when unsure. Never raises."""
    detected = _detect(text[:_DETECT_CHARS])
    return fallback if detected is None else detected


# The first few hundred characters settle the language; langdetect's cost grows with length.
_DETECT_CHARS = 600


@lru_cache(maxsize=8192)
def _detect(text: str) -> str | None:
    """The detected tag or None (unsure). Cached: a viral hoax arrives as the same text
    thousands of times, and detection (~4 ms) is the costliest step of handling it."""
    fallback = None
    try:
        clean = _NOISE_RE.sub(" ", text)
        letters = sum(1 for ch in clean if ch.isalpha())
        han = len(_HAN_RE.findall(clean))
        kana = len(_KANA_RE.findall(clean))
        hangul = len(_HANGUL_RE.findall(clean))
        cjk = han + kana + hangul
        other = letters - cjk
        if other < MIN_LETTERS and cjk < MIN_CJK_CHARS:
            return fallback
        if cjk >= MIN_CJK_CHARS and cjk >= other:
            # The script settles East Asian languages more reliably than n-gram statistics:
            # kana only occur in Japanese, hangul only in Korean.
            if kana:
                return "ja"
            if hangul > han:
                return "ko"
            with _LOCK:
                tag, prob = _chinese_variant(clean)
            # Short texts often use only characters shared by both forms: say just "zh".
            return tag if prob >= MIN_PROBABILITY else "zh"
        with _LOCK:
            guesses = detect_langs(clean)
        if not guesses or guesses[0].prob < MIN_PROBABILITY:
            return fallback
        code = str(guesses[0].lang)
        return _TAGS.get(code, code)
    except (LangDetectException, Exception):
        # Detection is advisory; a failure must never stop a message from being handled.
        return fallback
