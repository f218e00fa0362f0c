"""``dbops lint``: the SQL each revision runs, checked against rules for deploying to a live database.

``lint(config, ...)`` is the engine (``dbops.migrations.lint.engine``); ``RULES`` is the rule table. Nothing
heavy is imported until one of them is used.
"""

from __future__ import annotations

from typing import Any

__all__ = ["RULES", "lint", "lint_sql"]


def __getattr__(name: str) -> Any:
    if name in ("lint", "lint_sql"):
        from dbops.migrations.lint import engine

        return getattr(engine, name)
    if name == "RULES":
        from dbops.migrations.lint.rules import RULES

        return RULES
    raise AttributeError(name)
