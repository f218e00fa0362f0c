"""What a Ctrl-C in the middle of ``upgrade`` / ``downgrade`` / ``stamp`` did, in one line.

Alembic runs the steps it is handed one by one; ``StepTracker`` hands them over and remembers which one was
running. When the run is interrupted, the version table is read again (it is the truth about what stayed),
and ``interrupted_error`` says which step was interrupted, which steps were rolled back and where the database
is now, or, on MariaDB/MySQL, that the interrupted step's DDL could not be rolled back.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from dbops.errors import MigrationInterruptedError
from dbops.migrations.results import Step

__all__ = ["StepTracker", "interrupted_error"]


class StepTracker:
    """Yields Alembic's steps, keeping the ``Step`` of each one handed out (the last one is running)."""

    def __init__(self, describe: Callable[[Any], Step]) -> None:
        self._describe = describe
        self.started: list[Step] = []
        self.initial: tuple[str, ...] = ()

    def track(self, initial: tuple[str, ...], steps: list[Any]) -> Iterator[Any]:
        self.initial = initial
        for step in steps:
            self.started.append(self._describe(step))
            yield step


def _revisions(revisions: tuple[str, ...] | frozenset[str]) -> str:
    return ", ".join(sorted(revisions)) or "<base>"


def interrupted_error(
    tracker: StepTracker, after: frozenset[str] | None, *, dialect: str, command: str
) -> MigrationInterruptedError:
    """The error (exit 130) for a run interrupted after ``tracker`` handed out its steps."""
    if not tracker.started:
        where = f"; the database is at {_revisions(after)}" if after is not None else ""
        return MigrationInterruptedError(f"{command} interrupted before any migration ran{where}")
    step = tracker.started[-1]
    text = f"{command} interrupted during {step}"
    if after is None:
        return MigrationInterruptedError(f"{text}; the version table could not be read afterwards")
    where = f"the database is at {_revisions(after)}"
    if dialect in ("mysql", "mariadb"):
        return MigrationInterruptedError(
            f"{text}; {where}: {dialect} cannot roll back DDL, so what {_revisions(step.to_revisions)} changed "
            "before the interrupt stays (check it before upgrading again)"
        )
    # The steps rolled back are those after the last one whose starting point is where the database is now.
    first = next(
        (
            index
            for index in range(len(tracker.started) - 1, -1, -1)
            if frozenset(tracker.started[index].from_revisions) == after
        ),
        len(tracker.started) - 1,
    )
    rolled_back = [_revisions(s.to_revisions) for s in tracker.started[first:]]
    return MigrationInterruptedError(f"{text}; rolled back {', '.join(rolled_back)}; {where}")
