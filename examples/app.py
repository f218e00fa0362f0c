"""The example app the README runs: a small library (authors and books) on an embedded SQLite file.

``dbops --config examples/app.py:db upgrade`` migrates it; it needs no server.
"""

from __future__ import annotations

from pathlib import Path

from dbops import AlembicAsyncConfig, SQLAlchemyAsyncConfig

HERE = Path(__file__).resolve().parent

db = SQLAlchemyAsyncConfig(
    connection_string=f"sqlite+aiosqlite:///{HERE / 'app.sqlite'}",
    alembic_config=AlembicAsyncConfig(script_location=str(HERE / "migrations")),
)
