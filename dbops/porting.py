"""``dbops port``: rewrite an Advanced Alchemy app's imports to dbops' (the README's "Porting" import map).

The engine parses each file with ``ast`` and edits only the import statements and dotted references to the
modules it maps (``advanced_alchemy.filters.X`` in code); everything else keeps its bytes. A name dbops doesn't
have stays in the result's ``unresolved`` list (and in the rewritten import, so the app fails loudly on it).
"""

from __future__ import annotations

import ast
import difflib
import importlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from dbops.errors import DbopsError

__all__ = ["IMPORT_MAP", "RENAMES", "PortError", "PortResult", "PortedFile", "port_path", "port_source"]

IMPORT_MAP: dict[str, str] = {
    "advanced_alchemy.extensions.litestar.providers": "litestar_dbops.providers",
    "advanced_alchemy.extensions.litestar.dto": "litestar_dbops.dto",
    "advanced_alchemy.extensions.litestar.plugins": "litestar_dbops",
    "advanced_alchemy.extensions.litestar.mixins": "dbops.base",
    "advanced_alchemy.extensions.litestar.types": "dbops.types",
    "advanced_alchemy.extensions.litestar": "litestar_dbops",
    "litestar.plugins.sqlalchemy": "litestar_dbops",
    "advanced_alchemy.repository": "dbops.repository",
    "advanced_alchemy.service.pagination": "dbops.service",
    "advanced_alchemy.service.typing": "dbops.service.typing",
    "advanced_alchemy.service": "dbops.service",
    "advanced_alchemy.filters": "dbops.filters",
    "advanced_alchemy.exceptions": "dbops.exceptions",
    "advanced_alchemy.base": "dbops.base",
    "advanced_alchemy.mixins": "dbops.base",
    "advanced_alchemy.types.file_object.backends.obstore": "dbops.types.file_object.backends.obstore",
    "advanced_alchemy.types.file_object.backends.fsspec": "dbops.types.file_object.backends.fsspec",
    "advanced_alchemy.types.file_object": "dbops.types.file_object",
    "advanced_alchemy.types": "dbops.types",
    "advanced_alchemy.config": "dbops.config",
}
"""Advanced Alchemy module → the dbops module holding its names (the longest matching prefix wins)."""

RENAMES: dict[tuple[str, str], str] = {
    ("advanced_alchemy.exceptions", "AdvancedAlchemyError"): "DbopsError",
    ("advanced_alchemy.types", "encrypted_string"): "encrypted",
}
"""Names that exist in dbops under another name: imported ``as`` the old one, so the code using them is unchanged."""

_ROOTS = ("advanced_alchemy", "litestar.plugins.sqlalchemy")
_SKIPPED_DIRS = {".git", ".venv", "venv", "node_modules", "__pycache__", ".tox", ".mypy_cache", ".ruff_cache"}


class PortError(DbopsError):
    """A path to port does not exist or holds a file Python cannot parse."""

    exit_code = 2


@dataclass(frozen=True)
class PortedFile:
    path: Path
    original: str
    ported: str
    unresolved: list[str] = field(default_factory=list)
    """``line N: advanced_alchemy.x.Name``: imports with no dbops counterpart (see the README's tables)."""

    @property
    def changed(self) -> bool:
        return self.original != self.ported

    def diff(self) -> str:
        name = self.path.as_posix().lstrip("/")
        lines = difflib.unified_diff(
            self.original.splitlines(keepends=True), self.ported.splitlines(keepends=True), f"a/{name}", f"b/{name}"
        )
        return "".join(lines)


@dataclass(frozen=True)
class PortResult:
    files: list[PortedFile]

    @property
    def changed(self) -> list[PortedFile]:
        return [item for item in self.files if item.changed]

    @property
    def unresolved(self) -> list[str]:
        return [f"{item.path.as_posix()}:{entry}" for item in self.files for entry in item.unresolved]

    def write(self) -> None:
        """Write every changed file back."""
        for item in self.changed:
            item.path.write_text(item.ported, encoding="utf-8")


def _target(module: str) -> str | None:
    """The dbops module for an Advanced Alchemy module, by the longest mapped prefix."""
    for prefix in sorted(IMPORT_MAP, key=len, reverse=True):
        if module == prefix or module.startswith(prefix + "."):
            return IMPORT_MAP[prefix] + module[len(prefix) :]
    return None


def _is_ported(module: str | None) -> bool:
    return module is not None and any(module == root or module.startswith(root + ".") for root in _ROOTS)


def _exists(module: str, name: str) -> bool:
    try:
        found = importlib.import_module(module)
    except ImportError:
        return False
    if hasattr(found, name):
        return True
    try:
        importlib.import_module(f"{module}.{name}")
    except ImportError:
        return False
    return True


def _module_exists(module: str) -> bool:
    try:
        importlib.import_module(module)
    except ImportError:
        return False
    return True


class _Source:
    """``text`` with edits by ``ast`` positions (UTF-8 byte columns), applied back to front."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.starts = [0]
        for line in text.splitlines(keepends=True):
            self.starts.append(self.starts[-1] + len(line))
        self.lines = text.splitlines(keepends=True)
        self.edits: list[tuple[int, int, str]] = []

    def offset(self, line: int, column: int) -> int:
        encoded = self.lines[line - 1].encode()[:column] if line - 1 < len(self.lines) else b""
        return self.starts[line - 1] + len(encoded.decode(errors="replace"))

    def replace(self, node: ast.AST, text: str) -> None:
        start = self.offset(node.lineno, node.col_offset)  # type: ignore[attr-defined]
        end = self.offset(node.end_lineno, node.end_col_offset)  # type: ignore[attr-defined]
        self.edits.append((start, end, text))

    def result(self) -> str:
        text = self.text
        for start, end, new in sorted(self.edits, reverse=True):
            text = text[:start] + new + text[end:]
        return text


def _alias(name: str, asname: str | None) -> str:
    return f"{name} as {asname}" if asname and asname != name else name


def _from_import(module: str, names: list[str], indent: str, multiline: bool) -> str:
    if not multiline:
        return f"from {module} import {', '.join(names)}"
    inner = "".join(f"{indent}    {name},\n" for name in names)
    return f"from {module} import (\n{inner}{indent})"


REVISION_TYPES = "dbops.migrations.aa_types"
"""Where a revision file's Advanced Alchemy column types go: stand-ins that make the columns AA's made."""


def _is_revision(tree: ast.Module) -> bool:
    """A migration revision file: top-level ``revision = ...`` and ``down_revision = ...`` (what Alembic reads)."""
    names = {
        target.id
        for node in tree.body
        if isinstance(node, ast.Assign | ast.AnnAssign)
        for target in (node.targets if isinstance(node, ast.Assign) else [node.target])
        if isinstance(target, ast.Name)
    }
    return {"revision", "down_revision"} <= names


def _revision_type(module: str, name: str) -> bool:
    if not (module == "advanced_alchemy.types" or module.startswith("advanced_alchemy.types.")):
        return False
    from dbops.migrations import aa_types

    return name in aa_types.__all__


def _port_from(node: ast.ImportFrom, source: _Source, unresolved: list[str], *, revision: bool = False) -> None:
    module = node.module or ""
    groups: dict[str, list[str]] = {}
    for alias in node.names:
        if revision and _revision_type(module, alias.name):
            # A revision keeps making the columns it made under Advanced Alchemy (dbops.types' DDL differs).
            groups.setdefault(REVISION_TYPES, []).append(_alias(alias.name, alias.asname))
            continue
        if alias.name == "*":
            target = _target(module)
            if target is None:
                unresolved.append(f"{node.lineno}: from {module} import *")
                return
            groups.setdefault(target, []).append("*")
            continue
        target = _target(module)
        name = alias.name
        if target is None or not _exists(target, RENAMES.get((module, name), name)):
            # ``from advanced_alchemy import filters``: the name is a submodule with its own mapping
            submodule = _target(f"{module}.{name}")
            if submodule is not None and "." in submodule and _module_exists(submodule):
                parent, _, leaf = submodule.rpartition(".")
                groups.setdefault(parent, []).append(_alias(leaf, alias.asname or (name if leaf != name else None)))
                continue
            unresolved.append(f"{node.lineno}: {module}.{name}")
            groups.setdefault(target or module, []).append(_alias(name, alias.asname))
            continue
        renamed = RENAMES.get((module, name))
        groups.setdefault(target, []).append(
            _alias(renamed, alias.asname or name) if renamed else _alias(name, alias.asname)
        )
    line = source.lines[node.lineno - 1]
    indent = line[: len(line) - len(line.lstrip())]
    multiline = node.end_lineno != node.lineno
    statements = [_from_import(target, names, indent, multiline) for target, names in groups.items()]
    source.replace(node, f"\n{indent}".join(statements))


def _port_import(node: ast.Import, source: _Source, unresolved: list[str]) -> None:
    parts = []
    for alias in node.names:
        target = _target(alias.name) if _is_ported(alias.name) else alias.name
        if target is None or (target != alias.name and not _module_exists(target)):
            unresolved.append(f"{node.lineno}: import {alias.name}")
            target = alias.name
        parts.append(_alias(target, alias.asname))
    source.replace(node, "import " + ", ".join(parts))


def _dotted(node: ast.AST) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        head = _dotted(node.value)
        return f"{head}.{node.attr}" if head is not None else None
    return None


def _references(tree: ast.AST, imported: set[str]) -> Iterator[tuple[ast.AST, str]]:
    """Dotted references (``advanced_alchemy.filters``) to modules imported without an alias, outermost first."""
    for node in ast.walk(tree):
        dotted = _dotted(node)
        if dotted in imported and isinstance(node, ast.Attribute | ast.Name):
            yield node, dotted


def port_source(text: str, filename: str = "<string>") -> tuple[str, list[str]]:
    """``text`` with its Advanced Alchemy imports rewritten, and the imports dbops has no counterpart for."""
    try:
        tree = ast.parse(text, filename=filename)
    except SyntaxError as exc:
        raise PortError(f"{filename}:{exc.lineno}: cannot parse: {exc.msg}") from None
    source = _Source(text)
    unresolved: list[str] = []
    plain_imports: set[str] = set()
    revision = _is_revision(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and _is_ported(node.module):
            _port_from(node, source, unresolved, revision=revision)
        elif isinstance(node, ast.Import) and any(_is_ported(alias.name) for alias in node.names):
            plain_imports.update(alias.name for alias in node.names if alias.asname is None and _is_ported(alias.name))
            _port_import(node, source, unresolved)
    taken: list[tuple[int, int]] = []
    for node, dotted in sorted(_references(tree, plain_imports), key=lambda item: -len(item[1])):
        span = (node.lineno, node.col_offset)  # type: ignore[attr-defined]
        if span in taken:
            continue  # a shorter prefix of a reference already rewritten
        target = _target(dotted)
        if target is not None:
            source.replace(node, target)
            taken.append(span)
    return source.result(), unresolved


def _python_files(path: Path) -> Iterator[Path]:
    if path.is_file():
        yield path
        return
    for item in sorted(path.rglob("*.py")):
        if not any(part in _SKIPPED_DIRS or part.startswith(".") for part in item.relative_to(path).parts[:-1]):
            yield item


def port_path(path: Path) -> PortResult:
    """Port every ``.py`` file at ``path`` (a file or a directory, recursively; virtualenvs and hidden
    directories skipped). Nothing is written: call ``PortResult.write()``."""
    if not path.exists():
        raise PortError(f"{path}: no such file or directory")
    files: list[PortedFile] = []
    for item in _python_files(path):
        try:
            original = item.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise PortError(f"{item}: cannot read: {exc}") from None
        ported, unresolved = port_source(original, str(item))
        files.append(PortedFile(item, original, ported, unresolved))
    return PortResult(files)
