"""``check``: every file the rows reference exists in its backend with the recorded size and checksum."""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from dbops.connect import run_sync
from dbops.errors import StorageError
from dbops.models import model_metadata
from dbops.progress import NullReporter, Reporter
from dbops.storage.file_object import FileObject
from dbops.storage.registry import storages
from dbops.storage.scan import BadValue, StoredColumn, count_rows, files_of, iter_batches, stored_columns

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from dbops.config import AnyConfig

__all__ = ["BAD_METADATA", "CheckResult", "FileProblem", "check_files", "file_problem"]

BAD_METADATA = "bad metadata"


@dataclass(frozen=True)
class FileProblem:
    """A referenced file that is missing or differs from what its row recorded."""

    table: str
    column: str
    row: str
    backend: str
    path: str
    problem: str
    """``missing``, ``size mismatch``, ``checksum mismatch``, ``unreadable``, or ``bad metadata`` (the row's
    value is not file metadata; ``backend`` and ``path`` are empty then)."""
    detail: str = ""

    def as_dict(self) -> dict[str, str]:
        return {
            "table": self.table,
            "column": self.column,
            "row": self.row,
            "backend": self.backend,
            "path": self.path,
            "problem": self.problem,
            "detail": self.detail,
        }


@dataclass
class CheckResult:
    rows: int = 0
    files: int = 0
    problems: list[FileProblem] = field(default_factory=list)
    columns: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def missing(self) -> list[FileProblem]:
        return [problem for problem in self.problems if problem.problem == "missing"]

    @property
    def mismatched(self) -> list[FileProblem]:
        return [problem for problem in self.problems if problem.problem not in ("missing", BAD_METADATA)]

    @property
    def bad_rows(self) -> list[FileProblem]:
        """Rows whose value is not file metadata (which files they reference can't be known)."""
        return [problem for problem in self.problems if problem.problem == BAD_METADATA]

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "columns": self.columns,
            "rows": self.rows,
            "files": self.files,
            "missing": [problem.as_dict() for problem in self.missing],
            "mismatched": [problem.as_dict() for problem in self.mismatched],
            "bad_rows": [problem.as_dict() for problem in self.bad_rows],
        }


def file_problem(item: FileObject, *, verify_checksum: bool = True) -> tuple[str, str] | None:
    """``(problem, detail)`` when ``item`` is not stored as recorded, else ``None``."""
    backend = storages.get_backend(item.backend)
    try:
        info = backend.stat(item.path)
    except StorageError as exc:
        return ("unreadable", str(exc))
    if info is None:
        return ("missing", "")
    if item.size is not None and info.size != item.size:
        return ("size mismatch", f"recorded {item.size} bytes, stored {info.size}")
    if verify_checksum and item.checksum:
        try:
            actual = info.checksum or backend.checksum(item.path)
        except StorageError as exc:
            return ("unreadable", str(exc))
        if actual != item.checksum:
            return ("checksum mismatch", f"recorded {item.checksum[:12]}…, stored {actual[:12]}…")
    return None


def check_files(
    config: AnyConfig,
    *,
    models: Sequence[str] | None = None,
    jobs: int = 8,
    verify_checksum: bool = True,
    batch_size: int = 500,
    reporter: Reporter | None = None,
) -> CheckResult:
    """Check every file referenced by the StoredObject columns of the config's models."""
    reporter = reporter or NullReporter()
    columns = stored_columns(model_metadata(config), models)
    result = CheckResult(columns=[column.label for column in columns])
    if not columns:
        reporter.warn("no StoredObject columns in the config's metadata: nothing to check")
        return result

    def work(connection: Connection) -> CheckResult:
        total = sum(count_rows(connection, column) for column in columns)
        with (
            ThreadPoolExecutor(max_workers=max(1, jobs)) as pool,
            reporter.progress("Checking stored files", total) as task,
        ):
            for column in columns:
                for rows in iter_batches(connection, column, batch_size):
                    _check_batch(column, rows, pool, result, verify_checksum)
                    result.rows += len(rows)
                    task.advance(len(rows))
        return result

    return run_sync(config, work)


def _check_batch(
    column: StoredColumn, rows: list[Any], pool: ThreadPoolExecutor, result: CheckResult, verify: bool
) -> None:
    work: list[tuple[str, FileObject]] = []
    for row in rows:
        row_id = column.row_id(row)
        if isinstance(row[-1], BadValue):
            table, name = column.table.fullname, column.column.name
            result.problems.append(FileProblem(table, name, row_id, "", "", BAD_METADATA, row[-1].detail))
            continue
        for item in files_of(row[-1]):
            storages.get_backend(item.backend)  # an unknown key is a config error: say so before any work
            work.append((row_id, item))
    outcomes = pool.map(lambda entry: file_problem(entry[1], verify_checksum=verify), work)
    for (row_id, item), outcome in zip(work, outcomes, strict=True):
        result.files += 1
        if outcome is not None:
            result.problems.append(
                FileProblem(
                    table=column.table.fullname,
                    column=column.column.name,
                    row=row_id,
                    backend=item.backend,
                    path=item.path,
                    problem=outcome[0],
                    detail=outcome[1],
                )
            )
