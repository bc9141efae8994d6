"""The decision: answer at once ("match"), offer candidates as buttons ("maybe"), or "new".

`decide` takes a ranking of (claim_id, score) pairs, best first, scores 0..100, and the
thresholds (factdb/matching/thresholds.py). The ranking comes from the lexical index
(factdb/matching/scoring.py); when the semantic stage is on, a message these rules do not
answer at once goes on to factdb/matching/semantic.py, where the vector index's candidates are
fused in and the semantic safety rules decide (MatchResult.reasons says how).

Rules on top of the thresholds:
1. A short message (≤ `short_text_words` words) needs `short_text_confident`: it shares its
   few words with many claims, so only a near-verbatim short claim is answered.
2. Same frame, other words → ask, don't answer: a confident score is downgraded to "maybe"
   when the message swaps several of the claim's words for others (words.substitutes) in
   every wording of the claim — unless the message's other blocks (paragraphs, or lines
   outside a "> " quote) share no content word with the claim and the blocks that do swap
   nothing (words.quoted_part: a question or a call to share around a quoted claim).
3. Offer only candidates worth asking about: score ≥ `maybe` and sharing content words with
   the message (words.shares_content).
4. Across languages → ask, don't answer (`offer_instead`, applied by the Matcher, which knows
   the claims' languages): a confident claim in another language than the message is offered
   as the first button. A translation of a checked claim is often another claim (a message
   and its translation share names, numbers and loan words, not meaning), and the citizen
   sees at a glance whether the offered claim is the one they meant.

Every decision says why (`MatchResult.explanation`, kept in match_log.reasons for admins and
`crowdcheck explain`): the lexical rules' verdict first (`lexical_reasons`, one line per rule
that applied, e.g. "lexical 87.2 ≥ confident 40.5: answered"), then what later rules made of it
(`reasons`: the language and headline rules, the semantic stage), in the order they ran; the
last line is the outcome. Figures and rule names only: never the message's words, no claim ids.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from factdb.matching import thresholds as _defaults
from factdb.matching.text import word_count
from factdb.matching.words import quoted_part, shares_content, substitutes


@dataclass(frozen=True, slots=True)
class Candidate:
    claim_id: int
    score: float  # 0..100


@dataclass(frozen=True, slots=True)
class MatchResult:
    decision: Literal["match", "maybe", "new"]
    claim_id: int | None  # best candidate unless decision == "new"
    score: float  # best candidate's score, 0 when there is none
    candidates: list[Candidate]  # best first: the ranking, whatever the decision
    # "maybe": the candidates worth showing the citizen (score ≥ maybe, sharing real words)
    offered: list[Candidate] = field(default_factory=list)
    # how the rules after the lexical ones (language, headline, semantic stage) came to their
    # part of the decision (empty: the lexical rules decided alone)
    reasons: tuple[str, ...] = ()
    # why the lexical rules decided as they did (decide): never empty for a decide() result
    lexical_reasons: tuple[str, ...] = ()

    @property
    def explanation(self) -> tuple[str, ...]:
        """The whole "why", in the order the rules ran: the lexical verdict, then the rest."""
        return (*self.lexical_reasons, *self.reasons)


# Brief messages: the "short message" for matching by meaning (≤ 8 words).
BRIEF_WORDS = 8


@dataclass(frozen=True)
class Thresholds:
    """Score cut-offs (0..100). See factdb/matching/thresholds.py for how the defaults were
    chosen."""

    confident: float = _defaults.CONFIDENT  # at or above: answer at once
    maybe: float = _defaults.MAYBE  # at or above: offer the top candidates as buttons
    short_text_confident: float = _defaults.SHORT_TEXT_CONFIDENT  # for short messages
    short_text_words: int = _defaults.SHORT_TEXT_WORDS  # "short" is at most this many words


def decide(
    text: str,
    prepared: str,
    ranking: Sequence[tuple[int, float]],
    wordings: Callable[[int], list[str]],
    thresholds: Thresholds,
    limit: int = 5,
) -> MatchResult:
    """Decide whether the message `text` (`prepared`: its prepared form) is a known claim.

    `ranking`: (claim_id, score) best first; `wordings(claim_id)`: the claim's indexed texts
    (its text and, if a reviewer set one, its public wording).
    """
    candidates = [Candidate(cid, s) for cid, s in ranking[:limit]]
    if not ranking:
        return MatchResult("new", None, 0.0, candidates, lexical_reasons=("no lexical candidate: new claim",))
    best_id, best = ranking[0]
    t = thresholds
    why: list[str] = []  # the rules that applied, in order (MatchResult.lexical_reasons)
    words = word_count(prepared)
    # A short text shares its few words with many claims; only a near-exact hit answers.
    short = words <= t.short_text_words
    confident = t.short_text_confident if short else t.confident
    bar = "near-verbatim" if short else "confident"  # the threshold in force, as reasons name it
    if short and t.confident <= best < confident:
        why.append(
            f"short message ({_words(words)} ≤ {t.short_text_words}): lexical {best:.1f} "
            f"< near-verbatim {confident:.1f}: not answered"
        )
    # A brief message (at most BRIEF_WORDS words) answered at once below a near-exact score must
    # share two real words with the claim: a few common words at the threshold are not
    # evidence enough ("can only be used in a function" is not "a crayon can be used as…").
    brief = words <= BRIEF_WORDS
    if (
        confident <= best < t.short_text_confident
        and brief
        and not any(shares_content(text, w) for w in wordings(best_id))
    ):
        why.append(
            f"brief message ({_words(words)} ≤ {BRIEF_WORDS}) shares no content word with the top "
            f"claim: lexical {best:.1f} < near-verbatim {t.short_text_confident:.1f}: not answered"
        )
        confident = math.inf
    if best >= confident:
        answered = f"lexical {best:.1f} ≥ {bar} {confident:.1f}"
        worded = wordings(best_id)
        if not worded or any(not substitutes(text, w) for w in worded):
            return _decided("match", best_id, best, candidates, (*why, f"{answered}: answered"))
        # A quoted or truncated claim with the sender's own words in blocks of their own
        # ("> the claim …\n\nIs this true?"): the claim's part, taken alone, swaps nothing.
        if not short and any(quoted_part(text, w) is not None for w in worded):
            quoted = f"{answered}; words swapped only outside the quoted claim: answered"
            return _decided("match", best_id, best, candidates, (*why, quoted))
        # Same frame, other words ("closing the library because of spies" vs "closing the
        # bridge because of a deal"): likely a different claim. Ask instead of answering.
        why.append(f"{answered}, but the message swaps words of the top claim in every wording: not answered")
    if best >= t.maybe:
        # Offer only candidates that share real words with the message: in a young database
        # with few claims, "the", "in", "is" look rare and lift unrelated claims.
        offered = [
            c
            for c in candidates
            if c.score >= t.maybe and any(shares_content(text, w) for w in wordings(c.claim_id))
        ]
        if offered:
            top = offered[0]
            if why:  # a rule above held back a score that would have answered
                why.append(f"lexical {best:.1f} ≥ maybe {t.maybe:.1f}: offered {len(offered)}")
            else:
                why.append(
                    f"lexical {best:.1f} between maybe {t.maybe:.1f} and {bar} {confident:.1f}: "
                    f"offered {len(offered)}"
                )
            return MatchResult(
                "maybe", top.claim_id, top.score, candidates, offered, lexical_reasons=tuple(why)
            )
        why.append(
            f"lexical {best:.1f} ≥ maybe {t.maybe:.1f}, but no candidate shares a content word with "
            "the message: new claim"
        )
        return _decided("new", None, best, candidates, why)
    why.append(f"best lexical {best:.1f} < maybe {t.maybe:.1f}: new claim")
    return _decided("new", None, best, candidates, why)


def _decided(
    decision: Literal["match", "new"],
    claim_id: int | None,
    score: float,
    candidates: list[Candidate],
    why: Sequence[str],
) -> MatchResult:
    return MatchResult(decision, claim_id, score, candidates, lexical_reasons=tuple(why))


def offer_instead(
    result: MatchResult,
    text: str,
    wordings: Callable[[int], list[str]],
    thresholds: Thresholds,
    reason: str,
    limit: int = 5,
) -> MatchResult:
    """A "match" turned into a "maybe": its claim first, then the other candidates worth
    offering (as rule 3 chooses them); `reason` says why it was not answered."""
    assert result.claim_id is not None
    first = Candidate(result.claim_id, result.score)
    others = [
        c
        for c in result.candidates
        if c.claim_id != first.claim_id
        and c.score >= thresholds.maybe
        and any(shares_content(text, w) for w in wordings(c.claim_id))
    ]
    offered = [first, *others][:limit]
    return MatchResult(
        "maybe",
        first.claim_id,
        first.score,
        result.candidates,
        offered,
        (*result.reasons, reason),
        result.lexical_reasons,  # what the lexical rules said stays first in the explanation
    )


def _words(n: int) -> str:
    return f"{n} word" if n == 1 else f"{n} words"
