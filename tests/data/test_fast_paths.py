"""Server-formatted dumps on MariaDB (``server_rows.MariadbRows``) are byte for byte the generic encoder's; SQLite
loads through the prepared insert, and put their session settings back."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dbops.data import server_rows
from dbops.data.dump import dump_data
from dbops.data.load import load_data
from dbops.errors import DataError
from tests.data import own_types
from tests.data.models import (
    create_and_fill,
    dispose,
    everything_metadata,
    everything_rows,
    make_config,
    snapshot,
    sync_engine,
)
from tests.data.sample_databases import mariadb_drop, mariadb_sample, mariadb_url
from tests.data.test_own_types import seed
from tests.data.test_properties import json_values, texts
from tests.databases import TestDatabase


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The line expression of every MariaDB table the server formatted."""
    calls: list[str] = []
    original = server_rows.MariadbRows.batches

    def spy(self: server_rows.MariadbRows, connection: Any, batch_size: int) -> Iterator[tuple[bytes, int]]:
        calls.append(self.line)
        return original(self, connection, batch_size)

    monkeypatch.setattr(server_rows.MariadbRows, "batches", spy)
    return calls


def files(directory: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in directory.iterdir() if path.name != "manifest.json"}


def same_both_ways(config: Any, folder: Path, **options: Any) -> dict[str, bytes]:
    """Dump through the fast path and the generic one; assert the files are identical; return them."""
    dump_data(config, directory=folder / "fast", **options)
    dump_data(config, directory=folder / "generic", raw_cursor=False, **options)
    fast = files(folder / "fast")
    assert fast == files(folder / "generic")
    return fast


@pytest.mark.parametrize("db", ["mariadb"], indirect=True)
def test_every_type_matches_the_generic_encoder(
    db: TestDatabase, tmp_path: Path, served: list[str], is_async: bool
) -> None:
    metadata = everything_metadata(db.dialect)
    create_and_fill(db, metadata, {"everything": everything_rows(db.dialect)})
    config = make_config(db, metadata, is_async=is_async)
    variants: list[dict[str, Any]] = [{}, {"file_format": "jsonl"}, {"compress": True}, {"batch_size": 2}]
    for index, options in enumerate(variants):
        same_both_ways(config, tmp_path / str(index), **options)
    assert served == []  # floats, bytes, times and intervals: the generic path for the whole table
    dispose(config)


def served_metadata() -> sa.MetaData:
    """Only kinds MariaDB formats itself."""
    metadata = sa.MetaData()
    sa.Table(
        "served",
        metadata,
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("flag", sa.Boolean),
        sa.Column("Mixed:Case %s", sa.Text),
        sa.Column("label", sa.Enum("draft", "published", name="label_kind")),
        sa.Column("ref", sa.Uuid),  # MariaDB's own UUID type
        sa.Column("ref_text", sa.Uuid(native_uuid=False)),  # CHAR(32)
        sa.Column("price", sa.Numeric(30, 10)),
        sa.Column("day", sa.Date),
        sa.Column("at", sa.DateTime().with_variant(sa.dialects.mysql.DATETIME(fsp=6), "mariadb")),
        sa.Column("doc", sa.JSON),
    )
    return metadata


EDGE_ROWS: list[dict[str, Any]] = [
    {
        "id": 1,
        "flag": True,
        "Mixed:Case %s": "".join(chr(code) for code in range(1, 0x80)) + ' é 漢 😀 \u2028 \\u000B "\\u001F"',
        "label": "published",
        "ref": uuid.UUID(int=2**128 - 1),
        "ref_text": uuid.UUID(int=2**128 - 2),
        "price": Decimal("-0.0000000001"),
        "day": dt.date(1, 1, 1),
        "at": dt.datetime(9999, 12, 31, 23, 59, 59, 999999),
        "doc": {"$json": 1},
    },
    {"id": 2, "doc": sa.JSON.NULL, "at": dt.datetime(1, 1, 1), "flag": False, "price": Decimal("0")},
    {"id": 3, "doc": sa.null(), "at": dt.datetime(2024, 1, 1, 12, 0, 0, 100000), "Mixed:Case %s": ""},
    {"id": 4, "doc": {"b": [1, 2.5, None, 1.5e300, -0.0], "a": {"": "\x0b"}}, "price": Decimal("12345678901234.5")},
    {"id": 5},
]


def fill(db: TestDatabase, metadata: sa.MetaData, rows: list[dict[str, Any]], *statements: str) -> None:
    engine = sync_engine(db)
    with engine.begin() as connection:
        metadata.drop_all(connection)
        metadata.create_all(connection)
        for row in rows:  # rows with different keys: one insert each
            connection.execute(metadata.tables["served"].insert(), [row])
        for statement in statements:
            connection.exec_driver_sql(statement)
    engine.dispose()


@pytest.mark.parametrize("db", ["mariadb"], indirect=True)
def test_edge_values_match_the_generic_encoder(
    db: TestDatabase, tmp_path: Path, served: list[str], is_async: bool
) -> None:
    metadata = served_metadata()
    fill(
        db,
        metadata,
        EDGE_ROWS,
        # JSON text as the server keeps it: spaces, a line break, duplicate keys, 1.50, escapes
        """INSERT INTO served (id, doc, ref_text) VALUES (6, '{"x" : 1.50,\\n "x": [1e5, "\\\\u00e9\\\\n"]}',"""
        """ '0B7E3F3C9D5B4C438E1A2F7F0B9C1D2E')""",
    )
    before = snapshot(db, metadata)
    config = make_config(db, metadata, is_async=is_async)
    variants: list[dict[str, Any]] = [{}, {"file_format": "jsonl"}, {"batch_size": 2}, {"batch_size": 6}]
    for index, options in enumerate(variants):
        served.clear()
        written = same_both_ways(config, tmp_path / str(index), **options)
        assert len(served) == 1
    assert b'"ref_text":"0b7e3f3c-9d5b-4c43-8e1a-2f7f0b9c1d2e"' in written["served.json"]
    assert b'"doc":{"x":[100000.0,"\\u00e9\\n"]}' not in written["served.json"]  # orjson writes the é itself
    load_data(config, directory=tmp_path / "0" / "fast", mode="truncate")
    assert snapshot(db, metadata) != before  # the hand-written UUID comes back in the column's own form
    same_both_ways(config, tmp_path / "again")
    dispose(config)


@pytest.mark.parametrize("db", ["mariadb"], indirect=True)
def test_a_page_longer_than_group_concat_allows_is_read_row_by_row(
    db: TestDatabase, tmp_path: Path, served: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    metadata = served_metadata()
    fill(db, metadata, [{"id": index, "Mixed:Case %s": "x" * (index * 40)} for index in range(60)])
    monkeypatch.setattr(server_rows.MariadbRows, "page_bytes", 1000)
    config = make_config(db, metadata)
    same_both_ways(config, tmp_path, batch_size=7)
    assert len(served) == 1
    dispose(config)


@pytest.mark.parametrize("db", ["mariadb"], indirect=True)
def test_tables_without_a_one_column_key_stream_row_by_row(db: TestDatabase, tmp_path: Path, served: list[str]) -> None:
    metadata = sa.MetaData()
    sa.Table(
        "pairs", metadata, sa.Column("a", sa.Integer, primary_key=True), sa.Column("b", sa.String(20), primary_key=True)
    )
    sa.Table("loose", metadata, sa.Column("a", sa.Integer), sa.Column("b", sa.String(20)))
    rows = [{"a": index % 3, "b": f"b{index}"} for index in range(20)]
    create_and_fill(db, metadata, {"pairs": rows, "loose": rows + rows})
    config = make_config(db, metadata)
    same_both_ways(config, tmp_path, batch_size=3)
    assert len(served) == 2
    dispose(config)


@pytest.mark.parametrize("db", ["mariadb"], indirect=True)
def test_own_types_and_a_real_schema_match_the_generic_encoder(db: TestDatabase, tmp_path: Path) -> None:
    seed(db)
    config = make_config(db, own_types.metadata())
    same_both_ways(config, tmp_path / "own")
    dispose(config)
    sample = mariadb_sample()
    try:
        config = make_config(
            TestDatabase("mariadb", mariadb_url(sample), mariadb_url(sample, is_async=True), sample), sa.MetaData()
        )
        same_both_ways(config, tmp_path / "sample", all_tables=True)
        dispose(config)
    finally:
        mariadb_drop(sample)


@pytest.mark.parametrize("db", ["mariadb"], indirect=True)
@pytest.mark.parametrize(
    ("statement", "message"),
    [
        (
            "INSERT INTO served (id, day) VALUES (1, '0000-00-00')",
            r"a date or timestamp '0000-00-00' is a zero date or outside the years 1-9999",
        ),
        (
            "INSERT INTO served (id, at) VALUES (1, '2024-00-10')",
            r"a date or timestamp '2024-00-10 00:00:00' is a zero date",
        ),
        ("INSERT INTO served (id, ref_text) VALUES (1, 'not a uuid')", r"'not a uuid' is not a UUID"),
    ],
)
def test_a_value_the_dump_cannot_hold_is_a_clear_error(
    db: TestDatabase, tmp_path: Path, statement: str, message: str
) -> None:
    metadata = served_metadata()
    fill(db, metadata, [], "SET SESSION sql_mode = ''", statement)
    config = make_config(db, metadata)
    with pytest.raises(DataError, match=r"cannot dump served: " + message):
        dump_data(config, directory=tmp_path / "dump")
    assert not (tmp_path / "dump").exists()
    dispose(config)


@pytest.mark.parametrize("db", ["mariadb"], indirect=True)
def test_generated_rows_match_the_generic_encoder(db: TestDatabase, tmp_path: Path, served: list[str]) -> None:
    metadata = served_metadata()
    row = st.fixed_dictionaries(
        {
            "flag": st.none() | st.booleans(),
            "Mixed:Case %s": st.none() | texts(40),
            "label": st.none() | st.sampled_from(["draft", "published"]),
            "ref": st.none() | st.uuids(version=4),  # MariaDB's UUID type refuses some other versions
            "ref_text": st.none() | st.uuids(),
            "price": st.none() | st.decimals(min_value=-(10**19), max_value=10**19, places=10, allow_nan=False),
            "day": st.none() | st.dates(),
            "at": st.none() | st.datetimes(min_value=dt.datetime(1000, 1, 1), max_value=dt.datetime(9999, 12, 30)),
            "doc": json_values().map(lambda value: sa.JSON.NULL if value is None else value) | st.just(sa.null()),
        }
    )
    rows_strategy = st.lists(row, max_size=8).map(
        lambda rows: [{"id": index, **item} for index, item in enumerate(rows)]
    )
    counter = iter(range(10**6))

    @settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(rows=rows_strategy)
    def check(rows: list[dict[str, Any]]) -> None:
        fill(db, metadata, rows)
        config = make_config(db, metadata)
        same_both_ways(config, tmp_path / str(next(counter)), batch_size=3)
        dispose(config)

    check()
    assert served


def test_a_sqlite_load_puts_the_session_pragmas_back(
    sqlite_db: TestDatabase, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The load's ``synchronous = OFF``, page cache and foreign-key checks don't stay on the pooled connection."""
    from dbops.data import load as data_load
    from tests.data.models import chain_metadata, chain_rows

    metadata = chain_metadata()
    create_and_fill(sqlite_db, metadata, chain_rows())
    before = snapshot(sqlite_db, metadata)
    config = make_config(sqlite_db, metadata)
    engine = config.get_engine()
    assert isinstance(engine, sa.Engine)
    pragmas = ("synchronous", "cache_size", "foreign_keys")

    def current() -> list[Any]:
        with engine.connect() as connection:
            return [connection.exec_driver_sql(f"PRAGMA {name}").scalar_one() for name in pragmas]

    with engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA synchronous = NORMAL")  # the pool keeps this connection
        connection.exec_driver_sql("PRAGMA cache_size = -1000")
    assert current() == [1, -1000, 0]
    dump_data(config, directory=tmp_path / "dump")
    used: list[str] = []
    original = data_load._prepared_insert

    def spy(*args: Any) -> Any:
        prepared = original(*args)
        used.append("prepared" if prepared is not None else "sqlalchemy")
        return prepared

    monkeypatch.setattr(data_load, "_prepared_insert", spy)
    load_data(config, directory=tmp_path / "dump", mode="truncate")
    assert used == ["prepared"] * len(metadata.tables)
    assert snapshot(sqlite_db, metadata) == before
    assert current() == [1, -1000, 0]
    dispose(config)


@pytest.mark.parametrize("db", ["mariadb"], indirect=True)
def test_text_that_is_not_json_in_a_json_column_is_a_clear_error(db: TestDatabase, tmp_path: Path) -> None:
    metadata = sa.MetaData()
    sa.Table("loose_json", metadata, sa.Column("id", sa.Integer, primary_key=True), sa.Column("doc", sa.JSON))
    engine = sync_engine(db)
    with engine.begin() as connection:  # a LONGTEXT without MariaDB's JSON_VALID check
        connection.exec_driver_sql("CREATE TABLE loose_json (id INT PRIMARY KEY, doc LONGTEXT)")
        connection.exec_driver_sql("""INSERT INTO loose_json VALUES (1, '{"a": 1}'), (2, '{not json')""")
    engine.dispose()
    config = make_config(db, metadata)
    with pytest.raises(DataError, match=r"cannot dump loose_json: a JSON column holds text that isn't JSON"):
        dump_data(config, directory=tmp_path / "dump")
    assert not (tmp_path / "dump").exists()
    dispose(config)


@pytest.mark.parametrize("db", ["postgresql"], indirect=True)
def test_an_asyncpg_load_copies_every_type_and_names_a_refused_row(db: TestDatabase, tmp_path: Path) -> None:
    """asyncpg configs load through its binary COPY; a row the database refuses is still found and named."""
    import orjson

    from tests.data import test_server_rows

    metadata = test_server_rows.served_metadata()  # kinds COPY takes (no TypeDecorator such as Interval)
    table = metadata.tables["served"]
    table.append_column(sa.Column("ints", sa.dialects.postgresql.ARRAY(sa.Integer)))
    table.append_column(sa.Column("ratio", sa.Double))
    table.append_column(sa.Column("raw", sa.LargeBinary))
    # asyncpg writes date.min / datetime.min / datetime.max as -infinity / infinity (its own codec's choice,
    # executemany or COPY alike), which no dump can hold: the edge rows one day inside
    inside = {"day": dt.date(1, 1, 2), "local": dt.datetime(9999, 12, 30, 23, 59, 59, 999999)}
    rows = [
        row
        | {key: value for key, value in inside.items() if key in row}
        | ({"at": dt.datetime(1, 1, 2, tzinfo=dt.timezone.utc)} if row.get("at") and row["at"].year == 1 else {})
        | {"ints": [1, None, -(2**31)], "ratio": float("nan"), "raw": b"\x00\xff"}
        for row in test_server_rows.EDGE_ROWS
    ]
    test_server_rows.fill(db, metadata, rows)
    before = snapshot(db, metadata)
    config = make_config(db, metadata, is_async=True)
    dump_data(config, directory=tmp_path / "dump")
    result = load_data(config, directory=tmp_path / "dump", mode="truncate")
    assert result.copy_used and snapshot(db, metadata) == before
    dump_data(config, directory=tmp_path / "again")
    assert files(tmp_path / "dump") == files(tmp_path / "again")

    dumped = orjson.loads((tmp_path / "dump" / "served.json").read_bytes())
    fixtures = tmp_path / "fixtures"
    fixtures.mkdir()
    (fixtures / "served.json").write_bytes(orjson.dumps([*dumped, dumped[1]]))  # the second row twice
    with pytest.raises(DataError, match=rf"served.json row {len(dumped) + 1}, column 'id': .*duplicate key"):
        load_data(config, files=[fixtures / "served.json"], mode="truncate")
    assert snapshot(db, metadata) == before
