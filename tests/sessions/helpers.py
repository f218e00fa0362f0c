"""Seeding and counting session rows directly (plain SQLAlchemy Core, no dbops code under test)."""

from __future__ import annotations

import datetime
import hashlib
import uuid
from pathlib import Path

from sqlalchemy import Engine, create_engine, func, select

from dbops.config import SQLAlchemyAsyncConfig, SQLAlchemySyncConfig
from tests.databases import TestDatabase
from tests.sessions.models import BIND_KEY, UserSession

TABLE = UserSession.__table__


def utcnow() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc)


def engine(db: TestDatabase) -> Engine:
    return create_engine(db.sync_url)


def create_table(db: TestDatabase) -> None:
    eng = engine(db)
    try:
        TABLE.create(eng, checkfirst=True)
    finally:
        eng.dispose()


def seed(db: TestDatabase, *, expired: int = 0, live: int = 0, expired_ago: datetime.timedelta | None = None) -> None:
    """Create the table and add ``expired`` rows that expired ``expired_ago`` ago (default 1 day) and ``live``
    rows that expire in a day."""
    create_table(db)
    now = utcnow()
    ago = expired_ago or datetime.timedelta(days=1)
    rows = [
        {
            "id": uuid.uuid4(),
            "session_id": f"{prefix}-{hashlib.md5(f'{prefix}{index}{now}'.encode()).hexdigest()}",
            "data": b"{}",
            "expires_at": expires + datetime.timedelta(milliseconds=index),
            "created_at": now,
            "updated_at": now,
        }
        for prefix, count, expires in (
            ("expired", expired, now - ago),
            ("live", live, now + datetime.timedelta(days=1)),
        )
        for index in range(count)
    ]
    if not rows:
        return
    eng = engine(db)
    try:
        with eng.begin() as connection:
            for start in range(0, len(rows), 1000):
                connection.execute(TABLE.insert(), rows[start : start + 1000])
    finally:
        eng.dispose()


def counts(db: TestDatabase) -> tuple[int, int]:
    """(expired, live) rows by the test process's clock."""
    eng = engine(db)
    try:
        with eng.connect() as connection:
            now = utcnow()
            expired = connection.execute(
                select(func.count()).select_from(TABLE).where(TABLE.c.expires_at <= now)
            ).scalar_one()
            total = connection.execute(select(func.count()).select_from(TABLE)).scalar_one()
    finally:
        eng.dispose()
    return int(expired), int(total) - int(expired)


def config(db: TestDatabase, is_async: bool = False) -> SQLAlchemySyncConfig | SQLAlchemyAsyncConfig:
    if is_async:
        return SQLAlchemyAsyncConfig(connection_string=db.async_url, bind_key=BIND_KEY)
    return SQLAlchemySyncConfig(connection_string=db.sync_url, bind_key=BIND_KEY)


def write_config_file(folder: Path, db: TestDatabase, *, is_async: bool = False) -> Path:
    """A config module importing the session models, as an app's would."""
    kind = "SQLAlchemyAsyncConfig" if is_async else "SQLAlchemySyncConfig"
    path = folder / "dbconfig.py"
    path.write_text(
        "import tests.sessions.models  # noqa: F401 - registers the session model\n"
        f"from dbops.config import {kind}\n"
        f"db = {kind}(connection_string={db.url(is_async=is_async)!r}, bind_key={BIND_KEY!r})\n"
    )
    return path
