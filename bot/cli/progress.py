"""Progress bars for long admin commands (import, export), silent when not on a terminal.

A thin wrapper over rich.progress so library code (factdb) only sees a `task(...)` context
manager yielding `advance(k)`, and scripts piping our output get no escape codes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    SpinnerColumn,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.progress import Progress as RichProgress

__all__ = ["Progress"]


def _noop(_k: float = 1) -> None:
    return None


class Progress:
    def __init__(self, enabled: bool, *, console: Console | None = None) -> None:
        self.enabled = enabled
        # stderr: stdout may be the export file itself (`crowdcheck export > feed.json`).
        self._console = console or Console(stderr=True)

    @contextmanager
    def task(
        self, description: str, total: float | None = None, *, unit: str = "rows"
    ) -> Iterator[Callable[..., None]]:
        """`with progress.task("Importing", total=n) as advance: advance(k)`.

        With `total=None` the bar is indeterminate and shows the count so far. `unit="bytes"`
        (a file read as a stream) hides the raw counts, which read as noise in bytes.
        """
        if not self.enabled:
            yield _noop
            return
        columns = [SpinnerColumn(), TextColumn("{task.description}"), BarColumn()]
        if total is None:
            columns.append(TextColumn("{task.completed:,.0f}"))
        elif unit == "bytes":
            columns += [TaskProgressColumn(), TimeRemainingColumn()]
        else:
            columns += [MofNCompleteColumn(), TaskProgressColumn(), TimeRemainingColumn()]
        columns.append(TimeElapsedColumn())
        with RichProgress(*columns, console=self._console, transient=False) as bar:
            task_id = bar.add_task(description, total=total)

            def advance(k: float = 1) -> None:
                bar.advance(task_id, k)

            yield advance
