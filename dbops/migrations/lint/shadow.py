"""The shadow database: where revisions that read the database are run so their SQL can be linted.

By default dbops creates a temporary database on the target's server (``dbops_shadow_<random>``; a temporary
file for SQLite), migrates it up to just before each such revision, runs the revision while recording every
statement it sends, and drops the database at the end, whatever happened. The target database is never
written: the shadow is created from a connection to the server's maintenance database (``postgres``) or, on
MariaDB/MySQL, to no database at all. ``--shadow-url`` names an existing empty database to use instead (dbops
migrates it but does not drop it).
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import re
import tempfile
import uuid
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dbops.errors import MigrationError, first_line, redact
from dbops.migrations.lint.render import Chunk

if TYPE_CHECKING:
    from alembic.script import Script
    from sqlalchemy import Connection

    from dbops.config import AnyConfig

__all__ = ["run_on_shadow", "shadow_database"]


def _with_database(config: AnyConfig, database: str | None) -> AnyConfig:
    from dbops.urls import parse_url

    url = parse_url(str(config.connection_string)).set(database=database)
    return dataclasses.replace(
        config,
        connection_string=url.render_as_string(hide_password=False),
        engine_instance=None,
        session_maker=None,
    )


def _admin(config: AnyConfig, dialect: str, statement: str) -> None:
    """Run CREATE/DROP DATABASE outside any transaction, connected to anything but the target database."""
    from sqlalchemy import text

    from dbops.connect import run_sync

    def work(connection: Connection) -> None:
        connection.execution_options(isolation_level="AUTOCOMMIT").execute(text(statement))

    candidates = ["postgres", "template1"] if dialect == "postgresql" else [None]
    failure: BaseException | None = None
    for database in candidates:
        try:
            run_sync(_with_database(config, database), work)
            return
        except Exception as error:  # try the next maintenance database
            failure = error
    assert failure is not None
    raise failure


@contextlib.contextmanager
def shadow_database(config: AnyConfig, dialect: str, shadow_url: str | None) -> Iterator[AnyConfig]:
    """A config on an empty shadow database for the duration of the block."""
    if shadow_url is not None:
        shadow = dataclasses.replace(config, connection_string=shadow_url, engine_instance=None, session_maker=None)
        if _same_database(shadow, config):
            raise MigrationError(f"--shadow-url names the target database {config.url}: give another database")
        _require_empty(shadow)
        yield shadow
        return
    if dialect == "sqlite":
        with tempfile.TemporaryDirectory(prefix="dbops_shadow_") as folder:
            yield _sqlite_file(config, Path(folder) / "shadow.sqlite")
        return
    name = f"dbops_shadow_{uuid.uuid4().hex[:12]}"
    quote = '"' if dialect == "postgresql" else "`"
    try:
        _admin(config, dialect, f"CREATE DATABASE {quote}{name}{quote}")
    except Exception as error:
        raise MigrationError(
            f"cannot create a shadow database on the server of {config.describe()} to run revisions that read "
            f"the database ({redact(first_line(error))}): pass --shadow-url with an empty database"
        ) from error
    shadow = _with_database(config, name)
    try:
        yield shadow
    finally:
        _dispose(shadow)
        force = " WITH (FORCE)" if dialect == "postgresql" else ""
        _admin(config, dialect, f"DROP DATABASE IF EXISTS {quote}{name}{quote}{force}")


def _sqlite_file(config: AnyConfig, path: Path) -> AnyConfig:
    from dbops.urls import parse_url

    url = parse_url(str(config.connection_string)).set(database=str(path))
    return dataclasses.replace(
        config, connection_string=url.render_as_string(hide_password=False), engine_instance=None, session_maker=None
    )


def _same_database(a: AnyConfig, b: AnyConfig) -> bool:
    from dbops.urls import parse_url

    first, second = parse_url(str(a.connection_string)), parse_url(str(b.connection_string))
    return (first.get_backend_name(), first.host, first.port, first.database) == (
        second.get_backend_name(),
        second.host,
        second.port,
        second.database,
    )


def _require_empty(shadow: AnyConfig) -> None:
    from sqlalchemy import inspect

    from dbops.connect import run_sync

    tables = run_sync(shadow, lambda connection: inspect(connection).get_table_names())
    if tables:
        raise MigrationError(
            f"the shadow database {shadow.url} is not empty ({len(tables)} tables): give an empty database"
        )


def _dispose(config: AnyConfig) -> None:
    engine = config.engine_instance
    if engine is not None and not config.is_async:
        engine.dispose()


_PYFORMAT = re.compile(r"%\((\w+)\)s|%s")


def _statement_text(statement: str, dialect: str) -> str:
    """The statement with driver placeholders made parseable (``%(name)s`` -> ``$1`` on PostgreSQL)."""
    if dialect != "postgresql":
        return statement
    return _PYFORMAT.sub("$1", statement).replace("%%", "%")


def run_on_shadow(
    shadow: AnyConfig,
    dialect: str,
    revisions: Sequence[Script],
    where: Callable[[], tuple[str, int] | None],
) -> dict[str, list[Chunk]]:
    """Run each revision on the shadow (after migrating it up to the revision's parents); return what ran."""
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    from dbops.migrations import commands
    from dbops.urls import parse_url

    database = parse_url(str(shadow.connection_string)).database
    recorded: dict[str, list[Chunk]] = {}
    capturing: list[tuple[str, list[Chunk]]] = []

    def before(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        if not capturing or conn.engine.url.database != database:
            return
        origin = where()
        path, chunks = capturing[-1]
        if origin is None or origin[0] != path:
            return  # Alembic's own statements (version table), not the revision's
        autocommit = conn.get_execution_options().get("isolation_level") == "AUTOCOMMIT"
        chunks.append(Chunk(_statement_text(statement, dialect), origin[1], not autocommit and conn.in_transaction()))

    event.listen(Engine, "before_cursor_execute", before)
    try:
        for revision in revisions:
            from alembic.util import to_tuple

            for parent in to_tuple(revision.down_revision, default=()):
                commands.upgrade(shadow, parent)
            chunks: list[Chunk] = []
            capturing.append((os.path.realpath(revision.path), chunks))
            try:
                commands.upgrade(shadow, revision.revision)
            except Exception as error:
                detail = str(error) if isinstance(error, MigrationError) else redact(first_line(error))
                raise MigrationError(
                    f"revision {revision.revision} failed on the shadow database {shadow.url}: {detail}"
                ) from error
            finally:
                capturing.pop()
            recorded[revision.revision] = chunks
    finally:
        event.remove(Engine, "before_cursor_execute", before)
        _dispose(shadow)
    return recorded
