"""What a chat app prints around a message, which OCR reads but the matcher must not see.

A screenshot of a forwarded message carries "Forwarded many times" (in the reader's language),
the time it was sent, delivery ticks, sometimes the phone's clock and battery, the app's
"Message" box. None of it is the claim, and all of it would pull every screenshot towards
every other in the matcher. This module takes OCR's lines and gives back the message text,
with Chinese, Japanese and Korean runs de-spaced (Tesseract puts a space between CJK glyphs).
"""

from __future__ import annotations

import re

from rapidfuzz import fuzz

__all__ = ["clean_ocr_lines", "despace_cjk"]

# The label above a forwarded message, in our four languages, as WhatsApp and Telegram print
# them (Telegram adds "from <name>", handled by the prefix rule below).
_FORWARD_LABELS = [
    "forwarded",
    "forwarded many times",
    "forwarded message",
    "forwarded from",
    "reenviado",
    "reenviado muchas veces",
    "reenviado de",
    "mensaje reenviado",
    "persiųsta",
    "persiųsta daug kartų",
    "persiųsta iš",
    "persiųsta žinutė",
    "已轉寄",
    "已多次轉寄",
    "轉寄自",
    "已轉發",
    "已多次轉發",
    "轉發自",
]
# The app's own words on screen: the input box, presence lines.
_CHROME = [
    "message",
    "type a message",
    "mensaje",
    "escribe un mensaje",
    "žinutė",
    "rašykite žinutę",
    "訊息",
    "輸入訊息",
    "online",
    "en línea",
    "prisijungęs",
    "prisijungusi",
    "上線中",
    "線上",
]

_TIME = r"\d{1,2}\s?[:：.]\s?\d{2}(?:\s?(?:[AaPp]\.?\s?[Mm]\.?|上午|下午))?"
_TICKS = r"[✓✔√vVyYwWＶ/JjIl]{1,2}"  # and what OCR makes of two ticks
# a time (and ticks) at the end of a line: the message's own time stamp
_TRAILING_STAMP = re.compile(rf"\s*(?:(?:上午|下午)\s?)?{_TIME}(?:\s*{_TICKS})?\s*$")
# a line of nothing but clock, signal, battery, ticks, arrows and symbols
_ONLY_FURNITURE = re.compile(
    rf"^(?:\s|{_TIME}|{_TICKS}|\d{{1,3}}\s?%|[45]G|LTE|[←→↪»«<>|•·®©@#*+=~_\-–—▂▄▆█.,:;'\"()\[\]{{}}])*$"
)
_CJK = (
    "\u2e80-\u2fdf\u3000-\u303f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef"
)
_CJK_SPACE = re.compile(rf"(?<=[{_CJK}])\s+(?=[{_CJK}])")
_CJK_CHAR = re.compile(rf"[{_CJK}]")
_BACK_ARROW = re.compile(r"^\s*[←<«]")
_LEADING_ARROW = re.compile(r"^[\s↪→>»]+")


_FULL_WIDTH = str.maketrans(",!?:;()", "，！？：；（）")
_CJK_PUNCT = re.compile(rf"(?<=[{_CJK}])\s*([,!?:;])\s*|\s*([,!?:;])\s*(?=[{_CJK}])")


def despace_cjk(text: str) -> str:
    """Remove the spaces Tesseract puts between CJK characters, and write the ASCII
    punctuation it reads between them as the full-width marks a Chinese text uses."""
    text = _CJK_PUNCT.sub(lambda m: (m.group(1) or m.group(2)).translate(_FULL_WIDTH), text)
    return _CJK_SPACE.sub("", text)


def _key(line: str) -> str:
    return re.sub(r"[^\w\s]", "", line.casefold()).strip()


def _is_label(line: str, labels: list[str]) -> bool:
    key = _key(_LEADING_ARROW.sub("", line))
    if not key:
        return False
    key_cjk = key.replace(" ", "")
    for label in labels:
        if key == label or key_cjk == label:
            return True
        # "Forwarded from Jen", "Reenviado de Marta": the label and a name
        if label.endswith((" from", " de", " iš", "自")) and key.startswith(label):
            return True
        # OCR's small mistakes ("Forwarcled many tirnes"): close enough and about as long
        if len(label) >= 6 and abs(len(key) - len(label)) <= 3 and fuzz.ratio(key, label) >= 85:
            return True
    return False


def clean_ocr_lines(lines: list[str]) -> str:
    """The message text of a screenshot's OCR lines: furniture dropped, lines joined."""
    kept: list[str] = []
    for raw in lines:
        line = despace_cjk(raw.strip())
        if not line or _ONLY_FURNITURE.match(line):
            continue
        if _is_label(line, _FORWARD_LABELS) or _is_label(line, _CHROME):
            continue
        if _BACK_ARROW.match(line) and len(line.split()) <= 4:
            continue  # the app's header: back arrow, then the chat's name
        line = _TRAILING_STAMP.sub("", line).strip()
        if line and not _ONLY_FURNITURE.match(line):
            kept.append(line)
    text = ""
    for line in kept:
        # CJK lines wrap mid-sentence with no space; Latin lines wrap at a space.
        glue = "" if not text or (_CJK_CHAR.match(line[0]) and _CJK_CHAR.match(text[-1])) else " "
        text = f"{text}{glue}{line}"
    return text.strip()
