"""A cheap answer to "is this database already at head?", without importing Alembic.

A no-op ``upgrade`` (the common case on every deploy) should cost one ``SELECT`` on the version table plus a
parse of the revision files' ``revision`` / ``down_revision`` assignments. Whenever anything is unusual
(an alembic.ini with version_locations, a package-style script_location, a file that doesn't parse), these
functions answer ``None`` and the caller takes Alembic's full path, which is always correct.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote

from dbops.migrations.results import RevisionInfo

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from dbops.config import AnyConfig

__all__ = ["LockBusy", "current_revisions", "current_revisions_direct", "linear_history", "script_heads"]


class LockBusy(Exception):
    """Another process holds the migration lock: the version table may be about to change (or half-changed
    on a server without transactional DDL), so "already at head" can't be answered now."""


@dataclass(frozen=True)
class _Parsed:
    revision: str
    down: tuple[str, ...]
    path: Path
    doc: str
    labelled: bool
    """Has branch labels or dependencies: Alembic's revision map must answer."""


def _parse_scripts(config: AnyConfig) -> list[_Parsed] | None:
    """Every revision file's ``revision``, ``down_revision`` and docstring, or ``None`` when unsure."""
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
    parsed: list[_Parsed] = []
    for path in versions.glob("*.py"):
        if path.name.startswith((".#", "__init__")):  # skipped by Alembic too
            continue
        found = _assignments(path)
        if found is None:
            return None
        parsed.append(found)
    return parsed or None


def script_heads(config: AnyConfig) -> frozenset[str] | None:
    """The head revisions of the config's migrations directory, or ``None`` when unsure."""
    parsed = _parse_scripts(config)
    if parsed is None:
        return None
    parents = {down for script in parsed for down in script.down}
    return frozenset(script.revision for script in parsed) - parents


def linear_history(config: AnyConfig) -> list[RevisionInfo] | None:
    """Every revision newest first, as Alembic's ``walk_revisions`` gives them, when history is one line.

    Branches, merges, branch labels and dependencies are Alembic's to order: ``None`` then.
    """
    parsed = _parse_scripts(config)
    if parsed is None or any(script.labelled or len(script.down) > 1 for script in parsed):
        return None
    by_revision = {script.revision: script for script in parsed}
    children = {script.down[0]: script for script in parsed if script.down}
    bases = [script for script in parsed if not script.down]
    if len(by_revision) != len(parsed) or len(bases) != 1 or len(children) != len(parsed) - 1:
        return None
    ordered = [bases[0]]
    while ordered[-1].revision in children:
        ordered.append(children[ordered[-1].revision])
    if len(ordered) != len(parsed):
        return None  # a down_revision naming a missing revision, or a cycle
    head = ordered[-1].revision
    return [
        RevisionInfo(
            revision=script.revision,
            down_revisions=script.down,
            message=script.doc.split("\n\n", 1)[0].strip(),
            path=str(script.path),
            is_head=script.revision == head,
            long_doc=script.doc,
        )
        for script in reversed(ordered)
    ]


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


def _assignments(path: Path) -> _Parsed | None:
    from dbops.migrations.revision_files import parse_revision

    try:
        found = parse_revision(str(path), path.read_bytes())
    except OSError:
        return None
    if found.error is not None or found.revision is None:
        return None
    labelled = bool(found.branch_labels or found.depends_on)
    # Alembic loads the file from its resolved path and reports that.
    return _Parsed(found.revision, found.down_revisions, path.resolve(), found.docstring, labelled)


_URL = re.compile(
    r"^(?P<backend>[\w]+)(?:\+(?P<driver>[\w]+))?://"
    r"(?:(?P<username>[^:/@]*)(?::(?P<password>[^@]*))?@)?"
    r"(?:(?P<host>[^/:?\[]+)|\[(?P<ipv6>[^\]]+)\])?(?::(?P<port>\d+))?"
    r"(?:/(?P<database>[^?]*))?(?:\?(?P<query>.*))?$"
)


# The one query parameter the readers understand (pymysql's charset; harmless to a version_num read elsewhere).
_CHARSET_ONLY = re.compile(r"charset=[\w]+")


def current_revisions_direct(config: AnyConfig, *, under_lock: bool = False) -> frozenset[str] | None:
    """Read the version table with the bare DB-API driver (no SQLAlchemy import), or ``None`` when unsure.

    Only for plain URLs and configs without engine customisation; anything else goes through SQLAlchemy.
    ``under_lock`` reads while holding the migration lock for an instant (taken without waiting), so the
    answer is never read in the middle of another dbops process's run: ``LockBusy`` when it is held.
    """
    settings = config.alembic_config
    engine_options = config.engine_config
    if config.engine_instance is not None or config.create_engine_callable is not None:
        return None
    if engine_options.connect_args or engine_options.module or engine_options.execution_options:
        return None
    match = _URL.match(str(config.connection_string))
    if match is None or (match["query"] and not _CHARSET_ONLY.fullmatch(match["query"])):
        return None
    backend, schema, table = match["backend"], settings.version_table_schema, settings.version_table_name
    reader = _DIRECT_READERS.get(backend)
    if reader is None or '"' in table or "`" in table or (schema and ('"' in schema or "`" in schema)):
        return None
    key = None
    if under_lock:
        from dbops.migrations.lock import lock_key, lock_name

        dialect = "mysql" if backend == "mariadb" else backend
        key = lock_key(dialect, lock_name(config, unquote(match["database"] or "")))
    try:
        return reader(match, schema, table, key)
    except LockBusy:
        raise
    except Exception:  # any surprise: let the full path (which reports errors properly) decide
        return None


def _read_sqlite(match: re.Match[str], schema: str | None, table: str, key: object) -> frozenset[str] | None:
    import sqlite3

    database = match["database"]
    if schema or not database or database == ":memory:" or match["host"]:
        return None
    path = Path(database)
    if not path.is_file():
        return None
    if key is not None:
        from dbops.migrations.lock import sqlite_lock_busy

        # Checked before reading: a run that starts after the check finds the version table as read here.
        if sqlite_lock_busy(path):
            raise LockBusy
    connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        rows = connection.execute(f'SELECT version_num FROM "{table}"').fetchall()
    finally:
        connection.close()
    return frozenset(str(row[0]) for row in rows)


def _read_postgresql(match: re.Match[str], schema: str | None, table: str, key: object) -> frozenset[str] | None:
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
        if key is not None:
            acquired = connection.execute("SELECT pg_try_advisory_lock(%s)", (key,)).fetchone()
            if not (acquired and acquired[0]):
                raise LockBusy
        try:
            rows = connection.execute(f"SELECT version_num FROM {qualified}").fetchall()
        finally:
            if key is not None:
                connection.execute("SELECT pg_advisory_unlock(%s)", (key,))
    return frozenset(str(row[0]) for row in rows)


def _read_mysql(match: re.Match[str], schema: str | None, table: str, key: object) -> frozenset[str] | None:
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
        **({"charset": match["query"].split("=", 1)[1]} if match["query"] else {}),
    )
    try:
        with connection.cursor() as cursor:
            if key is not None:
                cursor.execute("SELECT GET_LOCK(%s, 0)", (key,))
                if cursor.fetchone()[0] != 1:
                    raise LockBusy
            try:
                cursor.execute(f"SELECT version_num FROM {qualified}")
                rows = cursor.fetchall()
            finally:
                if key is not None:
                    cursor.execute("SELECT RELEASE_LOCK(%s)", (key,))
    finally:
        connection.close()
    return frozenset(str(row[0]) for row in rows)


_DIRECT_READERS: dict[str, Callable[[re.Match[str], str | None, str, object], frozenset[str] | None]] = {
    "sqlite": _read_sqlite,
    "postgresql": _read_postgresql,
    "mysql": _read_mysql,
    "mariadb": _read_mysql,
}


def current_revisions(config: AnyConfig, *, under_lock: bool = False) -> frozenset[str] | None:
    """The revisions in the version table, or ``None`` when it can't be read (e.g. it doesn't exist yet).

    ``under_lock`` as for ``current_revisions_direct`` (``LockBusy``; on SQLite, ``None``: take the full path).
    """
    from sqlalchemy import column, exc, select, table, text

    from dbops.connect import dialect_name, run_sync
    from dbops.migrations.lock import lock_key, lock_name, server_lock_sql

    settings = config.alembic_config
    versions = table(settings.version_table_name, column("version_num"), schema=settings.version_table_schema)
    dialect = dialect_name(config)
    statements = server_lock_sql(dialect) if under_lock else None
    if under_lock and statements is None:
        return None
    key = lock_key(dialect, lock_name(config)) if statements is not None else None

    def read(connection: Connection) -> frozenset[str] | None:
        if statements is not None:
            acquired = connection.execute(text(statements[0]), {"key": key}).scalar()
            connection.commit()
            if acquired != 1 and acquired is not True:
                raise LockBusy
        try:
            rows = connection.execute(select(versions.c.version_num)).scalars().all()
        except (exc.ProgrammingError, exc.OperationalError):
            return None  # no version table yet
        finally:
            connection.rollback()
            if statements is not None:
                connection.execute(text(statements[1]), {"key": key})
                connection.commit()
        return frozenset(str(row) for row in rows)

    return run_sync(config, read)
