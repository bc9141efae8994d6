"""Language detection for incoming messages.

The detected language picks the reply language and is stored with each request, so a wrong
guess is worse than no guess: short or ambiguous texts return the caller's fallback (usually
the citizen's Telegram language) instead of a best effort.

How a text is decided (figures and the reasons: docs/language.md, `python -m bench.language_id`):
- Han, kana, hangul: by script. Kana → ja, hangul → ko, Han → zh-TW / zh-CN by a character-set
  test (hanzidentifier: characters that exist in only one of Traditional or Simplified), "zh"
  when every character exists in both.
- Latin script: lingua, restricted to the languages we serve and those they are mistaken for
  (LATIN_LANGUAGES), answering only at ≥ 0.6 confidence. On ≤ 60-character messages (held-out
  split) 99.0 % of lingua's answers were right, 93.1 % of langdetect's; on ≤ 20 characters
  98.4 % vs 85.8 %, and lingua answers more of them (68 % vs 56 %).
- Other scripts (Cyrillic, Thai, Arabic, ...): langdetect, as before; the script alone nearly
  settles them, and lingua would need every such language loaded.
"""

from __future__ import annotations

import re
import threading
from functools import lru_cache

import hanzidentifier
from langdetect import DetectorFactory, detect_langs
from langdetect.lang_detect_exception import LangDetectException

__all__ = [
    "LATIN_LANGUAGES",
    "detect_language",
    "detect_with_langdetect",
    "detect_with_lingua",
    "wait_for_models",
]

# langdetect samples n-grams at random; a fixed seed makes the same text always get the same
# answer (tests, and a citizen re-sending a message, must not flip languages).
DetectorFactory.seed = 0

# Below these amounts of evidence any detector is close to a coin toss.
MIN_LETTERS = 12  # langdetect (the previous rule, kept for the scripts it still decides)
MIN_CJK_CHARS = 2
CJK_WEIGHT = 4  # letters of another script one CJK character outweighs
MIN_PROBABILITY = 0.80  # langdetect's own probability
LINGUA_MIN_LETTERS = 5
# lingua's relative confidence of its first choice: on the dev split, 0.6 is where its
# answers on ≤ 20-character texts are ≥ 98 % right (0.5: 95.7 %).
LINGUA_MIN_CONFIDENCE = 0.60

# ISO 639-1 codes lingua decides between: the citizens' languages (en, es, lt) and the ones
# they are mistaken for. Each costs ~27 MB of n-gram models (8 languages: +224 MB RSS).
LATIN_LANGUAGES = ("en", "es", "lt", "pt", "it", "ca", "lv", "pl")

# langdetect's own codes that differ from the BCP 47 tags the rest of the app uses.
_TAGS = {"zh-cn": "zh-CN", "zh-tw": "zh-TW"}

# Links, @handles and digits are language-neutral noise for the detector.
_NOISE_RE = re.compile(r"(?:https?://|www\.)\S+|@\w+|[\d_]+")
_HAN_RE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_KANA_RE = re.compile(r"[\u3040-\u30ff]")
_HANGUL_RE = re.compile(r"[\uac00-\ud7af\u1100-\u11ff\u3130-\u318f]")
_LATIN_RE = re.compile(r"[A-Za-z\u00c0-\u024f\u1e00-\u1eff]")
# langdetect's profile loading is not thread-safe, nor is building lingua's detector once.
_LOCK = threading.Lock()
_lingua = None  # lingua.LanguageDetector once its models are loaded
_lingua_loading: threading.Thread | None = None


def detect_language(text: str, fallback: str | None = None) -> str | None:
    """Short BCP 47 tag of `text` ("en", "zh-TW", ...), or `fallback` when unsure. Never raises."""
    text = text[:_DETECT_CHARS]
    try:
        detected = _detect(text)
    except _NotReady:  # the first seconds after start: the previous detector, not cached
        detected = detect_with_langdetect(text)
    return fallback if detected is None else detected


# The first few hundred characters settle the language; detection cost grows with length.
_DETECT_CHARS = 600


@lru_cache(maxsize=8192)
def _detect(text: str) -> str | None:
    """The detected tag or None (unsure). Cached: a viral hoax arrives as the same text
    thousands of times."""
    try:
        clean = _NOISE_RE.sub(" ", text)
        script = _by_script(clean)
        if script is not False:
            return script
        latin = len(_LATIN_RE.findall(clean))
        letters = sum(1 for ch in clean if ch.isalpha())
        if latin and latin >= 0.8 * letters:
            return _lingua_guess(clean, latin)
        return _langdetect_guess(clean, letters)
    except _NotReady:
        raise
    except Exception:
        # Detection is advisory; a failure must never stop a message from being handled.
        return None


def _by_script(clean: str) -> str | bool | None:
    """ja / ko / zh-TW / zh-CN / zh for East Asian text; False when the script does not say."""
    han = len(_HAN_RE.findall(clean))
    kana = len(_KANA_RE.findall(clean))
    hangul = len(_HANGUL_RE.findall(clean))
    cjk = han + kana + hangul
    other = sum(1 for ch in clean if ch.isalpha()) - cjk
    # One CJK character carries about as much as a short word: a Chinese sentence quoting an
    # English name ("HEAD 沒有指向一個分支") is still Chinese.
    if cjk == 0 or CJK_WEIGHT * cjk < other:
        return False
    if cjk < MIN_CJK_CHARS:
        return None
    # kana only occur in Japanese, hangul only in Korean; langdetect's full profile set calls
    # most Chinese text Korean with ~0.99 confidence (Mimino666/langdetect#51).
    if kana:
        return "ja"
    if hangul > han:
        return "ko"
    # Traditional and Simplified differ in which characters exist, not in n-gram statistics:
    # one character found only in Traditional settles it. Text written with shared characters
    # only (common in short messages) is just "zh"; so is text that mixes both.
    kind = hanzidentifier.identify(clean)
    return {hanzidentifier.TRADITIONAL: "zh-TW", hanzidentifier.SIMPLIFIED: "zh-CN"}.get(kind, "zh")


def _langdetect_guess(clean: str, letters: int) -> str | None:
    if letters < MIN_LETTERS:
        return None
    with _LOCK:
        guesses = detect_langs(clean)
    if not guesses or guesses[0].prob < MIN_PROBABILITY:
        return None
    code = str(guesses[0].lang)
    return _TAGS.get(code, code)


def _load_lingua() -> None:
    global _lingua
    import time

    from lingua import IsoCode639_1, LanguageDetectorBuilder

    codes = [getattr(IsoCode639_1, code.upper()) for code in LATIN_LANGUAGES]
    # lingua holds the GIL while it reads a language's models (0.5-7 s each here, depending on
    # the load), so the event loop would freeze for the whole set at once. Its model cache is
    # shared by all detectors: loading one language at a time, with a pause in between, turns
    # one long freeze into eight short ones.
    for code in codes[1:]:
        LanguageDetectorBuilder.from_iso_codes_639_1(codes[0], code).with_preloaded_language_models().build()
        time.sleep(0.05)
    _lingua = LanguageDetectorBuilder.from_iso_codes_639_1(*codes).with_preloaded_language_models().build()


def wait_for_models(timeout: float | None = None) -> bool:
    """Start loading lingua's models if nobody has, wait up to `timeout` s; True when loaded.

    Loading takes 3-10 s (more on a busy machine). detect_language does not wait for it: the
    bot starts answering at once, deciding Latin-script text with langdetect (the previous
    detector) until the models are in, and caches only the final detector's answers.
    """
    global _lingua_loading
    with _LOCK:
        if _lingua is None and _lingua_loading is None:
            _lingua_loading = threading.Thread(target=_load_lingua, name="lingua-load", daemon=True)
            _lingua_loading.start()
        loading = _lingua_loading
    if _lingua is None and loading is not None and timeout != 0:
        loading.join(timeout)
    return _lingua is not None


class _NotReady(Exception):
    """lingua's models are still loading: the answer must not be cached."""


def _lingua_guess(clean: str, latin: int, wait: bool = False) -> str | None:
    if latin < LINGUA_MIN_LETTERS:
        return None
    if not wait_for_models(None if wait else 0):
        raise _NotReady
    assert _lingua is not None
    values = _lingua.compute_language_confidence_values(clean)
    if not values or values[0].value < LINGUA_MIN_CONFIDENCE:
        return None
    return values[0].language.iso_code_639_1.name.lower()


def detect_with_langdetect(text: str) -> str | None:
    """The previous detector (langdetect for every non-CJK script), uncached: for benchmarks."""
    clean = _NOISE_RE.sub(" ", text[:_DETECT_CHARS])
    script = _by_script(clean)
    if script is not False:
        return script
    try:
        return _langdetect_guess(clean, sum(1 for ch in clean if ch.isalpha()))
    except LangDetectException:
        return None


def detect_with_lingua(text: str) -> str | None:
    """lingua restricted to LATIN_LANGUAGES for non-CJK text, uncached: for benchmarks."""
    clean = _NOISE_RE.sub(" ", text[:_DETECT_CHARS])
    script = _by_script(clean)
    if script is not False:
        return script
    return _lingua_guess(clean, sum(1 for ch in clean if ch.isalpha()), wait=True)
