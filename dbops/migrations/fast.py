"""A cheap answer to "is this database already at head?", without importing Alembic.

A no-op ``upgrade`` (the common case on every deploy) should cost one ``SELECT`` on the version table plus a
parse of the revision files' ``revision`` / ``down_revision`` assignments. Whenever anything is unusual
(an alembic.ini with version_locations, a package-style script_location, a file that doesn't parse), these
functions answer ``None`` and the caller takes Alembic's full path, which is always correct.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from dbops.config import AnyConfig

__all__ = ["current_revisions", "script_heads"]


def script_heads(config: AnyConfig) -> frozenset[str] | None:
    """The head revisions of the config's migrations directory, or ``None`` when unsure."""
    settings = config.alembic_config
    if settings.script_config and Path(settings.script_config).is_file():
        return None  # an alembic.ini may move the versions (version_locations, recursive, sourceless)
    location = Path(settings.script_location)
    versions = location / "versions"
    if not (location / "env.py").is_file() or not versions.is_dir():
        return None
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in versions.glob("*.py"):
        found = _assignments(path)
        if found is None:
            return None
        revision, down = found
        revisions.add(revision)
        parents.update(down)
    if not revisions:
        return None
    return frozenset(revisions - parents)


def _assignments(path: Path) -> tuple[str, tuple[str, ...]] | None:
    try:
        tree = ast.parse(path.read_bytes(), str(path))
    except (OSError, SyntaxError, ValueError):
        return None
    values: dict[str, object] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            name, value = node.targets[0].id, node.value
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value is not None:
            name, value = node.target.id, node.value
        else:
            continue
        if name in ("revision", "down_revision"):
            try:
                values[name] = ast.literal_eval(value)
            except ValueError:
                return None
    revision, down = values.get("revision"), values.get("down_revision", ...)
    if not isinstance(revision, str) or down is ...:
        return None
    if down is None:
        return revision, ()
    if isinstance(down, str):
        return revision, (down,)
    if isinstance(down, (tuple, list)) and all(isinstance(item, str) for item in down):
        return revision, tuple(down)
    return None


def current_revisions(config: AnyConfig) -> frozenset[str] | None:
    """The revisions in the version table, or ``None`` when it can't be read (e.g. it doesn't exist yet)."""
    from sqlalchemy import column, exc, select, table

    from dbops.connect import run_sync

    settings = config.alembic_config
    versions = table(settings.version_table_name, column("version_num"), schema=settings.version_table_schema)

    def read(connection: Connection) -> frozenset[str] | None:
        try:
            rows = connection.execute(select(versions.c.version_num)).scalars().all()
        except (exc.ProgrammingError, exc.OperationalError):
            return None  # no version table yet
        finally:
            connection.rollback()
        return frozenset(str(row) for row in rows)

    return run_sync(config, read)
