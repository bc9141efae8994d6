"""Decision thresholds for the matcher (scores are 0..100, see factdb/matching.py).

Placeholder values until `python -m bench.match_quality --tune` derives them from data.
"""

from __future__ import annotations

CONFIDENT = 90.0
MAYBE = 60.0
SHORT_TEXT_CONFIDENT = 97.0
SHORT_TEXT_WORDS = 3
