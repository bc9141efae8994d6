"""Partners' textual ratings ("Pants on Fire", "Engañoso", "錯誤"…) mapped to our verdicts.

Fact-checkers each have their own rating scale; ClaimReview only standardises the container,
not the words. The table below is matched after folding case, accents, hyphens and
punctuation, so "PANTS-ON-FIRE!" and "pants on fire" are the same key. A deployment adds its
partners' words with a JSON object file named by `CROWDCHECK_RATINGS_FILE`
(`{"Fake news": "false", "Cuidado": "misleading"}`); its entries win over the built-in ones.
Numeric ratings (`ratingValue` between `worstRating` and `bestRating`) are the last resort.
"""

from __future__ import annotations

import json
import os
import re
import unicodedata
from functools import lru_cache
from pathlib import Path

from factdb.models import Verdict

__all__ = [
    "BUILTIN",
    "LABELS",
    "RATING_VALUES",
    "RatingsFileError",
    "from_number",
    "key",
    "to_verdict",
]

# Human label per verdict, written as ClaimReview `alternateName` and in summaries.
LABELS: dict[str, str] = {
    Verdict.FALSE: "False",
    Verdict.MISLEADING: "Misleading",
    Verdict.MISSING_CONTEXT: "Missing context",
    Verdict.MIXED: "Mixed",
    Verdict.TRUE: "True",
    Verdict.UNPROVEN: "Unproven",
    Verdict.SATIRE: "Satire",
    Verdict.NOT_A_CLAIM: "Not a claim",
}

# ClaimReview `ratingValue` on the 1 (worst) – 5 (best) scale Google's Fact Check Tools use.
# Verdicts that are not about truth (unproven, not a claim) sit in the neutral middle; satire
# is 2 because satire passed on as news misleads. 4 ("mostly true") is never written.
RATING_VALUES: dict[str, int] = {
    Verdict.FALSE: 1,
    Verdict.MISLEADING: 2,
    Verdict.SATIRE: 2,
    Verdict.MISSING_CONTEXT: 3,
    Verdict.MIXED: 3,
    Verdict.UNPROVEN: 3,
    Verdict.NOT_A_CLAIM: 3,
    Verdict.TRUE: 5,
}

_F, _MI, _MC, _MX = Verdict.FALSE, Verdict.MISLEADING, Verdict.MISSING_CONTEXT, Verdict.MIXED
_T, _U, _S, _N = Verdict.TRUE, Verdict.UNPROVEN, Verdict.SATIRE, Verdict.NOT_A_CLAIM

# label → verdict. Keys are written naturally; they are folded with `key()` when loaded.
BUILTIN: dict[str, str] = {
    # false
    "false": _F,
    "pants on fire": _F,
    "pants fire": _F,
    "fake": _F,
    "fake news": _F,
    "incorrect": _F,
    "wrong": _F,
    "hoax": _F,
    "fabricated": _F,
    "scam": _F,
    "four pinocchios": _F,
    "faux": _F,
    "falsch": _F,
    "falso": _F,
    "falsa": _F,
    "bulo": _F,
    "mentira": _F,
    "錯誤": _F,
    "错误": _F,
    "谣言": _F,
    "謠言": _F,
    "假": _F,
    "假的": _F,
    "不實": _F,
    "不实": _F,
    "虛假": _F,
    "虚假": _F,
    "假消息": _F,
    "假訊息": _F,
    "netiesa": _F,
    "melas": _F,
    "klaidinga": _F,
    # misleading
    "misleading": _MI,
    "mostly false": _MI,
    "barely true": _MI,
    "partly false": _MI,
    "partially false": _MI,
    "exaggerated": _MI,
    "distorted": _MI,
    "three pinocchios": _MI,
    "trompeur": _MI,
    "irrefuhrend": _MI,
    "enganoso": _MI,
    "enganosa": _MI,
    "mayormente falso": _MI,
    "parcialmente falso": _MI,
    "誤導": _MI,
    "误导": _MI,
    "部分錯誤": _MI,
    "部分错误": _MI,
    "klaidinantis": _MI,
    "klaidinanti": _MI,
    "manipuliacija": _MI,
    # missing context
    "missing context": _MC,
    "lacks context": _MC,
    "needs context": _MC,
    "out of context": _MC,
    "sin contexto": _MC,
    "falta contexto": _MC,
    "fuera de contexto": _MC,
    "缺乏背景": _MC,
    "缺少背景": _MC,
    "斷章取義": _MC,
    "断章取义": _MC,
    "truksta konteksto": _MC,
    "be konteksto": _MC,
    # mixed
    "half true": _MX,
    "mixed": _MX,
    "mixture": _MX,
    "partly true": _MX,
    "partially true": _MX,
    "verdadero a medias": _MX,
    "medio verdadero": _MX,
    "mitad verdadero": _MX,
    "部分正確": _MX,
    "部分正确": _MX,
    "半真半假": _MX,
    "pusiau tiesa": _MX,
    "iš dalies tiesa": _MX,
    # true
    "true": _T,
    "mostly true": _T,
    "correct": _T,
    "accurate": _T,
    "verdadero": _T,
    "verdadera": _T,
    "cierto": _T,
    "cierta": _T,
    "vrai": _T,
    "wahr": _T,
    "正確": _T,
    "正确": _T,
    "屬實": _T,
    "属实": _T,
    "真": _T,
    "tiesa": _T,
    # unproven
    "unproven": _U,
    "unverified": _U,
    "unsupported": _U,
    "unsubstantiated": _U,
    "no evidence": _U,
    "not enough evidence": _U,
    "inconclusive": _U,
    "research in progress": _U,
    "sin evidencia": _U,
    "no verificado": _U,
    "no verificable": _U,
    "inverificable": _U,
    "未經證實": _U,
    "未经证实": _U,
    "證據不足": _U,
    "证据不足": _U,
    "nepatvirtinta": _U,
    "nepagrista": _U,
    # satire
    "satire": _S,
    "satirical": _S,
    "parody": _S,
    "labeled satire": _S,
    "satira": _S,
    "諷刺": _S,
    "讽刺": _S,
    "satyra": _S,
    # not a claim
    "not a claim": _N,
    "opinion": _N,
    "not a fact": _N,
    "not checkable": _N,
    "opinion personal": _N,
    "no es una afirmacion": _N,
    "意見": _N,
    "观点": _N,
    "nuomonė": _N,
}

_PUNCT_RE = re.compile(r"[\s\-_/.,;:!?¡¿'\"“”‘’()\[\]]+")


@lru_cache(maxsize=4096)  # a feed repeats a handful of labels a million times
def key(label: str) -> str:
    """Fold a rating for lookup: case, accents (Latin scripts), hyphens and punctuation."""
    decomposed = unicodedata.normalize("NFKD", label.casefold())
    stripped = "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")
    return _PUNCT_RE.sub(" ", unicodedata.normalize("NFC", stripped)).strip()


class RatingsFileError(ValueError):
    """`CROWDCHECK_RATINGS_FILE` cannot be used; the message says why, in one line."""


_cache: tuple[tuple[str, float] | None, dict[str, str]] | None = None


def _table() -> dict[str, str]:
    """Built-in table plus the deployment's file, reloaded when the file changes."""
    global _cache
    name = os.environ.get("CROWDCHECK_RATINGS_FILE", "").strip()
    stamp: tuple[str, float] | None = None
    if name:
        try:
            stamp = (name, Path(name).stat().st_mtime)
        except OSError as exc:
            raise RatingsFileError(f"CROWDCHECK_RATINGS_FILE={name}: {exc.strerror}") from None
    if _cache is not None and _cache[0] == stamp:
        return _cache[1]
    table = {key(k): str(v) for k, v in BUILTIN.items()}
    table.update({key(v): v for v in LABELS})  # our own codes ("missing_context") always work
    table.update({key(label): v for v, label in LABELS.items()})
    if name:
        table.update(_load_file(Path(name)))
    _cache = (stamp, table)
    return table


def _load_file(path: Path) -> dict[str, str]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise RatingsFileError(f"CROWDCHECK_RATINGS_FILE={path}: not readable JSON ({exc})") from None
    if not isinstance(data, dict):
        raise RatingsFileError(
            f'CROWDCHECK_RATINGS_FILE={path}: expected an object such as {{"Fake": "false"}}'
        )
    out: dict[str, str] = {}
    for label, verdict in data.items():
        if verdict not in LABELS:
            raise RatingsFileError(
                f"CROWDCHECK_RATINGS_FILE={path}: {label!r} maps to {verdict!r}, which is not one "
                f"of {', '.join(LABELS)}"
            )
        out[key(str(label))] = str(verdict)
    return out


def to_verdict(label: str | None) -> str | None:
    """Our verdict for a partner's rating text, or None when no entry knows it."""
    if not label or not isinstance(label, str):
        return None
    return _table().get(key(label))


def _num(value: object) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            return None
    return None


def from_number(value: object, best: object = None, worst: object = None) -> str | None:
    """Verdict from a numeric rating; scale defaults to 1–5 (ClaimReview's usual one).

    The value is placed on 0..1 and cut in fifths around our 1–5 values: 1 false, 2
    misleading, 3 mixed, 4 and 5 true ("mostly true" is true, as in the label table).
    """
    v, b, w = _num(value), _num(best), _num(worst)
    if v is None:
        return None
    b = 5.0 if b is None else b
    w = 1.0 if w is None else w
    if b == w or not min(b, w) <= v <= max(b, w):
        return None
    position = (v - w) / (b - w)  # 0 = worst, 1 = best, also when a scale runs backwards
    if position < 0.125:
        return Verdict.FALSE
    if position < 0.375:
        return Verdict.MISLEADING
    if position < 0.625:
        return Verdict.MIXED
    return Verdict.TRUE
