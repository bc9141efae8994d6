"""bench.match_quality's semantic part: lexical, semantic and fused side by side in one run."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from bench._data import Dataset, Query
from bench._evaluation import Ranked, decisions, metrics, same_claim, stored_languages
from factdb.matching import Matcher
from factdb.matching.semantic import FUSE_DEPTH
from factdb.matching.text import prepare


class _CachedStage:
    """The bot's semantic stage (factdb.semantic.stage.SemanticStage: keys, second wordings,
    search) over vectors cached on disk by bench/_vectors.py, so a run does not re-embed
    3,000 claims; messages' vectors are cached too."""

    def __init__(self, claims: Sequence[tuple[int, str]], headlines: Sequence[tuple[int, str]] = ()) -> None:
        from bench._vectors import embed_cached
        from factdb.normalize import normalize
        from factdb.semantic.embedder import DIM, shared_embedder
        from factdb.semantic.index import ExactIndex
        from factdb.semantic.stage import SemanticStage

        items = [*claims, *((-cid, h) for cid, h in headlines)]  # a second wording's key is -id
        self.stage = SemanticStage(shared_embedder(), ExactIndex(DIM))
        self.stage.add_vectors(
            [k for k, _ in items], embed_cached([normalize(t) for _, t in items], "passage")
        )
        self.embedder = self.stage.embedder
        self._normalize = normalize
        self._queries: dict[str, object] = {}

    def prefetch(self, texts: Sequence[str]) -> None:
        from bench._vectors import embed_cached
        from factdb.semantic.embedder import message_for_model

        norm = [message_for_model(self._normalize(t)) for t in texts]
        for text, vector in zip(norm, embed_cached(norm, "query"), strict=True):
            self._queries[text] = vector

    def __len__(self) -> int:
        return len(self.stage)

    def query_vector(self, text: str) -> object:
        from factdb.semantic.embedder import message_for_model

        norm = message_for_model(self._normalize(text))
        if norm not in self._queries:
            self._queries[norm] = self.embedder.query(norm)
        return self._queries[norm]

    def search(self, vector: object, k: int = 20) -> list[tuple[int, float]]:
        return self.stage.search(vector, k)  # type: ignore[arg-type]

    def nearest(self, vector: object, k: int = 20) -> list[tuple[int, float, bool]]:
        return self.stage.nearest(vector, k)  # type: ignore[arg-type]

    def candidates(self, text: str, k: int = 20) -> list[tuple[int, float]]:
        return self.search(self.query_vector(text), k)


def semantic_side_by_side(  # type: ignore[no-untyped-def]
    claims: list[tuple[int, str]], headlines: list[tuple[int, str]], ds: Dataset, same, hard
) -> None:
    """Rankings and the bot's decisions: lexical alone, semantic alone (rankings only), and
    fused as Matcher does when the semantic package and vectors are there. `headlines`:
    (claim id, headline), indexed by both stages as the claims' second wordings, as the bot does."""
    from factdb import semantic
    from factdb.semantic.fusion import reciprocal_rank_fusion

    if not semantic.available():
        print("## lexical / semantic / fused: skipped (the semantic package is not installed)\n")
        return
    from bench._crosslingual import build_cross_lingual

    stage = _CachedStage(claims, headlines)
    langs = stored_languages(claims)
    lexical = Matcher.from_items(claims, headlines=headlines)
    fused = Matcher.from_items(claims, semantic=stage, headlines=headlines)  # type: ignore[arg-type]
    lexical._langs = fused._langs = langs
    sets: list[tuple[str, list[Query], Matcher, Matcher, _CachedStage, Callable]] = [  # type: ignore[type-arg]
        ("CLEF dev", ds.split("dev"), lexical, fused, stage, same),
        ("harder forwards, tuning", hard["tuning"], lexical, fused, stage, same),
        ("harder forwards, held-out", hard["heldout"], lexical, fused, stage, same),
    ]
    for heldout, direction in ((False, "→ en"), (False, "en →"), (True, "→ en"), (True, "en →")):
        cs = build_cross_lingual(heldout, direction)
        items = claims + [(cid, text) for cid, text, _ in cs.claims]
        x_stage = _CachedStage(items, headlines)
        x_lex = Matcher.from_items(items, headlines=headlines)
        x_fused = Matcher.from_items(items, semantic=x_stage, headlines=headlines)  # type: ignore[arg-type]
        # the claims' languages as the bot stores them (both matchers hold cross-language answers)
        x_lex._langs = x_fused._langs = langs | {cid: lang for cid, _, lang in cs.claims}
        x_prep = {cid: prepare(t) for cid, t in items}
        queries = [Query(text, right, "cross", lang) for text, right, lang, _ in cs.queries]
        side = "held-out" if heldout else "dev"
        sets.append(
            (f"cross-lingual {side}, {direction}", queries, x_lex, x_fused, x_stage, same_claim(x_prep))
        )
    print("## lexical, semantic and fused, side by side (fused = Matcher with the semantic stage)")
    print(
        "| set | method | r@1 | r@5 | answered right | wrong answers | right claim offered "
        "| right in first 3 | negatives offered |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for name, queries, lex_m, fused_m, st, same_fn in sets:
        st.prefetch([q.text for q in queries])
        rows = {"lexical": [], "semantic": [], "fused": []}  # type: ignore[var-annotated]
        for q in queries:
            lex = [(c.claim_id, c.score) for c in lex_m.search(q.text, FUSE_DEPTH)]
            sem = st.candidates(q.text, FUSE_DEPTH)
            fus = [(c.claim_id, c.fused) for c in reciprocal_rank_fusion(lex, sem)]
            for key, ranking in (("lexical", lex), ("semantic", sem), ("fused", fus)):
                rows[key].append(Ranked(q, [c for c, _ in ranking], [s for _, s in ranking]))
        for key in ("lexical", "semantic", "fused"):
            m = metrics(rows[key], same_fn, None)
            d: dict[str, float] | None = None
            if key != "semantic":
                d = decisions(lex_m if key == "lexical" else fused_m, queries, same_fn)
            wrong = "–" if d is None else str(round(d["wrong"] * len(queries)))
            cells = (
                ["–", wrong, "–", "–", "–"]
                if d is None
                else [
                    f"{d['answered_right']:.3f}",
                    wrong,
                    f"{d['offered_right']:.3f}",
                    f"{d['answered_right'] + d['offered_right']:.3f}",
                    f"{d['neg_offered']:.3f}" if any(q.claim_id is None for q in queries) else "–",
                ]
            )
            print(f"| {name} | {key} | {m['r@1']:.3f} | {m['r@5']:.3f} | " + " | ".join(cells) + " |")
    print()


# --- report ----------------------------------------------------------------------------------
