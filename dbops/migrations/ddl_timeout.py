"""``--ddl-lock-timeout`` / ``--retries``: migration statements that can't get their lock give up and retry.

A DDL statement waiting for its lock (behind a long transaction) makes every later query on that table
queue behind it: a deploy takes the site down without doing anything. With a DDL lock timeout, each
migration statement gives up after a short wait instead; the revision's transaction is rolled back and the
run is retried after a backoff, continuing from the revision that gave up (earlier ones stay applied: each
revision has its own transaction). After the last retry the command fails with ``DdlLockTimeoutError``
(exit 4), naming the revision, the table and the sessions holding locks on it.

Only the migration's own transactions get the timeout: the block is recorded in a context variable, which
the migration's call tree sees (its env.py, an ``asyncio.run`` inside it, SQLAlchemy's greenlets for async
drivers) and other threads and already-running tasks of the same process (an app that migrates in-process
while it serves requests) do not.

- PostgreSQL: ``SET LOCAL lock_timeout`` at the start of every transaction on the migration's connections.
- MariaDB/MySQL: ``SET SESSION lock_wait_timeout`` (whole seconds, at least 1) and ``innodb_lock_wait_timeout``
  at the start of each transaction, restored when it ends. Their DDL is not transactional: a revision is
  retried from its first statement, so keep one locking statement per revision (``dbops lint`` says so).
- SQLite locks the whole database; there the migration lock's ``--lock-timeout`` is the only timeout.
"""

from __future__ import annotations

import contextlib
import contextvars
import math
import random
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from dbops.errors import DbopsError, DdlLockTimeoutError, MigrationError, redact

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from dbops.config import AnyConfig
    from dbops.progress import ProgressTask, Reporter

__all__ = ["DdlTimeout", "parse_duration", "run_with_retries"]

T = TypeVar("T")

BACKOFF_SECONDS = 0.25
BACKOFF_MAX_SECONDS = 5.0


def parse_duration(value: float | str | None) -> float | None:
    """Seconds from a number (``0.5``) or a duration (``"500ms"``, ``"2s"``, ``"1m"``); ``None`` stays ``None``."""
    if value is None or isinstance(value, (int, float)):
        return None if value is None else float(value)
    from dbops.durations import parse_duration as parse_text

    try:
        return parse_text(value).total_seconds()
    except ValueError as error:
        raise MigrationError(f"bad duration: {error}") from None


@dataclass(frozen=True)
class DdlTimeout:
    seconds: float
    retries: int = 0

    @classmethod
    def resolve(cls, config: AnyConfig, timeout: float | str | None, retries: int | None) -> DdlTimeout | None:
        """The command-line values, else the config's ``ddl_lock_timeout`` / ``ddl_retries``."""
        settings = config.alembic_config
        seconds = parse_duration(timeout if timeout is not None else settings.ddl_lock_timeout)
        if seconds is None:
            return None
        if seconds <= 0:
            raise MigrationError(f"--ddl-lock-timeout must be positive, not {seconds:g} s")
        return cls(seconds, retries if retries is not None else settings.ddl_retries)


def _same_database(url: Any, target: Any) -> bool:
    return bool((url.host, url.port, url.database) == (target.host, target.port, target.database))


@dataclass(frozen=True)
class _Timeouts:
    """The statements one ``statement_timeouts`` block runs at the start and end of each transaction."""

    target: Any
    start: list[str]
    end: list[str]
    autocommit_start: list[str]
    autocommit_end: list[str]


# The blocks in force in this context (the migration's call tree). The engine-wide listeners below are added
# once per process and read this variable: adding and removing listeners on every run raced with other
# threads' transactions (SQLAlchemy iterates the listener deque on each "begin": "deque mutated during
# iteration" in an app thread querying meanwhile). A context variable, not a process-wide table, so that those
# other threads' transactions don't get the migration's lock timeout (they would give up instead of waiting).
_active: contextvars.ContextVar[tuple[_Timeouts, ...]] = contextvars.ContextVar("dbops_ddl_timeouts", default=())
_listen_lock = threading.Lock()
_listening: list[bool] = []


def _autocommit(connection: Connection) -> bool:
    return connection.get_execution_options().get("isolation_level") == "AUTOCOMMIT"


def _run_for(connection: Connection, *, starting: bool) -> None:
    active = _active.get()
    if not active:
        return
    url = connection.engine.url
    for timeouts in active:
        if not _same_database(url, timeouts.target):
            continue
        in_block = _autocommit(connection) and timeouts.autocommit_start
        if starting:
            statements = timeouts.autocommit_start if in_block else timeouts.start
        else:
            statements = timeouts.autocommit_end if in_block else timeouts.end
        for statement in statements:
            connection.exec_driver_sql(statement)


def _on_begin(connection: Connection) -> None:
    _run_for(connection, starting=True)


def _on_end(connection: Connection) -> None:
    _run_for(connection, starting=False)


def _listen() -> None:
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    with _listen_lock:
        if _listening:
            return
        event.listen(Engine, "begin", _on_begin)
        event.listen(Engine, "commit", _on_end)
        event.listen(Engine, "rollback", _on_end)
        _listening.append(True)


@contextlib.contextmanager
def statement_timeouts(config: AnyConfig, dialect: str, seconds: float) -> Iterator[None]:
    """Every transaction the block's own code (this context) begins on the config's database gets the lock
    timeout; other threads' and tasks' transactions are left as they are."""
    from dbops.urls import parse_url

    target = parse_url(str(config.connection_string))
    if dialect == "postgresql":
        milliseconds = max(int(seconds * 1000), 1)
        # Outside a transaction (an autocommit_block() for CREATE INDEX CONCURRENTLY) SET LOCAL does nothing:
        # there the session's setting is changed, and reset when the block's work ends.
        timeouts = _Timeouts(
            target,
            start=[f"SET LOCAL lock_timeout = '{milliseconds}ms'"],
            end=[],
            autocommit_start=[f"SET lock_timeout = '{milliseconds}ms'"],
            autocommit_end=["RESET lock_timeout"],
        )
    else:
        whole = max(math.ceil(seconds), 1)
        timeouts = _Timeouts(
            target,
            start=[f"SET SESSION lock_wait_timeout = {whole}", f"SET SESSION innodb_lock_wait_timeout = {whole}"],
            end=["SET SESSION lock_wait_timeout = DEFAULT", "SET SESSION innodb_lock_wait_timeout = DEFAULT"],
            autocommit_start=[],
            autocommit_end=[],
        )
    _listen()
    token = _active.set((*_active.get(), timeouts))
    try:
        yield
    finally:
        _active.reset(token)


def _lock_timeout_error(error: BaseException) -> Any:
    """The driver error in ``error``'s chain if it is a lock timeout (PostgreSQL 55P03, MySQL 1205), else None."""
    seen: BaseException | None = error
    while seen is not None:
        orig = getattr(seen, "orig", None)
        if orig is not None:
            code = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
            args = getattr(orig, "args", ())
            if code == "55P03" or (args and args[0] == 1205) or "lock timeout" in str(orig).lower():
                return seen
        seen = seen.__cause__ or seen.__context__
    return None


_TABLE = re.compile(
    r"\b(?:ALTER|LOCK|DROP|TRUNCATE)\s+TABLE\s+(?:IF\s+EXISTS\s+)?(?:ONLY\s+)?(?P<a>[\w.\"`]+)"
    r"|\bINDEX\b.*?\bON\s+(?:ONLY\s+)?(?P<b>[\w.\"`]+)"
    r"|\b(?:INTO|UPDATE|FROM)\s+(?P<c>[\w.\"`]+)",
    re.I | re.S,
)


def _table(statement: str | None) -> str | None:
    match = _TABLE.search(statement or "")
    if match is None:
        return None
    return next(name for name in match.groups() if name).strip('"`')


_HOLDERS = {
    # Who holds a lock on the table: the sessions pg_blocking_pids() would name for the migration's request.
    "postgresql": (
        "SELECT DISTINCT a.pid, a.usename, a.application_name, a.state, left(a.query, 120), "
        "extract(epoch FROM now() - a.xact_start)::int "
        "FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
        "WHERE l.relation = to_regclass(:table) AND l.granted AND l.pid <> pg_backend_pid()"
    ),
    "mysql": (
        "SELECT p.ID, p.USER, p.HOST, p.COMMAND, left(coalesce(p.INFO, t.trx_query, ''), 120), p.TIME "
        "FROM information_schema.INNODB_TRX t JOIN information_schema.PROCESSLIST p "
        "ON p.ID = t.trx_mysql_thread_id WHERE p.ID <> CONNECTION_ID() AND p.DB = DATABASE()"
    ),
}


def blocking_sessions(config: AnyConfig, dialect: str, table: str | None) -> list[str]:
    """One line per session holding locks on ``table`` (PostgreSQL) / with an open transaction (MySQL)."""
    from sqlalchemy import text

    from dbops.connect import run_sync

    query = _HOLDERS.get("mysql" if dialect in ("mysql", "mariadb") else dialect)
    if query is None or (dialect == "postgresql" and table is None):
        return []

    def read(connection: Connection) -> list[str]:
        rows = connection.execute(text(query), {"table": table}).all()
        connection.rollback()
        return [
            f"pid {row[0]} ({row[1]}{'@' + str(row[2]) if row[2] else ''}, {row[3]}, {row[5]} s: {row[4]!r})"
            for row in rows
        ]

    try:
        return run_sync(config, read)
    except Exception:  # naming the blocker is a courtesy: never hide the timeout behind a second error
        return []


class _Tracking:
    """Passes messages on, remembering the last revision Alembic said it was running."""

    def __init__(self, reporter: Reporter) -> None:
        self.reporter = reporter
        self.running: str | None = None

    def info(self, message: str) -> None:
        if message.startswith("Running "):
            self.running = message.split(" -> ", 1)[-1].split(",", 1)[0].strip()
        self.reporter.info(message)

    def warn(self, message: str) -> None:
        self.reporter.warn(message)

    def progress(self, description: str, total: int | None) -> contextlib.AbstractContextManager[ProgressTask]:
        return self.reporter.progress(description, total)


def run_with_retries(
    config: AnyConfig,
    dialect: str,
    timeout: DdlTimeout,
    run: Callable[[Reporter], T],
    reporter: Reporter,
    *,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """``run(reporter)`` with the lock timeout in force; on a lock timeout, back off and run again."""
    attempts = timeout.retries + 1
    for attempt in range(1, attempts + 1):
        tracking = _Tracking(reporter)
        try:
            with statement_timeouts(config, dialect, timeout.seconds):
                return run(tracking)
        except DbopsError as error:
            cause = _lock_timeout_error(error)
            if cause is None:
                raise
            table = _table(getattr(cause, "statement", None))
            revision = tracking.running or "?"
            if attempt < attempts:
                delay = min(BACKOFF_SECONDS * 2 ** (attempt - 1), BACKOFF_MAX_SECONDS) * random.uniform(0.8, 1.2)
                reporter.warn(
                    f"revision {revision}: {table or 'a table'} stayed locked for {timeout.seconds:g} s; rolled "
                    f"back, retrying in {delay:.1f} s ({attempt}/{timeout.retries})"
                )
                sleep(delay)
                continue
            holders = blocking_sessions(config, dialect, table)
            blocked_by = f"; blocked by {', '.join(holders)}" if holders else ""
            raise DdlLockTimeoutError(
                redact(
                    f"revision {revision} could not lock table {table or '?'} within {timeout.seconds:g} s on "
                    f"{attempts} attempt(s){blocked_by} (the revision was rolled back; retry later, or raise "
                    "--ddl-lock-timeout / --retries)"
                )
            ) from error
    raise AssertionError("unreachable")  # pragma: no cover
