"""OCR of generated chat screenshots in our four languages, and the chat furniture it drops.

The Tesseract tests run where Tesseract and its language packs are installed (scripts/bootstrap
installs them as root; CI does); elsewhere they are skipped and the status test shows OCR
reports itself off with the way to turn it on.
"""

from __future__ import annotations

import random

import pytest
from rapidfuzz.distance import Levenshtein

from bench._picture_texts import texts
from bench._pictures import VARIANTS, chat_screenshot
from factdb.media import ocr
from factdb.media.chat_furniture import clean_ocr_lines, despace_cjk

STATUS = ocr.ocr_status()
needs_tesseract = pytest.mark.skipif(not STATUS.available, reason=STATUS.advice)


def _cer(got: str, truth: str) -> float:
    return Levenshtein.distance(" ".join(got.split()), " ".join(truth.split())) / len(truth)


@needs_tesseract
@pytest.mark.parametrize("lang", ["en", "es", "lt", "zh-TW"])
def test_a_forwarded_screenshot_is_read_without_its_chat_furniture(lang: str) -> None:
    assert lang in STATUS.languages
    text = texts(lang, 1, 1234)[0]
    shot = chat_screenshot(text, lang, 31)
    result = ocr.read_text(shot)
    assert result is not None
    # bench/media.py measures the character error rate over many screenshots; one must be close
    assert _cer(result.text, text) <= 0.12, (result.text, text)
    for furniture in ("Forwarded", "Reenviado", "Persiųsta", "轉寄", "Message", "✓"):
        assert furniture not in result.text
    assert result.script == ("han" if lang == "zh-TW" else "latin")
    if lang == "zh-TW":
        assert " " not in result.text  # de-spaced


@needs_tesseract
def test_a_shrunk_copy_is_still_read() -> None:
    text = texts("es", 1, 99)[0]
    copy = VARIANTS["shrink"](chat_screenshot(text, "es", 3), random.Random(4))
    result = ocr.read_text(copy)
    assert result is not None and _cer(result.text, text) <= 0.15, result


@needs_tesseract
def test_a_picture_without_text_reads_nothing() -> None:
    from bench._pictures import photo

    result = ocr.read_text(photo(5, (400, 300)))
    assert result is None or len(result.text) < 12, result


def test_without_tesseract_ocr_says_it_is_off_and_how_to_turn_it_on(monkeypatch: pytest.MonkeyPatch) -> None:
    import pytesseract

    monkeypatch.setattr(pytesseract.pytesseract, "tesseract_cmd", "/nonexistent/tesseract")
    ocr.ocr_status.cache_clear()
    try:
        status = ocr.ocr_status()
        assert not status.available
        assert "OCR is off" in status.advice and "apt-get install tesseract-ocr" in status.advice
        assert ocr.read_text(chat_screenshot("hello there, friends", "en", 1)) is None
    finally:
        ocr.ocr_status.cache_clear()


def test_chat_furniture_is_dropped_in_all_four_languages() -> None:
    lines = [
        "14:40 5G ▂▄▆ 24%",
        "← Family",
        "↪ Forwarded many times",
        "Reenviado muchas veces",
        "Persiųsta daug kartų",
        "已 多 次 轉 寄",
        "Forwarcled many tirnes",  # OCR's misreading
        "Forwarded from Jen",
        "The water will be cut for",
        "three days 21:14 √√",
        "9:05 PM",
        "Message",
    ]
    assert clean_ocr_lines(lines) == "The water will be cut for three days"


def test_cjk_is_despaced_and_its_punctuation_made_full_width() -> None:
    assert despace_cjk("明 天 起 停 水 三 天 , 請 儲 水 !") == "明天起停水三天，請儲水！"
    assert despace_cjk("5G 基 地 台 and more words") == "5G 基地台 and more words"
    assert clean_ocr_lines(["緊 急 通 知 ： 市 政 府", "證 實 停 水 15:41 vy"]) == "緊急通知：市政府證實停水"
