"""Fixtures for migration tests: a config with its own MetaData and migrations directory, on every dialect."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from dbops.config import (
    AlembicAsyncConfig,
    AlembicSyncConfig,
    SQLAlchemyAsyncConfig,
    SQLAlchemySyncConfig,
)
from tests.databases import TestDatabase

ConfigFactory = Callable[..., Any]


def make_config(url: str, *, is_async: bool, metadata: sa.MetaData, **alembic: Any) -> Any:
    if is_async:
        return SQLAlchemyAsyncConfig(
            connection_string=url, metadata=metadata, alembic_config=AlembicAsyncConfig(**alembic)
        )
    return SQLAlchemySyncConfig(connection_string=url, metadata=metadata, alembic_config=AlembicSyncConfig(**alembic))


@pytest.fixture
def metadata() -> sa.MetaData:
    return sa.MetaData()


@pytest.fixture
def config_factory(db: TestDatabase, is_async: bool, tmp_path: Path, metadata: sa.MetaData) -> ConfigFactory:
    """``factory(**alembic_options)`` → a config on ``db`` whose migrations live in tmp_path/migrations."""

    def factory(**alembic: Any) -> Any:
        alembic.setdefault("script_location", str(tmp_path / "migrations"))
        return make_config(db.url(is_async=is_async), is_async=is_async, metadata=metadata, **alembic)

    return factory


def add_author(metadata: sa.MetaData) -> sa.Table:
    return sa.Table(
        "author",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(100), nullable=False),
    )


def add_book(metadata: sa.MetaData) -> sa.Table:
    return sa.Table(
        "book",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("author_id", sa.Integer, sa.ForeignKey("author.id"), nullable=False),
    )


def table_names(db: TestDatabase) -> set[str]:
    engine = sa.create_engine(db.sync_url)
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


def versions(db: TestDatabase, table: str = "alembic_versions") -> set[str]:
    engine = sa.create_engine(db.sync_url)
    try:
        with engine.connect() as connection:
            return set(connection.execute(sa.text(f"SELECT version_num FROM {table}")).scalars())
    finally:
        engine.dispose()


def write_revision(
    directory: Path,
    revision: str,
    down: str | tuple[str, ...] | None,
    upgrade: str,
    downgrade: str = "pass",
    message: str = "",
) -> Path:
    """A hand-written revision file (``upgrade``/``downgrade`` are function bodies)."""
    path = directory / "versions" / f"{revision}.py"
    path.write_text(
        f'"""{message or revision}"""\n'
        "import time\n\nimport sqlalchemy as sa\nfrom alembic import op\n\n"
        f"revision = {revision!r}\ndown_revision = {down!r}\nbranch_labels = None\ndepends_on = None\n\n\n"
        f"def upgrade():\n    {upgrade}\n\n\ndef downgrade():\n    {downgrade}\n"
    )
    return path
