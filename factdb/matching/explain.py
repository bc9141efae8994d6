"""Explaining a match to the citizen: what their version says that the claim does not."""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence

from factdb.matching.text import HAN, display_tokens

_HAN_RE = re.compile(rf"[{HAN}]")
_ENDS_HAN_RE = re.compile(rf"[{HAN}]$")


def _join(tokens: Sequence[str]) -> str:
    out = ""
    for tok in tokens:
        if out and not (_HAN_RE.match(tok) and _ENDS_HAN_RE.search(out)):
            out += " "
        out += tok
    return out


def what_changed(query: str, claim_text: str, max_items: int = 6) -> list[str]:
    """What the citizen's version says that the matched claim does not.

    Each item is a run of the citizen's words (numbers, dates, names, links; CJK as
    character runs) missing from the claim; where the claim had something else in that
    place it follows as "(claim: ...)". Text only in the claim is listed as "(claim only:
    ...)" after the citizen's changes. Never raises.
    """
    try:
        q = display_tokens(query)
        c = display_tokens(claim_text)
        added: list[str] = []
        removed: list[str] = []
        matcher = difflib.SequenceMatcher(None, c, q, autojunk=False)
        for op, c1, c2, q1, q2 in matcher.get_opcodes():
            if op == "insert":
                added.append(_join(q[q1:q2]))
            elif op == "replace":
                added.append(f"{_join(q[q1:q2])} (claim: {_join(c[c1:c2])})")
            elif op == "delete":
                removed.append(f"(claim only: {_join(c[c1:c2])})")
        return (added + removed)[:max_items]
    except Exception:
        return []
