"""The migration engine: Alembic configured in memory from a dbops config, plus the migration lock.

Each command is a function ``(config, ...) -> result`` in ``dbops.migrations.commands``; this package imports
nothing heavy until one is called.
"""

from __future__ import annotations

import logging
from typing import Any

# Alembic logs each plugin it sets up at INFO when it is first imported, outside any command's log routing
# (``commands._alembic_logs_to``); an app that configured the root logger (Litestar, behind ``--app``) then
# printed seven "INFO alembic.runtime.plugins" lines before every command.
logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)

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
