"""Language identification on short messages (≤ 60 characters): langdetect vs lingua.

    python -m bench.language_id            # dev split: per language, per length bucket
    python -m bench.language_id --heldout  # the held-out split (look at it once, at the end)

Texts (real, none written by us):
- es, lt, zh-TW, zh-CN, pt, it, ca, lv, pl: translators' messages from the machine's gettext
  catalogs (bench/_gettext_text.py), at most 60 characters, names catalogs excluded.
- en: the same catalogs' English msgids, and the first ≤ 60 characters (cut at a word) of the
  claims and CLEF tweets in ../shared/data (research use only, read at run time).
Held out: a quarter of the catalogs by name (and of the English claims by id), never used to
pick thresholds. zh-TW vs zh-CN is a script question: the catalog a Chinese message comes from
says which script its translator used; a message whose characters exist in both scripts is
"zh" (either is right), which is counted apart.

A guess is right when it equals the language; `abstain` is the detector saying "unsure" (the
caller then uses the citizen's Telegram language); accuracy counts abstentions as misses.
"""

from __future__ import annotations

import hashlib
import json
import random
import resource
import time
from collections import defaultdict
from collections.abc import Callable

from bench._data import shared_data_dir
from bench._gettext_text import CATALOG_DIRS, is_heldout_domain, load_messages
from bench._report import arguments, print_table

LANGS = ["en", "es", "lt", "zh-TW", "pt", "it", "ca", "lv", "pl", "zh-CN"]
BUCKETS = [(1, 20), (21, 40), (41, 60)]
PER_BUCKET = 150  # texts per language, length bucket and split


def _cut(text: str, limit: int) -> str:
    """The first ≤ limit characters, cut at a word boundary (a short message, not a stub)."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    head = text[: limit + 1].rsplit(" ", 1)[0]
    return head if len(head) >= limit // 2 else text[:limit]


def _english() -> list[tuple[str, bool]]:
    """(text, held out) English texts: catalog msgids and the shared data's claims/tweets."""
    out = [(m.source, is_heldout_domain(m.domain)) for m in load_messages("es")]
    folder = shared_data_dir()
    if folder is not None:
        rng = random.Random(7)
        for name, field in (("claims.jsonl", "text"), ("pairs.jsonl", "query_text_no_attribution")):
            for line in (folder / name).read_text(encoding="utf-8").splitlines():
                row = json.loads(line)
                key = str(row.get("id") or row.get("query_id"))
                limit = rng.choice([20, 40, 60])
                out.append((_cut(str(row[field]), limit), hashlib.sha1(key.encode()).digest()[0] % 4 == 0))
    return out


def build_samples(heldout: bool, seed: int = 15, per_bucket: int = PER_BUCKET) -> list[tuple[str, str]]:
    """(language, text) pairs: PER_BUCKET per language and length bucket, one split."""
    rng = random.Random(seed)
    samples: list[tuple[str, str]] = []
    for lang in LANGS:
        pool = (
            _english()
            if lang == "en"
            else [(m.text, is_heldout_domain(m.domain)) for m in load_messages(lang)]
        )
        texts = sorted({t for t, h in pool if h == heldout and len(t) <= 60})
        for low, high in BUCKETS:
            bucket = [t for t in texts if low <= len(t) <= high]
            samples += [(lang, t) for t in rng.sample(bucket, min(per_bucket, len(bucket)))]
    return samples


def _right(lang: str, guess: str | None) -> bool:
    return guess == lang or (lang.startswith("zh") and guess == "zh")


def evaluate(name: str, detect: Callable[[str], str | None], samples: list[tuple[str, str]]) -> list[dict]:
    """Rows per language and per length bucket, plus the time per call."""
    by_lang: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])  # right, wrong, abstain
    by_bucket: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    zh_either = 0
    confusions: dict[tuple[str, str], int] = defaultdict(int)
    start = time.perf_counter()
    for lang, text in samples:
        guess = detect(text)
        slot = 0 if _right(lang, guess) else 2 if guess is None else 1
        if slot == 1:
            confusions[(lang, str(guess))] += 1
        if slot == 0 and guess == "zh":
            zh_either += 1
        bucket = next(f"{lo}-{hi}" for lo, hi in BUCKETS if len(text) <= hi)
        by_lang[lang][slot] += 1
        by_bucket[bucket][slot] += 1
    per_call_ms = (time.perf_counter() - start) / len(samples) * 1000
    rows = []
    for key, (right, wrong, abstain) in [*by_lang.items(), *sorted(by_bucket.items())]:
        total = right + wrong + abstain
        rows.append(
            {
                "method": name,
                "group": key,
                "n": total,
                "accuracy": f"{right / total:.3f}",
                "wrong": f"{wrong / total:.3f}",
                "abstain": f"{abstain / total:.3f}",
            }
        )
    right_all = sum(v[0] for v in by_lang.values())
    wrong_all = sum(v[1] for v in by_lang.values())
    rows.append(
        {
            "method": name,
            "group": f"ALL ({per_call_ms:.2f} ms/call)",
            "n": len(samples),
            "accuracy": f"{right_all / len(samples):.3f}",
            "wrong": f"{wrong_all / len(samples):.3f}",
            "abstain": f"{1 - (right_all + wrong_all) / len(samples):.3f}",
        }
    )
    worst = sorted(confusions.items(), key=lambda kv: -kv[1])[:8]
    print(f"{name}: most frequent confusions (truth→guess): {worst}; Chinese answered 'zh': {zh_either}")
    return rows


_zh_factory = None


def _before(text: str) -> str | None:
    """factdb/language.py as it was before lingua (git 0654b0c): langdetect everywhere; Han-only
    text (≥ 4 Han characters, at least as many as other letters) by langdetect's zh-cn/zh-tw
    profiles alone, "zh" under 0.80."""
    global _zh_factory
    from pathlib import Path

    from langdetect import DetectorFactory
    from langdetect.detector_factory import PROFILES_DIRECTORY

    from factdb import language

    clean = language._NOISE_RE.sub(" ", text)
    han = len(language._HAN_RE.findall(clean))
    other = sum(1 for ch in clean if ch.isalpha()) - han
    if han < 4 or han < other or language._KANA_RE.search(clean) or language._HANGUL_RE.search(clean):
        return language.detect_with_langdetect(text)
    if _zh_factory is None:
        _zh_factory = DetectorFactory()
        _zh_factory.load_json_profile(
            [(Path(PROFILES_DIRECTORY) / n).read_text(encoding="utf-8") for n in ("zh-cn", "zh-tw")]
        )
        _zh_factory.set_seed(0)
    detector = _zh_factory.create()
    detector.append(clean)
    best = detector.get_probabilities()[0]
    return {"zh-cn": "zh-CN", "zh-tw": "zh-TW"}[best.lang] if best.prob >= 0.8 else "zh"


def _methods() -> dict[str, Callable[[str], str | None]]:
    from factdb import language

    language.wait_for_models()  # the shipped detector uses langdetect until lingua is loaded
    return {
        "langdetect (before)": _before,
        "langdetect, Chinese by script": language.detect_with_langdetect,
        "lingua, restricted": language.detect_with_lingua,
        "shipped detect_language": lambda t: language.detect_language(t, None),
    }


def main() -> None:
    parser = arguments(__doc__)
    parser.add_argument("--heldout", action="store_true", help="measure on the held-out split")
    parser.add_argument("--texts", action="store_true", help="print the sampled texts and exit")
    args = parser.parse_args()
    samples = build_samples(args.heldout)
    if args.texts:
        for lang, text in samples:
            print(lang, text, sep="\t")
        return
    counts = {lang: sum(1 for x, _ in samples if x == lang) for lang in LANGS}
    print(f"split: {'held-out' if args.heldout else 'dev'}; texts per language: {counts}")
    print(f"catalog folders: {CATALOG_DIRS}")
    rows: list[dict] = []
    for name, detect in _methods().items():
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        start = time.perf_counter()
        detect("warm up: load the language models before timing")
        warm = time.perf_counter() - start
        grew = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss) / 1024
        print(f"{name}: first call (model load) {warm:.2f} s, peak RSS +{grew:.0f} MB")
        rows += evaluate(name, detect, samples)
    print_table(rows)


if __name__ == "__main__":
    main()
