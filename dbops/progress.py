"""How engines report progress and messages without knowing about terminals.

Engines take a ``Reporter``; the CLI passes a Rich one (``dbops.cli.render``), the tests a recording
one (``tests/reporter.py``) and library callers get ``NullReporter`` by default.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Protocol

__all__ = ["NullReporter", "ProgressTask", "Reporter"]


class ProgressTask(Protocol):
    def advance(self, amount: int = 1) -> None: ...


class Reporter(Protocol):
    def info(self, message: str) -> None:
        """A line of what is happening (``Running upgrade abc -> def``)."""

    def warn(self, message: str) -> None:
        """Something the user should know that does not stop the work."""

    def progress(self, description: str, total: int | None) -> AbstractContextManager[ProgressTask]:
        """A context manager yielding a task to ``advance`` while ``total`` units of work are done."""


class _NullTask:
    def advance(self, amount: int = 1) -> None:
        return None


class NullReporter:
    """Reports nothing."""

    def info(self, message: str) -> None:
        return None

    def warn(self, message: str) -> None:
        return None

    @contextmanager
    def progress(self, description: str, total: int | None) -> Iterator[ProgressTask]:
        yield _NullTask()
