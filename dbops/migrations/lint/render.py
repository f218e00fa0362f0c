"""Render the SQL each revision runs, for the config's dialect, without touching the target database.

Offline (Alembic's ``--sql`` mode) is the normal path: one env.py run renders every revision in order, and a
recording output buffer notes, for each statement, which revision file line emitted it (the innermost stack
frame in a revision file). A revision that cannot be rendered offline (it reads through ``op.get_bind()``,
or uses batch mode on SQLite) is run instead on a throw-away shadow database, where the statements it sends
to the driver are recorded the same way (``dbops.migrations.lint.shadow``).
"""

from __future__ import annotations

import io
import os
import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dbops.errors import MigrationError, first_line

if TYPE_CHECKING:
    from alembic.script import Script, ScriptDirectory

    from dbops.config import AnyConfig

__all__ = ["Chunk", "RenderedRevision", "needs_shadow", "render_offline", "revision_frame_line"]

# Revision code that reads from the database cannot be rendered offline: its SQL depends on what it reads.
_READS_DATABASE = re.compile(r"\bget_bind\s*\(")


@dataclass(frozen=True)
class Chunk:
    """One piece of SQL as it was emitted (usually one statement) and the revision line that emitted it."""

    sql: str
    line: int | None
    """Line in the revision file of the call that emitted it; ``None`` for Alembic's own statements."""
    in_transaction: bool | None = None
    """Whether a transaction was open when it ran (shadow runs know); ``None``: follow BEGIN/COMMIT."""


@dataclass
class RenderedRevision:
    """The SQL one revision runs on upgrade."""

    revision: str
    path: str
    message: str
    chunks: list[Chunk] = field(default_factory=list)
    source: str = "offline"
    """``offline`` (rendered as ``upgrade --sql`` would) or ``shadow`` (executed on a shadow database)."""
    error: str | None = None
    """Why offline rendering failed (then the revision needs the shadow database)."""


def needs_shadow(script: Script) -> bool:
    """Whether the revision reads the database (``op.get_bind()``): only a real run shows its SQL."""
    try:
        return bool(_READS_DATABASE.search(Path(script.path).read_text(encoding="utf-8")))
    except OSError:
        return False


class _FrameLines:
    """Maps the current call stack to the innermost line in one of the revision files."""

    def __init__(self, paths: Sequence[str]) -> None:
        self._paths = {os.path.realpath(path) for path in paths}
        self._known: dict[str, bool] = {}

    def line(self) -> tuple[str, int] | None:
        frame = sys._getframe(1)
        while frame is not None:
            filename = frame.f_code.co_filename
            hit = self._known.get(filename)
            if hit is None:
                hit = self._known[filename] = os.path.realpath(filename) in self._paths
            if hit:
                return os.path.realpath(filename), frame.f_lineno
            frame = frame.f_back  # type: ignore[assignment]
        return None


def revision_frame_line(paths: Sequence[str]) -> Callable[[], tuple[str, int] | None]:
    """A function returning ``(revision path, line)`` of the innermost revision frame on the stack."""
    return _FrameLines(paths).line


class _RecordingBuffer(io.StringIO):
    """Alembic's offline output buffer: every write is kept with the revision line that caused it."""

    def __init__(self, where: Callable[[], tuple[str, int] | None]) -> None:
        super().__init__()
        self.where = where
        self.writes: list[tuple[str, tuple[str, int] | None]] = []

    def write(self, text: str) -> int:
        if text.strip():
            self.writes.append((text, self.where()))
        return len(text)


_BEGIN = re.compile(r"^\s*(BEGIN|START\s+TRANSACTION)\b", re.I)
_END = re.compile(r"^\s*(COMMIT|ROLLBACK|END)\b", re.I)
_RUNNING = re.compile(r"^-- Running upgrade .* -> (?P<revision>[^\s,]+)")


def upgrade_order(script: ScriptDirectory) -> list[Script]:
    """Every revision in the order ``upgrade heads`` from an empty database applies them."""
    steps = script._upgrade_revs("heads", ())  # type: ignore[arg-type]  # a tuple of heads is accepted
    return [step.revision for step in steps]


def render_offline(
    config: AnyConfig,
    script: ScriptDirectory,
    alembic_config: Any,
    revisions: Sequence[Script],
) -> list[RenderedRevision]:
    """Render ``revisions`` (in upgrade order, from base) offline; a revision that fails keeps its error.

    One env.py run renders them all; after a revision fails, the run starts again behind it.
    """
    from alembic.runtime.environment import EnvironmentContext
    from alembic.runtime.migration import RevisionStep

    rendered = {
        rev.revision: RenderedRevision(rev.revision, os.path.realpath(rev.path), (rev.doc or "").strip())
        for rev in revisions
    }
    where = revision_frame_line([rev.path for rev in revisions])
    remaining = list(revisions)
    while remaining:
        buffer = _RecordingBuffer(where)
        alembic_config.output_buffer = buffer
        steps = [RevisionStep(script.revision_map, rev, True) for rev in remaining]
        current: list[str] = []

        def fn(heads: Any, context: Any, steps: list[Any] = steps) -> list[Any]:
            return steps

        failure: BaseException | None = None
        try:
            with EnvironmentContext(
                alembic_config,
                script,
                fn=fn,
                as_sql=True,
                starting_rev=None,
                destination_rev="heads",
            ):
                script.run_env()
        except Exception as error:  # any failure inside a revision: that revision goes to the shadow database
            failure = error
        in_transaction = False
        for text, origin in buffer.writes:
            marker = _RUNNING.match(text)
            if marker is not None:
                current.append(marker["revision"])
                continue
            if current:  # (before the first revision: the version table's CREATE)
                line = origin[1] if origin is not None and origin[0] == rendered[current[-1]].path else None
                rendered[current[-1]].chunks.append(Chunk(text.strip(), line, in_transaction))
            if _BEGIN.match(text):
                in_transaction = True
            elif _END.match(text):
                in_transaction = False
        if failure is None:
            break
        if not current:
            raise MigrationError(
                f"cannot render the migrations of {config.describe()} offline: {_first_line(failure)}"
            ) from failure
        failed = rendered[current[-1]]
        failed.error = _first_line(failure)
        failed.chunks = []
        index = next(i for i, rev in enumerate(remaining) if rev.revision == failed.revision)
        remaining = remaining[index + 1 :]
    return [rendered[rev.revision] for rev in revisions]


def _first_line(error: BaseException) -> str:
    text = first_line(str(error))
    return f"{type(error).__name__}: {text}" if text else type(error).__name__
