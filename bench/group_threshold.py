"""The quiet group mode's threshold: the lowest score at which the bot never answers wrongly.

    .venv/bin/python -m bench.group_threshold

In a group a wrong answer is worse than in a private chat (everybody reads it, nobody asked),
and most messages are chatter, not claims. So the bot answers in a group only when the private
chat's matcher would answer at once *and* the score reaches GROUP_CONFIDENT. This measures it:

- positives: CLEF tweets (train/dev) and synthetic tipline forwards of known claims (a
  different seed for tuning and for checking);
- negatives, the hardest we have: every positive asked again with its own claim removed from
  the index (leave one out: the message is about something close to what the database knows,
  but not the same), plus the data's negatives (their claim is held out).

The threshold is chosen on the tuning side (CLEF train + forwards seed A) only: the lowest
candidate at which every remaining "wrong" answer there, read by a person, is the same claim in
other words (at 80: one, "ALDI offers free food…" answered with "In 2018, ALDI offered free
food…"; at 75 "Osama bin Laden owns Snapple" is answered with "…owns Citibank"). The check
side (CLEF dev + forwards seed B) is reported and was not looked at while choosing.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence

from rapidfuzz import fuzz

from bench._data import CJK_THAI_CLAIMS, Query, load_dataset, make_forwards
from factdb.groups import GROUP_CONFIDENT
from factdb.matching import Matcher
from factdb.matching.text import prepare

DUPLICATE = 95.0  # rapidfuzz ratio of two claims' prepared texts at which they are one claim
CANDIDATES = (40.5, 45.0, 50.0, 55.0, 60.0, 65.0, 70.0, 75.0, 80.0, 85.0, 90.0)


def outcomes(
    matcher: Matcher, queries: Sequence[Query], same, *, leave_out: bool
) -> list[tuple[bool | None, float]]:
    """(right?, score) per message the matcher would answer at once; None = not answered.

    With `leave_out`, each positive's claim is taken out of the index first, so an answer is
    wrong unless it names a near-verbatim duplicate of the removed claim (the data holds the
    same claim twice with other quote marks: that answer would be right).
    """
    out: list[tuple[bool | None, float]] = []
    index = matcher
    for q in queries:
        removed: str | None = None
        if leave_out and q.claim_id is not None:
            removed = index.text_of(q.claim_id)
            index.remove(q.claim_id)
        try:
            r = matcher.match(q.text)
        finally:
            if removed is not None:
                index.add(q.claim_id, removed)  # type: ignore[arg-type]
        if r.decision != "match":
            out.append((None, r.score))
        elif q.claim_id is None:
            out.append((False, r.score))
        elif leave_out:
            out.append((None if duplicate(removed, index.text_of(r.claim_id)) else False, r.score))
        else:
            out.append((same(r.claim_id, q.claim_id), r.score))
    return out


def duplicate(a: str | None, b: str | None) -> bool:
    return a is not None and b is not None and fuzz.ratio(prepare(a), prepare(b)) >= DUPLICATE


def tally(rows: list[tuple[bool | None, float]], threshold: float) -> tuple[int, int]:
    right = sum(1 for ok, s in rows if ok is True and s >= threshold)
    wrong = sum(1 for ok, s in rows if ok is False and s >= threshold)
    return right, wrong


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--forwards", type=int, default=1500, help="synthetic forwards per side")
    args = ap.parse_args(argv)
    try:
        ds = load_dataset()
    except FileNotFoundError as e:
        print(f"skipped: {e}")
        return 0
    claims = ds.claims + [(100_000 + i, t) for i, t in enumerate(CJK_THAI_CLAIMS)]
    prepared = {cid: prepare(t) for cid, t in claims}

    def same(pred: int | None, truth: int | None) -> bool:
        return pred is not None and truth is not None and prepared.get(pred) == prepared.get(truth)

    t0 = time.perf_counter()
    matcher = Matcher.from_items(claims)
    sides = {
        "tuning (CLEF train + forwards seed A)": ds.split("train")
        + make_forwards(claims, args.forwards, seed=1),
        "check, not looked at (CLEF dev + forwards seed B)": ds.split("dev")
        + make_forwards(claims, args.forwards, seed=2),
    }
    results = {}
    for name, queries in sides.items():
        pos = [q for q in queries if q.claim_id is not None]
        results[name] = (
            len(pos),
            outcomes(matcher, pos, same, leave_out=False),
            outcomes(matcher, queries, same, leave_out=True),
        )
    print(f"{len(claims)} claims; {time.perf_counter() - t0:.0f} s")
    print(
        "| side | threshold | answered right (of positives) | wrong, same claim in index | wrong, left out |"
    )
    print("|---|---|---|---|---|")
    for name, (npos, rows, left_out) in results.items():
        for t in CANDIDATES:
            right, wrong = tally(rows, t)
            _, wrong_lo = tally(left_out, t)
            mark = " ← in code" if t == GROUP_CONFIDENT else ""
            print(f"| {name} | {t}{mark} | {right / npos:.3f} | {wrong} | {wrong_lo} of {len(left_out)} |")
    print(f"factdb.groups.GROUP_CONFIDENT = {GROUP_CONFIDENT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
