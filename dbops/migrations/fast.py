"""A cheap answer to "is this database already at head?", without importing Alembic.

A no-op ``upgrade`` (the common case on every deploy) should cost one ``SELECT`` on the version table plus a
parse of the revision files' ``revision`` / ``down_revision`` assignments. Whenever anything is unusual
(an alembic.ini with version_locations, a package-style script_location, a file that doesn't parse), these
functions answer ``None`` and the caller takes Alembic's full path, which is always correct.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from dbops.config import AnyConfig

__all__ = ["current_revisions", "current_revisions_direct", "script_heads"]


def script_heads(config: AnyConfig) -> frozenset[str] | None:
    """The head revisions of the config's migrations directory, or ``None`` when unsure."""
    settings = config.alembic_config
    if (
        settings.script_config
        and Path(settings.script_config).is_file()
        and _ini_moves_versions(settings.script_config)
    ):
        return None
    location = Path(settings.script_location)
    versions = location / "versions"
    if not (location / "env.py").is_file() or not versions.is_dir():
        return None
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in versions.glob("*.py"):
        if path.name.startswith((".#", "__init__")):  # skipped by Alembic too
            continue
        found = _assignments(path)
        if found is None:
            return None
        revision, down = found
        revisions.add(revision)
        parents.update(down)
    if not revisions:
        return None
    return frozenset(revisions - parents)


_MOVING_OPTIONS = ("version_locations", "recursive_version_locations", "sourceless")


def _ini_moves_versions(path: str) -> bool:
    """Whether an alembic.ini changes where or how revision files are found (then Alembic must look)."""
    import configparser

    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read(path, encoding="utf-8")
    except (configparser.Error, UnicodeDecodeError):
        return True
    section = parser["alembic"] if parser.has_section("alembic") else {}
    return any(option in section for option in _MOVING_OPTIONS)


def _assignments(path: Path) -> tuple[str, tuple[str, ...]] | None:
    from dbops.migrations.revision_files import parse_revision

    try:
        found = parse_revision(str(path), path.read_bytes())
    except OSError:
        return None
    if found.error is not None or found.revision is None:
        return None
    return found.revision, found.down_revisions


_URL = re.compile(
    r"^(?P<backend>[\w]+)(?:\+(?P<driver>[\w]+))?://"
    r"(?:(?P<username>[^:/@]*)(?::(?P<password>[^@]*))?@)?"
    r"(?:(?P<host>[^/:?\[]+)|\[(?P<ipv6>[^\]]+)\])?(?::(?P<port>\d+))?"
    r"(?:/(?P<database>[^?]*))?(?:\?(?P<query>.*))?$"
)


def current_revisions_direct(config: AnyConfig) -> frozenset[str] | None:
    """Read the version table with the bare DB-API driver (no SQLAlchemy import), or ``None`` when unsure.

    Only for plain URLs and configs without engine customisation; anything else goes through SQLAlchemy.
    """
    settings = config.alembic_config
    engine_options = config.engine_config
    if config.engine_instance is not None or config.create_engine_callable is not None:
        return None
    if engine_options.connect_args or engine_options.module or engine_options.execution_options:
        return None
    match = _URL.match(str(config.connection_string))
    if match is None or match["query"]:
        return None
    backend, schema, table = match["backend"], settings.version_table_schema, settings.version_table_name
    reader = _DIRECT_READERS.get(backend)
    if reader is None or '"' in table or "`" in table or (schema and ('"' in schema or "`" in schema)):
        return None
    try:
        return reader(match, schema, table)
    except Exception:  # any surprise: let the full path (which reports errors properly) decide
        return None


def _read_sqlite(match: re.Match[str], schema: str | None, table: str) -> frozenset[str] | None:
    import sqlite3

    database = match["database"]
    if schema or not database or database == ":memory:" or match["host"]:
        return None
    path = Path(database)
    if not path.is_file():
        return None
    connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        rows = connection.execute(f'SELECT version_num FROM "{table}"').fetchall()
    finally:
        connection.close()
    return frozenset(str(row[0]) for row in rows)


def _read_postgresql(match: re.Match[str], schema: str | None, table: str) -> frozenset[str] | None:
    if match["driver"] not in (None, "psycopg"):
        return None
    import psycopg

    qualified = f'"{schema}"."{table}"' if schema else f'"{table}"'
    with psycopg.connect(
        host=match["host"] or match["ipv6"] or None,
        port=int(match["port"]) if match["port"] else None,
        user=unquote(match["username"] or "") or None,
        password=unquote(match["password"] or "") or None,
        dbname=unquote(match["database"] or "") or None,
        connect_timeout=10,
        autocommit=True,
    ) as connection:
        rows = connection.execute(f"SELECT version_num FROM {qualified}").fetchall()
    return frozenset(str(row[0]) for row in rows)


def _read_mysql(match: re.Match[str], schema: str | None, table: str) -> frozenset[str] | None:
    if match["driver"] not in (None, "pymysql"):
        return None
    import pymysql  # type: ignore[import-untyped]

    qualified = f"`{schema}`.`{table}`" if schema else f"`{table}`"
    connection = pymysql.connect(
        host=match["host"] or match["ipv6"] or "localhost",
        port=int(match["port"] or 3306),
        user=unquote(match["username"] or "") or None,
        password=unquote(match["password"] or ""),
        database=unquote(match["database"] or "") or None,
        connect_timeout=10,
    )
    try:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT version_num FROM {qualified}")
            rows = cursor.fetchall()
    finally:
        connection.close()
    return frozenset(str(row[0]) for row in rows)


_DIRECT_READERS: dict[str, Callable[[re.Match[str], str | None, str], frozenset[str] | None]] = {
    "sqlite": _read_sqlite,
    "postgresql": _read_postgresql,
    "mysql": _read_mysql,
    "mariadb": _read_mysql,
}


def current_revisions(config: AnyConfig) -> frozenset[str] | None:
    """The revisions in the version table, or ``None`` when it can't be read (e.g. it doesn't exist yet)."""
    from sqlalchemy import column, exc, select, table

    from dbops.connect import run_sync

    settings = config.alembic_config
    versions = table(settings.version_table_name, column("version_num"), schema=settings.version_table_schema)

    def read(connection: Connection) -> frozenset[str] | None:
        try:
            rows = connection.execute(select(versions.c.version_num)).scalars().all()
        except (exc.ProgrammingError, exc.OperationalError):
            return None  # no version table yet
        finally:
            connection.rollback()
        return frozenset(str(row) for row in rows)

    return run_sync(config, read)
