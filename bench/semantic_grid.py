"""Cheap ways to a better CLEF recall@5, measured: how the message and the claims are given
to e5, the RRF constant, the semantic list's weight and the candidate depth.

    python -m bench.semantic_grid

Tuned on CLEF train, reported on dev (the held-out side): the fused ranking as Matcher.match
builds it (lexical top D from the matcher's ranking, e5 top D, reciprocal rank fusion).
Variants of the text given to the model (vectors cached by bench/_vectors.py):
- message as is (normalize(): the bot's today) / links removed / links removed and the first
  24 words;
- claims as "passage: " (today) or as "query: " (e5's advice for symmetric tasks such as
  paraphrase retrieval: a forward and its claim say the same thing).
With --headlines the fact-checks' headlines are second wordings in both stages, as the bot
indexes an imported `title`.
"""

from __future__ import annotations

import argparse
import itertools
import re
from collections.abc import Callable, Sequence

from bench._data import load_dataset
from bench._evaluation import same_claim
from bench._vectors import embed_cached
from factdb.matching import Matcher
from factdb.matching.text import prepare
from factdb.normalize import normalize
from factdb.semantic.embedder import DIM, shared_embedder
from factdb.semantic.fusion import reciprocal_rank_fusion
from factdb.semantic.index import ExactIndex
from factdb.semantic.stage import SemanticStage

LINK_RE = re.compile(r"(?:https?://|www\.|pic\.twitter\.com/)\S+")


def no_links(text: str) -> str:
    return " ".join(LINK_RE.sub(" ", text).split())


def first_words(text: str, n: int = 24) -> str:
    return " ".join(no_links(text).split()[:n])


MESSAGE: dict[str, Callable[[str], str]] = {
    "as is": lambda t: t,
    "no links": no_links,
    "no links, 24 words": first_words,
}


def recall5(rankings: Sequence[list[int]], truths: Sequence[int], same) -> float:  # type: ignore[no-untyped-def]
    return sum(any(same(c, t) for c in r[:5]) for r, t in zip(rankings, truths, strict=True)) / len(truths)


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--headlines", action="store_true", help="index the fact-checks' headlines as second wordings too"
    )
    args = ap.parse_args(argv)
    ds = load_dataset()
    claims = ds.claims
    headlines = list(ds.headlines.items()) if args.headlines else []
    same = same_claim({cid: prepare(t) for cid, t in claims})
    matcher = Matcher.from_items(claims, headlines=headlines)
    keys = [cid for cid, _ in claims] + [-cid for cid, _ in headlines]
    claim_texts = [normalize(t) for _, t in claims] + [normalize(h) for _, h in headlines]
    indexes = {}
    for kind in ("passage", "query"):
        # the bot's stage: a claim found by either wording is listed once, at the nearer one
        index = SemanticStage(shared_embedder(), ExactIndex(DIM))
        index.add_vectors(keys, embed_cached(claim_texts, kind))
        indexes[kind] = index
    splits = {s: [q for q in ds.split(s) if q.claim_id is not None] for s in ("train", "dev")}
    lexical = {
        s: [[(c.claim_id, c.score) for c in matcher.search(q.text, 50)] for q in qs]
        for s, qs in splits.items()
    }
    print("| claims as | message | side | semantic r@5 | fused r@5 (k 60, w 1.5, depth 20) |")
    print("|---|---|---|---:|---:|")
    semantic: dict[tuple[str, str, str], list[list[tuple[int, float]]]] = {}
    for kind, (name, fn) in itertools.product(indexes, MESSAGE.items()):
        for side, qs in splits.items():
            vectors = embed_cached([fn(normalize(q.text)) for q in qs], "query")
            sem = [indexes[kind].search(v, 50) for v in vectors]
            semantic[kind, name, side] = sem
            truths = [q.claim_id for q in qs]
            fused = [
                [c.claim_id for c in reciprocal_rank_fusion(lx[:20], sm[:20])]
                for lx, sm in zip(lexical[side], sem, strict=True)
            ]
            r_sem = recall5([[c for c, _ in s] for s in sem], truths, same)
            print(f"| {kind} | {name} | {side} | {r_sem:.3f} | {recall5(fused, truths, same):.3f} |")
    print()
    print("## fusion grid on train (each text variant), best first; dev shown for the best 5")
    rows = []
    for (kind, name, side), sem in semantic.items():
        if side != "train":
            continue
        truths = [q.claim_id for q in splits["train"]]
        for k, w, depth in itertools.product((10, 30, 60, 120), (1.0, 1.5, 2.0, 3.0), (10, 20, 50)):
            fused = [
                [c.claim_id for c in reciprocal_rank_fusion(lx[:depth], sm[:depth], k=k, semantic_weight=w)]
                for lx, sm in zip(lexical["train"], sem, strict=True)
            ]
            rows.append((recall5(fused, truths, same), kind, name, k, w, depth))
    rows.sort(key=lambda r: -r[0])
    print("| train r@5 | dev r@5 | claims as | message | k | weight | depth |")
    print("|---:|---:|---|---|---:|---:|---:|")
    truths = [q.claim_id for q in splits["dev"]]
    for r_train, kind, name, k, w, depth in rows[:5]:
        sem = semantic[kind, name, "dev"]
        fused = [
            [c.claim_id for c in reciprocal_rank_fusion(lx[:depth], sm[:depth], k=k, semantic_weight=w)]
            for lx, sm in zip(lexical["dev"], sem, strict=True)
        ]
        print(
            f"| {r_train:.3f} | {recall5(fused, truths, same):.3f} | {kind} | {name} | {k} | {w} | {depth} |"
        )


if __name__ == "__main__":
    main()
