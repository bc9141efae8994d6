"""The candidate index: postings of index terms, claims found by shared rare terms.

An inverted index over terms (factdb/matching/text.py) narrows any number of claims to a few
hundred. Candidates are ranked by a binary BM25 (sum of the IDF of shared terms with BM25's
length normalisation). Postings live in numpy CSR arrays (4 bytes a posting) plus a small
mutable delta for claims added after the bulk build, so 10^6 claims fit in a few hundred MB.

Everything is keyed by an integer the caller chooses (the claim id; a negative key -id is a
second wording of claim id). The index never touches the database; factdb/matching/matcher.py
keeps it in step with the claim table.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Iterable

import numpy as np

from factdb.matching.arrays import Column, Found
from factdb.matching.text import STEM, compact, prepare, terms, typo_variants, words

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
# Unknown words of a query tried for typos (each costs ~100 dictionary look-ups).
_MAX_TYPOS = 8
# Fold the delta into the CSR arrays once it holds this many claims (or this share).
_DELTA_MAX_DOCS = 20_000
_DELTA_MAX_SHARE = 0.05
# ...or, in a young index, once it holds this share alone. A claim added late keeps the term
# weights of the moment it was added; while the index is small those move a lot, and a tipline
# growing from its first claims decided 1.5-4 % of messages otherwise than the same claims built
# at once (a restart). Folding costs ~40 us a claim: at most ~0.2 s, every 250 adds, below this.
_YOUNG = 5_000


class TermIndex:
    """In-memory candidate index of claims, kept in sync by the caller.

    Claims are stored by an internal row number; a removed or replaced claim leaves a dead
    row that queries skip, and rows are compacted away when the delta is folded in.
    """

    def __init__(self) -> None:
        self._term_ids: dict[str, int] = {}
        self._df = Column(np.int32)  # live claims containing each term
        self._stop: np.ndarray = np.zeros(0, dtype=bool)  # per term id < len: not indexed
        # CSR postings of the bulk-built part: rows of term t are postings[indptr[t]:indptr[t+1]]
        self._indptr = np.zeros(1, dtype=np.int64)
        self._postings = np.zeros(0, dtype=np.int32)
        self._delta: dict[int, list[int]] = {}  # term id -> rows added since the last fold
        self._delta_docs = 0
        # Per row
        self._row_claim = Column(np.int64)
        self._row_alive = Column(np.bool_)
        self._row_len = Column(np.float32)  # number of distinct terms
        self._row_mass = Column(np.float32)  # sum of the IDF of its terms (as of indexing)
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
        self._factor: tuple[float, np.ndarray] | None = None  # (average length, BM25 factors)

    # -- bulk build ----------------------------------------------------------------------------

    @classmethod
    def from_items(cls, items: Iterable[tuple[int, str]]) -> TermIndex:
        """Build an index from (claim_id, raw text) pairs in one pass; later ids win."""
        latest: dict[int, str] = {}
        for claim_id, text in items:
            latest[int(claim_id)] = text
        index = cls()
        index._build((cid, prepare(text)) for cid, text in latest.items())
        return index

    @classmethod
    def from_normalized(cls, items: Iterable[tuple[int, str]]) -> TermIndex:
        """Like `from_items`, from texts already passed through `normalize` (the claim table's
        `normalized` column): skips the costliest step of a bulk build."""
        latest: dict[int, str] = {}
        for claim_id, norm in items:
            latest[int(claim_id)] = norm
        index = cls()
        index._build((cid, compact(norm)) for cid, norm in latest.items())
        return index

    def _build(self, prepared: Iterable[tuple[int, str]]) -> None:
        term_ids = self._term_ids
        flat = array("i")  # term ids of all rows, concatenated
        lengths = array("i")
        claims = array("q")
        texts: list[bytes] = []
        for claim_id, norm in prepared:
            tids = {term_ids.setdefault(t, len(term_ids)) for t in terms(norm)}
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
        self._df = Column(np.int32, df)
        idf = np.log1p((n_docs - df + 0.5) / (df + 0.5))
        mass = np.bincount(rows, weights=idf[tid_arr], minlength=n_docs).astype(np.float32)
        self._row_mass = Column(np.float32, mass)
        self._stop = stop
        self._delta = {}
        self._delta_docs = 0
        self._row_claim = Column(np.int64, np.frombuffer(claims, dtype=np.int64).copy())
        self._row_alive = Column(np.bool_, np.ones(n_docs, dtype=bool))
        self._row_len = Column(np.float32, len_arr.astype(np.float32))
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
        self._factor = None

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

    def live_keys(self) -> np.ndarray:
        """The keys indexed now (claim ids, -id for second wordings), in row order."""
        return self._row_claim.view()[self._row_alive.view()]

    def text_at(self, row: int) -> str:
        """The prepared text of a row."""
        late = self._late_text.get(row)
        if late is not None:
            return late
        return self._blob[self._offsets[row] : self._offsets[row + 1]].decode("utf-8")

    def texts_at(self, rows: np.ndarray, limit: int) -> list[str]:
        """The first `limit` characters of the prepared texts of many rows (one slice each of
        the blob, positions read in one go: per-row numpy indexing cost more than the rest of
        a query's scoring)."""
        n_base = len(self._offsets) - 1  # rows after these were added later, texts in a dict
        starts = self._offsets[np.minimum(rows, n_base)].tolist()
        ends = self._offsets[np.minimum(rows + 1, n_base)].tolist()
        blob, late = self._blob, self._late_text
        out = []
        for row, lo, hi in zip(rows.tolist(), starts, ends, strict=True):
            if row >= n_base:
                text = late[row]
            else:
                # UTF-8 takes at most 4 bytes a character: cut before decoding a long text.
                text = blob[lo : min(hi, lo + 4 * limit)].decode("utf-8", errors="ignore")
            out.append(text[:limit])
        return out

    def text_of(self, claim_id: int) -> str | None:
        """The normalised text indexed for `claim_id`, or None."""
        row = self._row_of(claim_id)
        return None if row is None else self.text_at(row)

    def add(self, claim_id: int, text: str) -> None:
        """Index a claim's raw text; re-adding an id replaces the earlier text."""
        claim_id = int(claim_id)
        self.remove(claim_id)
        norm = prepare(text)
        row = self._row_claim.size
        term_ids = self._term_ids
        tids = {term_ids.setdefault(t, len(term_ids)) for t in terms(norm)}
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
        floor = 0 if self._live < _YOUNG else _DELTA_MAX_DOCS
        if self._delta_docs > max(floor, _DELTA_MAX_SHARE * self._live):
            self.compact()

    def remove(self, claim_id: int) -> None:
        """Forget a claim; unknown ids are ignored."""
        claim_id = int(claim_id)
        row = self._row_of(claim_id)
        if row is None:
            return
        norm = self.text_at(row)
        for t in set(terms(norm)):
            self._df.data[self._term_ids[t]] -= 1
        self._row_alive.data[row] = False
        self._len_sum -= float(self._row_len.data[row])
        self._late_rows.pop(claim_id, None)
        self._late_text.pop(row, None)
        self._live -= 1

    def compact(self) -> None:
        """Fold the delta and dead rows into fresh CSR arrays."""
        alive = np.flatnonzero(self._row_alive.view())
        items = [(int(self._row_claim.data[r]), self.text_at(int(r))) for r in alive]
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
        in_base = q_tids < n_base
        # Terms added after the bulk build have no CSR postings (index 0 reads an empty range).
        lo = self._indptr[np.where(in_base, q_tids, 0)]
        count = self._indptr[np.where(in_base, q_tids + 1, 0)] - lo
        # Rarest first, a term is used while fewer than the budget's postings came before it.
        before = np.concatenate(([0], np.cumsum(count)[:-1]))
        used = int(np.count_nonzero(before <= _POSTINGS_BUDGET))
        id_parts: list[np.ndarray] = []
        w_parts: list[np.ndarray] = []
        postings, delta = self._postings, self._delta
        for tid, w, a, n in zip(
            q_tids[:used].tolist(),
            q_idf[:used].tolist(),
            lo[:used].tolist(),
            count[:used].tolist(),
            strict=True,
        ):
            if n:
                id_parts.append(postings[a : a + n])
                w_parts.append(np.full(n, w))
            late = delta.get(tid) if delta else None
            if late:
                id_parts.append(np.asarray(late, dtype=np.int32))
                w_parts.append(np.full(len(late), w))
        if not id_parts:
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        ids = np.concatenate(id_parts)
        acc = np.bincount(ids, weights=np.concatenate(w_parts))
        # Scanning the accumulator (one pass over N values) beat np.unique on the postings;
        # a comparison first makes it a scan of booleans, several times faster than of floats.
        rows = np.flatnonzero(acc > 0)
        rows = rows[self._row_alive.data[rows]]
        score = acc[rows] * self._bm25_factor()[rows]
        if len(rows) > limit:
            top = np.argpartition(score, -limit)[-limit:]
            rows, score = rows[top], score[top]
        order = np.argsort(-score, kind="stable")
        return rows[order], acc[rows[order]]

    def _correct_typos(self, query: str, uniq: dict[str, None]) -> dict[str, None]:
        """The query's terms with each unknown word term (4+ letters) replaced by the known term
        one slip of a finger away (text.typo_variants), so that "vaccime" finds "vaccine";
        left unknown when several known terms are that close (taking the most common one cost
        a CLEF dev paraphrase its top-5 place). At most _MAX_TYPOS words a query: a long message brings many
        unknown names and handles, and enough known terms to be found without them."""
        fixed: dict[str, str] = {}
        tried = 0
        df = self._df.data
        for word in words(query):
            term = word[:STEM]
            if term in fixed or term in self._term_ids or len(word) < 4 or not word.isalpha():
                continue
            tried += 1
            if tried > _MAX_TYPOS:
                break
            found = [
                (int(df[tid]), t) for t in typo_variants(word) if (tid := self._term_ids.get(t)) is not None
            ]
            if len(found) == 1:  # one reading only: an ambiguous slip is left unknown
                fixed[term] = found[0][1]
        if not fixed:
            return uniq
        return dict.fromkeys(fixed.get(t, t) for t in uniq)

    def _bm25_factor(self) -> np.ndarray:
        """BM25's length normalisation, (k1 + 1) / norm, for every row, computed again only
        when the average length has changed (claims added or removed)."""
        avg_len = self._len_sum / max(self._live, 1)
        cached = self._factor
        if cached is None or cached[0] != avg_len or len(cached[1]) < self._row_len.size:
            lengths = self._row_len.data[: self._row_len.size]
            norm = 1.0 + _K1 * (1.0 - _B + _B * lengths / max(avg_len, 1e-9))
            cached = self._factor = (avg_len, (_K1 + 1.0) / norm)
        return cached[1]

    def candidates(self, query: str, limit: int) -> Found:
        """Up to `limit` rows sharing the query's rarest terms, best BM25 first (none for an
        empty index or a query without terms)."""
        if limit <= 0 or self._live == 0:
            return Found.none()
        term_list = terms(query)
        if not term_list:
            return Found.none()
        uniq = dict.fromkeys(term_list)
        if any(t not in self._term_ids for t in uniq):
            uniq = self._correct_typos(query, uniq)
        known = list(dict.fromkeys(self._term_ids[t] for t in uniq if t in self._term_ids))
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
        rows, shared = self._candidate_rows(sel_t, sel_w, limit)
        return Found(
            rows=rows,
            keys=self._row_claim.data[rows],
            shared=shared,
            claim_mass=self._row_mass.data[rows].astype(np.float64),
            query_mass=q_mass,
            query_terms=len(uniq),
        )
