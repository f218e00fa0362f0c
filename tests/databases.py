"""Real test databases: SQLite files, and a private PostgreSQL / MariaDB database per pytest worker.

Each pytest process (xdist worker) creates its own databases with a random suffix, so parallel workers and
parallel developers never touch each other's tables; ``reset()`` empties a database between tests.
Servers that are down make the tests that need them skip, except under ``CI=true`` where that is a failure.
"""

from __future__ import annotations

import os
import socket
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

PG_HOST = os.environ.get("DBOPS_TEST_PG_HOST", "127.0.0.1")
PG_PORT = int(os.environ.get("DBOPS_TEST_PG_PORT", "5432"))
MYSQL_HOST = os.environ.get("DBOPS_TEST_MYSQL_HOST", "127.0.0.1")
MYSQL_PORT = int(os.environ.get("DBOPS_TEST_MYSQL_PORT", "3306"))

DIALECTS = ("sqlite", "postgresql", "mariadb")


def server_up(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=2):
            return True
    except OSError:
        return False


def require_server(name: str, host: str, port: int) -> None:
    """Skip (or fail under CI=true) when a database server is unreachable."""
    if server_up(host, port):
        return
    message = f"{name} is not reachable on {host}:{port} (start it with tools/test-servers; see README, Testing)"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI=true: {message}")
    pytest.skip(message)


def unique_name(prefix: str = "dbops") -> str:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    return f"{prefix}_{worker}_{uuid.uuid4().hex[:8]}"


@dataclass
class TestDatabase:
    """One database to test against, with both its sync and async URLs."""

    __test__ = False

    dialect: str
    sync_url: str
    async_url: str
    name: str
    path: Path | None = None

    def url(self, *, is_async: bool) -> str:
        return self.async_url if is_async else self.sync_url

    def reset(self) -> None:
        """Drop everything in the database (tables, types, sequences)."""
        if self.dialect == "sqlite":
            assert self.path is not None
            for suffix in ("", "-wal", "-shm", "-journal"):
                Path(f"{self.path}{suffix}").unlink(missing_ok=True)
        elif self.dialect == "postgresql":
            import psycopg

            with psycopg.connect(self.sync_url.replace("postgresql+psycopg", "postgresql"), autocommit=True) as conn:
                conn.execute("DROP SCHEMA IF EXISTS public CASCADE")
                conn.execute("CREATE SCHEMA public")
        else:
            import pymysql  # type: ignore[import-untyped]

            conn = pymysql.connect(host=MYSQL_HOST, port=MYSQL_PORT, user="root", password="", autocommit=True)
            try:
                with conn.cursor() as cursor:
                    cursor.execute(f"DROP DATABASE IF EXISTS `{self.name}`")
                    cursor.execute(f"CREATE DATABASE `{self.name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin")
            finally:
                conn.close()


def create_postgres_database() -> TestDatabase:
    import psycopg

    name = unique_name()
    with psycopg.connect(f"postgresql://postgres@{PG_HOST}:{PG_PORT}/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return TestDatabase(
        "postgresql",
        f"postgresql+psycopg://postgres@{PG_HOST}:{PG_PORT}/{name}",
        f"postgresql+asyncpg://postgres@{PG_HOST}:{PG_PORT}/{name}",
        name,
    )


def drop_postgres_database(database: TestDatabase) -> None:
    import psycopg

    with psycopg.connect(f"postgresql://postgres@{PG_HOST}:{PG_PORT}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{database.name}" WITH (FORCE)')


def create_mariadb_database() -> TestDatabase:
    name = unique_name()
    database = TestDatabase(
        "mariadb",
        f"mysql+pymysql://root@{MYSQL_HOST}:{MYSQL_PORT}/{name}?charset=utf8mb4",
        f"mysql+asyncmy://root@{MYSQL_HOST}:{MYSQL_PORT}/{name}?charset=utf8mb4",
        name,
    )
    database.reset()
    return database


def drop_mariadb_database(database: TestDatabase) -> None:
    import pymysql

    conn = pymysql.connect(host=MYSQL_HOST, port=MYSQL_PORT, user="root", password="", autocommit=True)
    try:
        with conn.cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS `{database.name}`")
    finally:
        conn.close()


def sqlite_database(folder: Path) -> TestDatabase:
    path = folder / "test.sqlite"
    return TestDatabase("sqlite", f"sqlite:///{path}", f"sqlite+aiosqlite:///{path}", "test", path)
