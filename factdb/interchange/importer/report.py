"""What every part of the importer shares: the report, the failure, the unit of work."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Protocol

CHUNK = 5000  # records per transaction: big enough to amortise commits, small for memory


class ImportFailed(Exception):
    """The whole input is unusable (unknown format, unreadable); the message is one line."""


@dataclass
class Problem:
    where: str  # "line 12" (JSON Lines), "row 7" (CSV, as a spreadsheet numbers it), "item 3"
    reason: str


@dataclass
class ImportReport:
    added: int = 0
    updated: int = 0
    problems: list[Problem] = field(default_factory=list)
    # Records identical to what the database already holds: not rewritten, so the match
    # index is not made to re-read them. Not part of added/updated.
    unchanged: int = 0


class ProgressLike(Protocol):
    def task(
        self, description: str, total: float | None = None, *, unit: str = "rows"
    ) -> AbstractContextManager[Callable[..., None]]: ...


Item = tuple[str, object]  # (where, raw JSON line bytes, a parsed record, or a CSV problem)
Chunk = tuple[list[Item], int]  # items and how much input they used (bytes or records, for progress)
