"""`Matcher`: the one object callers use to match a message against the known claims.

It holds the claims' candidate index (factdb/matching/index.py), keeps it in step with the
claim table, ranks candidates (scoring.py) and decides (decision.py).

Each worker holds its own. The first `refresh` builds the index from every matchable claim, or
restores the one saved at the last start and catches up (startup.py, saved_index.py);
later ones apply only the claims changed since (factdb/changes.py: a change feed written by
database triggers), so catching up costs what changed, not what exists or what was written in
the last seconds. Several processes on one PostgreSQL see the same claims: a claim added,
edited, merged, retracted or deleted by one worker is found (or no longer found) by the others
at their next message, even when its transaction commits late.

A claim is indexed by its text and by a second wording (key -id in the index; found as claim
id, listed once with its best score): the public wording a reviewer gave it, else the headline
of the fact-check it was imported with (people ask about a rumour the way headlines put it).

Without a database (benchmarks, tests): `Matcher.from_items((id, text), ...)`, then `match(text)`.

The semantic stage (semantic.py, factdb/semantic/) joins when the optional package is
installed and claim vectors are stored (computed at import): loaded at the first refresh, kept
up as claims change. Without either, matching is lexical only and costs what it did.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections.abc import Iterable
from typing import TYPE_CHECKING

from sqlmodel import Session

from factdb.changes import Change, ChangeFeed
from factdb.matching import saved_index
from factdb.matching.decision import Candidate, MatchResult, Thresholds, decide, offer_instead
from factdb.matching.index import TermIndex
from factdb.matching.scoring import rank
from factdb.matching.semantic import (
    FUSE_DEPTH,
    SemanticSide,
    base_language,
    fuse,
    held_first,
    message_language,
)
from factdb.matching.startup import StartUp
from factdb.matching.text import prepare
from factdb.models import MATCHABLE_STATUSES
from factdb.normalize import normalize

if TYPE_CHECKING:
    from factdb.semantic.embedder import Embedder
    from factdb.semantic.fusion import SemanticThresholds
    from factdb.semantic.stage import SemanticStage

log = logging.getLogger(__name__)

# The explanation's line where the semantic stage joins (MatchResult.explanation).
SEMANTIC_JOINED = "semantic stage: candidates by meaning fused with the lexical ones"


class Matcher(StartUp, SemanticSide):
    def __init__(
        self,
        thresholds: Thresholds | None = None,
        semantic: SemanticStage | bool | None = None,
        semantic_thresholds: SemanticThresholds | None = None,
        embedder: Embedder | None = None,
    ) -> None:
        """`semantic`: a stage to use, False for lexical only, None (the bot's) to use the
        stage when the package is installed and vectors are stored (at the first refresh);
        `embedder`: the model that stage uses (default: the package's, shared by the process)."""
        self.thresholds = thresholds or Thresholds()
        self.semantic: SemanticStage | None = (
            None if isinstance(semantic, bool) or semantic is None else semantic
        )
        self._semantic_auto = semantic is None
        self._semantic_thresholds = semantic_thresholds
        self._embedder = embedder
        self._langs: dict[int, str | None] = {}  # claim id -> language as stored with the claim
        self._detected: dict[int, str | None] = {}  # claim id -> detected from its text, if not stored
        self._pending: dict[int, str] = {}  # claim id -> normalised text still without a vector
        self._index = TermIndex()
        self._feed: ChangeFeed | None = None
        self._worded: set[int] = set()  # claims indexed with a second wording too (key -id)
        self._headlined: set[int] = set()  # ...whose second wording is an imported headline
        self._version = 0  # bumped by every change to the lexical index (see match)
        # The first refresh's start: the saved index it restored (None: built), and the thread
        # saving the index it built, if any (join it to wait for the file).
        self.restored: saved_index.Restored | None = None
        self.saving: threading.Thread | None = None
        # Reentrant: match() refreshes under the same lock. Handlers run in worker threads, and
        # the index's arrays must not change under a search.
        self._lock = threading.RLock()

    @classmethod
    def from_items(
        cls,
        items: Iterable[tuple[int, str]],
        thresholds: Thresholds | None = None,
        semantic: SemanticStage | None = None,
        headlines: Iterable[tuple[int, str]] = (),
    ) -> Matcher:
        """A matcher over (claim_id, raw text) pairs, built in one pass, with no database
        behind it (later ids win); keep it current with `add` and `remove`. With `semantic`
        (a stage holding the claims' vectors) it fuses both stages as the bot does;
        `headlines`: (claim_id, headline) of imported fact-checks, the claims' second wordings."""
        matcher = cls(thresholds, semantic if semantic is not None else False)
        headlines = list(headlines)
        matcher._index = TermIndex.from_items([*items, *((-cid, h) for cid, h in headlines)])
        matcher._worded = {cid for cid, _ in headlines}
        matcher._headlined = set(matcher._worded)
        return matcher

    # -- keeping up with the claim table -------------------------------------------------------

    def refresh(self, session: Session) -> int:
        """Apply every claim change since the last refresh; returns how many claims were read.

        Reads on a connection of its own (committed changes only), not in `session`'s
        transaction: a change the caller has not committed yet is not a change yet.

        The first refresh restores the index saved on disk at the last start and reads only
        the claims changed since (saved_index.py), else builds it from every matchable claim
        and, at national scale, saves it in the background (`saving`).
        """
        with self._lock:
            with session.get_bind().connect() as conn:
                if self._feed is None:
                    return self._start(session, conn)
                changes = self._feed.read(conn)
            for change in changes:
                self._apply(change)
            return len(changes)

    def _build(self, rows: list) -> None:  # type: ignore[type-arg]
        # `normalized` is normalize(text), kept so by every writer (intake, importer, and the
        # ORM hook in factdb/models.py for edits): the bulk build skips normalising again.
        items = [(cid, norm) for cid, norm, _ in rows]
        worded = [(cid, public) for cid, _, public in rows if public]
        # Both wordings in one pass: added one at a time, the second wordings (every imported
        # headline) each re-packed the index now and then (10^6 claims, half with headlines:
        # 237 s) and kept the term weights of the moment they were added.
        self._index = TermIndex.from_normalized(
            [*items, *((-cid, normalize(public)) for cid, public in worded)]
        )
        self._worded = {cid for cid, _ in worded}
        self._version += 1

    def _apply(self, change: Change) -> None:
        self._version += 1
        cid = change.claim_id
        if change.text is None or change.status not in MATCHABLE_STATUSES:
            self.remove(cid)
            return
        if self.semantic is not None and self._index.text_of(cid) != prepare(change.text):
            self._pending[cid] = normalize(change.text)
        # Re-adding costs a normalisation and postings; most changes (a status between two
        # matchable ones, this worker's own new claim) leave the text as it is.
        if self._index.text_of(cid) != prepare(change.text):
            self._index.add(cid, change.text)
            self._detected.pop(cid, None)
        self._langs[cid] = change.lang
        if change.second_wording:
            if self._index.text_of(-cid) != prepare(change.second_wording):
                self._index.add(-cid, change.second_wording)
                if self.semantic is not None and (second := normalize(change.second_wording)):
                    self._pending[-cid] = second
            self._worded.add(cid)
            if change.second_is_headline:
                self._headlined.add(cid)
            else:
                self._headlined.discard(cid)
        elif cid in self._worded:
            self._index.remove(-cid)
            self._worded.discard(cid)
            self._headlined.discard(cid)
            self._pending.pop(-cid, None)
            if self.semantic is not None:
                self.semantic.remove_second(cid)

    def add(self, claim_id: int, text: str, lang: str | None = None) -> None:
        """Make a claim matchable at once (a worker's own new claim, before the next refresh);
        re-adding an id replaces its text. `lang`: the claim's language as stored."""
        with self._lock:
            self._version += 1
            self._index.add(claim_id, text)
            self._langs[claim_id] = lang
            self._detected.pop(claim_id, None)
            if self.semantic is not None:
                # embedded by the keeper, not here: this runs in the citizen's transaction
                self._pending[claim_id] = normalize(text)

    def remove(self, claim_id: int) -> None:
        """Stop matching a claim (both its wordings); unknown ids are ignored."""
        with self._lock:
            self._version += 1
            self._index.remove(claim_id)
            self._pending.pop(claim_id, None)
            self._pending.pop(-claim_id, None)
            if self.semantic is not None:
                self.semantic.remove(claim_id)
            if claim_id in self._worded:
                self._index.remove(-claim_id)
                self._worded.discard(claim_id)
                self._headlined.discard(claim_id)

    def compact(self) -> None:
        """Fold claims added since the bulk build into the index's packed arrays now (it also
        happens by itself once enough have been added)."""
        with self._lock:
            self._index.compact()

    # -- matching ------------------------------------------------------------------------------

    def match(self, text: str, session: Session | None = None, limit: int = 5) -> MatchResult:
        """Decide whether `text` is a known claim, after catching up with the claim table when
        given a session. Never raises on odd input."""
        prepared = prepare(text)
        with self._lock:
            if session is not None:
                self.refresh(session)
            stage = self.semantic
            if stage is None or len(stage) == 0:
                return self._lexical(text, prepared, limit, limit)[1]
            ranking, lexical, held = self._lexical(text, prepared, FUSE_DEPTH, limit)
            if lexical.decision == "match":
                return lexical  # answered by the lexical rules: no need to embed the message
            version = self._version
        # The message's vector depends on the message alone: computed without the lock (~40-90 ms
        # of CPU), so other citizens' messages are matched meanwhile.
        vector = stage.query_vector(text)
        from factdb.semantic.fusion import SemanticThresholds

        with self._lock:
            if self._version != version:
                # claims changed while the message was embedded: rank over what is indexed now,
                # so the answer is the one a match started now would give
                ranking, lexical, held = self._lexical(text, prepared, FUSE_DEPTH, limit)
                if lexical.decision == "match":
                    return lexical
            nearest = stage.nearest(vector, FUSE_DEPTH)
            thresholds = self._semantic_thresholds or SemanticThresholds()

            def fused_with(semantic: list[tuple[int, float]]) -> MatchResult:
                ranked = ranking[:FUSE_DEPTH]
                result = fuse(
                    text, ranked, lexical, semantic, self._language_of, self.thresholds, thresholds, limit
                )
                # The lexical verdict stays the first part of the explanation; a line marks where
                # the semantic stage took over, so a lexical "new claim" is not read as the outcome.
                if result is not lexical:
                    result = dataclasses.replace(result, reasons=(SEMANTIC_JOINED, *result.reasons))
                return dataclasses.replace(result, lexical_reasons=lexical.lexical_reasons)

            fused = fused_with([(cid, similarity) for cid, similarity, _ in nearest])
            if held is None and fused.decision == "match" and fused.claim_id in self._headlined:
                # as for a lexical answer (_by_headline_only): the claim answers only if its own
                # text, nearest or not, would have answered without its headline's vector
                cid = fused.claim_id
                alone = [
                    (c, own if c == cid else sim) for c, sim, own in nearest if c != cid or own is not None
                ]
                again = fused_with(sorted(alone, key=lambda r: -r[1]))
                if again.decision != "match" or again.claim_id != cid:
                    reason = "nearest by its fact-check's headline, not its own text: offered, not answered"
                    return offer_instead(fused, text, self._wordings, self.thresholds, reason, limit)
            if held is None:
                return fused
            return dataclasses.replace(held_first(fused, held, limit), lexical_reasons=held.lexical_reasons)

    def _lexical(
        self, text: str, prepared: str, depth: int, limit: int
    ) -> tuple[list[tuple[int, float]], MatchResult, MatchResult | None]:
        """The lexical ranking (`depth` deep) and decision. A confident answer with a claim in
        another language than the message is turned into an offer, the claim first
        (decision.offer_instead); the third item is then that offer, else None. One earned by
        the claim's headline alone is turned into an offer too (not held: see match)."""
        own_text: dict[int, float] = {}
        # own-text scores are only read for a claim with a headline (_by_headline_only)
        ranking = rank(self._index, prepared, max(limit, depth, 1), own_text if self._headlined else None)
        result = decide(text, prepared, ranking, self._wordings, self.thresholds, limit)
        # A near-verbatim copy of the claim is in the claim's language, whatever is stored (an
        # import may store the clarification's language with a claim written in another); a
        # near-verbatim copy of a headline is the question the fact-check answers.
        if (
            result.decision != "match"
            or result.claim_id is None
            or result.score >= self.thresholds.short_text_confident
        ):
            return ranking, result, None
        reason = self._by_headline_only(text, prepared, ranking, own_text, result)
        if reason is not None:
            # Not held: the semantic stage may still answer, by the claim's own text's vector. The
            # claim keeps its place (its headline found it) but carries its own text's score, the
            # lexical verdict on the claim that fusion reads ("swaps words" is about its text).
            offer = offer_instead(result, text, self._wordings, self.thresholds, reason, limit)
            own = own_text.get(result.claim_id, 0.0)
            return [(c, own if c == result.claim_id else sc) for c, sc in ranking], offer, None
        reason = self._other_language(text, result.claim_id)
        if reason is None:
            return ranking, result, None
        held = offer_instead(result, text, self._wordings, self.thresholds, reason, limit)
        return ranking, held, held

    def _by_headline_only(
        self,
        text: str,
        prepared: str,
        ranking: list[tuple[int, float]],
        own_text: dict[int, float],
        result: MatchResult,
    ) -> str | None:
        """Why a lexical answer is held back because only the claim's imported headline earned
        it, or None. A headline finds a claim and puts it first among the buttons, but it is
        the partner's title, often a few generic words ("'Multiple Shooters' at Orlando
        Nightclub"): on the harder forwards it answered a truncated "Orlando nightclub shooter
        Omar … Read more" with the wrong claim. So the claim answers at once only if its own
        text, scored alone, would have answered (docs/matching.md, "Headlines")."""
        cid = result.claim_id
        if cid not in self._headlined:
            return None
        own = own_text.get(cid, 0.0)
        if own >= result.score:
            return None  # its own text scored best
        alone = sorted(((c, own if c == cid else sc) for c, sc in ranking), key=lambda r: -r[1])
        again = decide(text, prepared, alone, self._wordings, self.thresholds)
        if again.decision == "match" and again.claim_id == cid:
            return None
        return "found by its fact-check's headline, not its own text: offered, not answered"

    def _other_language(self, text: str, claim_id: int) -> str | None:
        """Why the message is taken to be in another language than the claim, or None (the
        same language, or either not stored or detected). The message's language is detect_language's on the
        normalised text, so only confident detections count (lingua ≥ 0.6 on Latin script,
        langdetect ≥ 0.8, East Asian text by script): a mangled forward of an English claim
        mostly reads as English or as nothing (docs/matching.md, "Decision policy", 3)."""
        # The stored language only (intake, import and reviewers detect it on the claim's own
        # text): detecting it here from the indexed text (lower case, no accents) would not
        # always agree with the message's detection, and a claim must answer its own text.
        from factdb import language

        claim_lang = base_language(self._langs.get(claim_id))
        # Not in the seconds lingua's models take to load: langdetect, its stand-in, reads an
        # English forward in capitals as German or Vietnamese (bench.match_cli: 10 of 350
        # forwards held).
        if claim_lang is None or not language.wait_for_models(0):
            return None
        message_lang = message_language(text)
        if message_lang is None or message_lang == claim_lang:
            return None
        return f"message in {message_lang}, claim in {claim_lang}: offered, not answered"

    def _language_of(self, claim_id: int) -> str | None:
        """A claim's language for the semantic stage: stored with it, else detected from its
        indexed text once."""
        stored = self._langs.get(claim_id)
        if stored:
            return stored
        if claim_id not in self._detected:
            from factdb.language import detect_language

            text = self._index.text_of(claim_id)
            self._detected[claim_id] = detect_language(text) if text else None
        return self._detected[claim_id]

    def search(self, text: str, limit: int = 5) -> list[Candidate]:
        """The ranking alone (no decision): the best `limit` claims, best first, 0..100."""
        with self._lock:
            return [Candidate(cid, s) for cid, s in rank(self._index, prepare(text), limit)]

    def _wordings(self, claim_id: int) -> list[str]:
        """The claim's indexed text and, if it has one, its second wording."""
        texts = (self._index.text_of(claim_id), self._index.text_of(-claim_id))
        return [w for w in texts if w is not None]

    def text_of(self, claim_id: int) -> str | None:
        """The prepared text indexed for `claim_id`, or None."""
        return self._index.text_of(claim_id)

    def __len__(self) -> int:
        """Matchable claims (a claim with a second wording counts once)."""
        return len(self._index) - len(self._worded)

    def __contains__(self, claim_id: object) -> bool:
        return claim_id in self._index
