"""dump-data / load-data --jobs: the same files whatever N, one snapshot for every reader, and failures that
leave the previous dump (dump) or empty tables (load) behind."""

from __future__ import annotations

import re
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from dbops.data.dump import dump_data
from dbops.data.load import load_data
from dbops.errors import DataError
from dbops.progress import ProgressTask
from tests.data.models import (
    chain_metadata,
    chain_rows,
    create_and_fill,
    create_tables,
    dispose,
    everything_metadata,
    everything_rows,
    make_config,
    snapshot,
    sync_engine,
)
from tests.databases import MYSQL_HOST, MYSQL_PORT, TestDatabase
from tests.reporter import RecordingReporter


def execute(db: TestDatabase, *statements: str) -> None:
    engine = sync_engine(db)
    with engine.begin() as connection:
        for statement in statements:
            connection.execute(sa.text(statement))
    engine.dispose()


def many_tables() -> sa.MetaData:
    """The FK chain plus independent tables, enough for four readers to have work at once."""
    metadata = chain_metadata()
    for number in range(4):
        sa.Table(
            f"extra{number}",
            metadata,
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("note", sa.String(50)),
            sa.Column("author_id", sa.ForeignKey("authors.id")),
        )
    return metadata


def many_rows() -> dict[str, list[dict[str, Any]]]:
    rows = chain_rows()
    for number in range(4):
        rows[f"extra{number}"] = [
            {"id": n, "note": f"n{n} ✓", "author_id": 1 + n % 2} for n in range(1, 60 * (number + 1))
        ]
    return rows


def files(directory: Path) -> dict[str, bytes]:
    """Every file of a dump; the manifest without its creation time (the only thing that may differ)."""
    found = {path.name: path.read_bytes() for path in sorted(directory.iterdir())}
    found["manifest.json"] = re.sub(rb'"created_at": "[^"]*"', b'"created_at": ""', found["manifest.json"])
    return found


@pytest.mark.parametrize("file_format", ["json", "jsonl"])
def test_dump_files_are_the_same_whatever_jobs(
    db: TestDatabase, tmp_path: Path, is_async: bool, file_format: str
) -> None:
    metadata = many_tables()
    create_and_fill(db, metadata, many_rows())
    everything = everything_metadata(db.dialect)
    create_and_fill(db, everything, {"everything": everything_rows(db.dialect)})
    for table in everything.tables.values():
        table.to_metadata(metadata)
    config = make_config(db, metadata, is_async=is_async)
    one = dump_data(config, directory=tmp_path / "one", file_format=file_format)
    reporter = RecordingReporter()
    four = dump_data(config, directory=tmp_path / "four", file_format=file_format, jobs=4, reporter=reporter)
    dispose(config)
    assert files(tmp_path / "one") == files(tmp_path / "four")
    assert [(table.name, table.rows) for table in one.tables] == [(table.name, table.rows) for table in four.tables]
    assert sorted(task.description for task in reporter.tasks) == sorted(f"dump {t.name}" for t in one.tables)
    parallel = [message for message in reporter.infos if "connections from one snapshot" in message]
    assert parallel == ([] if db.dialect == "sqlite" else ["Reading with 4 connections from one snapshot"])


def test_jobs_must_be_positive(sqlite_db: TestDatabase, tmp_path: Path) -> None:
    metadata = chain_metadata()
    create_and_fill(sqlite_db, metadata, chain_rows())
    with pytest.raises(DataError, match="--jobs must be at least 1"):
        dump_data(make_config(sqlite_db, metadata), directory=tmp_path / "d", jobs=0)
    with pytest.raises(DataError, match="--jobs must be at least 1"):
        load_data(make_config(sqlite_db, metadata), directory=tmp_path, jobs=0)


class FailingReporter(RecordingReporter):
    """Fails the way a full disk would, while one table is being written (in whichever reader has it)."""

    def __init__(self, table: str) -> None:
        super().__init__()
        self.table = table

    @contextmanager
    def progress(self, description: str, total: int | None) -> Iterator[ProgressTask]:
        with super().progress(description, total) as task:
            if description == f"dump {self.table}":
                raise OSError(28, "No space left on device")
            yield task


def test_a_failing_reader_fails_the_dump_and_keeps_the_previous_one(
    db: TestDatabase, tmp_path: Path, is_async: bool
) -> None:
    metadata = many_tables()
    create_and_fill(db, metadata, many_rows())
    config = make_config(db, metadata, is_async=is_async)
    target = tmp_path / "out" / "dump"
    dump_data(config, directory=target, tables=["authors"])
    before = files(target)
    with pytest.raises(DataError, match=r"cannot write the dump in .*dump: No space left on device"):
        dump_data(config, directory=target, jobs=3, reporter=FailingReporter("extra1"))
    dispose(config)
    assert files(target) == before
    assert sorted(path.name for path in target.parent.iterdir()) == ["dump"]  # no staging directory left behind


@pytest.fixture(params=["postgresql", "mariadb"])
def server_db(request: pytest.FixtureRequest) -> TestDatabase:
    fixture = "pg_db" if request.param == "postgresql" else "mariadb_db"
    database: TestDatabase = request.getfixturevalue(fixture)
    return database


class WriterAtSnapshot(RecordingReporter):
    """Commits a change to two tables once the dump's snapshot is taken, before its readers have started.

    On MariaDB the coordinator holds a global read lock then, so the writer's commit waits: it runs in a
    thread, and the reporter returns once the server shows it waiting for the lock.
    """

    def __init__(self, db: TestDatabase) -> None:
        super().__init__()
        self.db = db
        self.writer: threading.Thread | None = None
        self.error: BaseException | None = None

    def info(self, message: str) -> None:
        super().info(message)
        if "from one snapshot" not in message:
            return
        self.writer = threading.Thread(target=self.write)
        self.writer.start()
        if self.db.dialect == "postgresql":
            self.writer.join()
            return
        engine = sync_engine(self.db)
        with engine.connect() as connection:
            while self.writer.is_alive():
                states = connection.execute(
                    sa.text("SELECT state FROM information_schema.processlist WHERE info LIKE 'UPDATE books%'")
                ).scalars()
                if any("lock" in str(state).lower() for state in states):
                    break
        engine.dispose()

    def write(self) -> None:
        try:
            execute(self.db, "UPDATE books SET title = 'after'", "UPDATE authors SET name = 'after'")
        except BaseException as error:  # re-raised by the test
            self.error = error


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
def test_parallel_readers_share_one_snapshot(server_db: TestDatabase, tmp_path: Path, is_async: bool) -> None:
    """A commit to two tables after the snapshot is in neither table: every reader reads the same moment.

    Without snapshot sharing, the readers (which start after the commit) would read 'after' in both.
    """
    metadata = many_tables()
    create_and_fill(server_db, metadata, many_rows())
    reporter = WriterAtSnapshot(server_db)
    config = make_config(server_db, metadata, is_async=is_async)
    dump_data(config, directory=tmp_path / "dump", jobs=4, reporter=reporter)
    dispose(config)
    assert reporter.writer is not None
    reporter.writer.join()
    assert reporter.error is None
    dumped = (tmp_path / "dump" / "books.json").read_text() + (tmp_path / "dump" / "authors.json").read_text()
    assert "after" not in dumped
    assert snapshot(server_db, metadata)["authors"][0].count("after") == 1  # the writer did commit


def test_mariadb_without_reload_dumps_with_one_reader(mariadb_db: TestDatabase, tmp_path: Path) -> None:
    import pymysql  # type: ignore[import-untyped]

    metadata = many_tables()
    create_and_fill(mariadb_db, metadata, many_rows())
    user = f"jobs_{uuid.uuid4().hex[:8]}"
    admin = pymysql.connect(host=MYSQL_HOST, port=MYSQL_PORT, user="root", password="", autocommit=True)
    try:
        with admin.cursor() as cursor:
            cursor.execute(f"CREATE USER '{user}'@'%' IDENTIFIED BY 'pw'")
            cursor.execute(f"GRANT ALL ON `{mariadb_db.name}`.* TO '{user}'@'%'")
        limited = TestDatabase(
            "mariadb",
            mariadb_db.sync_url.replace("root@", f"{user}:pw@"),
            mariadb_db.async_url.replace("root@", f"{user}:pw@"),
            mariadb_db.name,
        )
        reporter = RecordingReporter()
        config = make_config(limited, metadata)
        dump_data(config, directory=tmp_path / "four", jobs=4, reporter=reporter)
        dump_data(config, directory=tmp_path / "one")
        dispose(config)
    finally:
        with admin.cursor() as cursor:
            cursor.execute(f"DROP USER '{user}'@'%'")
        admin.close()
    assert reporter.warnings == [
        "--jobs: this user may not run FLUSH TABLES WITH READ LOCK (it needs the RELOAD privilege), which "
        "parallel readers need to start from one moment; dumping with one reader"
    ]
    assert not [message for message in reporter.infos if "from one snapshot" in message]
    assert files(tmp_path / "one") == files(tmp_path / "four")


# -- load ------------------------------------------------------------------------------------------------------


def dump_then_empty(db: TestDatabase, tmp_path: Path, metadata: sa.MetaData, rows: dict[str, Any]) -> Path:
    """A dump of ``rows``; the database then holds the tables, empty."""
    create_and_fill(db, metadata, rows)
    config = make_config(db, metadata)
    dump_data(config, directory=tmp_path / "dump")
    dispose(config)
    db.reset()
    create_tables(db, metadata)
    return tmp_path / "dump"


def next_id(db: TestDatabase, table: str) -> int:
    engine = sync_engine(db)
    try:
        with engine.begin() as connection:
            inserted = connection.execute(sa.text(f"INSERT INTO {table} (note) VALUES ('new')"))
            if db.dialect == "postgresql":
                return int(connection.execute(sa.text(f"SELECT currval('{table}_id_seq')")).scalar_one())
            return int(inserted.lastrowid)
    finally:
        engine.dispose()


@pytest.mark.parametrize("mode", ["insert", "upsert"])
def test_parallel_load_gives_the_dumped_database(db: TestDatabase, tmp_path: Path, is_async: bool, mode: str) -> None:
    """Rows, counters and a dump of the loaded database: the same as with one transaction."""
    metadata = many_tables()
    rows = many_rows()
    create_and_fill(db, metadata, rows)
    counter = {
        "postgresql": "SELECT setval('extra2_id_seq', 500)",
        "mariadb": "ALTER TABLE extra2 AUTO_INCREMENT = 501",
        "sqlite": None,  # INTEGER PRIMARY KEY without AUTOINCREMENT: max(rowid) + 1
    }[db.dialect]
    if counter:
        execute(db, counter)
    source = make_config(db, metadata)
    dump_data(source, directory=tmp_path / "dump")
    dispose(source)
    before = snapshot(db, metadata)
    db.reset()
    create_tables(db, metadata)
    config = make_config(db, metadata, is_async=is_async)
    reporter = RecordingReporter()
    result = load_data(config, directory=tmp_path / "dump", jobs=4, mode=mode, reporter=reporter)
    assert [table.name for table in result.tables] == [
        "authors",
        "categories",
        "books",
        "extra0",
        "extra1",
        "extra2",
        "extra3",
        "reviews",
    ]
    assert result.rows == sum(len(table_rows) for table_rows in rows.values())
    assert result.copy_used == (db.dialect == "postgresql" and mode == "insert")  # psycopg text, asyncpg binary COPY
    assert sorted(task.description for task in reporter.tasks) == sorted(f"load {t.name}" for t in result.tables)
    assert snapshot(db, metadata) == before
    dump_data(config, directory=tmp_path / "again")
    dispose(config)
    assert files(tmp_path / "again") == files(tmp_path / "dump")
    assert next_id(db, "extra2") == (180 if db.dialect == "sqlite" else 501)


def test_parallel_load_refuses_tables_with_rows(server_db: TestDatabase, tmp_path: Path) -> None:
    metadata = many_tables()
    dumped = dump_then_empty(server_db, tmp_path, metadata, many_rows())
    execute(server_db, "INSERT INTO extra3 (id, note) VALUES (1000, 'kept')")
    before = snapshot(server_db, metadata)
    config = make_config(server_db, metadata)
    for mode in ("insert", "truncate", "upsert"):
        with pytest.raises(DataError, match=r"--jobs 2 loads into empty tables only, and extra3 has rows"):
            load_data(config, directory=dumped, jobs=2, mode=mode)
    dispose(config)
    assert snapshot(server_db, metadata) == before


def test_sqlite_loads_with_one_writer_in_one_transaction(sqlite_db: TestDatabase, tmp_path: Path) -> None:
    """--jobs means one writer on SQLite: the load stays one transaction, into tables with rows too."""
    metadata = many_tables()
    dumped = dump_then_empty(sqlite_db, tmp_path, metadata, many_rows())
    execute(sqlite_db, "INSERT INTO authors (id, name) VALUES (99, 'Zed')")
    config = make_config(sqlite_db, metadata)
    result = load_data(config, directory=dumped, jobs=4, mode="truncate")
    dispose(config)
    assert result.rows == sum(len(rows) for rows in many_rows().values())
    assert all("Zed" not in row for row in snapshot(sqlite_db, metadata)["authors"])


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
def test_a_failing_table_empties_every_loaded_table(server_db: TestDatabase, tmp_path: Path, is_async: bool) -> None:
    """A bad row in a table of the last wave: the tables already committed are emptied again."""
    metadata = many_tables()
    rows = many_rows()
    rows["reviews"][1]["stars"] = 2
    dumped = dump_then_empty(server_db, tmp_path, metadata, rows)
    text = (dumped / "reviews.json").read_bytes()
    (dumped / "reviews.json").write_bytes(text.replace(b'"stars":2', b'"stars":"two"'))
    manifest = (dumped / "manifest.json").read_bytes()
    import hashlib

    old = hashlib.sha256(text).hexdigest().encode()
    new = hashlib.sha256((dumped / "reviews.json").read_bytes()).hexdigest().encode()
    (dumped / "manifest.json").write_bytes(manifest.replace(old, new))
    config = make_config(server_db, metadata, is_async=is_async)
    with pytest.raises(DataError, match=r"reviews.json row 2, column 'stars'"):
        load_data(config, directory=dumped, jobs=3)
    dispose(config)
    assert all(not table_rows for table_rows in snapshot(server_db, metadata).values())


def test_a_lost_connection_is_said_with_the_tables_it_may_leave(pg_db: TestDatabase, tmp_path: Path) -> None:
    """The clean-up itself fails (the server is gone): the error names the tables that may hold rows."""
    metadata = many_tables()
    dumped = dump_then_empty(pg_db, tmp_path, metadata, many_rows())

    class Terminator(RecordingReporter):
        @contextmanager
        def progress(self, description: str, total: int | None) -> Iterator[ProgressTask]:
            if description == "load reviews":
                execute(
                    pg_db,
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()",
                )
            with super().progress(description, total) as task:
                yield task

    config = make_config(pg_db, metadata)
    with pytest.raises(DataError, match=r"may hold part of the load") as caught:
        load_data(config, directory=dumped, jobs=2, reporter=Terminator())
    dispose(config)
    assert "authors" in str(caught.value) and "reviews" in str(caught.value)


def test_parallel_load_disables_triggers(pg_db: TestDatabase, tmp_path: Path) -> None:
    metadata = many_tables()
    dumped = dump_then_empty(pg_db, tmp_path, metadata, many_rows())
    execute(
        pg_db,
        "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RAISE 'no'; END$$",
        "CREATE TRIGGER refuse BEFORE INSERT ON extra1 FOR EACH ROW EXECUTE FUNCTION refuse()",
    )
    config = make_config(pg_db, metadata)
    with pytest.raises(DataError, match="extra1"):
        load_data(config, directory=dumped, jobs=2)
    assert all(not table_rows for table_rows in snapshot(pg_db, metadata).values())
    result = load_data(config, directory=dumped, jobs=2, disable_triggers=True)
    dispose(config)
    assert result.rows == sum(len(rows) for rows in many_rows().values())


def test_a_pool_too_small_for_the_jobs_is_said(pg_db: TestDatabase, tmp_path: Path) -> None:
    from dbops.config import EngineConfig, SQLAlchemySyncConfig

    metadata = many_tables()
    create_and_fill(pg_db, metadata, many_rows())
    config = SQLAlchemySyncConfig(
        connection_string=pg_db.sync_url, metadata=metadata, engine_config=EngineConfig(pool_size=2, max_overflow=1)
    )
    with pytest.raises(DataError, match=r"--jobs 3 needs 4 connections, and .*'s pool allows 3 \(pool_size"):
        dump_data(config, directory=tmp_path / "dump", jobs=3)
    dump_data(config, directory=tmp_path / "dump", jobs=2)
    config.dispose()


class FullDiskAtFirstBatch(RecordingReporter):
    """Fails while the first batch of a table is written out (for a small table, its last batch too)."""

    @contextmanager
    def progress(self, description: str, total: int | None) -> Iterator[ProgressTask]:
        class Failing:
            def advance(self, amount: int = 1) -> None:
                raise OSError(28, "No space left on device")

        yield Failing()


@pytest.mark.parametrize("jobs", [1, 3])
def test_a_write_failing_at_the_last_batch_leaves_a_usable_connection(
    pg_db: TestDatabase, tmp_path: Path, jobs: int
) -> None:
    """The server's COPY of the table has ended then; its results must still be read, or the rollback fails
    ("another command is already in progress") and hides the real error."""
    metadata = many_tables()
    create_and_fill(pg_db, metadata, many_rows())
    config = make_config(pg_db, metadata)
    with pytest.raises(DataError, match="No space left on device"):
        dump_data(config, directory=tmp_path / "dump", jobs=jobs, reporter=FullDiskAtFirstBatch())
    dispose(config)


def test_mariadb_dumps_with_one_reader_when_the_read_lock_waits_too_long(
    mariadb_db: TestDatabase, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another session's LOCK TABLES ... WRITE keeps FLUSH TABLES WITH READ LOCK waiting (and every writer
    behind it): after READ_LOCK_WAIT seconds the dump gives the lock up and reads with one connection."""
    import dbops.data.dump

    monkeypatch.setattr(dbops.data.dump, "READ_LOCK_WAIT", 1)
    metadata = many_tables()
    create_and_fill(mariadb_db, metadata, many_rows())
    reporter = RecordingReporter()
    config = make_config(mariadb_db, metadata)
    failure: list[BaseException] = []

    def dump() -> None:
        try:
            dump_data(config, directory=tmp_path / "four", jobs=4, reporter=reporter)
        except BaseException as error:  # re-raised by the test
            failure.append(error)

    engine = sync_engine(mariadb_db)
    with engine.connect() as holder:
        holder.exec_driver_sql("LOCK TABLES extra3 WRITE")
        dumping = threading.Thread(target=dump)
        dumping.start()
        while dumping.is_alive() and not reporter.warnings:  # the one reader then waits for extra3 itself
            threading.Event().wait(0.05)
        holder.exec_driver_sql("UNLOCK TABLES")
    engine.dispose()
    dumping.join()
    assert not failure
    assert len(reporter.warnings) == 1
    assert reporter.warnings[0].startswith("--jobs: could not have FLUSH TABLES WITH READ LOCK within 1 s (")
    assert reporter.warnings[0].endswith("; dumping with one reader")
    dump_data(config, directory=tmp_path / "one")
    dispose(config)
    assert files(tmp_path / "one") == files(tmp_path / "four")
