"""Sample databases made by SQL scripts (``samples/*.sql``, loaded with each database's own client), their
schema-only copies (made by ``pg_dump --schema-only``, ``mariadb-dump --no-data``, ``sqlite3 .schema``), and
an oracle that reads them without dbops or SQLAlchemy: every table's rows as the database's own text, sorted,
and every counter's state.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.databases import MYSQL_HOST, MYSQL_PORT, PG_HOST, PG_PORT, unique_name

SAMPLES = Path(__file__).parent / "samples"

Oracle = dict[str, list[str]]


def _run(command: list[str], *, stdin: str | None = None) -> str:
    require_client(command[0])
    done = subprocess.run(
        command,
        input=stdin,
        capture_output=True,
        encoding="utf-8",
        errors="backslashreplace",  # binary columns in the MariaDB client's raw output
        check=False,
        timeout=300,
    )
    if done.returncode != 0:
        raise AssertionError(f"{command[0]} failed: {done.stderr.strip()[:2000]}")
    return done.stdout


def require_client(name: str) -> None:
    """Skip (or fail under CI=true) when a database client the oracle needs is not installed."""
    if shutil.which(name) is not None:
        return
    message = f"{name} is not installed (the data tests read sample databases with the database's own client)"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI=true: {message}")
    pytest.skip(message)


# -- PostgreSQL -------------------------------------------------------------------------------------------


def psql(database: str, *args: str, stdin: str | None = None) -> str:
    return _run(
        ["psql", "-h", PG_HOST, "-p", str(PG_PORT), "-U", "postgres", "-d", database, "-X", "-q", "-v",
         "ON_ERROR_STOP=1", *args],
        stdin=stdin,
    )  # fmt: skip


def pg_create(prefix: str) -> str:
    name = unique_name(prefix)
    psql("postgres", "-c", f'CREATE DATABASE "{name}"')
    return name


def pg_drop(name: str) -> None:
    psql("postgres", "-c", f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextlib.contextmanager
def pg_role(database: str, *grants: str) -> Iterator[str]:
    """A login role, not a superuser, allowed to use schema public and ``grants`` (SQL after GRANT)."""
    role = unique_name("data_role")
    statements = [f'CREATE ROLE "{role}" LOGIN', f'GRANT USAGE ON SCHEMA public TO "{role}"']
    statements += [f'GRANT {grant} TO "{role}"' for grant in grants]
    psql(database, *(item for statement in statements for item in ("-c", statement)))
    try:
        yield role
    finally:
        psql(database, "-c", f'DROP OWNED BY "{role}"', "-c", f'DROP ROLE "{role}"')


def pg_sample() -> str:
    name = pg_create("dbops_sample")
    try:
        psql(name, "-o", "/dev/null", "-f", str(SAMPLES / "postgres.sql"))
    except BaseException:
        pg_drop(name)
        raise
    return name


def pg_schema_copy(source: str) -> str:
    schema = _run(["pg_dump", "-h", PG_HOST, "-p", str(PG_PORT), "-U", "postgres", "--schema-only", source])
    target = pg_create("dbops_sample_copy")
    try:
        psql(target, "-o", "/dev/null", stdin=schema)
    except BaseException:
        pg_drop(target)
        raise
    return target


def pg_url(name: str, *, is_async: bool = False) -> str:
    driver = "asyncpg" if is_async else "psycopg"
    return f"postgresql+{driver}://postgres@{PG_HOST}:{PG_PORT}/{name}"


def pg_oracle(database: str) -> Oracle:
    """Each table's own rows (partitions and INHERITS children apart) as COPY text, sorted; each sequence's
    ``last_value``/``is_called``."""
    found: Oracle = {}
    tables = psql(
        database,
        "-At",
        "-c",
        "SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname) FROM pg_class c "
        "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'r' AND n.nspname = 'public' ORDER BY 1",
    ).split()
    for table in tables:
        found[table] = sorted(psql(database, "-c", f"COPY (SELECT * FROM ONLY {table}) TO STDOUT").splitlines())
    sequences = psql(database, "-At", "-c", "SELECT quote_ident(relname) FROM pg_class WHERE relkind = 'S'").split()
    for sequence in sorted(sequences):
        found[f"sequence {sequence}"] = [psql(database, "-At", "-c", f"SELECT last_value, is_called FROM {sequence}")]
    return found


def pg_next_values(database: str) -> dict[str, int]:
    """``nextval`` of every sequence (consumes one value of each)."""
    sequences = psql(database, "-At", "-c", "SELECT quote_ident(relname) FROM pg_class WHERE relkind = 'S'").split()
    return {name: int(psql(database, "-At", "-c", f"SELECT nextval('{name}')")) for name in sorted(sequences)}


# -- MariaDB ----------------------------------------------------------------------------------------------


def _mariadb_args() -> list[str]:
    return ["-h", MYSQL_HOST, "-P", str(MYSQL_PORT), "-u", "root"]


def mariadb(database: str, *args: str, stdin: str | None = None) -> str:
    return _run(["mariadb", *_mariadb_args(), *args, database], stdin=stdin)


def mariadb_create(prefix: str) -> str:
    name = unique_name(prefix)
    mariadb("", "-e", f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
    return name


def mariadb_drop(name: str) -> None:
    mariadb("", "-e", f"DROP DATABASE IF EXISTS `{name}`")


def mariadb_sample() -> str:
    name = mariadb_create("dbops_sample")
    try:
        mariadb(name, stdin=(SAMPLES / "mariadb.sql").read_text())
    except BaseException:
        mariadb_drop(name)
        raise
    return name


def mariadb_schema_copy(source: str) -> str:
    schema = _run(["mariadb-dump", *_mariadb_args(), "--no-data", "--triggers", source])
    target = mariadb_create("dbops_sample_copy")
    try:
        mariadb(target, stdin=schema)
    except BaseException:
        mariadb_drop(target)
        raise
    return target


def mariadb_url(name: str, *, is_async: bool = False) -> str:
    driver = "asyncmy" if is_async else "pymysql"
    return f"mysql+{driver}://root@{MYSQL_HOST}:{MYSQL_PORT}/{name}?charset=utf8mb4"


def mariadb_oracle(database: str) -> Oracle:
    """Each base table's rows as the client's batch output (``--raw``: bytes as they are), sorted; each
    table's ``AUTO_INCREMENT``."""
    found: Oracle = {}
    tables = mariadb(
        database,
        "-N",
        "-B",
        "-e",
        "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() "
        "AND TABLE_TYPE = 'BASE TABLE' ORDER BY 1",
    ).split()
    for table in tables:
        found[table] = sorted(mariadb(database, "-N", "-B", "--raw", "-e", f"SELECT * FROM `{table}`").splitlines())
    counters = mariadb(
        database,
        "-N",
        "-B",
        "-e",
        "SELECT TABLE_NAME, AUTO_INCREMENT FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() "
        "AND AUTO_INCREMENT IS NOT NULL ORDER BY 1",
    )
    found["auto_increment"] = counters.splitlines()
    return found


# -- SQLite -----------------------------------------------------------------------------------------------


def sqlite_sample(path: Path) -> Path:
    _run(["sqlite3", str(path)], stdin=(SAMPLES / "sqlite.sql").read_text())
    return path


def sqlite_schema_copy(source: Path, target: Path) -> Path:
    schema = _run(["sqlite3", str(source), ".schema"])
    # sqlite_sequence is SQLite's own table: it appears in .schema but is made by AUTOINCREMENT
    schema = "\n".join(line for line in schema.splitlines() if not line.startswith("CREATE TABLE sqlite_sequence"))
    _run(["sqlite3", str(target)], stdin=schema)
    return target


def sqlite_oracle(path: Path) -> Oracle:
    """Each table's rows as Python's sqlite3 module reads them (typed: 1 and '1' differ), sorted."""
    found: Oracle = {}
    connection = sqlite3.connect(path)
    try:
        tables = [
            row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        ]
        for table in tables:
            quoted = '"' + table.replace('"', '""') + '"'
            found[table] = sorted(repr(row) for row in connection.execute(f"SELECT * FROM {quoted}"))
    finally:
        connection.close()
    return found


def settings(folder: Path, **urls: str) -> Path:
    """A settings module with one model-less sync or async config per name (``name`` → URL)."""
    lines = ["import sqlalchemy as sa", "from dbops import SQLAlchemyAsyncConfig, SQLAlchemySyncConfig", ""]
    for name, url in urls.items():
        kind = "SQLAlchemyAsyncConfig" if "+async" in url or "aiosqlite" in url else "SQLAlchemySyncConfig"
        lines.append(f"{name} = {kind}(connection_string={url!r}, metadata=sa.MetaData())")
    path = folder / "sample_settings.py"
    path.write_text("\n".join(lines) + "\n")
    return path
