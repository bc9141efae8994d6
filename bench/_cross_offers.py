"""bench.match_quality's cross-lingual offers: what the bot offers across languages, and to
whom it should not (issue 15: right claim in the first three ≥ 0.85, 0 wrong answers).

A claim only the vector index found is offered from cosine `offer_alone` (0.86), or from
`offer_alone_cross_lingual` when it is in another language than the message
(factdb/semantic/fusion.py). This module measures both rules on the cross-lingual sets
(bench/_crosslingual.py) and what they cost on negatives: the sets' own (messages whose
counterpart is not in the database) and CLEF's (real tweets whose claim is held out: train's
on the dev side, dev's on the held-out side). `calibrate` reads the dev side only.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from bench._data import Dataset
from factdb.matching import Matcher
from factdb.semantic.fusion import SemanticThresholds

__all__ = ["CrossRun", "Outcome", "calibrate", "cross_runs", "outcome", "print_offers"]

STEP = 0.005  # calibration grid, cosine


@dataclass
class CrossRun:
    side: str  # "dev" or "held-out"
    direction: str  # "→ en" or "en →"
    matcher: Matcher  # with the semantic stage, deciding as the bot does
    positives: list[tuple[str, int]]  # (message, right claim id)
    negatives: list[str]  # the set's own: no claim for them
    clef_negatives: list[str]
    same: Callable[[int, int | None], bool]


@dataclass(frozen=True)
class Outcome:
    positives: int
    first_three: int  # answered right, or the right claim among the first three buttons
    wrong: int  # wrong answers, negatives included
    negatives: int
    negatives_offered: int
    clef_negatives: int
    clef_offered: int


def cross_runs(
    ds: Dataset, claims: list[tuple[int, str]], headlines: list[tuple[int, str]], sides: Sequence[bool]
) -> list[CrossRun]:
    """One fused matcher per cross-lingual set (`sides`: False for dev, True for held-out),
    its claims' languages as the bot stores them, the fact-checks' `headlines` (claim id,
    headline) as second wordings, every message's vector fetched once."""
    from bench._crosslingual import build_cross_lingual
    from bench._evaluation import same_claim, stored_languages
    from bench._semantic_side import _CachedStage
    from factdb.matching.text import prepare

    langs = stored_languages(claims)
    runs = []
    for heldout in sides:
        clef = [q.text for q in ds.split("dev" if heldout else "train") if q.claim_id is None]
        for direction in ("→ en", "en →"):
            cs = build_cross_lingual(heldout, direction)
            items = claims + [(cid, text) for cid, text, _ in cs.claims]
            stage = _CachedStage(items, headlines)
            matcher = Matcher.from_items(items, semantic=stage, headlines=headlines)  # type: ignore[arg-type]
            matcher._langs = langs | {cid: lang for cid, _, lang in cs.claims}
            positives = [(text, right) for text, right, _, _ in cs.queries]
            negatives = [text for text, _ in cs.negatives]
            stage.prefetch([t for t, _ in positives] + negatives + clef)
            same = same_claim({cid: prepare(t) for cid, t in items})
            side = "held-out" if heldout else "dev"
            runs.append(CrossRun(side, direction, matcher, positives, negatives, clef, same))
    return runs


def outcome(run: CrossRun, thresholds: SemanticThresholds) -> Outcome:
    """The bot's decisions on one set under `thresholds`."""
    run.matcher._semantic_thresholds = thresholds
    first_three = wrong = 0
    for text, right in run.positives:
        r = run.matcher.match(text)
        if r.decision == "match":
            first_three += run.same(r.claim_id, right)  # type: ignore[arg-type]
            wrong += not run.same(r.claim_id, right)  # type: ignore[arg-type]
        elif r.decision == "maybe":
            first_three += any(run.same(c.claim_id, right) for c in r.offered[:3])
    offered = clef_offered = 0
    for texts, is_clef in ((run.negatives, False), (run.clef_negatives, True)):
        for text in texts:
            r = run.matcher.match(text)
            wrong += r.decision == "match"
            if is_clef:
                clef_offered += r.decision != "new"
            else:
                offered += r.decision != "new"
    return Outcome(
        len(run.positives),
        first_three,
        wrong,
        len(run.negatives),
        offered,
        len(run.clef_negatives),
        clef_offered,
    )


def calibrate(runs: Sequence[CrossRun], base: SemanticThresholds) -> tuple[float, list[str]]:
    """`offer_alone_cross_lingual` from the dev sets: down from `offer_alone` in steps of
    STEP, a step is taken while it makes more positives right (in the first three) than it
    makes CLEF negatives offered something, over both directions, with no wrong answer. The
    set's own negatives are reported, not counted: their counterparts' siblings are in the
    database ("cannot open file" / "cannot open directory"), so they are offered at any
    threshold. Returns the threshold and one line per step."""
    dev = [r for r in runs if r.side == "dev"]
    assert dev, "calibrate on the dev side"

    def total(t: float) -> Outcome:
        outs = [outcome(r, replace(base, offer_alone_cross_lingual=t)) for r in dev]
        return Outcome(*(sum(getattr(o, f) for o in outs) for f in Outcome.__dataclass_fields__))

    t = base.offer_alone
    at = total(t)
    lines = [_step_line(t, at, None)]
    while True:
        lower = round(t - STEP, 3)
        below = total(lower)
        lines.append(_step_line(lower, below, at))
        gained = below.first_three - at.first_three
        cost = below.clef_offered - at.clef_offered
        if below.wrong > at.wrong or gained <= cost:
            return t, lines
        t, at = lower, below


def _step_line(t: float, o: Outcome, before: Outcome | None) -> str:
    line = (
        f"{t:.3f}: right in first three {o.first_three}/{o.positives}, wrong {o.wrong}, "
        f"CLEF negatives offered {o.clef_offered}/{o.clef_negatives}, "
        f"set negatives offered {o.negatives_offered}/{o.negatives}"
    )
    if before is not None:
        line += (
            f" (step: +{o.first_three - before.first_three} right, "
            f"+{o.clef_offered - before.clef_offered} CLEF negatives offered)"
        )
    return line


def print_offers(runs: Sequence[CrossRun], thresholds: SemanticThresholds) -> None:
    """Each set with the cross-language offer rule off (one `offer_alone` for all) and on."""
    print("## cross-lingual offers and what they cost (bench/_cross_offers.py)")
    print(
        "| set | claims found only by meaning offered from cosine | right in first 3 | wrong answers "
        "| set negatives offered | CLEF negatives offered |"
    )
    print("|---|---|---:|---:|---:|---:|")
    off = replace(thresholds, offer_alone_cross_lingual=thresholds.offer_alone)
    for run in runs:
        for label, th in (
            (f"{off.offer_alone} (one rule)", off),
            (f"{thresholds.offer_alone_cross_lingual} across languages", thresholds),
        ):
            o = outcome(run, th)
            print(
                f"| cross-lingual {run.side}, {run.direction} | {label} | "
                f"{o.first_three / o.positives:.3f} | {o.wrong} | "
                f"{o.negatives_offered / max(o.negatives, 1):.3f} ({o.negatives}) | "
                f"{o.clef_offered / max(o.clef_negatives, 1):.3f} ({o.clef_negatives}) |"
            )
    print()
