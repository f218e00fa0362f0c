"""The migration lock ``upgrade``, ``downgrade`` and ``stamp`` hold for their whole run.

One lock per database and version table, so two deploys running ``dbops upgrade`` at once apply each
migration exactly once: the second waits, then finds nothing left to do.

- PostgreSQL: a session-level ``pg_advisory_lock`` key, held on a connection of its own;
- MariaDB/MySQL: a ``GET_LOCK`` name (server-wide, so it includes the database name), on its own connection;
- SQLite: ``BEGIN IMMEDIATE`` on the migration's own connection (SQLite locks the whole file, so a second
  connection holding the lock would block the migration itself). The whole run is then one transaction.
  An env.py that is not dbops' own opens its own connections, so there dbops holds an exclusive ``flock`` on
  ``<database file>.dbops-lock`` instead (POSIX systems).

``timeout=None`` waits for as long as it takes; otherwise ``LockTimeoutError`` after ``timeout`` seconds.
"""

from __future__ import annotations

import contextlib
import hashlib
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dbops.errors import LockTimeoutError

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from dbops.config import AnyConfig
    from dbops.progress import Reporter

__all__ = [
    "LockSettings",
    "file_lock",
    "lock_key",
    "lock_name",
    "server_lock",
    "server_lock_sql",
    "sqlite_lock",
    "sqlite_lock_busy",
]

POLL_SECONDS = 0.1


@dataclass(frozen=True)
class LockSettings:
    """What a locking command asks for; env.py reads it from ``config.attributes['dbops_lock']``."""

    timeout: float | None = None
    description: str = ""


@dataclass(frozen=True)
class _ServerLockSql:
    try_acquire: str
    release: str


# One try-lock statement per dialect, polled until it succeeds or the timeout passes.
_SERVER_LOCKS: dict[str, _ServerLockSql] = {
    "postgresql": _ServerLockSql("SELECT pg_try_advisory_lock(:key)", "SELECT pg_advisory_unlock(:key)"),
    "mysql": _ServerLockSql("SELECT GET_LOCK(:key, 0)", "SELECT RELEASE_LOCK(:key)"),
    "mariadb": _ServerLockSql("SELECT GET_LOCK(:key, 0)", "SELECT RELEASE_LOCK(:key)"),
}


def lock_name(config: AnyConfig, database: str | None = None) -> str:
    """``dbops-migrations:<database>:<schema>.<version table>`` for this config.

    ``database`` is the URL's database name when the caller parsed it already (the fast path, which does not
    import SQLAlchemy).
    """
    if database is None:
        from sqlalchemy.engine import make_url

        database = make_url(str(config.connection_string)).database or ""
    settings = config.alembic_config
    return f"dbops-migrations:{database}:{settings.version_table_schema or ''}.{settings.version_table_name}"


def server_lock_sql(dialect: str) -> tuple[str, str] | None:
    """The (try-acquire, release) statements of a server's migration lock, ``:key`` bound; None for SQLite."""
    statements = _SERVER_LOCKS.get(dialect)
    return (statements.try_acquire, statements.release) if statements is not None else None


def sqlite_lock_busy(database: Path) -> bool:
    """Whether a migration (or any writer) holds the SQLite database or its ``.dbops-lock`` file right now.

    Checked without waiting: ``BEGIN IMMEDIATE`` with no busy timeout, and a non-blocking ``flock``.
    """
    import sqlite3

    flag = Path(f"{database.resolve()}.dbops-lock")
    if flag.exists():
        import fcntl

        with flag.open("a") as handle:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return True
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
    connection = sqlite3.connect(f"{database.resolve().as_uri()}?mode=rw", uri=True, timeout=0, isolation_level=None)
    try:
        connection.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError:
        return True
    finally:
        connection.close()  # closing rolls the empty transaction back
    return False


def lock_key(dialect: str, name: str) -> Any:
    digest = hashlib.sha256(name.encode()).digest()
    if dialect == "postgresql":
        return int.from_bytes(digest[:8], "big", signed=True)
    return "dbops:" + digest.hex()[:40]  # GET_LOCK names are at most 64 characters


def _timeout_message(what: str, timeout: float | None) -> str:
    return (
        f"could not take the migration lock for {what} within {timeout:g} s: another dbops process is "
        "migrating this database (retry later or raise --lock-timeout)"
    )


@contextlib.contextmanager
def server_lock(config: AnyConfig, dialect: str, settings: LockSettings, reporter: Reporter) -> Iterator[None]:
    """Hold the PostgreSQL / MariaDB migration lock on a connection of its own while the block runs.

    The connection lives in a helper thread (with its own event loop for async configs), so the migration
    itself runs in the caller's thread outside any event loop, as env.py files expect.
    """
    from sqlalchemy import text

    from dbops.connect import run_sync

    statements = _SERVER_LOCKS[dialect]
    key = lock_key(dialect, lock_name(config))
    acquired = threading.Event()
    release = threading.Event()
    errors: list[BaseException] = []

    def hold(connection: Connection) -> None:
        deadline = None if settings.timeout is None else time.monotonic() + settings.timeout
        announced = False
        while not connection.execute(text(statements.try_acquire), {"key": key}).scalar():
            connection.commit()
            if deadline is not None and time.monotonic() >= deadline:
                raise LockTimeoutError(_timeout_message(settings.description or config.describe(), settings.timeout))
            if not announced:
                reporter.info("Waiting for the migration lock (another process is migrating this database)...")
                announced = True
            time.sleep(POLL_SECONDS)
        connection.commit()
        acquired.set()
        release.wait()
        connection.execute(text(statements.release), {"key": key})
        connection.commit()

    def target() -> None:
        try:
            run_sync(config, hold)
        except BaseException as error:
            errors.append(error)
        finally:
            acquired.set()

    thread = threading.Thread(target=target, name="dbops-migration-lock", daemon=True)
    thread.start()
    acquired.wait()
    if errors:
        thread.join()
        raise errors[0]
    try:
        yield
    finally:
        release.set()
        thread.join(timeout=60)


@contextlib.contextmanager
def sqlite_lock(connection: Connection, settings: LockSettings) -> Iterator[None]:
    """``BEGIN IMMEDIATE`` on the migration's connection; commit when the block succeeds, else roll back."""
    from sqlalchemy import exc

    # busy_timeout is in milliseconds; "forever" is SQLite's largest value.
    busy_ms = 2_147_483_647 if settings.timeout is None else max(int(settings.timeout * 1000), 1)
    connection.exec_driver_sql(f"PRAGMA busy_timeout = {busy_ms}")
    try:
        connection.exec_driver_sql("BEGIN IMMEDIATE")
    except exc.OperationalError as error:
        connection.rollback()
        if "locked" in str(error.orig).lower() or "busy" in str(error.orig).lower():
            raise LockTimeoutError(_timeout_message(settings.description, settings.timeout)) from error
        raise
    try:
        yield
    except BaseException:
        connection.rollback()
        raise
    connection.commit()


@contextlib.contextmanager
def file_lock(path: Path, settings: LockSettings, reporter: Reporter) -> Iterator[None]:
    """An exclusive ``flock`` on ``path`` (created if missing) while the block runs; polled like the others."""
    import fcntl

    deadline = None if settings.timeout is None else time.monotonic() + settings.timeout
    with path.open("a") as handle:
        announced = False
        while True:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if deadline is not None and time.monotonic() >= deadline:
                    raise LockTimeoutError(_timeout_message(settings.description, settings.timeout)) from None
                if not announced:
                    reporter.info("Waiting for the migration lock (another process is migrating this database)...")
                    announced = True
                time.sleep(POLL_SECONDS)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
