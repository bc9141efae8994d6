"""The semantic stage inside the matcher: vector candidates joined to the lexical ones.

Used by Matcher (matcher.py) when the optional semantic package is installed and claim vectors
are stored (factdb/semantic/): otherwise the matcher is lexical only and none of this runs.

A message the lexical rules answer at once is never embedded (most forwards: no model cost).
For the others, the message's nearest claims by meaning join the lexical ranking by reciprocal
rank fusion (factdb/semantic/fusion.py), and fusion.decide applies the safety rules of issue 15:
a lexical answer is kept; semantic-only evidence never answers a message of ≤ 8 words; a
cross-lingual hit (message and claim in different languages) is offered, not answered; other
semantic answers need a calibrated cosine and lead. A claim only the vector index found is
offered from a calibrated cosine, lower when it is in another language than the message
(offer_alone_at). On top of those, a claim the lexical
matcher scored as confident but declined because the message swaps its words (same frame,
other words: decision.py) is never answered by the semantic stage either.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from factdb.matching.decision import Candidate, MatchResult, Thresholds
from factdb.semantic.fusion import SemanticThresholds, reciprocal_rank_fusion
from factdb.semantic.fusion import decide as semantic_decide

if TYPE_CHECKING:
    import numpy as np
    from sqlmodel import Session

    from factdb.matching.matcher import Matcher

log = logging.getLogger(__name__)

# Candidates each list hands to the fusion: 50 with RRF k 30 (bench/semantic_grid.py, tuned on
# CLEF train: fused recall@5 0.926 -> 0.940; dev 0.906 -> 0.918); it was 20 with k 60.
FUSE_DEPTH = 50


def base_language(lang: str | None) -> str | None:
    """ "zh" for zh-TW and zh-CN (one language written two ways; e5 reads both), else the tag
    in lower case; None for none or "und" (BCP 47 "undetermined")."""
    base = lang.split("-")[0].lower() if lang else None
    return None if base == "und" else base


def message_language(text: str) -> str | None:
    """The message's language as the cross-language rules compare it (base_language), None
    when unsure. Look-alike Cyrillic and Greek letters are folded back to Latin first (a mangled
    English forward must not read as Russian); nothing else of normalize(): its lower case and
    dropped accents ("patentó" -> "patento") make Spanish read as Portuguese."""
    from factdb.language import detect_language  # its models load only when a rule needs them
    from factdb.normalize import fold_homoglyphs

    return base_language(detect_language(fold_homoglyphs(text)))


def offer_alone_at(cross_lingual: bool, semantic_thresholds: SemanticThresholds) -> float:
    """The cosine at which a claim only the vector index found is offered: lower for a claim in
    another language than the message (no words in common for the lexical stage to find, and
    lower cosines across languages), still only offered, never answered."""
    if cross_lingual:
        return semantic_thresholds.offer_alone_cross_lingual
    return semantic_thresholds.offer_alone


def fuse(
    text: str,
    lexical: Sequence[tuple[int, float]],
    lexical_result: MatchResult,
    semantic: Sequence[tuple[int, float]],
    language_of: Callable[[int], str | None],
    thresholds: Thresholds,
    semantic_thresholds: SemanticThresholds,
    limit: int = 5,
) -> MatchResult:
    """The decision once the semantic candidates (claim id, cosine; best first) are in."""
    if not semantic:
        return lexical_result
    message_lang = message_language(text)
    cross = {
        cid
        for cid, _ in semantic
        if message_lang is not None
        and (claim_lang := base_language(language_of(cid))) is not None
        and claim_lang != message_lang
    }
    verdict = semantic_decide(
        text, lexical_result.decision, lexical_result.claim_id, semantic, cross, semantic_thresholds
    )
    lexical_score = dict(lexical)
    similarity = dict(semantic)

    def score(cid: int) -> float:
        # 0..100 as callers expect: the lexical score when there is one, else cosine × 100
        return lexical_score.get(cid, round(100.0 * similarity.get(cid, 0.0), 2))

    fused = reciprocal_rank_fusion(lexical, semantic)
    order = {c.claim_id: i for i, c in enumerate(fused)}
    candidates = [Candidate(c.claim_id, score(c.claim_id)) for c in fused[:limit]]
    reasons = verdict.reasons
    if verdict.decision == "match" and verdict.claim_id is not None:
        if lexical_score.get(verdict.claim_id, 0.0) >= thresholds.confident:
            # the lexical matcher declined this claim: the message swaps its words
            reasons = (*reasons, "the message swaps words of the claim: offered, not answered")
        else:
            return MatchResult("match", verdict.claim_id, score(verdict.claim_id), candidates, [], reasons)
    offered_ids = {c.claim_id for c in lexical_result.offered}
    offered_ids.update(
        cid
        for cid in verdict.offered
        if lexical_score.get(cid, 0.0) >= thresholds.maybe
        or similarity.get(cid, 0.0) >= offer_alone_at(cid in cross, semantic_thresholds)
    )
    if verdict.decision == "match" and verdict.claim_id is not None:
        offered_ids.add(verdict.claim_id)
    if not offered_ids:
        return MatchResult("new", None, lexical_result.score, candidates, [], reasons)
    offered = [Candidate(cid, score(cid)) for cid in sorted(offered_ids, key=lambda c: order.get(c, 10**9))]
    return MatchResult("maybe", offered[0].claim_id, offered[0].score, candidates, offered[:limit], reasons)


class SemanticSide:
    """Matcher's semantic stage kept in step with the claim table (a mixin of Matcher): loaded at
    start, and the claims wanting a vector handed to the keeper (factdb/semantic/keeper.py)."""

    def _start_semantic(self: Matcher, session: Session, wordings: Callable[[], dict[int, str]]) -> None:
        """Load the stored claim vectors when the semantic package is here and vectors exist;
        claims without a current vector are left to factdb/semantic/keeper.py (the runtime's
        background task: embedded, stored, then added here by `take_vectors`)."""
        from factdb import semantic

        if self._embedder is None and not semantic.wanted():
            return
        from factdb.semantic.embedder import shared_embedder
        from factdb.semantic.stage import SemanticStage
        from factdb.semantic.store import has_vectors, other_model_vectors

        engine = session.get_bind()
        try:
            model = self._embedder.model_id if self._embedder is not None else semantic.model_id()
            if not has_vectors(engine, model):  # type: ignore[arg-type]
                if old := other_model_vectors(engine, model):  # type: ignore[arg-type]
                    log.warning(
                        "semantic stage off: the %d stored claim vectors were made by another model "
                        "or recipe than %s; `crowdcheck db upgrade` recomputes them",
                        old,
                        model,
                    )
                else:
                    log.info("semantic stage off: no claim vectors stored (crowdcheck import computes them)")
                return
            texts = wordings()  # only when the stage is wanted: read again after a restore
            embedder = self._embedder or shared_embedder()
            stage = SemanticStage.from_database(engine, embed_missing=False, embedder=embedder, texts=texts)  # type: ignore[arg-type]
        except Exception:
            log.exception("semantic stage off: could not load the claim vectors")
            return
        self.semantic = stage
        self._pending = {key: text for key, text in texts.items() if key not in stage}
        log.info("semantic stage on: %d claim vectors, %d to embed", len(stage), len(self._pending))

    def vectors_wanted(self: Matcher, limit: int) -> dict[int, str]:
        """Up to `limit` claim wordings indexed here without a current vector (claim id, or -id
        for a second wording -> normalised text): new, edited or imported since the stage was
        loaded."""
        with self._lock:
            if self.semantic is None:
                return {}
            return dict(itertools.islice(self._pending.items(), limit))

    def take_vectors(self: Matcher, ids: Sequence[int], vectors: np.ndarray, texts: dict[int, str]) -> int:
        """Add vectors made from `texts` (as vectors_wanted gave them) to the stage; a claim
        edited or removed since keeps waiting, or is ignored. Returns how many were added."""
        with self._lock:
            stage = self.semantic
            if stage is None:
                return 0
            rows = [i for i, cid in enumerate(ids) if self._pending.get(cid) == texts.get(cid)]
            if rows:
                stage.add_vectors([ids[i] for i in rows], vectors[rows])
                for i in rows:
                    del self._pending[ids[i]]
            return len(rows)


def held_first(fused: MatchResult, held: MatchResult, limit: int) -> MatchResult:
    """The fused decision for a message whose lexical answer was held back because its claim is
    in another language: never an answer, the held claim first, then the fused offers."""
    first = held.offered[0]
    rest = [c for c in fused.offered if c.claim_id != first.claim_id]
    reasons = (*held.reasons, *(r for r in fused.reasons if "swaps words" not in r))
    return MatchResult(
        "maybe", first.claim_id, first.score, fused.candidates, [first, *rest][:limit], reasons
    )
