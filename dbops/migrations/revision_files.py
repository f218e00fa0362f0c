"""Read revision files without importing them: ``revision``, ``down_revision``, labels and message, by ``ast``.

Importing a revision runs its module code (and often the app's models); ``verify`` must not, and must stay
fast on hundreds of files. Alembic reads the same top-level assignments, so what is read here is what
Alembic will see (a file whose assignments are not literals is reported, not guessed at).
"""

from __future__ import annotations

import ast
import configparser
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dbops.config import AnyConfig

__all__ = ["RevisionFile", "file_checksum", "parse_revision", "version_directories"]


def file_checksum(source: bytes) -> str:
    """sha256 of a revision file, line endings normalised (a checkout with ``autocrlf`` is not a change)."""
    return hashlib.sha256(source.replace(b"\r\n", b"\n")).hexdigest()


@dataclass(frozen=True)
class RevisionFile:
    path: str
    revision: str | None
    down_revisions: tuple[str, ...] = ()
    depends_on: tuple[str, ...] = ()
    branch_labels: tuple[str, ...] = ()
    message: str = ""
    docstring: str = ""
    """The whole module docstring, stripped (Alembic's ``Script.longdoc``)."""
    error: str | None = None
    """Why the file could not be read (syntax error, non-literal revision, ...)."""
    checksum: str = ""
    """``file_checksum`` of the file (what the migration ledger recorded when it ran)."""


def _names(value: object) -> tuple[str, ...] | None:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, (tuple, list)) and all(isinstance(item, str) for item in value):
        return tuple(value)
    return None


def _message(tree: ast.Module) -> str:
    """The first paragraph of the module docstring, as Alembic's ``Script.doc`` shows it."""
    first = tree.body[0] if tree.body else None
    if not (isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant)):
        return ""
    doc = first.value.value if isinstance(first.value.value, str) else ""
    return " ".join(doc.split("\n\n")[0].split())  # "\n\nRevision ID: ..." (no message) -> ""


def parse_revision(path: str, source: bytes) -> RevisionFile:
    """What a revision file declares, read from its top-level assignments."""
    from dataclasses import replace

    return replace(_parse(path, source), checksum=file_checksum(source))


def _parse(path: str, source: bytes) -> RevisionFile:
    try:
        tree = ast.parse(source, path)
    except (SyntaxError, ValueError) as error:
        return RevisionFile(path, None, error=f"cannot parse: {error}")
    values: dict[str, object] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            name, value = node.targets[0].id, node.value
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value is not None:
            name, value = node.target.id, node.value
        else:
            continue
        if name in ("revision", "down_revision", "depends_on", "branch_labels"):
            try:
                values[name] = ast.literal_eval(value)
            except ValueError:
                return RevisionFile(path, None, error=f"{name} is not a literal")
    revision = values.get("revision")
    if not isinstance(revision, str):
        return RevisionFile(path, None, error="no `revision = '...'` assignment")
    if "down_revision" not in values:
        return RevisionFile(path, revision, error="no `down_revision` assignment")
    fields = {key: _names(values.get(key)) for key in ("down_revision", "depends_on", "branch_labels")}
    bad = [key for key, names in fields.items() if names is None]
    if bad:
        return RevisionFile(path, revision, error=f"{bad[0]} is not a string, a tuple of strings or None")
    return RevisionFile(
        path,
        revision,
        down_revisions=fields["down_revision"] or (),
        depends_on=fields["depends_on"] or (),
        branch_labels=fields["branch_labels"] or (),
        message=_message(tree),
        docstring=(ast.get_docstring(tree, clean=False) or "").strip(),
    )


def version_directories(config: AnyConfig) -> list[Path]:
    """Where the config's revision files live: ``version_locations`` of an alembic.ini, else ``versions/``."""
    settings = config.alembic_config
    ini = Path(settings.script_config) if settings.script_config else None
    if ini is not None and ini.is_file():
        parser = configparser.ConfigParser(interpolation=None)
        parser.read(ini, encoding="utf-8")
        locations = parser.get("alembic", "version_locations", fallback="").replace("%(here)s", str(ini.parent))
        separator = parser.get("alembic", "version_path_separator", fallback="space")
        split = {"space": None, "newline": "\n", "os": None, ":": ":", ";": ";"}.get(separator)
        found = [Path(part.strip()) for part in locations.split(split) if part.strip()]
        if found:
            return found
    return [Path(settings.script_location) / "versions"]


def revision_paths(directories: list[Path]) -> Iterator[Path]:
    """The ``*.py`` revision files Alembic would load from ``directories`` (not ``__init__``, not ``.#`` files)."""
    for directory in directories:
        if directory.is_dir():
            for path in sorted(directory.glob("*.py")):
                if not path.name.startswith(("__init__", ".#")):
                    yield path
