"""dump-data: manifest, ordering, atomic files, formats, reflection, and one consistent snapshot."""

from __future__ import annotations

import gzip
import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import orjson
import pytest
import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, deferred, mapped_column

from dbops import __version__
from dbops.data.dump import dump_data
from dbops.data.files import AtomicWriter
from dbops.data.load import load_data
from dbops.errors import DataError
from dbops.progress import ProgressTask
from tests.data.models import chain_metadata, chain_rows, create_and_fill, dispose, make_config, sync_engine
from tests.databases import TestDatabase
from tests.reporter import RecordingReporter


def execute(db: TestDatabase, *statements: str) -> None:
    engine = sync_engine(db)
    with engine.begin() as connection:
        for statement in statements:
            connection.execute(sa.text(statement))
    engine.dispose()


def test_manifest_describes_the_dump(db: TestDatabase, tmp_path: Path, is_async: bool) -> None:
    metadata = chain_metadata()
    create_and_fill(db, metadata, chain_rows())
    execute(
        db,
        "CREATE TABLE alembic_versions (version_num VARCHAR(32) NOT NULL PRIMARY KEY)",
        "INSERT INTO alembic_versions (version_num) VALUES ('abc123')",
    )
    reporter = RecordingReporter()
    result = dump_data(make_config(db, metadata, is_async=is_async), directory=tmp_path / "d", reporter=reporter)
    manifest = orjson.loads((tmp_path / "d" / "manifest.json").read_bytes())
    assert [entry["name"] for entry in manifest["tables"]] == ["authors", "categories", "books", "reviews"]
    assert manifest["dialect"] == ("mysql" if db.dialect == "mariadb" else db.dialect)
    assert manifest["dbops_version"] == __version__
    assert manifest["alembic_revision"] == "abc123"
    assert manifest["created_at"].endswith("+00:00")
    books = next(entry for entry in manifest["tables"] if entry["name"] == "books")
    assert books["rows"] == 3 and books["depends_on"] == ["authors"] and books["primary_key"] == ["id"]
    assert [(column["name"], column["kind"]) for column in books["columns"]] == [
        ("id", "uuid"),
        ("author_id", "int"),
        ("title", "str"),
        ("price", "decimal"),
        ("published", "datetime"),
    ]
    for entry in manifest["tables"]:
        assert hashlib.sha256((tmp_path / "d" / entry["file"]).read_bytes()).hexdigest() == entry["sha256"]
    assert sorted(path.name for path in (tmp_path / "d").iterdir()) == sorted(
        ["manifest.json", "authors.json", "books.json", "reviews.json", "categories.json"]
    )  # no temporary files left, and no file for the version table
    assert result.rows == 9
    first_task = reporter.tasks[0]
    assert (first_task.description, first_task.total, first_task.done) == ("dump authors", 2, 2)


def test_rows_are_ordered_by_primary_key(db: TestDatabase, tmp_path: Path) -> None:
    metadata = chain_metadata()
    create_and_fill(db, metadata, {"authors": [{"id": n, "name": f"a{n}"} for n in (5, 3, 9, 1, 7)]})
    dump_data(make_config(db, metadata), directory=tmp_path / "dump", tables=["authors"], batch_size=2)
    rows = orjson.loads((tmp_path / "dump" / "authors.json").read_bytes())
    assert [row["id"] for row in rows] == [1, 3, 5, 7, 9]


def test_gzip_and_jsonl_are_deterministic(sqlite_db: TestDatabase, tmp_path: Path) -> None:
    metadata = chain_metadata()
    create_and_fill(sqlite_db, metadata, chain_rows())
    config = make_config(sqlite_db, metadata)
    dump_data(config, directory=tmp_path / "a", file_format="jsonl", compress=True)
    dump_data(config, directory=tmp_path / "b", file_format="jsonl", compress=True)
    first = (tmp_path / "a" / "books.jsonl.gz").read_bytes()
    assert first == (tmp_path / "b" / "books.jsonl.gz").read_bytes()
    lines = gzip.decompress(first).splitlines()
    assert len(lines) == 3 and all(orjson.loads(line)["title"] for line in lines)
    assert load_data(config, directory=tmp_path / "a", mode="truncate").rows == 9


def test_tables_without_models_need_all_tables(db: TestDatabase, tmp_path: Path) -> None:
    metadata = chain_metadata()
    create_and_fill(db, metadata, chain_rows())
    execute(db, "CREATE TABLE legacy (code VARCHAR(10) PRIMARY KEY, qty INTEGER)", "INSERT INTO legacy VALUES ('x', 1)")
    reporter = RecordingReporter()
    result = dump_data(make_config(db, metadata), directory=tmp_path / "models", reporter=reporter)
    assert result.skipped == ["legacy"]
    assert any("legacy" in warning and "--all-tables" in warning for warning in reporter.warnings)
    assert not (tmp_path / "models" / "legacy.json").exists()

    empty = sa.MetaData()  # a config with no models at all can still dump everything by reflection
    result = dump_data(make_config(db, empty), directory=tmp_path / "all", all_tables=True)
    assert {table.name for table in result.tables} == {"authors", "books", "reviews", "categories", "legacy"}
    assert orjson.loads((tmp_path / "all" / "legacy.json").read_bytes()) == [{"code": "x", "qty": 1}]
    with pytest.raises(DataError, match=r"no tables to dump.*--all-tables"):
        dump_data(make_config(db, empty), directory=tmp_path / "none")


def test_unknown_table_option_is_an_error(sqlite_db: TestDatabase, tmp_path: Path) -> None:
    metadata = chain_metadata()
    create_and_fill(sqlite_db, metadata, chain_rows())
    with pytest.raises(DataError, match="no table 'nope'"):
        dump_data(make_config(sqlite_db, metadata), directory=tmp_path / "dump", tables=["nope"])
    result = dump_data(make_config(sqlite_db, metadata), directory=tmp_path / "dump", exclude=["reviews", "books"])
    assert [table.name for table in result.tables] == ["authors", "categories"]


def test_atomic_writer_leaves_nothing_on_failure(tmp_path: Path) -> None:
    target = tmp_path / "t.json"
    with pytest.raises(RuntimeError), AtomicWriter(target) as writer:
        writer.write(b"[\n{partial")
        raise RuntimeError("killed")
    assert list(tmp_path.iterdir()) == []


def test_a_refused_or_failed_dump_leaves_the_previous_dump_as_it_was(sqlite_db: TestDatabase, tmp_path: Path) -> None:
    from dbops.config import SQLAlchemySyncConfig
    from dbops.errors import DatabaseConnectionError

    metadata = chain_metadata()
    create_and_fill(sqlite_db, metadata, chain_rows())
    config = make_config(sqlite_db, metadata)
    out = tmp_path / "dump"
    dump_data(config, directory=out)
    before = {path.name: path.read_bytes() for path in out.iterdir()}
    with pytest.raises(DataError, match="no table 'nope'"):
        dump_data(config, directory=out, tables=["nope"])
    with pytest.raises(DataError, match="no tables to dump"):
        dump_data(make_config(sqlite_db, sa.MetaData()), directory=out)
    unreachable = SQLAlchemySyncConfig(
        connection_string="postgresql+psycopg://nobody@127.0.0.1:1/none", metadata=metadata
    )
    with pytest.raises(DatabaseConnectionError):
        dump_data(unreachable, directory=out)
    assert {path.name: path.read_bytes() for path in out.iterdir()} == before
    assert sorted(path.name for path in tmp_path.iterdir()) == ["dump", "test.sqlite"]  # no staging left behind


class WriterDuringDump(RecordingReporter):
    """When the dump reaches ``reviews``, another connection commits a new author and a new review."""

    def __init__(self, db: TestDatabase) -> None:
        super().__init__()
        self.db = db

    @contextmanager
    def progress(self, description: str, total: int | None) -> Iterator[ProgressTask]:
        if description == "dump reviews":
            execute(
                self.db,
                "INSERT INTO authors (id, name) VALUES (3, 'Late')",
                "INSERT INTO reviews (id, book_id, stars) SELECT 3, book_id, 1 FROM reviews WHERE id = 1",
            )
        with super().progress(description, total) as task:
            yield task


@pytest.mark.parametrize("jobs", [1, 4])
def test_dump_reads_one_snapshot(db: TestDatabase, tmp_path: Path, is_async: bool, jobs: int) -> None:
    """With --jobs the other tables may be read after the commit, by other connections: still not in the dump."""
    metadata = chain_metadata()
    create_and_fill(db, metadata, chain_rows())
    if db.dialect == "sqlite":  # a reader and a committing writer at once need WAL on SQLite
        execute(db, "PRAGMA journal_mode=WAL")
    config = make_config(db, metadata, is_async=is_async)
    result = dump_data(config, directory=tmp_path / "dump", reporter=WriterDuringDump(db), jobs=jobs)
    assert {table.name: table.rows for table in result.tables} == {
        "authors": 2,
        "categories": 2,
        "books": 3,
        "reviews": 2,
    }
    engine = sync_engine(db)
    with engine.connect() as connection:  # the writer did commit
        assert connection.execute(sa.text("SELECT count(*) FROM reviews")).scalar_one() == 3
    engine.dispose()
    dispose(config)


def test_orm_models_with_deferred_and_server_default_columns(sqlite_db: TestDatabase, tmp_path: Path) -> None:
    class Base(DeclarativeBase):
        pass

    class Note(Base):
        __tablename__ = "notes"
        id: Mapped[int] = mapped_column(primary_key=True)
        body: Mapped[str] = deferred(mapped_column(sa.Text))
        status: Mapped[str] = mapped_column(sa.String(10), server_default="new")

    create_and_fill(sqlite_db, Base.metadata, {"notes": [{"id": 1, "body": "long text"}]})
    dump_data(make_config(sqlite_db, Base.metadata), directory=tmp_path / "dump")
    assert orjson.loads((tmp_path / "dump" / "notes.json").read_bytes()) == [
        {"id": 1, "body": "long text", "status": "new"}
    ]


def test_psycopg_cursor_and_sqlalchemy_paths_write_the_same_bytes(pg_db: TestDatabase, tmp_path: Path) -> None:
    from tests.data.test_properties import SOURCE_ROWS, portable_metadata

    metadata = portable_metadata()
    for table in chain_metadata().sorted_tables:
        table.to_metadata(metadata)
    create_and_fill(pg_db, metadata, chain_rows())
    engine = sync_engine(pg_db)
    with engine.begin() as connection:
        for row in SOURCE_ROWS:  # rows with different keys: one insert each
            connection.execute(metadata.tables["props"].insert(), [row])
    engine.dispose()
    config = make_config(pg_db, metadata)
    dump_data(config, directory=tmp_path / "raw")
    dump_data(config, directory=tmp_path / "sqlalchemy", raw_cursor=False)
    for path in (tmp_path / "raw").iterdir():
        if path.name != "manifest.json":
            assert path.read_bytes() == (tmp_path / "sqlalchemy" / path.name).read_bytes(), path.name
    dispose(config)
