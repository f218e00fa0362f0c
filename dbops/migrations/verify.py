"""``verify``: the migration history is well-formed, without a database and without importing revisions.

Checks, from the revision files' top-level assignments only (``revision_files``):

- every file declares a revision, each id is unique, every ``down_revision``/``depends_on`` exists, no cycle;
- one head, unless each head sits on its own declared branch (``branch_labels`` on the head or an ancestor);
- every revision has a message, and no two non-merge revisions share one;
- with ``since=REF`` (git): no revision that existed at REF is gone, and every new revision builds on REF's
  head(s) or on other new revisions; a new revision whose parent is an older, non-head revision was written
  against an out-of-date history (an out-of-order merge);
- with ``against_db`` (the one check that connects): every revision the migration ledger says is applied still
  has its file, with the checksum recorded when it ran (Flyway's checksum validation).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dbops.migrations.revision_files import RevisionFile, parse_revision, revision_paths, version_directories

if TYPE_CHECKING:
    from dbops.config import AnyConfig
    from dbops.migrations.ledger import LedgerEntry

__all__ = ["Problem", "VerifyResult", "verify"]


@dataclass(frozen=True)
class Problem:
    kind: str
    """``unreadable``, ``duplicate``, ``dangling``, ``cycle``, ``heads``, ``message``, ``deleted``,
    ``out-of-order`` (and, with ``against_db``, ``changed`` / ``missing``)."""
    revision: str | None
    path: str | None
    message: str

    def __str__(self) -> str:
        return self.message


@dataclass
class VerifyResult:
    config: str
    revisions: int
    heads: list[str]
    problems: list[Problem] = field(default_factory=list)
    new: list[str] = field(default_factory=list)
    """With ``since``: the revisions added since that ref."""
    checked: int | None = None
    """With ``against_db``: how many applied revisions were compared with the ledger's checksums."""
    unrecorded: list[str] = field(default_factory=list)
    """With ``against_db``: revisions the version table has applied that the ledger has no row for (applied
    before it was turned on), which could not be checked."""
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "config": self.config,
            "revisions": self.revisions,
            "heads": self.heads,
            "new": self.new,
            "problems": [asdict(problem) for problem in self.problems],
            "checked": self.checked,
            "unrecorded": self.unrecorded,
            "warnings": self.warnings,
        }


def _read(directories: list[Path]) -> list[RevisionFile]:
    return [parse_revision(str(path), path.read_bytes()) for path in revision_paths(directories)]


def _graph_problems(files: list[RevisionFile]) -> tuple[dict[str, RevisionFile], list[str], list[Problem]]:
    problems: list[Problem] = []
    by_id: dict[str, RevisionFile] = {}
    for file in files:
        if file.error is not None or file.revision is None:
            problems.append(Problem("unreadable", file.revision, file.path, f"{file.path}: {file.error}"))
            continue
        if file.revision in by_id:
            first = by_id[file.revision].path
            problems.append(
                Problem(
                    "duplicate", file.revision, file.path, f"revision {file.revision} is in {first} and {file.path}"
                )
            )
            continue
        by_id[file.revision] = file
    parents: set[str] = set()
    for file in by_id.values():
        for parent in (*file.down_revisions, *file.depends_on):
            parents.add(parent)
            if parent not in by_id:
                what = "down_revision" if parent in file.down_revisions else "depends_on"
                problems.append(
                    Problem(
                        "dangling",
                        file.revision,
                        file.path,
                        f"revision {file.revision} ({file.path}) has {what} {parent}, which no file declares",
                    )
                )
    problems.extend(_cycles(by_id))
    heads = sorted(revision for revision in by_id if revision not in parents)
    return by_id, heads, problems


def _cycles(by_id: dict[str, RevisionFile]) -> list[Problem]:
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    found: list[Problem] = []
    for start in by_id:
        stack = [(start, iter(by_id[start].down_revisions))]
        state[start] = state.get(start, 0) or 1
        if state[start] == 2:
            continue
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                state[node] = 2
                stack.pop()
            elif child in by_id and state.get(child) == 1:
                found.append(Problem("cycle", child, by_id[child].path, f"revision {child} is its own ancestor"))
            elif child in by_id and child not in state:
                state[child] = 1
                stack.append((child, iter(by_id[child].down_revisions)))
    return found


def _ancestors(revision: str, by_id: dict[str, RevisionFile]) -> set[str]:
    seen: set[str] = set()
    todo = [revision]
    while todo:
        current = todo.pop()
        if current in seen or current not in by_id:
            continue
        seen.add(current)
        todo.extend(by_id[current].down_revisions)
    return seen


def _branch_label(head: str, by_id: dict[str, RevisionFile]) -> str | None:
    """The nearest declared branch label on ``head`` or its first-parent ancestors."""
    current: str | None = head
    while current is not None and current in by_id:
        if by_id[current].branch_labels:
            return by_id[current].branch_labels[0]
        downs = by_id[current].down_revisions
        current = downs[0] if len(downs) == 1 else None
    return None


def _head_problems(heads: list[str], by_id: dict[str, RevisionFile]) -> list[Problem]:
    if len(heads) <= 1:
        return []
    labels = [_branch_label(head, by_id) for head in heads]
    if all(labels) and len(set(labels)) == len(labels):
        return []  # declared branches, each with its own head
    return [
        Problem(
            "heads",
            None,
            None,
            f"{len(heads)} heads ({', '.join(heads)}): merge them (dbops merge-migrations) or declare each branch "
            "with branch_labels",
        )
    ]


def _message_problems(by_id: dict[str, RevisionFile]) -> list[Problem]:
    problems: list[Problem] = []
    seen: dict[str, str] = {}
    for revision, file in by_id.items():
        if not file.message:
            problems.append(
                Problem("message", revision, file.path, f"revision {revision} ({file.path}) has no message")
            )
            continue
        if len(file.down_revisions) > 1:
            continue  # merge revisions are often all called "merge heads"
        key = file.message.lower()
        if key in seen:
            problems.append(
                Problem(
                    "message",
                    revision,
                    file.path,
                    f"revision {revision} has the same message as {seen[key]}: {file.message!r}",
                )
            )
        else:
            seen[key] = revision
    return problems


def _since_problems(
    directories: list[Path], ref: str, by_id: dict[str, RevisionFile]
) -> tuple[list[str], list[Problem]]:
    from dbops.gitref import files_at

    old_files: list[RevisionFile] = []
    for directory in directories:
        for name, content in files_at(directory, ref).items():
            if not Path(name).name.startswith(("__init__", ".#")) and "/" not in name:
                old_files.append(parse_revision(str(directory / name), content))
    old = {file.revision: file for file in old_files if file.revision is not None and file.error is None}
    old_parents = {parent for file in old.values() for parent in file.down_revisions}
    old_heads = {revision for revision in old if revision not in old_parents}
    problems = [
        Problem("deleted", revision, file.path, f"revision {revision} ({file.path}) existed at {ref} and is gone")
        for revision, file in old.items()
        if revision not in by_id
    ]
    new = [revision for revision in by_id if revision not in old]
    for revision in new:
        for parent in by_id[revision].down_revisions:
            if parent in old and parent not in old_heads:
                heads = ", ".join(sorted(old_heads)) or "<base>"
                problems.append(
                    Problem(
                        "out-of-order",
                        revision,
                        by_id[revision].path,
                        f"new revision {revision} builds on {parent}, which is not the head at {ref} ({heads}): "
                        f"rebase it onto {heads}",
                    )
                )
        if not by_id[revision].down_revisions and old:
            problems.append(
                Problem(
                    "out-of-order",
                    revision,
                    by_id[revision].path,
                    f"new revision {revision} starts a new base although {ref} already has revisions",
                )
            )
    return sorted(new), problems


def _when(entry: LedgerEntry) -> str:
    return f"{entry.direction} on {entry.host} at {entry.started_at:%Y-%m-%d %H:%M:%S}Z"


def _ledger_problems(config: AnyConfig, by_id: dict[str, RevisionFile], result: VerifyResult) -> None:
    """Applied revisions (by the ledger) whose file is gone or changed; what the ledger can't vouch for."""
    from dbops.migrations.fast import current_revisions
    from dbops.migrations.ledger import applied_entries, read_ledger

    entries = read_ledger(config)
    table = config.alembic_config.migration_log_table
    if entries is None:
        result.warnings.append(
            f"the migration ledger {table} does not exist yet on {config.describe()}: no step ran with it"
        )
        entries = []
    applied = applied_entries(entries)
    result.checked = len(applied)
    for revision, entry in sorted(applied.items()):
        file = by_id.get(revision)
        if file is None:
            result.problems.append(
                Problem(
                    "missing",
                    revision,
                    None,
                    f"revision {revision} was applied ({_when(entry)}, file {entry.file or '?'}) and no revision "
                    "file declares it any more",
                )
            )
        elif entry.checksum is not None and entry.checksum != file.checksum:
            result.problems.append(
                Problem(
                    "changed",
                    revision,
                    file.path,
                    f"revision {revision} ({file.path}) changed since it was applied ({_when(entry)}; sha256 "
                    f"{entry.checksum[:12]}... then, {file.checksum[:12]}... now)",
                )
            )
    from dbops.migrations.commands import _translate_errors

    with _translate_errors(config, "reading the version table"):
        at = current_revisions(config) or frozenset()
    in_table = set().union(*(_ancestors(revision, by_id) for revision in at)) | set(at)
    result.unrecorded = sorted(in_table - set(applied))
    if result.unrecorded:
        result.warnings.append(
            f"{len(result.unrecorded)} applied revision(s) have no ledger row (applied before migration_log was "
            f"turned on) and were not checked: {', '.join(result.unrecorded)}"
        )


def verify(config: AnyConfig, *, since: str | None = None, against_db: bool = False) -> VerifyResult:
    """Check the revision files of ``config`` (no database, no import of revision files).

    ``against_db`` also compares the files with the migration ledger's record of what was applied (this one
    connects; ``MigrationError`` when the ledger is off).
    """
    from dbops.errors import MigrationError

    directories = version_directories(config)
    if not any(directory.is_dir() for directory in directories):
        location = config.alembic_config.script_location
        raise MigrationError(f"no migrations directory at {location} for config {config.describe()}")
    files = _read(directories)
    by_id, heads, problems = _graph_problems(files)
    problems.extend(_head_problems(heads, by_id))
    problems.extend(_message_problems(by_id))
    new: list[str] = []
    if since is not None:
        new, found = _since_problems(directories, since, by_id)
        problems.extend(found)
    result = VerifyResult(config.describe(), len(by_id), heads, problems, new)
    if against_db:
        _ledger_problems(config, by_id, result)
    return result
