"""Terminal output: results to stdout, messages and progress to stderr, progress only on a terminal."""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console

    from dbops.progress import ProgressTask

__all__ = ["RichReporter", "confirm_or_refuse", "count", "print_json", "stderr", "stdout"]


@cache
def stdout() -> Console:
    from rich.console import Console

    return Console(soft_wrap=True)


@cache
def stderr() -> Console:
    from rich.console import Console

    return Console(stderr=True, soft_wrap=True)


def count(number: int, noun: str, plural: str | None = None) -> str:
    """``1 table``, ``2 tables``, ``0 tables`` (``plural`` for nouns that don't just take an s)."""
    return f"{number} {noun if number == 1 else plural or noun + 's'}"


def print_json(data: Any) -> None:
    """Machine-readable output on stdout, plain (no colour codes), one document."""
    import json

    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")
    sys.stdout.flush()


def confirm_or_refuse(question: str, *, yes: bool, refusal: str) -> bool:
    """Whether destructive work may go ahead: ``--yes`` says so, else the user's answer to ``question``.

    Without a terminal to ask on (cron, CI) and without ``--yes`` it refuses: ``ConfirmationRequiredError``
    (exit 2) with ``refusal`` saying what would have happened. A "no" returns False (the caller aborts).
    """
    if yes:
        return True
    if not sys.stdin.isatty():
        from dbops.errors import ConfirmationRequiredError

        raise ConfirmationRequiredError(
            f"{refusal}: pass --yes to confirm (stdin is not a terminal); nothing was changed"
        )
    from rich.prompt import Confirm

    return Confirm.ask(question, console=stderr(), default=False)


class _RichTask:
    def __init__(self, progress: Any, task_id: Any) -> None:
        self._progress = progress
        self._task_id = task_id

    def advance(self, amount: int = 1) -> None:
        self._progress.advance(self._task_id, amount)


class _NoTask:
    def advance(self, amount: int = 1) -> None:
        return None


class RichReporter:
    """The CLI's Reporter: messages on stderr, a progress bar when stderr is a terminal.

    Progress bars opened at the same time (``--jobs`` workers, one table each) share one live display: Rich
    allows one at a time per console.
    """

    def __init__(self, *, quiet: bool = False, console: Console | None = None) -> None:
        self.quiet = quiet
        self.console = console or stderr()
        self._lock = threading.Lock()
        self._live: Any = None
        self._bars = 0

    def info(self, message: str) -> None:
        if not self.quiet:
            self.console.print(message, highlight=False, markup=False)

    def warn(self, message: str) -> None:
        self.console.print(f"[yellow]Warning:[/] {_escape(message)}", highlight=False)

    @contextmanager
    def progress(self, description: str, total: int | None) -> Iterator[ProgressTask]:
        if self.quiet or not self.console.is_terminal:
            yield _NoTask()
            return
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        with self._lock:
            if self._live is None:
                self._live = Progress(
                    TextColumn("{task.description}"),
                    BarColumn(),
                    MofNCompleteColumn(),
                    TimeElapsedColumn(),
                    console=self.console,
                    transient=True,
                )
                self._live.start()
            progress = self._live
            self._bars += 1
            task_id = progress.add_task(description, total=total)
        try:
            yield _RichTask(progress, task_id)
        finally:
            with self._lock:
                self._bars -= 1
                if self._bars == 0:  # its last frame shows this bar done, then goes (transient)
                    progress.stop()
                    self._live = None
                else:
                    progress.remove_task(task_id)


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)
