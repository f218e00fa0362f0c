"""A Reporter that keeps every message and progress task, so tests can assert what an engine reported."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from dbops.progress import ProgressTask

__all__ = ["RecordingReporter"]


@dataclass
class _RecordedTask:
    description: str
    total: int | None
    done: int = 0

    def advance(self, amount: int = 1) -> None:
        self.done += amount


@dataclass
class RecordingReporter:
    """Keeps every message and progress task, for tests."""

    infos: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    tasks: list[_RecordedTask] = field(default_factory=list)

    def info(self, message: str) -> None:
        self.infos.append(message)

    def warn(self, message: str) -> None:
        self.warnings.append(message)

    @contextmanager
    def progress(self, description: str, total: int | None) -> Iterator[ProgressTask]:
        task = _RecordedTask(description, total)
        self.tasks.append(task)
        yield task
