"""The migration engine: Alembic configured in memory from a dbops config, plus the migration lock.

Each command is a function ``(config, ...) -> result`` in ``dbops.migrations.commands``; this package imports
nothing heavy until one is called.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "branches",
    "check",
    "current",
    "downgrade",
    "edit",
    "ensure_version",
    "heads",
    "history",
    "init",
    "init_all",
    "list_templates",
    "make_migrations",
    "merge",
    "show",
    "stamp",
    "upgrade",
]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from dbops.migrations import commands

        return getattr(commands, name)
    raise AttributeError(name)
