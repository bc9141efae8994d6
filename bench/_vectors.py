"""Embeddings for the benchmarks, cached on disk by text (embedding 3,000 claims takes minutes
on this shared box; the cache only saves re-runs, it changes no figure)."""

from __future__ import annotations

import hashlib
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from factdb.semantic.embedder import CLAIM_RECIPE, DIM, MAX_CHARS, MESSAGE_TOKENS, shared_embedder

CACHE = Path(os.environ.get("CROWDCHECK_VECTOR_CACHE", "/tmp/crowdcheck-vectors"))


def _key(kind: str, text: str, model: str) -> str:
    return hashlib.blake2b(f"{model}\0{kind}\0{text}".encode(), digest_size=12).hexdigest()


def _cached(
    texts: Sequence[str], name: str, model: str, compute: Callable[[list[str]], np.ndarray]
) -> np.ndarray:
    """(len(texts), DIM) float32 from CACHE/<name>.npz, keyed by (model, name, text); the texts
    not there yet are computed by `compute` (in order) and saved."""
    CACHE.mkdir(parents=True, exist_ok=True)
    store = CACHE / f"{name}.npz"
    cached: dict[str, np.ndarray] = dict(np.load(store)) if store.exists() else {}
    keys = [_key(name, t, model) for t in texts]
    todo = sorted({i: k for i, k in enumerate(keys) if k not in cached}.items())
    if todo:
        start = time.perf_counter()
        vectors = compute([texts[i] for i, _ in todo])
        for (_, key), vector in zip(todo, vectors, strict=True):
            cached[key] = vector
        np.savez(store, **cached)
        took = time.perf_counter() - start
        print(f"  embedded {len(todo)} {name} texts in {took:.1f} s", file=sys.stderr)
    out = np.empty((len(texts), DIM), dtype=np.float32)
    for i, key in enumerate(keys):
        out[i] = cached[key]
    return out


def embed_cached(texts: Sequence[str], kind: str) -> np.ndarray:
    """(len(texts), DIM) float32: kind "passage" (claims) or "query" (messages), as the bot
    makes them."""
    embedder = shared_embedder()
    if kind == "passage":
        return _cached(texts, kind, embedder.model_id, lambda todo: embedder.passages(todo, progress=None))
    # a message's vector does not depend on how claims are made (its key leaves the recipe out)
    # but on how much of it is read
    model = embedder.model_id.removesuffix(f"/{CLAIM_RECIPE}") + f"/{MESSAGE_TOKENS}"
    return _cached(texts, kind, model, lambda todo: np.stack([embedder.query(t) for t in todo]))


def lexical_matcher(items):  # type: ignore[no-untyped-def]
    """The lexical Matcher over (id, text) items, before and after factdb/matching/ was split."""
    try:
        from factdb.matching import Matcher, MatchIndex  # type: ignore[attr-defined]

        return Matcher(MatchIndex.from_items(items))
    except ImportError:
        from factdb.matching import Matcher

        return Matcher.from_items(items)


def readings_cached(texts: Sequence[str], prefix: str) -> np.ndarray:
    """(len(texts), DIM) float32: the model's raw "passage: " or "query: " reading of each text
    in full (no token budget, no claim recipe), for benchmarks that compare recipes."""
    embedder = shared_embedder()
    read = embedder._model.query if prefix == "query" else embedder._model.passage

    def compute(todo: list[str]) -> np.ndarray:
        chunks = [todo[i : i + 32] for i in range(0, len(todo), 32)]
        return np.concatenate([read([t[:MAX_CHARS] or " " for t in chunk]) for chunk in chunks])

    return _cached(texts, f"raw-{prefix}", embedder.model_id.removesuffix(f"/{CLAIM_RECIPE}"), compute)
