"""Matching a citizen's message against the known claims.

Two stages, as in Cofacts' bot:

1. **Candidates.** An inverted index over *terms* narrows any number of claims to a few
   hundred. Terms are words (cut to a short prefix, a cheap stemmer that also survives typos
   at the end of long words) for scripts with spaces, character bigrams for Han/kana and
   character trigrams for Thai, Lao, Khmer and Myanmar, which have no spaces between words.
   Candidates are ranked by a binary BM25 (sum of the IDF of shared terms with BM25's length
   normalisation). Postings live in numpy CSR arrays (4 bytes a posting) plus a small mutable
   delta for claims added after the bulk build, so 10^6 claims fit in a few hundred MB.
2. **Scoring.** rapidfuzz compares the message with each candidate's normalised text, and
   the IDF-weighted term overlap covers paraphrases that share words but not word order.
   The result is one score 0..100; `Matcher` turns it into "match" / "maybe" / "new" with
   thresholds derived from real data (factdb/thresholds.py).

Everything is keyed by the integer claim id the caller uses; the index never touches the
database, the caller keeps it in sync with `add`/`remove` (factdb/claim_index.py does). A
negative key -id is a second wording of claim id (a reviewer's public wording): it is found
as claim id, and a claim found through both wordings is listed once, with its best score.
"""

from __future__ import annotations

import difflib
import functools
import math
import re
from array import array
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from rapidfuzz import fuzz, process

from factdb import thresholds as _defaults
from factdb.normalize import normalize

__all__ = [
    "Candidate",
    "MatchIndex",
    "MatchResult",
    "Matcher",
    "Thresholds",
    "what_changed",
]

# --- terms ------------------------------------------------------------------------------------

_HAN = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ffff"
_SEA = "\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff"
# Combining vowel signs and viramas of Indic, Arabic and Hebrew scripts are not \w in
# Python's re; without them a Hindi word would fall apart at every vowel sign.
_MARKS = "\u0300-\u036f\u0483-\u0489\u0591-\u05c7\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed\u0900-\u0dff"
_SEGMENT_RE = re.compile(
    rf"(?P<han>[{_HAN}]+)|(?P<sea>[{_SEA}]+)|(?P<word>(?:[^\W_{_HAN}{_SEA}]|[{_MARKS}])+)"
)
# Prefix length of the poor man's stemmer: "released"/"releases" -> "releas", "vaccines" ->
# "vaccin". Measured on the CLEF train pairs, 6 beat full words and 5/7 (bench/match_quality).
STEM = 6


def _terms(norm: str) -> list[str]:
    """Index terms of an already normalised text, in order, with repeats."""
    out: list[str] = []
    for m in _SEGMENT_RE.finditer(norm):
        run = m.group(0)
        kind = m.lastgroup
        if kind == "word":
            out.append(run if run.isdigit() else run[:STEM])
        elif kind == "han":
            if len(run) == 1:
                out.append(run)
            else:
                out.extend(run[i : i + 2] for i in range(len(run) - 1))
        elif len(run) <= 3:
            out.append(run)
        else:
            out.extend(run[i : i + 3] for i in range(len(run) - 2))
    return out


def _word_count(norm: str) -> int:
    """How many words a message has; for scripts without spaces, two characters a word."""
    n = 0
    for m in _SEGMENT_RE.finditer(norm):
        n += 1 if m.lastgroup == "word" else max(1, len(m.group(0)) // 2)
    return n


_NON_WORD_RE = re.compile(rf"[^\w{_MARKS}]+")
_SPACE_BETWEEN_HAN_RE = re.compile(rf"(?<=[{_HAN}]) (?=[{_HAN}])")


def _compact(norm: str) -> str:
    """Text for character-level comparison: punctuation gone, no spaces inside CJK."""
    return _SPACE_BETWEEN_HAN_RE.sub("", _NON_WORD_RE.sub(" ", norm)).strip()


# One message is normalised for the index, then again for each decision check (and a claim's
# wording for every query it is a candidate of); normalize runs to a fixed point, so each call
# costs two passes or more. A small cache of recent texts makes the repeats free.
_normalized = functools.lru_cache(maxsize=1024)(normalize)


def _prepare(text: str) -> str:
    """The form of a text the index stores, takes terms from and compares characters of."""
    return _compact(_normalized(text))


# --- results ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Candidate:
    claim_id: int
    score: float  # 0..100


@dataclass(frozen=True, slots=True)
class MatchResult:
    decision: Literal["match", "maybe", "new"]
    claim_id: int | None  # best candidate unless decision == "new"
    score: float  # best candidate's score, 0 when there is none
    candidates: list[Candidate]  # best first: the ranking, whatever the decision
    # "maybe": the candidates worth showing the citizen (score ≥ maybe, sharing real words)
    offered: list[Candidate] = field(default_factory=list)


# --- growable numpy columns -------------------------------------------------------------------


class _Column:
    """An append-only numpy array with amortised O(1) appends (capacity doubling)."""

    __slots__ = ("data", "size")

    def __init__(self, dtype: type | np.dtype, values: np.ndarray | None = None) -> None:
        self.data = np.zeros(16, dtype=dtype) if values is None else values
        self.size = 0 if values is None else len(values)

    def append(self, value: float | int | bool) -> None:
        if self.size == len(self.data):
            grown = np.zeros(max(16, 2 * self.size), dtype=self.data.dtype)
            grown[: self.size] = self.data
            self.data = grown
        self.data[self.size] = value
        self.size += 1

    def view(self) -> np.ndarray:
        return self.data[: self.size]


# --- the index --------------------------------------------------------------------------------

# BM25 constants, the usual ones; only length normalisation matters as term frequency is 1.
_K1 = 1.2
_B = 0.75
# Terms in more than this share of claims carry no signal and cost the most postings. Only
# applied from _STOP_MIN_DOCS claims up: in a small index every term matters.
_STOP_FRACTION = 0.08
_STOP_MIN_DOCS = 5_000
# A long message only uses its most informative terms to find candidates, and stops adding
# (ever more common) terms once this many postings are gathered: the common terms' postings
# are what costs time at 10^6 claims, and they barely change which claims rank first.
_MAX_QUERY_TERMS = 48
_POSTINGS_BUDGET = 40_000
# Claims to rescore with rapidfuzz, and how many of them (by term overlap) also get the
# costlier aligned-window comparison.
_RESCORE = 200
_WINDOW_RESCORE = 20
# Character comparisons are O(n*m); beyond this many characters a text is compared by its
# beginning only (the term overlap still sees all of it). Without the cap an 8 KB paste
# against a 4 KB claim took over a second, blocking every other citizen's update.
_CHAR_LIMIT = 1000
# Fold the delta into the CSR arrays once it holds this many claims (or this share).
_DELTA_MAX_DOCS = 20_000
_DELTA_MAX_SHARE = 0.05


class MatchIndex:
    """In-memory candidate index of claims, kept in sync by the caller.

    Claims are stored by an internal row number; a removed or replaced claim leaves a dead
    row that queries skip, and rows are compacted away when the delta is folded in.
    """

    def __init__(self) -> None:
        self._term_ids: dict[str, int] = {}
        self._df = _Column(np.int32)  # live claims containing each term
        self._stop: np.ndarray = np.zeros(0, dtype=bool)  # per term id < len: not indexed
        # CSR postings of the bulk-built part: rows of term t are postings[indptr[t]:indptr[t+1]]
        self._indptr = np.zeros(1, dtype=np.int64)
        self._postings = np.zeros(0, dtype=np.int32)
        self._delta: dict[int, list[int]] = {}  # term id -> rows added since the last fold
        self._delta_docs = 0
        # Per row
        self._row_claim = _Column(np.int64)
        self._row_alive = _Column(np.bool_)
        self._row_len = _Column(np.float32)  # number of distinct terms
        self._row_mass = _Column(np.float32)  # sum of the IDF of its terms (as of indexing)
        self._len_sum = 0.0  # over live rows, for BM25's average length
        # Prepared texts: the bulk-built rows in one UTF-8 blob, later rows in a dict.
        self._blob = b""
        self._offsets = np.zeros(1, dtype=np.int64)
        self._late_text: dict[int, str] = {}
        # claim id -> row: sorted arrays for the bulk rows, a dict for later ones
        self._base_ids = np.zeros(0, dtype=np.int64)
        self._base_rows = np.zeros(0, dtype=np.int64)
        self._late_rows: dict[int, int] = {}
        self._live = 0

    # -- bulk build ----------------------------------------------------------------------------

    @classmethod
    def from_items(cls, items: Iterable[tuple[int, str]]) -> MatchIndex:
        """Build an index from (claim_id, raw text) pairs in one pass; later ids win."""
        latest: dict[int, str] = {}
        for claim_id, text in items:
            latest[int(claim_id)] = text
        index = cls()
        index._build((cid, _prepare(text)) for cid, text in latest.items())
        return index

    @classmethod
    def from_normalized(cls, items: Iterable[tuple[int, str]]) -> MatchIndex:
        """Like `from_items`, from texts already passed through `normalize` (the claim table's
        `normalized` column): skips the costliest step of a bulk build."""
        latest: dict[int, str] = {}
        for claim_id, norm in items:
            latest[int(claim_id)] = norm
        index = cls()
        index._build((cid, _compact(norm)) for cid, norm in latest.items())
        return index

    def _build(self, prepared: Iterable[tuple[int, str]]) -> None:
        term_ids = self._term_ids
        flat = array("i")  # term ids of all rows, concatenated
        lengths = array("i")
        claims = array("q")
        texts: list[bytes] = []
        for claim_id, norm in prepared:
            tids = {term_ids.setdefault(t, len(term_ids)) for t in _terms(norm)}
            flat.extend(tids)
            lengths.append(len(tids))
            claims.append(claim_id)
            texts.append(norm.encode("utf-8"))
        n_docs = len(lengths)
        n_terms = len(term_ids)
        tid_arr = np.frombuffer(flat, dtype=np.int32) if flat else np.zeros(0, np.int32)
        len_arr = np.frombuffer(lengths, dtype=np.int32) if lengths else np.zeros(0, np.int32)
        rows = np.repeat(np.arange(n_docs, dtype=np.int32), len_arr)
        df = np.bincount(tid_arr, minlength=n_terms).astype(np.int32)
        stop = (df > _STOP_FRACTION * n_docs) if n_docs >= _STOP_MIN_DOCS else np.zeros(n_terms, dtype=bool)
        keep = ~stop[tid_arr]
        tid_kept, rows_kept = tid_arr[keep], rows[keep]
        order = np.argsort(tid_kept, kind="stable")  # stable: rows stay sorted within a term
        self._postings = rows_kept[order].astype(np.int32)
        self._indptr = np.zeros(n_terms + 1, dtype=np.int64)
        np.cumsum(np.bincount(tid_kept, minlength=n_terms), out=self._indptr[1:])
        self._df = _Column(np.int32, df)
        idf = np.log1p((n_docs - df + 0.5) / (df + 0.5))
        mass = np.bincount(rows, weights=idf[tid_arr], minlength=n_docs).astype(np.float32)
        self._row_mass = _Column(np.float32, mass)
        self._stop = stop
        self._delta = {}
        self._delta_docs = 0
        self._row_claim = _Column(np.int64, np.frombuffer(claims, dtype=np.int64).copy())
        self._row_alive = _Column(np.bool_, np.ones(n_docs, dtype=bool))
        self._row_len = _Column(np.float32, len_arr.astype(np.float32))
        self._len_sum = float(len_arr.sum())
        self._blob = b"".join(texts)
        self._offsets = np.zeros(n_docs + 1, dtype=np.int64)
        np.cumsum([len(t) for t in texts], out=self._offsets[1:])
        self._late_text = {}
        order_ids = np.argsort(self._row_claim.view(), kind="stable")
        self._base_ids = self._row_claim.view()[order_ids]
        self._base_rows = order_ids.astype(np.int64)
        self._late_rows = {}
        self._live = n_docs

    # -- bookkeeping ---------------------------------------------------------------------------

    def __len__(self) -> int:
        return self._live

    def _row_of(self, claim_id: int) -> int | None:
        row = self._late_rows.get(claim_id)
        if row is not None:
            return row
        pos = int(np.searchsorted(self._base_ids, claim_id))
        if pos < len(self._base_ids) and self._base_ids[pos] == claim_id:
            row = int(self._base_rows[pos])
            if self._row_alive.data[row]:
                return row
        return None

    def __contains__(self, claim_id: object) -> bool:
        if not isinstance(claim_id, int | np.integer) or isinstance(claim_id, bool):
            return False
        return self._row_of(int(claim_id)) is not None

    def _text(self, row: int) -> str:
        late = self._late_text.get(row)
        if late is not None:
            return late
        return self._blob[self._offsets[row] : self._offsets[row + 1]].decode("utf-8")

    def text_of(self, claim_id: int) -> str | None:
        """The normalised text indexed for `claim_id`, or None."""
        row = self._row_of(claim_id)
        return None if row is None else self._text(row)

    def add(self, claim_id: int, text: str) -> None:
        """Index a claim's raw text; re-adding an id replaces the earlier text."""
        claim_id = int(claim_id)
        self.remove(claim_id)
        norm = _prepare(text)
        row = self._row_claim.size
        term_ids = self._term_ids
        tids = {term_ids.setdefault(t, len(term_ids)) for t in _terms(norm)}
        while self._df.size < len(term_ids):
            self._df.append(0)
        n_stop = len(self._stop)
        for tid in tids:
            self._df.data[tid] += 1
            if tid >= n_stop or not self._stop[tid]:
                self._delta.setdefault(tid, []).append(row)
        self._row_claim.append(claim_id)
        self._row_alive.append(True)
        self._row_len.append(len(tids))
        tid_arr = np.fromiter(tids, dtype=np.int64, count=len(tids))
        self._row_mass.append(float(self._idf(tid_arr).sum()))
        self._len_sum += len(tids)
        self._late_text[row] = norm
        self._late_rows[claim_id] = row
        self._live += 1
        self._delta_docs += 1
        if self._delta_docs > max(_DELTA_MAX_DOCS, _DELTA_MAX_SHARE * self._live):
            self.compact()

    def remove(self, claim_id: int) -> None:
        """Forget a claim; unknown ids are ignored."""
        claim_id = int(claim_id)
        row = self._row_of(claim_id)
        if row is None:
            return
        norm = self._text(row)
        for t in set(_terms(norm)):
            self._df.data[self._term_ids[t]] -= 1
        self._row_alive.data[row] = False
        self._len_sum -= float(self._row_len.data[row])
        self._late_rows.pop(claim_id, None)
        self._late_text.pop(row, None)
        self._live -= 1

    def compact(self) -> None:
        """Fold the delta and dead rows into fresh CSR arrays."""
        alive = np.flatnonzero(self._row_alive.view())
        items = [(int(self._row_claim.data[r]), self._text(int(r))) for r in alive]
        self._term_ids = {}
        self._build(items)

    # -- search --------------------------------------------------------------------------------

    def _idf(self, tids: np.ndarray) -> np.ndarray:
        df = self._df.data[tids].astype(np.float64)
        n = max(self._live, 1)
        return np.log1p((n - df + 0.5) / (df + 0.5))

    def _max_idf(self) -> float:
        n = max(self._live, 1)
        return math.log1p((n + 0.5) / 0.5)

    def _candidate_rows(
        self, q_tids: np.ndarray, q_idf: np.ndarray, limit: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """Rows with the highest binary BM25 for the query terms, best first, and the IDF
        mass each shares with the query."""
        n_base = len(self._indptr) - 1
        id_parts: list[np.ndarray] = []
        w_parts: list[np.ndarray] = []
        gathered = 0
        for tid, w in zip(q_tids.tolist(), q_idf.tolist(), strict=True):  # rarest first
            if gathered > _POSTINGS_BUDGET:
                break
            if tid < n_base:
                lo, hi = self._indptr[tid], self._indptr[tid + 1]
                if hi > lo:
                    id_parts.append(self._postings[lo:hi])
                    w_parts.append(np.full(hi - lo, w))
                    gathered += int(hi - lo)
            late = self._delta.get(tid)
            if late:
                id_parts.append(np.asarray(late, dtype=np.int32))
                w_parts.append(np.full(len(late), w))
        if not id_parts:
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        ids = np.concatenate(id_parts)
        acc = np.bincount(ids, weights=np.concatenate(w_parts))
        # Scanning the accumulator (one pass over N floats) beat np.unique on the postings.
        rows = np.flatnonzero(acc)
        rows = rows[self._row_alive.data[rows]]
        avg_len = self._len_sum / max(self._live, 1)
        norm = 1.0 + _K1 * (1.0 - _B + _B * self._row_len.data[rows] / max(avg_len, 1e-9))
        score = acc[rows] * ((_K1 + 1.0) / norm)
        if len(rows) > limit:
            top = np.argpartition(score, -limit)[-limit:]
            rows, score = rows[top], score[top]
        order = np.argsort(-score, kind="stable")
        return rows[order], acc[rows[order]]

    def search(self, text: str, limit: int = 5) -> list[Candidate]:
        """The best `limit` claims for a raw message, best first, scores 0..100."""
        return [Candidate(cid, s) for cid, s in self._scored(_prepare(text), limit)]

    def _scored(self, query: str, limit: int) -> list[tuple[int, float]]:
        """Best claims for a prepared query text as (claim_id, score), best first."""
        if limit <= 0 or self._live == 0:
            return []
        term_list = _terms(query)
        if not term_list:
            return []
        uniq = dict.fromkeys(term_list)
        known = [self._term_ids[t] for t in uniq if t in self._term_ids]
        unknown = len(uniq) - len(known)
        tids = np.asarray(known, dtype=np.int64)
        idf = self._idf(tids)
        # Terms never seen in any claim still count against coverage, at the rarest weight.
        q_mass = float(idf.sum()) + unknown * self._max_idf()
        live = self._df.data[tids] > 0
        if len(self._stop):
            in_range = tids < len(self._stop)
            live &= ~(in_range & self._stop[np.minimum(tids, len(self._stop) - 1)])
        sel_t, sel_w = tids[live], idf[live]
        top = np.argsort(-sel_w, kind="stable")[:_MAX_QUERY_TERMS]
        sel_t, sel_w = sel_t[top], sel_w[top]
        rows, shared = self._candidate_rows(sel_t, sel_w, max(_RESCORE, limit))
        if len(rows) == 0:
            return []
        # IDF-weighted overlap (Ochiai coefficient) for rewordings that keep the rare words.
        c_mass = self._row_mass.data[rows].astype(np.float64)
        overlap = 100.0 * shared / np.sqrt(np.maximum(q_mass * c_mass, 1e-9))
        np.minimum(overlap, 100.0, out=overlap)
        texts = [self._text(row)[:_CHAR_LIMIT] for row in rows.tolist()]
        query = query[:_CHAR_LIMIT]
        # Whole-text similarity is cheap (one C loop over all candidates)...
        whole = process.cdist([query], texts, scorer=fuzz.ratio, dtype=np.float32)[0]
        score = np.maximum(overlap, np.sqrt(overlap * whole))
        # ...the aligned-window score is not (O(n*m) for long texts), and it only matters
        # for candidates that already share many terms, so only the best few get it.
        q_len = len(query)
        for i in np.argsort(-overlap, kind="stable")[:_WINDOW_RESCORE].tolist():
            c_len = len(texts[i])
            if min(q_len, c_len) < 0.9 * max(q_len, c_len):
                score[i] = max(score[i], _combine(float(overlap[i]), _window(query, texts[i])))
        claim = np.abs(self._row_claim.data[rows])  # a second wording (-id) is claim id
        # Ties (duplicate claims) go to the lower id so results do not depend on row order.
        out: list[tuple[int, float]] = []
        seen: set[int] = set()
        for i in np.lexsort((claim, -score)).tolist():
            cid = int(claim[i])
            if cid not in seen:
                seen.add(cid)
                out.append((cid, round(float(score[i]), 2)))
                if len(out) == limit:
                    break
        return out


def _combine(overlap: float, chars: float) -> float:
    """One score from the term overlap and the character similarity.

    Term overlap ranks paraphrases best (on the CLEF train pairs, character scores alone
    halve recall@1: a long tweet always contains *some* window resembling a short claim).
    Character similarity only lifts a candidate that also shares the rare words, through
    the geometric mean, which is what near-duplicate forwards with typos look like.
    """
    return max(overlap, math.sqrt(overlap * chars))


def _window(query: str, claim: str) -> float:
    """Similarity of the best-aligned window when one text is much shorter than the other
    (truncated forwards, a claim quoted inside a long message), discounted by how much of
    the longer text it covers so that three words found in a long claim are not a match."""
    short, long_ = (query, claim) if len(query) <= len(claim) else (claim, query)
    if not short:
        return 0.0
    coverage = len(short) / len(long_)
    return fuzz.partial_ratio(short, long_) * min(1.0, 0.55 + 0.5 * coverage)


# --- decisions --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Thresholds:
    """Score cut-offs (0..100). See factdb/thresholds.py for how the defaults were chosen."""

    confident: float = _defaults.CONFIDENT  # at or above: answer at once
    maybe: float = _defaults.MAYBE  # at or above: offer the top candidates as buttons
    short_text_confident: float = _defaults.SHORT_TEXT_CONFIDENT  # for short messages
    short_text_words: int = _defaults.SHORT_TEXT_WORDS  # "short" is at most this many words


class Matcher:
    def __init__(self, index: MatchIndex, thresholds: Thresholds | None = None) -> None:
        self.index = index
        self.thresholds = thresholds or Thresholds()

    def match(self, text: str, limit: int = 5) -> MatchResult:
        """Decide whether `text` is a known claim. Never raises on odd input."""
        query = _prepare(text)
        scored = self.index._scored(query, max(limit, 1))
        candidates = [Candidate(cid, s) for cid, s in scored[:limit]]
        if not scored:
            return MatchResult("new", None, 0.0, candidates)
        best_id, best = scored[0]
        t = self.thresholds
        # A short text shares its few words with many claims; only a near-exact hit answers.
        short = _word_count(query) <= t.short_text_words
        confident = t.short_text_confident if short else t.confident
        if best >= confident:
            wordings = self._wordings(best_id)
            if not wordings or any(not substitutes(text, w) for w in wordings):
                return MatchResult("match", best_id, best, candidates)
            # Same frame, other words ("closing the library because of spies" vs "closing the
            # bridge because of a deal"): likely a different claim. Ask instead of answering.
        if best >= t.maybe:
            # Offer only candidates that share real words with the message: in a young database
            # with few claims, "the", "in", "is" look rare and lift unrelated claims.
            offered = [
                c
                for c in candidates
                if c.score >= t.maybe and any(_shares_content(text, w) for w in self._wordings(c.claim_id))
            ]
            if offered:
                return MatchResult("maybe", offered[0].claim_id, offered[0].score, candidates, offered)
        return MatchResult("new", None, best, candidates)

    def _wordings(self, claim_id: int) -> list[str]:
        """The claim's indexed text and, if it has one, its second (public) wording."""
        return [w for w in (self.index.text_of(claim_id), self.index.text_of(-claim_id)) if w is not None]


# --- explaining a match -----------------------------------------------------------------------

_SHOW_RE = re.compile(rf"(?:https?://|www\.)\S+|[{_HAN}]|[{_SEA}]+|(?:[^\W_{_HAN}{_SEA}]|[{_MARKS}])+")


def _display_tokens(text: str) -> list[str]:
    # One token per CJK character so a diff finds the inserted "所有" inside a run.
    return _SHOW_RE.findall(_normalized(text))


def _join(tokens: Sequence[str]) -> str:
    out = ""
    for tok in tokens:
        if out and not (re.match(rf"[{_HAN}]", tok) and re.search(rf"[{_HAN}]$", out)):
            out += " "
        out += tok
    return out


_MAX_COMPARE = 1000  # characters: enough to tell frames apart, cheap on a pasted 4 KB text


# Function words of the languages we serve (and a few neighbours): never evidence that two
# messages are about the same thing.
_FUNCTION_WORDS = frozenset(
    [
        "a",
        "an",
        "the",
        "and",
        "or",
        "but",
        "if",
        "of",
        "to",
        "in",
        "on",
        "at",
        "by",
        "for",
        "from",
        "with",
        "without",
        "about",
        "into",
        "over",
        "under",
        "as",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "being",
        "it",
        "its",
        "this",
        "that",
        "these",
        "those",
        "there",
        "here",
        "you",
        "your",
        "we",
        "our",
        "they",
        "their",
        "he",
        "she",
        "his",
        "her",
        "i",
        "me",
        "my",
        "not",
        "no",
        "yes",
        "do",
        "does",
        "did",
        "have",
        "has",
        "had",
        "will",
        "would",
        "can",
        "could",
        "should",
        "may",
        "might",
        "must",
        "just",
        "also",
        "than",
        "then",
        "so",
        "very",
        "all",
        "any",
        "some",
        "more",
        "most",
        "other",
        "such",
        "only",
        "own",
        "same",
        "too",
        "now",
        "new",
        "says",
        "said",
        "say",
        "el",
        "la",
        "los",
        "las",
        "un",
        "una",
        "unos",
        "unas",
        "y",
        "o",
        "pero",
        "si",
        "de",
        "del",
        "al",
        "a",
        "en",
        "con",
        "sin",
        "por",
        "para",
        "sobre",
        "que",
        "es",
        "son",
        "fue",
        "era",
        "ser",
        "está",
        "están",
        "este",
        "esta",
        "estos",
        "estas",
        "ese",
        "esa",
        "eso",
        "lo",
        "le",
        "les",
        "se",
        "su",
        "sus",
        "mi",
        "tu",
        "no",
        "sí",
        "muy",
        "más",
        "ya",
        "ir",
        "ar",
        "bet",
        "jei",
        "kad",
        "tai",
        "yra",
        "buvo",
        "bus",
        "nuo",
        "iki",
        "su",
        "be",
        "per",
        "apie",
        "į",
        "ant",
        "po",
        "už",
        "prie",
        "kaip",
        "ne",
        "taip",
        "labai",
        "jau",
        "dar",
        "tik",
        "visi",
        "visos",
        "šis",
        "ši",
        "tas",
        "ta",
        "jo",
        "jos",
        "jų",
        "mes",
        "jūs",
        "jie",
        "jos",
        "savo",
        "der",
        "die",
        "das",
        "und",
        "oder",
        "ist",
        "sind",
        "ein",
        "eine",
        "nicht",
        "mit",
        "von",
        "zu",
        "auf",
        "für",
        "le",
        "les",
        "des",
        "une",
        "est",
        "sont",
        "et",
        "ou",
        "pas",
        "il",
        "elle",
        "dans",
        "pour",
        "sur",
        "avec",
        "o",
        "os",
        "as",
        "um",
        "uma",
        "é",
        "são",
        "não",
        "com",
        "para",
        "por",
        "em",
        "da",
        "do",
        "dos",
        "das",
    ]
)


def _content_terms(text: str) -> set[str]:
    terms: set[str] = set()
    for tok in _swap_tokens(text[:_MAX_COMPARE]):
        if re.match(rf"[{_HAN}{_SEA}]", tok):
            terms.add(tok)
        elif len(tok) >= 3 and tok not in _FUNCTION_WORDS:
            terms.add(tok[:6])  # a light stem: "closing"/"closed", "vaccines"/"vaccine"
    return terms


def _shares_content(query: str, claim_text: str | None) -> bool:
    """At least two content words (or three CJK/Thai characters) in common."""
    if claim_text is None:
        return False
    shared = _content_terms(query) & _content_terms(claim_text)
    script = sum(1 for t in shared if re.match(rf"[{_HAN}{_SEA}]", t))
    return len(shared) - script >= 2 or script >= 3


def _substantive(token: str) -> bool:
    if token.isdigit():
        return False  # a changed number is shown to the citizen (what_changed), not a new claim
    return len(token) >= 3 or bool(re.match(rf"[{_HAN}{_SEA}]", token))


def _swap_tokens(text: str) -> list[str]:
    # Thai-type runs have no spaces: compare them character by character, as CJK already is.
    out: list[str] = []
    for tok in _display_tokens(text):
        out.extend(tok if re.match(rf"[{_SEA}]", tok) else [tok])
    return out


def substitutes(query: str, claim_text: str, *, min_words: int = 2, min_share: float = 0.12) -> bool:
    """True when the citizen's text swaps words of the claim for other words, not just adds
    boilerplate, drops a tail or misspells: the mark of a different claim in the same frame.

    Mutated forwards (typos, zero-width characters, "forward to everyone", truncation) keep the
    claim's words in order; a typo is not a swap (fuzzy ratio ≥ 75 to a word it replaced).
    """
    try:
        q = _swap_tokens(query[:_MAX_COMPARE])
        c = _swap_tokens(claim_text[:_MAX_COMPARE])
        swapped = 0
        for op, c1, c2, q1, q2 in difflib.SequenceMatcher(None, c, q, autojunk=False).get_opcodes():
            if op != "replace":
                continue
            theirs = c[c1:c2]
            swapped += sum(
                1
                for tok in q[q1:q2]
                if _substantive(tok) and not any(fuzz.ratio(tok, o) >= 75 for o in theirs)
            )
        substantive = sum(1 for tok in q if _substantive(tok)) or 1
        return swapped >= min_words and swapped / substantive >= min_share
    except Exception:
        return False


def what_changed(query: str, claim_text: str, max_items: int = 6) -> list[str]:
    """What the citizen's version says that the matched claim does not.

    Each item is a run of the citizen's words (numbers, dates, names, links; CJK as
    character runs) missing from the claim; where the claim had something else in that
    place it follows as "(claim: ...)". Text only in the claim is listed as "(claim only:
    ...)" after the citizen's changes. Never raises.
    """
    try:
        q = _display_tokens(query)
        c = _display_tokens(claim_text)
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
