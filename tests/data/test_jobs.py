"""dump-data / load-data --jobs: the same files whatever N, one snapshot for every reader, and failures that
leave the previous dump (dump) or empty tables (load) behind."""

from __future__ import annotations

import re
import threading
import uuid
from collections.abc import Callable, Iterator
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
    assert any("RELOAD privilege" in warning and "one reader" in warning for warning in reporter.warnings)
    assert not [message for message in reporter.infos if "from one snapshot" in message]
    assert files(tmp_path / "one") == files(tmp_path / "four")


_ = Callable  # (keeps the import for the load tests below)
