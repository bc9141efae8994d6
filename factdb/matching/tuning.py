"""`crowdcheck tune`: thresholds proposed from what citizens did after each match decision.

Every decision is logged (`MatchLog`: score, thresholds in force, language) with what the
citizen then pressed. That is labelled data from the tipline's own traffic:

- an answer at once followed by "helpful" (or no complaint) was right; "not my message" was a
  wrong answer — the failure that matters most;
- an offer followed by "picked" had the right claim among the candidates; "none of these" did
  not.

For each language with enough labelled decisions, the proposal is the lowest score at which
wrong answers stay within the budget (1 % by default), and the lowest score at which offers
were still picked at least half the time. Too little data → keep the current value, say so.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from sqlmodel import Session, col, select

from factdb.matching.decision import Thresholds
from factdb.models import MatchLog

MIN_LABELLED = 30


@dataclass(frozen=True)
class Proposal:
    lang: str
    labelled: int  # decisions with a reaction we can read as right or wrong
    confident: float | None  # None: not enough data, keep the current threshold
    maybe: float | None
    wrong_rate_now: float | None  # wrong answers among labelled answers at the current threshold
    note: str


def _lowest_safe(points: list[tuple[float, bool]], budget: float) -> float | None:
    """Lowest threshold t such that, among points with score ≥ t, the share wrong ≤ budget."""
    if len(points) < MIN_LABELLED:
        return None
    points = sorted(points, key=lambda p: -p[0])
    best: float | None = None
    wrong = 0
    for n, (score, right) in enumerate(points, start=1):
        wrong += not right
        if n >= MIN_LABELLED // 3 and wrong / n <= budget:
            best = score
    return best


def propose(session: Session, current: Thresholds | None = None, *, budget: float = 0.01) -> list[Proposal]:
    current = current or Thresholds()
    answers: dict[str, list[tuple[float, bool]]] = defaultdict(list)
    offers: dict[str, list[tuple[float, bool]]] = defaultdict(list)
    rows = session.exec(select(MatchLog).where(col(MatchLog.outcome).is_not(None))).all()
    for row in rows:
        lang = (row.lang or "und").split("-")[0]
        if row.decision == "match" and row.outcome in ("helpful", "not_helpful", "not_my_message"):
            # "not helpful" is about the clarification, not the match: the match was right.
            answers[lang].append((row.score, row.outcome != "not_my_message"))
        elif row.decision == "maybe" and row.outcome in ("picked", "none_of_these"):
            offers[lang].append((row.score, row.outcome == "picked"))
    proposals = []
    for lang in sorted(set(answers) | set(offers)):
        a, o = answers[lang], offers[lang]
        # Offers that were picked are answers we could have given at once: they extend the
        # evidence for a lower confident threshold; "none of these" counts against it.
        evidence = a + o
        confident = _lowest_safe(evidence, budget)
        maybe = _lowest_safe(o, 0.5)
        labelled = len(evidence)
        wrong_now = None
        at_now = [right for score, right in a if score >= current.confident]
        if at_now:
            wrong_now = 1 - sum(at_now) / len(at_now)
        if confident is None:
            note = f"only {labelled} labelled decisions; keep {current.confident}"
        else:
            confident = max(confident, current.maybe)
            note = (
                "lower than now: more answers at once"
                if confident < current.confident
                else "stricter than now"
            )
        proposals.append(Proposal(lang, labelled, confident, maybe, wrong_now, note))
    return proposals


def format_table(proposals: list[Proposal], current: Thresholds | None = None) -> str:
    current = current or Thresholds()
    lines = [
        f"current: confident {current.confident}, maybe {current.maybe}, short texts {current.short_text_confident}",
        "lang  labelled  confident  maybe  wrong now  note",
    ]
    for p in proposals:
        wrong = "—" if p.wrong_rate_now is None else f"{100 * p.wrong_rate_now:.1f} %"
        conf = "—" if p.confident is None else f"{p.confident:.1f}"
        maybe = "—" if p.maybe is None else f"{p.maybe:.1f}"
        lines.append(f"{p.lang:<5} {p.labelled:>8}  {conf:>9}  {maybe:>5}  {wrong:>9}  {p.note}")
    if not proposals:
        lines.append(
            "no labelled decisions yet: citizens' button presses after answers and offers are the data"
        )
    return "\n".join(lines)
