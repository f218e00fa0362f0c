"""The app's database config, from its environment (``REALAPP_DATABASE_URL``, ``REALAPP_MIGRATIONS``).

Like an app built on Advanced Alchemy's bases, it passes no ``metadata=``: the models' registry is the app's.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from dbops import AlembicAsyncConfig, AlembicSyncConfig, SQLAlchemyAsyncConfig, SQLAlchemySyncConfig

HERE = Path(__file__).resolve().parent


def make_config(url: str, migrations: Path) -> SQLAlchemyAsyncConfig | SQLAlchemySyncConfig:
    settings: dict[str, Any] = {
        "script_location": str(migrations),
        "script_config": str(migrations / "alembic.ini"),
        "version_table_name": "app_schema_version",
    }
    if "+aiosqlite" in url or "+asyncpg" in url or "+asyncmy" in url:
        return SQLAlchemyAsyncConfig(connection_string=url, alembic_config=AlembicAsyncConfig(**settings))
    return SQLAlchemySyncConfig(connection_string=url, alembic_config=AlembicSyncConfig(**settings))


db = make_config(
    os.environ.get("REALAPP_DATABASE_URL", f"sqlite:///{HERE / 'realapp.sqlite'}"),
    Path(os.environ.get("REALAPP_MIGRATIONS", HERE / "migrations")),
)
