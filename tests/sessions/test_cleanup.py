"""The cleanup and stats engine, called directly, on every dialect."""

from __future__ import annotations

import datetime
import itertools
import time

import pytest

from dbops.errors import SessionsError
from dbops.sessions import CleanupResult, SessionTable, cleanup, model_session_tables, stats
from tests.databases import TestDatabase
from tests.reporter import RecordingReporter
from tests.sessions.helpers import config, counts, create_table, seed
from tests.sessions.models import BIND_KEY

USER_SESSIONS = [SessionTable("user_sessions")]


def test_model_session_tables_finds_mixin_subclasses(sqlite_db: TestDatabase) -> None:
    assert SessionTable("user_sessions") in model_session_tables(config(sqlite_db))


def test_deletes_expired_rows_in_batches(db: TestDatabase, is_async: bool) -> None:
    seed(db, expired=23, live=7)
    reporter = RecordingReporter()
    [result] = cleanup(config(db, is_async), tables=USER_SESSIONS, batch_size=5, reporter=reporter)
    assert (result.table, result.deleted, result.remaining_expired, result.complete) == ("user_sessions", 23, 0, True)
    assert result.batches >= 5  # 5+5+5+5+3, each its own transaction
    assert counts(db) == (0, 7)
    assert sum(task.done for task in reporter.tasks) == 23


@pytest.mark.parametrize("dialect", ["sqlite", "mariadb"])
def test_each_batch_commits_on_its_own(request: pytest.FixtureRequest, dialect: str) -> None:
    """Another connection sees every batch's deletes before the next batch starts (one transaction per batch).

    The injected clock runs before each client-side batch (it checks ``max_seconds``): there it counts from
    outside. (PostgreSQL's batches run in the server, between clock readings: see the next test.)"""
    db: TestDatabase = request.getfixturevalue(f"{dialect}_db")
    seed(db, expired=12, live=2)
    seen: list[int] = []

    def clock() -> float:
        seen.append(counts(db)[0])
        return 0.0

    [result] = cleanup(config(db), tables=USER_SESSIONS, batch_size=5, max_seconds=3600, clock=clock)
    assert result.deleted == 12 and result.complete
    # the readings change only between batches: 12 before the first, 7 and 2 after each, 0 after the last
    assert [count for index, count in enumerate(seen) if index == 0 or seen[index - 1] != count] == [12, 7, 2, 0]


@pytest.mark.parametrize("dialect", ["pg", "mariadb"])
def test_a_batch_waiting_on_a_lock_has_committed_the_ones_before(request: pytest.FixtureRequest, dialect: str) -> None:
    """A row of the second batch is locked by another transaction: while the cleanup waits for it, the first
    batch's deletes are already committed (seen from a third connection), and nothing of the second is."""
    import threading

    from sqlalchemy import create_engine, text

    db: TestDatabase = request.getfixturevalue(f"{dialect}_db")
    seed(db, expired=12, live=2)
    holder_engine = create_engine(db.sync_url)
    holder = holder_engine.connect()
    holder.begin()
    seventh = "SELECT id FROM (SELECT id FROM user_sessions ORDER BY expires_at LIMIT 1 OFFSET 6) AS s"
    holder.execute(text(f"SELECT id FROM user_sessions WHERE id = ({seventh}) FOR UPDATE"))
    results: list[CleanupResult] = []
    worker = threading.Thread(
        target=lambda: results.extend(cleanup(config(db), tables=USER_SESSIONS, batch_size=5)), daemon=True
    )
    worker.start()
    try:
        waited = 0.0
        while counts(db)[0] != 7 and waited < 30:
            time.sleep(0.05)
            waited += 0.05
        expired_while_blocked = counts(db)[0]
        time.sleep(0.3)
        assert worker.is_alive()  # still waiting for the locked row
        assert (expired_while_blocked, counts(db)[0]) == (7, 7)
    finally:
        holder.commit()
        holder.close()
        holder_engine.dispose()
    worker.join(timeout=60)
    [result] = results
    assert (result.deleted, result.remaining_expired, result.complete) == (12, 0, True)
    assert counts(db) == (0, 2)


def test_two_cleanups_at_once_split_the_work(db: TestDatabase) -> None:
    """Two cleanups really running side by side: a barrier holds both until each has started, and their clocks
    (read once per batch) keep them in step, neither more than a batch ahead of the other. No deadlock or error,
    every row counted once, both finish, and each deleted some of the rows."""
    import threading

    expired = 2000
    seed(db, expired=expired, live=5)
    barrier = threading.Barrier(2, timeout=30)
    results: list[list[CleanupResult]] = []
    errors: list[BaseException] = []
    steps: dict[int, int] = {}
    done: set[int] = set()
    turn = threading.Condition()

    def clock() -> float:
        me = threading.get_ident()
        with turn:
            steps[me] = steps.get(me, 0) + 1
            turn.notify_all()

            def others_caught_up() -> bool:
                others = [count for ident, count in steps.items() if ident != me and ident not in done]
                return len(steps) == 2 and all(count >= steps[me] - 1 for count in others)

            turn.wait_for(others_caught_up, timeout=5)  # the timeout only matters once the other has finished
        return 0.0

    def worker() -> None:
        try:
            barrier.wait()
            results.append(cleanup(config(db), tables=USER_SESSIONS, batch_size=10, max_seconds=3600, clock=clock))
        except BaseException as error:  # the main thread reports it
            errors.append(error)
        finally:
            with turn:
                done.add(threading.get_ident())
                turn.notify_all()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    assert len(results) == 2
    deleted = [result.deleted for [result] in results]
    assert sum(deleted) == expired
    assert all(count > 0 for count in deleted), f"one cleanup did all the work: {deleted}"
    assert all(result.complete and result.remaining_expired == 0 for [result] in results)
    assert counts(db) == (0, 5)


def test_dry_run_counts_only(db: TestDatabase) -> None:
    seed(db, expired=12, live=3)
    [result] = cleanup(config(db), tables=USER_SESSIONS, dry_run=True)
    assert (result.deleted, result.remaining_expired, result.dry_run) == (0, 12, True)
    assert counts(db) == (12, 3)


def test_older_than_keeps_a_grace_period(db: TestDatabase) -> None:
    seed(db, expired=4, expired_ago=datetime.timedelta(hours=3))
    seed(db, expired=6, expired_ago=datetime.timedelta(minutes=10))
    [result] = cleanup(config(db), tables=USER_SESSIONS, older_than=datetime.timedelta(hours=1))
    assert (result.deleted, result.remaining_expired) == (4, 0)
    assert counts(db) == (6, 0)


def test_max_seconds_stops_between_batches(db: TestDatabase) -> None:
    seed(db, expired=30)
    ticks = itertools.count()
    # Each clock read is one "second": the check after the first batch (client-side batches), or after the
    # first server call of up to 20 batches (PostgreSQL, whose server gets the half second left), finds the
    # time used up.
    [result] = cleanup(
        config(db), tables=USER_SESSIONS, batch_size=1, max_seconds=2.5, clock=lambda: float(next(ticks))
    )
    assert not result.complete
    assert 0 < result.deleted <= (20 if db.dialect == "postgresql" else 1)
    assert result.deleted + result.remaining_expired == 30
    assert counts(db) == (result.remaining_expired, 0)
    [rest] = cleanup(config(db), tables=USER_SESSIONS, batch_size=7)
    assert (rest.deleted, rest.remaining_expired, rest.complete) == (result.remaining_expired, 0, True)


def test_nothing_to_delete(db: TestDatabase) -> None:
    seed(db, live=2)
    [result] = cleanup(config(db), tables=USER_SESSIONS)
    assert (result.deleted, result.remaining_expired, result.complete) == (0, 0, True)
    assert counts(db) == (0, 2)


def test_tables_found_by_shape_without_models(db: TestDatabase) -> None:
    seed(db, expired=3, live=1)
    [result] = cleanup(config(db), tables=None)
    assert (result.table, result.deleted) == ("user_sessions", 3)


def test_stats(db: TestDatabase, is_async: bool) -> None:
    seed(db, expired=5, live=2, expired_ago=datetime.timedelta(hours=2))
    [row] = stats(config(db, is_async), tables=USER_SESSIONS)
    assert (row.table, row.live, row.expired) == ("user_sessions", 2, 5)
    assert row.oldest_expiry is not None and row.oldest_expiry.tzinfo is not None
    ago = datetime.datetime.now(datetime.timezone.utc) - row.oldest_expiry
    assert datetime.timedelta(hours=1, minutes=50) < ago < datetime.timedelta(hours=2, minutes=10)


def test_stats_of_an_empty_table(db: TestDatabase) -> None:
    create_table(db)
    [row] = stats(config(db), tables=USER_SESSIONS)
    assert (row.live, row.expired, row.oldest_expiry) == (0, 0, None)


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"batch_size": 0}, "batch size must be at least 1"),
        ({"max_seconds": 0}, "max seconds must be positive"),
        ({"older_than": datetime.timedelta(seconds=-1)}, "older-than must not be negative"),
        ({"tables": [SessionTable("nope")]}, "table nope does not exist"),
        ({"tables": []}, "define no session table"),
    ],
)
def test_bad_arguments_change_nothing(sqlite_db: TestDatabase, kwargs: dict[str, object], fragment: str) -> None:
    seed(sqlite_db, expired=2)
    with pytest.raises(SessionsError, match=fragment):
        cleanup(config(sqlite_db), **{"tables": USER_SESSIONS, **kwargs})  # type: ignore[arg-type]
    assert counts(sqlite_db) == (2, 0)


def test_table_without_expires_at(db: TestDatabase) -> None:
    from sqlalchemy import Column, Integer, MetaData, Table, create_engine

    engine = create_engine(db.sync_url)
    Table("plain", MetaData(), Column("id", Integer, primary_key=True)).create(engine)
    engine.dispose()
    with pytest.raises(SessionsError, match=r"table plain in .* has no expires_at column"):
        cleanup(config(db), tables=[SessionTable("plain")])
    with pytest.raises(SessionsError, match="no session tables"):
        stats(config(db), tables=None)


def test_a_session_revived_during_a_batch_does_not_end_the_cleanup(pg_db: TestDatabase) -> None:
    """A returning visitor's `set` on an expired row the batch wants makes that batch short; cleanup goes on."""
    import threading

    import psycopg

    seed(pg_db, expired=20)
    holder = psycopg.connect(pg_db.sync_url.replace("postgresql+psycopg", "postgresql"))
    # The oldest expired row is revived in a transaction that commits while the first batch waits for it.
    holder.execute(
        "UPDATE user_sessions SET expires_at = now() + interval '1 day' "
        "WHERE id = (SELECT id FROM user_sessions ORDER BY expires_at LIMIT 1)"
    )
    release = threading.Timer(1.0, holder.commit)
    release.start()
    try:
        [result] = cleanup(config(pg_db), tables=USER_SESSIONS, batch_size=5)
    finally:
        release.cancel()
        holder.close()
    assert (result.deleted, result.remaining_expired, result.complete) == (19, 0, True)
    assert counts(pg_db) == (0, 1)


def test_model_tables_not_migrated_yet_are_skipped_with_a_warning(db: TestDatabase) -> None:
    seed(db, expired=3)
    reporter = RecordingReporter()
    tables = [SessionTable("user_sessions"), SessionTable("not_migrated")]
    [result] = cleanup(config(db), tables=tables, missing_ok=True, reporter=reporter)
    assert (result.table, result.deleted) == ("user_sessions", 3)
    assert reporter.warnings and "skipped session table not_migrated" in reporter.warnings[0]
    with pytest.raises(SessionsError, match=r"session tables of the models \(not_migrated\) do not exist"):
        stats(config(db), tables=[SessionTable("not_migrated")], missing_ok=True)


def test_model_tables_follow_bind_keys(sqlite_db: TestDatabase) -> None:
    from sqlalchemy import MetaData

    from dbops.config import SQLAlchemySyncConfig

    default = SQLAlchemySyncConfig(connection_string=sqlite_db.sync_url)
    assert SessionTable("user_sessions") not in model_session_tables(default)  # its model has another bind key
    own_metadata = SQLAlchemySyncConfig(connection_string=sqlite_db.sync_url, metadata=MetaData(), bind_key=BIND_KEY)
    assert SessionTable("user_sessions") in model_session_tables(own_metadata)


def test_postgresql_batches_run_in_the_server_or_from_the_client(pg_db: TestDatabase) -> None:
    """The server-side loop reports through a session setting (seen on the pooled connection afterwards);
    without PL/pgSQL the client-side loop does the same work."""
    import psycopg
    from sqlalchemy import text

    seed(pg_db, expired=23, live=4)
    in_server = config(pg_db)
    [result] = cleanup(in_server, tables=USER_SESSIONS, batch_size=5)
    assert (result.deleted, result.remaining_expired, result.batches, result.complete) == (23, 0, 5, True)
    with in_server.get_engine().connect() as connection:  # type: ignore[union-attr]
        report = connection.execute(text("SELECT current_setting('dbops.cleanup_progress', true)")).scalar()
    in_server.dispose()  # type: ignore[union-attr]
    assert str(report).split(" ")[1:] == ["23", "5", "end"]

    seed(pg_db, expired=23)
    with psycopg.connect(pg_db.sync_url.replace("postgresql+psycopg", "postgresql"), autocommit=True) as conn:
        conn.execute("DROP EXTENSION plpgsql")  # in this test's own database only
    from_client = config(pg_db)
    [result] = cleanup(from_client, tables=USER_SESSIONS, batch_size=5)
    assert (result.deleted, result.remaining_expired, result.batches, result.complete) == (23, 0, 5, True)
    with from_client.get_engine().connect() as connection:  # type: ignore[union-attr]
        assert connection.execute(text("SELECT current_setting('dbops.cleanup_progress', true)")).scalar() is None
    from_client.dispose()  # type: ignore[union-attr]
    assert counts(pg_db) == (0, 4)


def test_table_name_with_colons_and_percents(db: TestDatabase) -> None:
    """The batches are SQL we write: a quoted name that looks like a parameter or a format stays a name."""
    from sqlalchemy import create_engine

    name = "odd:name %s $dbops$"
    quoted = f"`{name}`" if db.dialect == "mariadb" else f'"{name}"'
    seed(db, expired=9, live=2)
    engine = create_engine(db.sync_url)
    raw = engine.raw_connection()  # plain DBAPI, no parameters: the name goes to the server as written
    try:
        cursor = raw.cursor()
        cursor.execute(f"ALTER TABLE user_sessions RENAME TO {quoted}")
        raw.commit()
        [result] = cleanup(config(db), tables=[SessionTable(name)], batch_size=4)
        assert (result.table, result.deleted, result.remaining_expired, result.complete) == (name, 9, 0, True)
        cursor.execute(f"SELECT count(*) FROM {quoted}")
        counted = cursor.fetchone()
        assert counted is not None and tuple(counted) == (2,)
        [row] = stats(config(db), tables=[SessionTable(name)])
        assert (row.live, row.expired) == (2, 0)
    finally:
        raw.close()
        engine.dispose()
