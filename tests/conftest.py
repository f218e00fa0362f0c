"""Shared fixtures: real databases on every dialect (see tests/databases.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.databases import (
    DIALECTS,
    MYSQL_HOST,
    MYSQL_PORT,
    PG_HOST,
    PG_PORT,
    TestDatabase,
    create_mariadb_database,
    create_postgres_database,
    drop_mariadb_database,
    drop_postgres_database,
    require_server,
    sqlite_database,
)

REPO_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def _forget_configs_made_by_the_test() -> Iterator[None]:
    """Configs a test made stop being scrubbed from free text when it ends.

    ``dbops.urls`` masks the password of every live config in any message. A config kept alive by a reference
    cycle (until the garbage collector runs) would otherwise keep masking its password, say a Hypothesis
    example's random word, in the messages later tests assert on. Session-scoped configs are made before this
    function-scoped fixture runs, so they stay remembered.
    """
    from dbops import urls

    before = set(urls._live.keys())
    yield
    for key in set(urls._live.keys()) - before:
        urls._live.pop(key, None)


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[TestDatabase]:
    require_server("PostgreSQL", PG_HOST, PG_PORT)
    database = create_postgres_database()
    yield database
    drop_postgres_database(database)


@pytest.fixture(scope="session")
def mariadb_database() -> Iterator[TestDatabase]:
    require_server("MariaDB", MYSQL_HOST, MYSQL_PORT)
    database = create_mariadb_database()
    yield database
    drop_mariadb_database(database)


def _database(request: pytest.FixtureRequest, dialect: str, tmp_path: Path) -> TestDatabase:
    if dialect == "sqlite":
        return sqlite_database(tmp_path)
    fixture = "postgres_database" if dialect == "postgresql" else "mariadb_database"
    database: TestDatabase = request.getfixturevalue(fixture)
    database.reset()
    return database


@pytest.fixture(params=DIALECTS)
def db(request: pytest.FixtureRequest, tmp_path: Path) -> TestDatabase:
    """An empty database on each dialect in turn (sqlite, postgresql, mariadb)."""
    return _database(request, request.param, tmp_path)


@pytest.fixture
def sqlite_db(tmp_path: Path) -> TestDatabase:
    return sqlite_database(tmp_path)


@pytest.fixture
def pg_db(request: pytest.FixtureRequest, tmp_path: Path) -> TestDatabase:
    return _database(request, "postgresql", tmp_path)


@pytest.fixture
def mariadb_db(request: pytest.FixtureRequest, tmp_path: Path) -> TestDatabase:
    return _database(request, "mariadb", tmp_path)


@pytest.fixture(params=[False, True], ids=["sync", "async"])
def is_async(request: pytest.FixtureRequest) -> bool:
    """Run a test with a sync config and again with an async one."""
    return bool(request.param)
