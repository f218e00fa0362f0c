"""``--ddl-lock-timeout`` / ``--retries`` against a real blocker: a session holding a lock on the table."""

from __future__ import annotations

import statistics
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from dbops.errors import DdlLockTimeoutError, MigrationError
from dbops.migrations import commands
from dbops.migrations.ddl_timeout import parse_duration
from tests.cli_runner import invoke
from tests.databases import TestDatabase
from tests.migrations.conftest import versions
from tests.migrations.lint.helpers import make_project
from tests.reporter import RecordingReporter

FIRST = """
op.create_table("book", sa.Column("id", sa.BigInteger, primary_key=True), sa.Column("title", sa.Text))
op.create_table("runs", sa.Column("rev", sa.String(10)))
op.execute("INSERT INTO book (id, title) VALUES (1, 'one'), (2, 'two')")
"""
# Logs its run in the same transaction (PostgreSQL): a rolled-back attempt leaves no row.
SECOND = """
op.execute("INSERT INTO runs (rev) VALUES ('r2')")
op.add_column("book", sa.Column("isbn", sa.Text))
"""


class Blocker:
    """A session that reads ``book`` in an open transaction (ACCESS SHARE / a metadata lock) for ``seconds``.

    It takes its lock before the upgrade starts, so no DDL lock timeout applies to it and nothing it runs is
    expected to fail; an error is recorded (not raised in the thread, where pytest would only warn) and fails
    the test when the block ends.
    """

    def __init__(self, db: TestDatabase, seconds: float, *, writes: bool = False) -> None:
        self.engine = sa.create_engine(db.sync_url)
        self.seconds = seconds
        self.statement = "UPDATE book SET title = title WHERE id = 1" if writes else "SELECT count(*) FROM book"
        self.holding = threading.Event()
        self.pid = 0
        self.dialect = db.dialect
        self.errors: list[str] = []
        self.thread = threading.Thread(target=self._hold, daemon=True)

    def _hold(self) -> None:
        try:
            with self.engine.connect() as connection:
                connection.execute(sa.text(self.statement))
                pid = "SELECT pg_backend_pid()" if self.dialect == "postgresql" else "SELECT CONNECTION_ID()"
                self.pid = int(connection.execute(sa.text(pid)).scalar_one())
                self.holding.set()
                time.sleep(self.seconds)
                connection.rollback()
        except Exception as error:
            self.errors.append(_describe(error))

    def __enter__(self) -> Blocker:
        self.thread.start()
        if not self.holding.wait(10):
            self.__exit__(None, None, None)
            pytest.fail(f"the blocker did not take its lock within 10 s: {self.errors}")
        return self

    def __exit__(self, *exc: object) -> None:
        self.thread.join(30)
        self.engine.dispose()
        if exc[0] is None:  # an error in the block is the one to see
            assert self.errors == [], f"the blocker failed: {self.errors}"


def _describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"


class Readers:
    """Threads reading ``book`` in a loop (fresh transaction each time), recording each query's wait.

    They stand for the site's traffic, here threads of the same process as the upgrade (an app migrating
    in-process): the migration's DDL lock timeout must not reach them (a reader queued behind a waiting DDL
    statement would give up itself, LockNotAvailable or MariaDB's 1205, instead of waiting). Each read also
    records the lock timeout its transaction ran with, in ``timeouts``; a failed read goes to ``errors``.
    """

    def __init__(self, db: TestDatabase, count: int = 3) -> None:
        self.engine = sa.create_engine(db.sync_url, pool_size=count)
        self.waits: list[float] = []
        self.errors: list[str] = []
        self.timeouts: set[str] = set()
        self.show_timeout = "SHOW lock_timeout" if db.dialect == "postgresql" else "SELECT @@SESSION.lock_wait_timeout"
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self._read, daemon=True) for _ in range(count)]

    def _read(self) -> None:
        while not self.stop.is_set():
            started = time.perf_counter()
            try:
                with self.engine.connect() as connection:
                    self.timeouts.add(str(connection.execute(sa.text(self.show_timeout)).scalar()))
                    connection.execute(sa.text("SELECT count(*) FROM book")).scalar()
            except Exception as error:
                self.errors.append(_describe(error))
            else:
                self.waits.append(time.perf_counter() - started)
            time.sleep(0.02)

    def __enter__(self) -> Readers:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(30)
        self.engine.dispose()

    def p99(self) -> float:
        return statistics.quantiles(self.waits, n=100)[98] if len(self.waits) > 1 else max(self.waits)


@pytest.fixture
def project(db: TestDatabase, is_async: bool, tmp_path: Path) -> Iterator[object]:
    """r1 applied, r2 to come; sync (psycopg, pymysql) and async (asyncpg, asyncmy) configs, with the ledger."""
    if db.dialect == "sqlite":
        pytest.skip("SQLite locks the whole database: there --lock-timeout is the only timeout (see README)")
    config = make_project(
        tmp_path,
        db.url(is_async=is_async),
        [("r1", None, FIRST), ("r2", "r1", SECOND)],
        is_async=is_async,
        migration_log=True,
    )
    commands.upgrade(config, "r1")
    yield config


def _attempts(db: TestDatabase) -> list[tuple[str, str]]:
    """What the migration ledger recorded for r2: one row per attempt."""
    engine = sa.create_engine(db.sync_url)
    try:
        with engine.connect() as connection:
            query = "SELECT result, error FROM dbops_migration_log WHERE revision = 'r2' ORDER BY id"
            return [(row[0], row[1] or "") for row in connection.execute(sa.text(query))]
    finally:
        engine.dispose()


def _runs(db: TestDatabase) -> list[str]:
    engine = sa.create_engine(db.sync_url)
    try:
        with engine.connect() as connection:
            return list(connection.execute(sa.text("SELECT rev FROM runs")).scalars())
    finally:
        engine.dispose()


def test_readers_keep_flowing_and_the_upgrade_succeeds_once_the_blocker_leaves(
    db: TestDatabase, project: object
) -> None:
    reporter = RecordingReporter()
    timeout = 0.2 if db.dialect == "postgresql" else 1  # MariaDB/MySQL: whole seconds
    with Readers(db) as readers, Blocker(db, seconds=2.5):
        result = commands.upgrade(project, ddl_lock_timeout=timeout, retries=8, reporter=reporter)  # type: ignore[arg-type]
    # The readers are this process's other threads: the migration's lock timeout never reached them (the
    # server's defaults, 0 = wait forever on PostgreSQL, MariaDB's 86400 s), so none of them gave up.
    assert readers.errors == [], readers.errors[:5]
    assert readers.timeouts == ({"0"} if db.dialect == "postgresql" else {"86400"}), readers.timeouts
    assert [step.to_revisions for step in result.steps] == [("r2",)]
    assert versions(db) == {"r2"}
    retried = [warning for warning in reporter.warnings if "retrying" in warning]
    assert retried and all("revision r2" in warning and "book" in warning for warning in retried)
    # The ledger: a failed row per attempt that timed out, then the one that got through.
    attempts = _attempts(db)
    assert [result for result, _ in attempts] == ["failed"] * len(retried) + ["applied"]
    assert all("lock" in error.lower() for _, error in attempts[:-1]), attempts
    if db.dialect == "postgresql":
        assert _runs(db) == ["r2"]  # attempts that timed out were rolled back: it ran exactly once
        # Each DDL attempt gave up after 0.2 s, so no reader queued behind it for long.
        assert readers.waits and readers.p99() < 1.0, sorted(readers.waits)[-5:]


def test_without_the_option_readers_queue_behind_the_waiting_ddl(pg_db: TestDatabase, tmp_path: Path) -> None:
    config = make_project(tmp_path, pg_db.sync_url, [("r1", None, FIRST), ("r2", "r1", SECOND)])
    commands.upgrade(config, "r1")
    with Blocker(pg_db, seconds=2.0), Readers(pg_db) as readers:
        time.sleep(0.2)
        commands.upgrade(config)
    assert readers.errors == [], readers.errors[:5]
    assert max(readers.waits) > 1.0  # the oracle for the test above: plain Alembic makes readers wait


def test_gives_up_cleanly_after_the_retries_naming_revision_table_and_blocker(
    db: TestDatabase, project: object
) -> None:
    timeout = 0.2 if db.dialect == "postgresql" else 1
    seconds = 6 if db.dialect != "postgresql" else 4
    with Blocker(db, seconds=seconds) as blocker, pytest.raises(DdlLockTimeoutError) as raised:
        commands.upgrade(project, ddl_lock_timeout=timeout, retries=1)  # type: ignore[arg-type]
    message = str(raised.value)
    assert raised.value.exit_code == 4
    assert "revision r2 could not lock table book" in message and "2 attempt(s)" in message
    assert f"blocked by pid {blocker.pid} " in message
    if db.dialect == "postgresql":  # the session's state and last query (MariaDB shows none when idle)
        assert "idle in transaction" in message and "SELECT pg_backend_pid()" in message
    assert versions(db) == {"r1"}
    assert [result for result, _ in _attempts(db)] == ["failed", "failed"]
    if db.dialect == "postgresql":
        assert _runs(db) == []


def test_cli_exit_code_and_config_default(db: TestDatabase, tmp_path: Path) -> None:
    if db.dialect == "sqlite":
        pytest.skip("no DDL lock timeouts on SQLite")
    make_project(tmp_path, db.sync_url, [("r1", None, FIRST), ("r2", "r1", SECOND)])
    (tmp_path / "settings.py").write_text(
        "from dbops import SQLAlchemySyncConfig, AlembicSyncConfig\n"
        f"db = SQLAlchemySyncConfig(connection_string={db.sync_url!r}, alembic_config=AlembicSyncConfig("
        "script_location='migrations', ddl_lock_timeout='1s', ddl_retries=0))\n"
    )
    assert invoke(["--config", "settings.py:db", "upgrade", "r1"], cwd=tmp_path).exit_code == 0
    with Blocker(db, seconds=4):
        result = invoke(["--config", "settings.py:db", "upgrade"], cwd=tmp_path)
    assert result.exit_code == 4, result.output
    assert "Error: revision r2 could not lock table book within 1 s on 1 attempt(s)" in result.stderr
    assert "Traceback" not in result.stderr
    bad = invoke(["--config", "settings.py:db", "upgrade", "--ddl-lock-timeout", "soon"], cwd=tmp_path)
    assert bad.exit_code == 2 and "bad duration: 'soon' is not a duration" in bad.stderr


def test_durations() -> None:
    assert parse_duration("500ms") == 0.5 and parse_duration("2s") == 2 and parse_duration("1m") == 60
    assert parse_duration(0.25) == 0.25 and parse_duration(None) is None
    with pytest.raises(MigrationError):
        parse_duration("5 minutes")


CONCURRENT = """
with op.get_context().autocommit_block():
    op.create_index("ix_book_title", "book", ["title"], postgresql_concurrently=True)
"""


def _index_valid(db: TestDatabase) -> bool | None:
    engine = sa.create_engine(db.sync_url)
    try:
        with engine.connect() as connection:
            return connection.execute(
                sa.text(
                    "SELECT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
                    "WHERE c.relname = 'ix_book_title'"
                )
            ).scalar()
    finally:
        engine.dispose()


def test_concurrent_index_under_the_migration_lock_and_an_invalid_one_reported_by_check(
    pg_db: TestDatabase, tmp_path: Path
) -> None:
    make_project(tmp_path, pg_db.sync_url, [("r1", None, FIRST), ("r2", "r1", CONCURRENT)])
    (tmp_path / "settings.py").write_text(
        "from dbops import SQLAlchemySyncConfig, AlembicSyncConfig\n"
        f"db = SQLAlchemySyncConfig(connection_string={pg_db.sync_url!r}, "
        # No models here: compare nothing, so check reports only revisions and indexes.
        "alembic_config=AlembicSyncConfig(script_location='migrations', include_object=lambda *a: False))\n"
    )
    assert invoke(["--config", "settings.py:db", "upgrade", "r1"], cwd=tmp_path).exit_code == 0
    # A transaction writing the table: CREATE INDEX CONCURRENTLY waits for it, and gives up at the timeout,
    # leaving an INVALID index behind (outside a transaction, so the session-level timeout applies).
    with Blocker(pg_db, seconds=3, writes=True):
        failed = invoke(["--config", "settings.py:db", "upgrade", "--ddl-lock-timeout", "300ms"], cwd=tmp_path)
    assert failed.exit_code == 4, failed.output
    assert _index_valid(pg_db) is False
    check = invoke(["--config", "settings.py:db", "check"], cwd=tmp_path)
    assert check.exit_code == 1
    assert "index public.ix_book_title on book is INVALID" in check.stdout and "1 invalid index(es)" in check.stderr
    engine = sa.create_engine(pg_db.sync_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(sa.text("DROP INDEX CONCURRENTLY ix_book_title"))
    engine.dispose()
    # Nothing in the way: the concurrent build runs outside a transaction while dbops holds the migration lock.
    done = invoke(["--config", "settings.py:db", "upgrade", "--ddl-lock-timeout", "2s"], cwd=tmp_path)
    assert done.exit_code == 0, done.output
    assert _index_valid(pg_db) is True and versions(pg_db) == {"r2"}
