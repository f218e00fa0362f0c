"""Which command modules make up the CLI; each area owns one module with its own Typer app."""

from __future__ import annotations

import typer

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    """Add every area's commands to ``app`` (a nameless add_typer merges them at the root)."""
    from dbops.cli import data, info, lint, migrations, port, sessions, storage

    app.add_typer(info.app)
    app.add_typer(migrations.app)
    app.add_typer(lint.app)
    app.add_typer(data.app)
    app.add_typer(port.app)
    app.add_typer(sessions.app, name="sessions")
    app.add_typer(storage.app, name="storage")
