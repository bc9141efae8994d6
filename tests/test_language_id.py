"""Language identification on short messages (factdb/language.py; figures in docs/language.md)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bench._gettext_text import LOCALE_ROOT
from bench.language_id import build_samples
from factdb import language
from factdb.language import detect_language, detect_with_langdetect, detect_with_lingua

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module", autouse=True)
def lingua_loaded() -> None:
    assert language.wait_for_models(timeout=300), "lingua's models did not load"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Characters that exist only in Traditional (臺/來/轉/親) or only in Simplified (来/转/亲).
        ("明天起全臺自來水將停水三天，請轉傳給親友", "zh-TW"),
        ("明天起全国自来水将停水三天，请转发给亲友", "zh-CN"),
        ("台灣 疫苗 有毒", "zh-TW"),  # 灣 is Traditional-only
        ("这个消息是假的", "zh-CN"),  # 这/个/消/息 — 这 and 个 are Simplified-only
        # Every character exists in both scripts: either is right, so say only "zh".
        ("明天停水", "zh"),
        # A Chinese sentence quoting an English name is still Chinese.
        ("WHO 說這個疫苗會改變你的基因", "zh-TW"),
        ("ワクチンは危険です", "ja"),
        ("백신은 위험하다", "ko"),
    ],
)
def test_east_asian_text_is_decided_by_script(text: str, expected: str) -> None:
    assert detect_language(text, fallback="en") == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("¿Es verdad que cierran el puente?", "es"),
        ("Ar tiesa, kad rytoj nebus vandens?", "lt"),
        ("Is it true they are closing the bridge?", "en"),
        ("É verdade que vão fechar a ponte?", "pt"),
        ("È vero che chiudono il ponte?", "it"),
        ("És veritat que tanquen el pont?", "ca"),
        ("Vai tiešām rīt nebūs ūdens?", "lv"),
        ("Czy to prawda, że zamykają most?", "pl"),
    ],
)
def test_short_latin_messages_and_their_confusables(text: str, expected: str) -> None:
    assert len(text) <= 60
    assert detect_language(text, fallback="xx") == expected


def test_too_little_evidence_returns_the_fallback() -> None:
    assert detect_language("ok", fallback="lt") == "lt"
    assert detect_language("12345 https://x.com/abc @someone", fallback=None) is None
    assert detect_language("水", fallback="es") == "es"  # one character says nothing


def test_other_scripts_still_use_langdetect() -> None:
    # lingua only knows the Latin-script languages we serve; Cyrillic and Arabic keep langdetect.
    assert detect_language("Правительство объявило, что завтра не будет воды", "en") == "ru"
    assert detect_language("أعلنت الحكومة أنه لن تكون هناك مياه غدا في المدينة", "en") == "ar"


@pytest.mark.skipif(not Path(LOCALE_ROOT / "lt").is_dir(), reason="no gettext catalogs here")
@pytest.mark.timeout(600)  # reading ~200,000 catalog messages: ~10 s idle, minutes on a busy box
def test_on_real_short_texts_lingua_is_right_more_often_and_wrong_less_than_langdetect() -> None:
    """Translators' messages (≤ 60 characters) from the machine's catalogs, dev split, 20 per
    language and length bucket: the same measure as bench/language_id.py, on fewer texts."""
    samples = build_samples(heldout=False, seed=3, per_bucket=20)
    assert len(samples) >= 500
    lingua = [(lang, detect_with_lingua(text)) for lang, text in samples]
    before = [(lang, detect_with_langdetect(text)) for lang, text in samples]

    def counts(guesses: list[tuple[str, str | None]]) -> tuple[int, int]:
        right = sum(g == lang or (g == "zh" and lang.startswith("zh")) for lang, g in guesses)
        return right, sum(g is not None for _, g in guesses) - right

    (l_right, l_wrong), (d_right, d_wrong) = counts(lingua), counts(before)
    assert l_wrong <= 0.02 * (l_right + l_wrong), (l_right, l_wrong)  # ≥ 98 % of its answers right
    assert l_right > d_right and l_wrong < d_wrong, (l_right, l_wrong, d_right, d_wrong)


def test_until_lingua_is_loaded_latin_text_gets_langdetect_and_is_not_cached() -> None:
    """A fresh process answers at once (langdetect), and the same text gets lingua's answer
    once its models are in: the early answer was not cached."""
    code = (
        "from factdb import language as L\n"
        "t = 'Tai melas, nesidalink'\n"  # langdetect is unsure (< 0.80), lingua is not
        "print(L.detect_language(t, 'xx'))\n"
        "assert L.wait_for_models(300)\n"
        "print(L.detect_language(t, 'xx'))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300, check=True
    ).stdout.split()
    assert out == ["xx", "lt"]


def test_never_raises_on_odd_input() -> None:
    for text in ["", " ", "\x00\ud800", "🙂" * 50, "a" * 10_000, "İ̇" * 30]:
        detect_language(text, fallback="en")
