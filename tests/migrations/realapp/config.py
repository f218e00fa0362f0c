"""The app's database config, from its environment (``REALAPP_DATABASE_URL``, ``REALAPP_MIGRATIONS``).

Like an app built on Advanced Alchemy's bases, it passes no ``metadata=``: the models' registry is the app's.
"""

from __future__ import annotations

import os
from pathlib import Path

from dbops import AlembicAsyncConfig, AlembicSyncConfig, SQLAlchemyAsyncConfig, SQLAlchemySyncConfig

HERE = Path(__file__).resolve().parent
URL = os.environ.get("REALAPP_DATABASE_URL", f"sqlite:///{HERE / 'realapp.sqlite'}")
MIGRATIONS = Path(os.environ.get("REALAPP_MIGRATIONS", HERE / "migrations"))
SETTINGS = {
    "script_location": str(MIGRATIONS),
    "script_config": str(MIGRATIONS / "alembic.ini"),
    "version_table_name": "app_schema_version",
}

db: SQLAlchemyAsyncConfig | SQLAlchemySyncConfig
if "+aiosqlite" in URL or "+asyncpg" in URL or "+asyncmy" in URL:
    db = SQLAlchemyAsyncConfig(connection_string=URL, alembic_config=AlembicAsyncConfig(**SETTINGS))
else:
    db = SQLAlchemySyncConfig(connection_string=URL, alembic_config=AlembicSyncConfig(**SETTINGS))
