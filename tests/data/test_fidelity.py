"""Loads into tables dbops did not create: decoding by the dump's recorded kinds, row counts by parsing, and
load errors that name file, row and column on every path (COPY, executemany, a TypeDecorator's refusal)."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import orjson
import pytest
import sqlalchemy as sa

from dbops.data.dump import dump_data
from dbops.data.load import load_data
from dbops.errors import DataError
from tests.data.models import chain_metadata, chain_rows, create_and_fill, dispose, make_config, snapshot, sync_engine
from tests.databases import TestDatabase


def execute(db: TestDatabase, *statements: str) -> None:
    engine = sync_engine(db)
    try:
        with engine.begin() as connection:
            for statement in statements:
                connection.exec_driver_sql(statement)
    finally:
        engine.dispose()


def raw_rows(db: TestDatabase, sql: str) -> list[tuple[Any, ...]]:
    """Rows through the driver alone (no SQLAlchemy types)."""
    engine = sync_engine(db)
    try:
        with engine.connect() as connection:
            return [tuple(row) for row in connection.exec_driver_sql(sql)]
    finally:
        engine.dispose()


PORTABLE = {
    "postgresql": "CREATE TABLE portable (id integer PRIMARY KEY, flag boolean, doc jsonb, tags text[], "
    "price numeric(10, 2), ratio double precision, at timestamptz)",
    "mariadb": "CREATE TABLE portable (id INT PRIMARY KEY, flag BOOLEAN, doc JSON, tags JSON, price DECIMAL(10, 2), "
    "ratio DOUBLE, at DATETIME(6))",
    "sqlite": "CREATE TABLE portable (id INTEGER PRIMARY KEY, flag BOOLEAN, doc JSON, tags TEXT, price NUMERIC(10, 2), "
    "ratio REAL, at TIMESTAMP)",
}


@pytest.mark.parametrize("target", ["mariadb_db", "sqlite_db"])
def test_a_postgresql_dump_loads_into_model_less_tables_by_its_recorded_kinds(
    pg_db: TestDatabase, request: pytest.FixtureRequest, target: str, tmp_path: Path, is_async: bool
) -> None:
    """bool into TINYINT(1), a JSON array into MariaDB's JSON (LONGTEXT) and a text[] into TEXT, by the kind
    the manifest recorded, not the reflected type."""
    execute(
        pg_db,
        PORTABLE["postgresql"],
        "INSERT INTO portable VALUES (1, true, '[1, {\"a\": null}]', '{x,\"y z\",NULL}', 12.50, 0.5, "
        "'2024-02-29 12:00:00.000001+05:30'), (2, false, 'null', '{}', -0.01, -1e300, NULL), "
        "(3, NULL, NULL, NULL, NULL, NULL, '1970-01-01 00:00:00+00')",
    )
    dump_data(make_config(pg_db, sa.MetaData()), directory=tmp_path / "dump", all_tables=True)
    other: TestDatabase = request.getfixturevalue(target)
    execute(other, PORTABLE[other.dialect])
    result = load_data(make_config(other, sa.MetaData(), is_async=is_async), directory=tmp_path / "dump")
    assert result.rows == 3
    rows = raw_rows(other, "SELECT id, flag, doc, tags, price, ratio, at FROM portable ORDER BY id")
    assert [row[1] for row in rows] == [1, 0, None]
    assert [orjson.loads(row[2]) if row[2] is not None else None for row in rows] == [[1, {"a": None}], None, None]
    assert rows[1][2] == "null"  # JSON null kept apart from SQL NULL
    assert [orjson.loads(row[3]) if row[3] is not None else None for row in rows] == [["x", "y z", None], [], None]
    assert [None if row[4] is None else float(row[4]) for row in rows] == [12.5, -0.01, None]
    assert [row[5] for row in rows] == [0.5, -1e300, None]
    assert str(rows[0][6]).startswith("2024-02-29 06:30:00.000001")  # the instant, as UTC wall-clock time


def single_line(directory: Path, name: str) -> None:
    """Rewrite a dump file as one compact JSON document (valid, but not one row a line); fix its checksum."""
    path = directory / name
    path.write_bytes(orjson.dumps(orjson.loads(path.read_bytes())))
    manifest = orjson.loads((directory / "manifest.json").read_bytes())
    for entry in manifest["tables"]:
        if entry["file"] == name:
            entry["sha256"] = hashlib.sha256(path.read_bytes()).hexdigest()
    (directory / "manifest.json").write_bytes(orjson.dumps(manifest))


def test_row_counts_come_from_parsing(db: TestDatabase, tmp_path: Path) -> None:
    metadata = chain_metadata()
    create_and_fill(db, metadata, chain_rows())
    config = make_config(db, metadata)
    dump_data(config, directory=tmp_path / "dump")
    single_line(tmp_path / "dump", "books.json")  # 3 rows, no line breaks
    dispose(config)
    db.reset()
    create_and_fill(db, metadata, {})
    loaded = load_data(make_config(db, metadata), directory=tmp_path / "dump")
    assert {table.name: table.rows for table in loaded.tables}["books"] == 3


def write_rows(directory: Path, name: str, rows: list[dict[str, Any]]) -> Path:
    path = directory / name
    path.write_bytes(orjson.dumps(rows))
    return path


@pytest.mark.parametrize("copy", [True, False], ids=["copy", "executemany"])
@pytest.mark.parametrize(
    ("table", "row", "column", "skip_on"),
    [
        ("books", {"id": "00000000-0000-0000-0000-000000000009", "author_id": 1, "title": "x", "price": "1e9"},
         "price", {"sqlite"}),
        ("books", {"id": "00000000-0000-0000-0000-000000000009", "author_id": 1, "title": "x" * 201}, "title",
         {"sqlite"}),
        ("authors", {"id": 3, "name": "Ann"}, "name", set()),  # a second Ann: uq_authors_name, not the key
        ("authors", {"id": 1, "name": "Other"}, "id", set()),
        ("authors", {"id": 4, "name": None}, "name", set()),
    ],
    ids=["numeric-overflow", "too-long", "unique-name", "duplicate-key", "not-null"],
)  # fmt: skip
def test_a_refused_row_names_file_row_and_column(
    db: TestDatabase,
    tmp_path: Path,
    table: str,
    row: dict[str, Any],
    column: str,
    skip_on: set[str],
    copy: bool,
) -> None:
    if db.dialect in skip_on:
        pytest.skip(f"{db.dialect} stores the value as it is (no length or precision check)")
    metadata = chain_metadata()
    metadata.tables["authors"].append_constraint(sa.UniqueConstraint("name", name="uq_authors_name"))
    create_and_fill(db, metadata, chain_rows())
    before = snapshot(db, metadata)
    path = write_rows(tmp_path, f"{table}.json", [{"id": 50, "name": "fine"}] if table == "authors" else [])
    if table == "authors":
        path.write_bytes(orjson.dumps([{"id": 50, "name": "fine"}, row]))
        number = 2
    else:
        path.write_bytes(orjson.dumps([row]))
        number = 1
    config = make_config(db, metadata)
    with pytest.raises(DataError) as caught:
        load_data(config, files=[path], use_copy=copy)
    message = str(caught.value)
    assert f"{table}.json row {number}, column {column!r}:" in message and "\n" not in message, message
    assert snapshot(db, metadata) == before
    dispose(config)


def test_json_numbers_keep_every_digit(db: TestDatabase, tmp_path: Path) -> None:
    """SQLite keeps a JSON number as a REAL (numeric affinity); read as text it would lose digits."""
    metadata = sa.MetaData()
    sa.Table("docs", metadata, sa.Column("id", sa.Integer, primary_key=True), sa.Column("doc", sa.JSON))
    values = [0.30000000000000004, 1.7976931348623151e308, 5e-324 if db.dialect != "mariadb" else 1e-300, 2**53 + 1]
    create_and_fill(db, metadata, {"docs": [{"id": index, "doc": value} for index, value in enumerate(values, 1)]})
    config = make_config(db, metadata)
    dump_data(config, directory=tmp_path / "dump")
    assert [row["doc"] for row in orjson.loads((tmp_path / "dump" / "docs.json").read_bytes())] == values
    load_data(config, directory=tmp_path / "dump", mode="truncate")
    dump_data(config, directory=tmp_path / "again")
    assert (tmp_path / "dump" / "docs.json").read_bytes() == (tmp_path / "again" / "docs.json").read_bytes()
    dispose(config)
