"""Matching a citizen's message against the known claims.

Two stages, as in Cofacts' bot: an inverted index of terms narrows any number of claims to a
few hundred candidates, then each is scored 0..100 and the best decides "match" / "maybe" /
"new" with thresholds derived from real data. Modules, in the order a message meets them:

- text.py — the prepared text and its index terms
- index.py — postings and candidates (TermIndex)
- scoring.py — one score per candidate (term overlap lifted by character similarity)
- decision.py — thresholds and rules (Thresholds, Candidate, MatchResult, decide)
- words.py — the word-level checks the decision uses
- explain.py — what_changed: what the citizen's version says that the claim does not
- semantic.py — the optional semantic stage's candidates fused in, with its safety rules
- matcher.py — Matcher, the one object callers use; keeps the index in step with the database
- thresholds.py, tuning.py — the thresholds' values, and proposals from citizens' reactions
"""

from factdb.matching.decision import Candidate, MatchResult, Thresholds
from factdb.matching.explain import what_changed
from factdb.matching.matcher import Matcher

__all__ = ["Candidate", "MatchResult", "Matcher", "Thresholds", "what_changed"]
