"""What git says about a directory at another ref: files added since, and file contents there.

``lint --since REF`` and ``verify --since REF`` compare the working tree with the point where it branched
from ``REF`` (``git merge-base REF HEAD``), like a pull request's diff: revisions that landed on ``REF`` after
the branch point are not "new" here. Uncommitted and untracked files count as added.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from dbops.errors import MigrationError

__all__ = ["added_since", "files_at"]


def _git(directory: Path, *args: str, stdin: bytes | None = None) -> bytes:
    try:
        completed = subprocess.run(
            ["git", *args], cwd=directory, input=stdin, capture_output=True, check=False, timeout=60
        )
    except FileNotFoundError as error:
        raise MigrationError("--since needs git, which is not installed (or not on PATH)") from error
    if completed.returncode != 0:
        detail = completed.stderr.decode(errors="replace").strip().splitlines()
        raise MigrationError(f"git {' '.join(args[:2])} failed in {directory}: {detail[0] if detail else 'error'}")
    return completed.stdout


def _root(directory: Path) -> Path:
    return Path(_git(directory, "rev-parse", "--show-toplevel").decode().strip())


def _base(directory: Path, ref: str) -> str:
    try:
        return _git(directory, "merge-base", ref, "HEAD").decode().strip()
    except MigrationError as error:
        raise MigrationError(f"cannot compare with git ref {ref!r} in {directory}: {error}") from error


def added_since(directory: Path, ref: str) -> set[Path]:
    """The files under ``directory`` that are new since the branch point with ``ref`` (resolved paths)."""
    directory = directory.resolve()
    root = _root(directory)
    base = _base(directory, ref)
    changed = _git(directory, "diff", "--name-only", "--no-renames", "--diff-filter=A", "-z", base, "--", ".")
    untracked = _git(directory, "ls-files", "--others", "--exclude-standard", "-z", "--", ".")
    found = {(root / name).resolve() for name in changed.decode().split("\0") if name}
    found |= {(directory / name).resolve() for name in untracked.decode().split("\0") if name}
    return found


def files_at(directory: Path, ref: str, suffix: str = ".py") -> dict[str, bytes]:
    """``{path relative to directory: content}`` of the files under ``directory`` at the branch point with ``ref``.

    One ``git cat-file --batch`` reads them all, so 500 revisions cost one process, not 500.
    """
    directory = directory.resolve()
    root = _root(directory)
    base = _base(directory, ref)
    prefix = directory.relative_to(root).as_posix()
    listing = _git(root, "ls-tree", "-r", "-z", "--name-only", base, "--", prefix or ".")
    names = [name for name in listing.decode().split("\0") if name.endswith(suffix)]
    if not names:
        return {}
    output = _git(root, "cat-file", "--batch", stdin="".join(f"{base}:{name}\n" for name in names).encode())
    contents: dict[str, bytes] = {}
    position = 0
    for name in names:
        header_end = output.index(b"\n", position)
        header = output[position:header_end].split()
        size = int(header[2]) if len(header) == 3 else 0
        start = header_end + 1
        contents[Path(name).relative_to(prefix).as_posix() if prefix else name] = output[start : start + size]
        position = start + size + 1
    return contents
