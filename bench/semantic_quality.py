"""Semantic matching quality: lexical, semantic (multilingual-e5-small) and fused, side by side.

    python -m bench.semantic_quality              # CLEF dev + cross-lingual dev, calibration on train
    python -m bench.semantic_quality --heldout    # cross-lingual held-out catalogs (look once)

CLEF: the 3,013 claims of ../shared/data; queries are the verbatim tweets (train: calibration,
dev: measurement). Cross-lingual: bench/_crosslingual.py (translators' renderings of English
messages, both directions, each its own database with the 3,013 claims added as distractors).
Rankings: lexical = factdb.matching's MatchIndex; semantic = exact cosine over e5 vectors of
the normalised texts; fused = reciprocal rank fusion of both top 20. Decisions: the lexical
matcher's, then factdb.semantic.fusion.decide with the thresholds calibrated here on train.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np

from bench._crosslingual import build_cross_lingual
from bench._data import load_dataset, shared_data_dir
from bench._report import arguments, print_table
from bench._vectors import embed_cached, lexical_matcher
from factdb.normalize import normalize
from factdb.semantic.embedder import DIM
from factdb.semantic.fusion import SemanticThresholds, decide, reciprocal_rank_fusion
from factdb.semantic.index import ExactIndex

DEPTH = 20  # candidates each stage hands to the fusion
MIN_EVIDENCE = 100  # semantic answers a cross-lingual threshold must have made, all right


class Setup:
    """One database (claims with a language) with its lexical and vector indexes."""

    def __init__(self, claims: Sequence[tuple[int, str, str]]) -> None:
        self.lang = {cid: lang for cid, _, lang in claims}
        self.text = {cid: normalize(text) for cid, text, _ in claims}
        self.matcher = lexical_matcher([(cid, text) for cid, text, _ in claims])
        ids = [cid for cid, _, _ in claims]
        self.vectors = ExactIndex(DIM)
        self.vectors.add(ids, embed_cached([self.text[c] for c in ids], "passage"))

    def run(self, queries: Sequence[tuple[str, int | None, str]]) -> list[dict]:
        """Per query: the three rankings and the lexical decision."""
        qvecs = embed_cached([normalize(q) for q, _, _ in queries], "query")
        out = []
        for (text, right, lang), qv in zip(queries, qvecs, strict=True):
            result = self.matcher.match(text)
            lexical = [(c.claim_id, c.score) for c in result.candidates[:DEPTH]]
            semantic = self.vectors.search(qv, DEPTH)
            fused = [(c.claim_id, c.fused) for c in reciprocal_rank_fusion(lexical, semantic)]
            out.append(
                {
                    "text": text,
                    "right": right,
                    "lang": lang,
                    "result": result,
                    "lexical": lexical,
                    "semantic": semantic,
                    "fused": fused,
                }
            )
        return out


def _same(setup: Setup, a: int | None, b: int | None) -> bool:
    return a is not None and b is not None and (a == b or setup.text.get(a) == setup.text.get(b))


def _recall(setup: Setup, runs: list[dict], key: str, k: int) -> float:
    pos = [r for r in runs if r["right"] is not None]
    return sum(any(_same(setup, cid, r["right"]) for cid, _ in r[key][:k]) for r in pos) / max(1, len(pos))


def _mrr(setup: Setup, runs: list[dict], key: str) -> float:
    pos = [r for r in runs if r["right"] is not None]
    total = 0.0
    for r in pos:
        for rank, (cid, _) in enumerate(r[key][:DEPTH], 1):
            if _same(setup, cid, r["right"]):
                total += 1 / rank
                break
    return total / max(1, len(pos))


def decisions(setup: Setup, runs: list[dict], th: SemanticThresholds) -> dict[str, float]:
    """Answered at once and right / wrong (÷ all messages), offers holding the right claim."""
    right = wrong = wrong_semantic = right_semantic = offered_right = offered = 0
    for r in runs:
        res = r["result"]
        cross = {cid for cid, _ in r["semantic"] if setup.lang.get(cid) != r["lang"]}
        d = decide(r["text"], res.decision, res.claim_id, r["semantic"], cross, th)
        if d.decision == "match":
            ok = _same(setup, d.claim_id, r["right"])
            right += ok
            wrong += not ok
            wrong_semantic += not ok and res.decision != "match"
            right_semantic += ok and res.decision != "match"
        elif d.decision == "maybe":
            offered += 1
            offered_right += any(_same(setup, c, r["right"]) for c in d.offered)
    n = len(runs)
    return {
        "auto_right": right / n,
        "wrong_auto": wrong,
        "of_them_semantic": wrong_semantic,
        "semantic_right": right_semantic,
        "offered": offered / n,
        "offers_hold_right": offered_right / max(1, offered),
    }


def calibrate(setup: Setup, runs: list[dict]) -> SemanticThresholds:
    """Lowest answer cosine (step 0.005) with 0 wrong semantic answers on these runs; the offer
    cosine where offers hold the right claim ≥ 60 % of the time."""
    answer = None
    for cos in np.arange(0.99, 0.80, -0.005):
        th = SemanticThresholds(answer=round(float(cos), 3), offer=round(float(cos), 3))
        if decisions(setup, runs, th)["of_them_semantic"] > 0:
            break
        answer = round(float(cos), 3)
    offer = 0.99
    for cos in np.arange(0.99, 0.75, -0.005):
        stats = decisions(setup, runs, SemanticThresholds(answer=None, offer=round(float(cos), 3)))
        if stats["offered"] == 0:
            continue
        if stats["offers_hold_right"] < 0.6:
            break
        offer = round(float(cos), 3)
    return SemanticThresholds(answer=answer, offer=offer)


def calibrate_cross(pairs: list[tuple[Setup, list[dict]]], same: SemanticThresholds) -> float | None:
    """Lowest cosine (step 0.005) at which answering cross-lingual hits at once makes 0 wrong
    answers on these (dev) runs, trusted only if it answered ≥ MIN_EVIDENCE of them (0 wrong
    in n bounds the error rate under 3/n at 95 %); otherwise None: offer only."""
    best = None
    for cos in np.arange(0.99, 0.80, -0.005):
        th = SemanticThresholds(
            answer=same.answer, offer=same.offer, cross_lingual_answer=round(float(cos), 3)
        )
        stats = [decisions(setup, runs, th) for setup, runs in pairs]
        if any(st["of_them_semantic"] > 0 for st in stats):
            break
        if sum(st["semantic_right"] for st in stats) >= MIN_EVIDENCE:
            best = round(float(cos), 3)
    return best


def tune_fusion(clef: Setup, train: list[dict], cross: list[tuple[Setup, list[dict]]]) -> None:
    """Print CLEF train r@5 and cross-lingual r@3 for a grid of fusion settings (dev data)."""
    print("\nfusion grid (tuning data: CLEF train r@5, cross-lingual dev r@3 per direction):")
    for weight in (1.0, 1.5, 2.0, 3.0):
        for floor in (0.0, 15.0, 25.0, 35.0):
            scores = []
            for setup, runs, k in [(clef, train, 5)] + [(s, r, 3) for s, r in cross]:
                refused = [
                    dict(
                        r,
                        fused=[
                            (c.claim_id, c.fused)
                            for c in reciprocal_rank_fusion(
                                r["lexical"], r["semantic"], semantic_weight=weight, lexical_floor=floor
                            )
                        ],
                    )
                    for r in runs
                ]
                scores.append(_recall(setup, refused, "fused", k))
            print(
                f"  weight {weight} floor {floor}: "
                + " ".join(f"{x:.3f}" for x in scores)
                + f"  mean {sum(scores) / len(scores):.3f}"
            )


def _rows(name: str, setup: Setup, runs: list[dict], k_list: Sequence[int]) -> list[dict]:
    rows = []
    for key in ("lexical", "semantic", "fused"):
        row: dict[str, object] = {"set": name, "method": key, "n": sum(r["right"] is not None for r in runs)}
        for k in k_list:
            row[f"r@{k}"] = f"{_recall(setup, runs, key, k):.3f}"
        row["MRR"] = f"{_mrr(setup, runs, key):.3f}"
        rows.append(row)
    return rows


def main() -> None:
    parser = arguments(__doc__)
    parser.add_argument("--heldout", action="store_true", help="cross-lingual held-out catalogs")
    parser.add_argument("--tune", action="store_true", help="print a grid of fusion settings (dev data)")
    args = parser.parse_args()
    os.environ.setdefault("CROWDCHECK_SHARED_DATA", str(shared_data_dir() or "/work/shared/data"))
    ds = load_dataset()
    base = [(cid, text, "en") for cid, text in ds.claims]
    clef = Setup(base)
    train = clef.run([(q.text, q.claim_id, "en") for q in ds.split("train")])
    dev = clef.run([(q.text, q.claim_id, "en") for q in ds.split("dev")])
    rows = _rows("CLEF train", clef, train, (1, 5)) + _rows("CLEF dev", clef, dev, (1, 5))
    cross_rows, cross_runs = [], []
    for direction in ("→ en", "en →"):
        cs = build_cross_lingual(args.heldout, direction)
        setup = Setup(base + cs.claims)
        runs = setup.run([(q, right, lang) for q, right, lang, _ in cs.queries])
        cross_runs.append((direction, setup, runs))
        cross_rows += _rows(f"cross {direction}", setup, runs, (1, 3))
        for lang in sorted({r["lang"] for r in runs} - {"en"}) or ["en"]:
            sub = [r for r in runs if r["lang"] == lang or direction == "en →"]
            if direction == "→ en":
                cross_rows += [dict(row, set=f"cross {lang} → en") for row in _rows("", setup, sub, (1, 3))]
    print_table(rows)
    print()
    print_table(cross_rows)
    if args.tune:
        tune_fusion(clef, train, [(s, r) for _, s, r in cross_runs])
    th = calibrate(clef, train)
    dev_cross = [(setup, runs) for _, setup, runs in cross_runs]
    if args.heldout:  # calibrate on the dev catalogs, measure on the held-out ones
        dev_cross = []
        for direction in ("→ en", "en →"):
            cs = build_cross_lingual(False, direction)
            setup = Setup(base + cs.claims)
            dev_cross.append((setup, setup.run([(q, right, lang) for q, right, lang, _ in cs.queries])))
    th = SemanticThresholds(
        answer=th.answer, offer=th.offer, cross_lingual_answer=calibrate_cross(dev_cross, th)
    )
    print(f"\ncalibrated (same-language on CLEF train, cross-lingual on the dev catalogs): {th}")
    table = []
    for name, setup, runs in [("CLEF train", clef, train), ("CLEF dev", clef, dev)] + [
        (f"cross {d}", s, r) for d, s, r in cross_runs
    ]:
        for label, used in (("calibrated", th), ("defaults", SemanticThresholds())):
            stats = decisions(setup, runs, used)
            table.append(
                {
                    "set": name,
                    "thresholds": label,
                    **{k: f"{v:.3f}" if isinstance(v, float) else v for k, v in stats.items()},
                }
            )
    print_table(table)


if __name__ == "__main__":
    main()
