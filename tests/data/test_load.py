"""load-data: fixtures, FK order, modes, sequences, COPY, and every kind of bad input leaving the DB untouched."""

from __future__ import annotations

import gzip
import hashlib
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest
import sqlalchemy as sa

from dbops.data.dump import dump_data
from dbops.data.load import load_data
from dbops.errors import DataError
from tests.data.models import (
    BOOK_IDS,
    chain_metadata,
    chain_rows,
    create_and_fill,
    create_tables,
    dispose,
    make_config,
    snapshot,
    sync_engine,
)
from tests.databases import TestDatabase


@pytest.fixture
def dumped(db: TestDatabase, tmp_path: Path) -> Path:
    """A dump of the chain tables; the database is then emptied and holds one unrelated author (id 99)."""
    metadata = chain_metadata()
    create_and_fill(db, metadata, chain_rows())
    config = make_config(db, metadata)
    dump_data(config, directory=tmp_path / "dump")
    dispose(config)
    db.reset()
    create_and_fill(db, metadata, {"authors": [{"id": 99, "name": "Zed"}]})
    return tmp_path / "dump"


def rewrite(directory: Path, name: str, change: Callable[[list[bytes]], list[bytes]], *, fix_manifest: bool) -> None:
    """Change a dump file's lines; with ``fix_manifest`` update its sha256/rows so only the content is wrong."""
    path = directory / name
    lines = change(path.read_bytes().splitlines(keepends=True))
    path.write_bytes(b"".join(lines))
    if fix_manifest:
        manifest = orjson.loads((directory / "manifest.json").read_bytes())
        for entry in manifest["tables"]:
            if entry["file"] == name:
                entry["sha256"] = hashlib.sha256(path.read_bytes()).hexdigest()
                entry["rows"] = len(lines) - 2
        (directory / "manifest.json").write_bytes(orjson.dumps(manifest))


def replace_row(index: int, new: bytes) -> Callable[[list[bytes]], list[bytes]]:
    def change(lines: list[bytes]) -> list[bytes]:
        ending = b",\n" if lines[index].endswith(b",\n") else b"\n"
        lines[index] = new + ending
        return lines

    return change


def edit_row(index: int, **changes: Any) -> Callable[[list[bytes]], list[bytes]]:
    def change(lines: list[bytes]) -> list[bytes]:
        text = lines[index].rstrip(b",\n")
        row = orjson.loads(text)
        row.update(changes)
        return replace_row(index, orjson.dumps(row))(lines)

    return change


def test_loads_dump_in_fk_order(db: TestDatabase, dumped: Path, is_async: bool) -> None:
    metadata = chain_metadata()
    engine = sync_engine(db)
    with engine.begin() as connection:
        connection.execute(sa.text("DELETE FROM authors"))
    engine.dispose()
    config = make_config(db, metadata, is_async=is_async)
    result = load_data(config, directory=dumped)
    assert [table.name for table in result.tables] == ["authors", "categories", "books", "reviews"]
    assert {table.name: table.rows for table in result.tables} == {
        "authors": 2,
        "categories": 2,
        "books": 3,
        "reviews": 2,
    }
    assert result.copy_used == (db.dialect == "postgresql")  # psycopg COPY text, asyncpg binary COPY
    rows = snapshot(db, metadata)
    assert len(rows["books"]) == 3 and "Decimal('9.99')" in rows["books"][0]


def next_author_id(db: TestDatabase) -> int:
    authors = chain_metadata().tables["authors"]
    engine = sync_engine(db)
    try:
        with engine.begin() as connection:
            key = connection.execute(sa.insert(authors).values(name="New")).inserted_primary_key
            assert key is not None
            return int(key[0])
    finally:
        engine.dispose()


def test_counters_are_restored_exactly(db: TestDatabase, tmp_path: Path, is_async: bool) -> None:
    """The next id after a load is the next id the dumped database would have given (not max + 1)."""
    metadata = chain_metadata()
    create_and_fill(db, metadata, chain_rows())
    counter = {
        "postgresql": "SELECT setval('authors_id_seq', 41)",
        "mariadb": "ALTER TABLE authors AUTO_INCREMENT = 42",
        "sqlite": None,  # INTEGER PRIMARY KEY without AUTOINCREMENT: max(rowid) + 1
    }[db.dialect]
    if counter:
        execute(db, counter)
    config = make_config(db, metadata, is_async=is_async)
    dump_data(config, directory=tmp_path / "dump")
    dispose(config)
    db.reset()
    create_tables(db, metadata)
    load_data(make_config(db, metadata, is_async=is_async), directory=tmp_path / "dump")
    assert next_author_id(db) == (3 if db.dialect == "sqlite" else 42)


def test_fixture_loads_move_sequences_past_the_loaded_ids(db: TestDatabase, tmp_path: Path) -> None:
    metadata = chain_metadata()
    create_tables(db, metadata)
    (tmp_path / "authors.json").write_bytes(orjson.dumps([{"id": 1, "name": "A"}, {"id": 7, "name": "B"}]))
    load_data(make_config(db, metadata), files=[tmp_path / "authors.json"])
    assert next_author_id(db) == 8


def execute(db: TestDatabase, *statements: str) -> None:
    engine = sync_engine(db)
    with engine.begin() as connection:
        for statement in statements:
            connection.execute(sa.text(statement))
    engine.dispose()


@pytest.mark.parametrize(
    ("name", "change", "fix_manifest", "expected"),
    [
        ("reviews.json", replace_row(2, b'{"id":2,"book_id":'), True, "reviews.json row 2: malformed JSON"),
        ("reviews.json", edit_row(2, colour="red"), True, "reviews.json row 2, column 'colour': no such column"),
        ("reviews.json", edit_row(2, stars="five"), True, "reviews.json row 2, column 'stars': expected an integer"),
        ("books.json", edit_row(1, price="cheap"), True, "books.json row 1, column 'price': expected a decimal"),
        (
            "books.json",
            edit_row(3, published="yesterday"),
            True,
            "books.json row 3, column 'published': expected an ISO",
        ),
        (
            "reviews.json",
            edit_row(2, book_id=str(uuid.UUID(int=77))),
            True,
            "reviews.json row 2, column 'book_id': missing foreign-key parent",
        ),
        ("reviews.json", edit_row(2, id=1), True, "reviews.json row 2, column 'id'"),
        ("reviews.json", edit_row(1, stars=4), False, "reviews.json: checksum mismatch"),
        ("reviews.json", lambda lines: [*lines[:2], lines[3]], True, None),  # row count fixed: loads 1 review
    ],
    ids=[
        "malformed",
        "unknown-column",
        "wrong-type",
        "bad-decimal",
        "bad-datetime",
        "missing-parent",
        "duplicate-pk",
        "checksum",
        "valid-edit",
    ],
)
def test_bad_input_names_file_row_column_and_writes_nothing(
    db: TestDatabase,
    dumped: Path,
    name: str,
    change: Callable[[list[bytes]], list[bytes]],
    fix_manifest: bool,
    expected: str | None,
) -> None:
    metadata = chain_metadata()
    rewrite(dumped, name, change, fix_manifest=fix_manifest)
    engine = sync_engine(db)
    with engine.begin() as connection:
        connection.execute(sa.text("DELETE FROM authors"))
    engine.dispose()
    before = snapshot(db, metadata)
    config = make_config(db, metadata)
    if expected is None:
        assert load_data(config, directory=dumped).rows == 8
        return
    with pytest.raises(DataError) as caught:
        load_data(config, directory=dumped)
    message = str(caught.value)
    assert expected in message, message
    assert "\n" not in message
    assert snapshot(db, metadata) == before
    dispose(config)


def test_row_count_mismatch_is_caught_before_writing(db: TestDatabase, dumped: Path) -> None:
    metadata = chain_metadata()
    manifest = orjson.loads((dumped / "manifest.json").read_bytes())
    path = dumped / "reviews.json"
    lines = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(b"".join([*lines[:2], lines[3]]))
    for entry in manifest["tables"]:
        if entry["name"] == "reviews":
            entry["sha256"] = hashlib.sha256(path.read_bytes()).hexdigest()
    (dumped / "manifest.json").write_bytes(orjson.dumps(manifest))
    before = snapshot(db, metadata)
    with pytest.raises(DataError, match=r"reviews.json: 1 rows, but the manifest says 2"):
        load_data(make_config(db, metadata), directory=dumped)
    assert snapshot(db, metadata) == before


def write_fixture(path: Path, rows: list[dict[str, Any]], *, pretty: bool = True) -> None:
    data = orjson.dumps(rows, option=orjson.OPT_INDENT_2 if pretty else 0)
    if path.name.endswith(".gz"):
        path.write_bytes(gzip.compress(data))
    else:
        path.write_bytes(data)


def test_loads_advanced_alchemy_fixtures(db: TestDatabase, tmp_path: Path, is_async: bool) -> None:
    """Plain JSON lists of objects: ISO datetimes with Z, numbers for decimals, omitted columns get defaults."""
    metadata = chain_metadata()
    create_tables(db, metadata)
    fixtures = tmp_path / "fixtures"
    fixtures.mkdir()
    # file names sort children first: the load must still go in FK order
    write_fixture(fixtures / "reviews.json", [{"id": 1, "book_id": str(BOOK_IDS[0]), "stars": 4}])
    write_fixture(
        fixtures / "books.json.gz",
        [
            {"id": str(BOOK_IDS[0]), "author_id": 1, "title": "A", "price": 9.5, "published": "2024-05-01T10:00:00Z"},
            {"author_id": 1, "title": "No id: the model's default makes one"},
        ],
    )
    write_fixture(fixtures / "authors.json", [{"id": 1, "name": "Ann"}], pretty=False)
    result = load_data(make_config(db, metadata, is_async=is_async), directory=fixtures)
    assert not result.from_manifest
    assert [table.name for table in result.tables] == ["authors", "books", "reviews"]
    engine = sync_engine(db)
    with engine.connect() as connection:
        books = metadata.tables["books"]
        rows = connection.execute(sa.select(books.c.title, books.c.price, books.c.published).order_by(books.c.title))
        first, second = rows.all()
        assert str(first.price) == "9.50"
        assert first.published.replace(tzinfo=None).isoformat() == "2024-05-01T10:00:00"
        assert second.price is None
    engine.dispose()


def test_fixture_files_given_one_by_one(db: TestDatabase, tmp_path: Path) -> None:
    """Files named one by one, children first and in two formats: each goes to its table, parents first."""
    metadata = chain_metadata()
    create_tables(db, metadata)
    (tmp_path / "authors.jsonl").write_bytes(b'{"id": 5, "name": "E"}\n{"id": 6, "name": "F"}\n')
    write_fixture(tmp_path / "books.json", [{"id": str(BOOK_IDS[1]), "author_id": 6, "title": "G"}])
    result = load_data(make_config(db, metadata), files=[tmp_path / "books.json", tmp_path / "authors.jsonl"])
    assert result.rows == 3 and [table.name for table in result.tables] == ["authors", "books"]
    engine = sync_engine(db)
    with engine.connect() as connection:
        authors = connection.execute(sa.text("SELECT id, name FROM authors ORDER BY id")).all()
        books = connection.execute(sa.text("SELECT author_id, title FROM books")).all()
    engine.dispose()
    assert [tuple(row) for row in authors] == [(5, "E"), (6, "F")]
    assert [tuple(row) for row in books] == [(6, "G")]


def test_fixture_malformed_json_names_line(db: TestDatabase, tmp_path: Path) -> None:
    metadata = chain_metadata()
    create_tables(db, metadata)
    (tmp_path / "authors.json").write_text('[\n  {"id": 1,\n   "name": }\n]\n')
    with pytest.raises(DataError, match=r"authors.json line 3, column \d+: malformed JSON"):
        load_data(make_config(db, metadata), files=[tmp_path / "authors.json"])


def test_unknown_table_file(db: TestDatabase, tmp_path: Path) -> None:
    metadata = chain_metadata()
    create_tables(db, metadata)
    write_fixture(tmp_path / "nope.json", [{"id": 1}])
    with pytest.raises(DataError, match=r"nope.json: no table 'nope'"):
        load_data(make_config(db, metadata), directory=tmp_path)


def test_modes_truncate_and_upsert(db: TestDatabase, dumped: Path) -> None:
    metadata = chain_metadata()
    config = make_config(db, metadata)
    load_data(config, directory=dumped, tables=["authors"])  # only 99 was there
    with pytest.raises(DataError, match=r"authors.json row 1, column 'id'"):
        load_data(config, directory=dumped, tables=["authors"])
    engine = sync_engine(db)
    with engine.begin() as connection:
        connection.execute(sa.text("UPDATE authors SET name = 'changed' WHERE id = 1"))
    engine.dispose()

    load_data(config, directory=dumped, tables=["authors"], mode="upsert")
    names = {row[0]: row[1] for row in _rows(db, "SELECT id, name FROM authors")}
    assert names == {1: "Ann", 2: "Bob", 99: "Zed"}  # updated in place, unrelated row kept

    load_data(config, directory=dumped, mode="truncate")
    assert {row[0] for row in _rows(db, "SELECT id FROM authors")} == {1, 2}
    assert len(_rows(db, "SELECT id FROM reviews")) == 2
    dispose(config)


def test_batch_commit_keeps_earlier_batches(db: TestDatabase, dumped: Path) -> None:
    metadata = chain_metadata()
    rewrite(dumped, "categories.json", edit_row(2, parent_id=42), fix_manifest=True)
    config = make_config(db, metadata)
    with pytest.raises(DataError, match=r"categories.json row 2, column 'parent_id': missing foreign-key parent"):
        load_data(config, directory=dumped, batch_size=1, batch_commit=True)
    # non-atomic by request: the authors and the first category stayed
    assert {row[0] for row in _rows(db, "SELECT id FROM categories")} == {1}
    assert {row[0] for row in _rows(db, "SELECT id FROM authors")} == {1, 2, 99}
    dispose(config)


def _rows(db: TestDatabase, sql: str) -> list[tuple[Any, ...]]:
    engine = sync_engine(db)
    try:
        with engine.connect() as connection:
            return [tuple(row) for row in connection.execute(sa.text(sql))]
    finally:
        engine.dispose()


@pytest.mark.parametrize("db", ["postgresql"], indirect=True)
def test_postgresql_loads_each_table_through_one_copy(
    db: TestDatabase, dumped: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import psycopg

    statements: list[str] = []
    original = psycopg.Cursor.copy

    def spy(self: psycopg.Cursor[Any], statement: Any, *args: Any, **kwargs: Any) -> Any:
        statements.append(str(statement))
        return original(self, statement, *args, **kwargs)

    monkeypatch.setattr(psycopg.Cursor, "copy", spy)
    engine = sync_engine(db)
    with engine.begin() as connection:
        connection.execute(sa.text("DELETE FROM authors"))
    engine.dispose()
    config = make_config(db, chain_metadata())
    result = load_data(config, directory=dumped, batch_size=1)  # batches of one row, still one COPY a table
    assert result.rows == 9 and result.copy_used
    assert [statement.split()[1] for statement in statements] == ["authors", "categories", "books", "reviews"]
    # a bad row in a later batch: the table's COPY is rolled back and the batched path names the row
    rewrite(dumped, "reviews.json", edit_row(2, stars="five"), fix_manifest=True)
    db.reset()
    create_and_fill(db, chain_metadata(), {})
    with pytest.raises(DataError, match=r"reviews.json row 2, column 'stars': expected an integer"):
        load_data(config, directory=dumped, batch_size=1)
    assert snapshot(db, chain_metadata()) == {name: [] for name in ("authors", "categories", "books", "reviews")}
    dispose(config)
