"""How a claim's vector is made from e5's two readings: passage, query, passage + α·query.

    python -m bench.claim_recipe              # CLEF train/dev r@5, cross-lingual dev r@3
    python -m bench.claim_recipe --heldout    # the cross-lingual held-out catalogs (look once)

Semantic recall alone (exact cosine), the message read as the bot reads it ("query: ", links
left out, up to MESSAGE_TOKENS tokens). The bot keeps α = 1, the mean (factdb/semantic/embedder.py).
The raw readings are cached by bench/_vectors.py like every other benchmark vector.
"""

from __future__ import annotations

import numpy as np

from bench._crosslingual import build_cross_lingual
from bench._data import load_dataset, shared_data_dir
from bench._report import arguments
from bench._vectors import embed_cached, readings_cached
from factdb.normalize import normalize
from factdb.semantic.embedder import message_for_model

ALPHAS = (0.0, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0)


def _recall(
    claims: list[tuple[int, str]], queries: list[tuple[str, int]], k: int
) -> dict[float | str, float]:
    texts = [normalize(t) for _, t in claims]
    passage, query = readings_cached(texts, "passage"), readings_cached(texts, "query")
    messages = embed_cached([message_for_model(normalize(t)) for t, _ in queries], "query")
    ids = np.array([cid for cid, _ in claims])
    out: dict[float | str, float] = {}
    for name, vectors in [("query", query)] + [(a, passage + a * query) for a in ALPHAS]:
        vectors = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
        top = np.argsort(-(messages @ vectors.T), axis=1)[:, :k]
        out[name] = float(
            np.mean([right in set(ids[row]) for row, (_, right) in zip(top, queries, strict=True)])
        )
    return out


def main() -> None:
    parser = arguments(__doc__)
    parser.add_argument("--heldout", action="store_true", help="cross-lingual held-out catalogs")
    args = parser.parse_args()
    import os

    os.environ.setdefault("CROWDCHECK_SHARED_DATA", str(shared_data_dir() or "/work/shared/data"))
    ds = load_dataset()
    columns: dict[str, dict[float | str, float]] = {}
    if not args.heldout:
        for split in ("train", "dev"):
            pairs = [(q.text, q.claim_id) for q in ds.split(split) if q.claim_id is not None]
            columns[f"CLEF {split} r@5"] = _recall(ds.claims, pairs, 5)  # type: ignore[arg-type]
    side = "held-out" if args.heldout else "dev"
    for direction in ("→ en", "en →"):
        cs = build_cross_lingual(args.heldout, direction)
        claims = [(cid, text) for cid, text, _ in cs.claims] + (ds.claims if direction == "→ en" else [])
        pairs = [(text, right) for text, right, _, _ in cs.queries]
        columns[f"cross {direction} {side} r@3"] = _recall(claims, pairs, 3)
    print("| claim vector | " + " | ".join(columns) + " |")
    print("|---|" + "---:|" * len(columns))
    for name in ["query", *ALPHAS]:
        label = name if name == "query" else ("passage" if name == 0 else f"passage + {name}·query")
        print(f"| {label} | " + " | ".join(f"{col[name]:.3f}" for col in columns.values()) + " |")


if __name__ == "__main__":
    main()
