"""Masking what identifies a person in text reviewers and partners read."""

from __future__ import annotations

import re

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# A run of 7+ digits, allowing spaces, dots, dashes and brackets between them, optional +.
_PHONE = re.compile(r"(?<![\w/])\+?\d(?:[\s().-]*\d){6,}(?![\w/])")
_HANDLE = re.compile(r"(?<![\w@/])@[A-Za-z][A-Za-z0-9_]{3,31}\b")


def mask_personal(text: str) -> str:
    text = _EMAIL.sub("[email]", text)
    text = _PHONE.sub("[phone]", text)
    return _HANDLE.sub("@[user]", text)
