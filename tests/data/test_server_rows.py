"""PostgreSQL-formatted dumps (``dbops.data.server_rows``) are byte for byte the generic encoder's."""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.dialects import postgresql

from dbops.data import server_rows
from dbops.data.dump import dump_data
from dbops.data.load import load_data
from dbops.errors import DataError
from tests.data.models import dispose, make_config, snapshot, sync_engine
from tests.data.test_properties import json_values, texts
from tests.databases import TestDatabase

pytestmark = pytest.mark.parametrize("db", ["postgresql"], indirect=True)


class Colour(enum.Enum):
    red = "r"
    green = "g"


def served_metadata(*, with_json: bool = True) -> sa.MetaData:
    """Only kinds the server formats itself."""
    metadata = sa.MetaData()
    json_columns = [sa.Column("doc", sa.JSON), sa.Column("docb", postgresql.JSONB)] if with_json else []
    sa.Table(
        "served",
        metadata,
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("flag", sa.Boolean),
        sa.Column("Mixed Case", sa.Text),
        sa.Column("colour", sa.Enum(Colour, name="colour")),
        sa.Column("ref", sa.Uuid),
        sa.Column("price", sa.Numeric(20, 6)),
        sa.Column("day", sa.Date),
        sa.Column("at", sa.DateTime(timezone=True)),
        sa.Column("local", sa.DateTime()),
        *json_columns,
    )
    return metadata


@pytest.fixture
def server_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The SQL of every server-formatted table dump."""
    calls: list[str] = []
    original = server_rows.ServerRows.batches

    def spy(self: server_rows.ServerRows, driver: Any, batch_size: int) -> Iterator[tuple[bytes, int]]:
        calls.append(self.sql)
        return original(self, driver, batch_size)

    monkeypatch.setattr(server_rows.ServerRows, "batches", spy)
    return calls


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


def files(directory: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in directory.iterdir() if path.name != "manifest.json"}


EDGE_ROWS: list[dict[str, Any]] = [
    {
        "id": 1,
        "flag": True,
        "Mixed Case": 'quote " backslash \\ tab \t newline \n \x01\x02\x1f\x7f é 漢 😀 \u2028',
        "colour": Colour.green,
        "ref": uuid.UUID(int=2**128 - 1),
        "price": Decimal("-0.000001"),
        "day": dt.date(1, 1, 1),
        "at": dt.datetime(2024, 2, 29, 23, 30, 0, 5, tzinfo=dt.timezone(dt.timedelta(hours=5, minutes=30))),
        "local": dt.datetime(9999, 12, 31, 23, 59, 59, 999999),
        "doc": {"$json": 1},
        "docb": {"b": [1, 2.5, None, 1.5e300], "a": {"c": "d"}, "": -0.0},
    },
    {"id": 2, "doc": sa.JSON.NULL, "docb": sa.JSON.NULL, "at": dt.datetime(1, 1, 1, tzinfo=dt.timezone.utc)},
    {"id": 3, "doc": sa.null(), "docb": sa.null(), "local": dt.datetime(2024, 1, 1, 12, 0, 0, 100000)},
    {"id": 4, "doc": [], "docb": {"$json": None}, "price": Decimal("12345678901234.500000"), "flag": False},
]


def test_edge_values_match_the_generic_encoder(db: TestDatabase, tmp_path: Path, server_calls: list[str]) -> None:
    metadata = served_metadata()
    fill(
        db,
        metadata,
        EDGE_ROWS,
        # a json (not jsonb) value keeps its source text: raw line breaks, spaces, duplicate keys, 1.50
        """INSERT INTO served (id, doc, price) VALUES (5, '{"x" : 1.50,\n  "x": [1e5, "\\n"]\r\n}', 'NaN')""",
    )
    config = make_config(db, metadata)
    variants: list[dict[str, Any]] = [{}, {"file_format": "jsonl"}, {"compress": True}]
    for index, options in enumerate(variants):
        server_calls.clear()
        dump_data(config, directory=tmp_path / f"server{index}", **options)
        assert len(server_calls) == 1
        dump_data(config, directory=tmp_path / f"generic{index}", raw_cursor=False, **options)
        assert len(server_calls) == 1
        assert files(tmp_path / f"server{index}") == files(tmp_path / f"generic{index}")
    rows = [orjson.loads(line) for line in (tmp_path / "server1" / "served.jsonl").read_bytes().splitlines()]
    assert rows[0]["doc"] == {"$json": {"$json": 1}} and rows[1]["doc"] == {"$json": None} and rows[2]["doc"] is None
    assert rows[0]["at"] == "2024-02-29T18:00:00.000005+00:00" and rows[1]["at"] == "0001-01-01T00:00:00+00:00"
    assert rows[2]["local"] == "2024-01-01T12:00:00.100000" and rows[4]["price"] == "NaN"
    assert rows[4]["doc"] == {"x": [100000.0, "\n"]}
    dispose(config)


def test_server_formatted_dump_loads_back(db: TestDatabase, tmp_path: Path, server_calls: list[str]) -> None:
    metadata = served_metadata()
    fill(db, metadata, EDGE_ROWS)
    before = snapshot(db, metadata)
    config = make_config(db, metadata)
    dump_data(config, directory=tmp_path / "a")
    load_data(config, directory=tmp_path / "a", mode="truncate")
    assert snapshot(db, metadata) == before
    dump_data(config, directory=tmp_path / "b")
    assert files(tmp_path / "a") == files(tmp_path / "b") and len(server_calls) == 2
    dispose(config)


@pytest.mark.parametrize("value", ["infinity", "-infinity", "0044-03-15 12:00 BC"])
def test_a_timestamp_python_cannot_hold_is_a_clear_error(db: TestDatabase, tmp_path: Path, value: str) -> None:
    metadata = served_metadata()
    fill(db, metadata, [], f"INSERT INTO served (id, at) VALUES (1, '{value}')")
    config = make_config(db, metadata)
    with pytest.raises(DataError, match=r"cannot dump served: a date or timestamp '.*' is outside the years 1-9999"):
        dump_data(config, directory=tmp_path / "dump")
    assert not (tmp_path / "dump" / "manifest.json").exists() and not (tmp_path / "dump" / "served.json").exists()
    dispose(config)


def test_a_column_the_server_does_not_format_keeps_the_generic_path(
    db: TestDatabase, tmp_path: Path, server_calls: list[str]
) -> None:
    metadata = served_metadata()
    metadata.tables["served"].append_column(sa.Column("ratio", sa.Double))
    fill(db, metadata, [{"id": 1, "ratio": 1e16}, {"id": 2, "ratio": -0.0}])
    config = make_config(db, metadata)
    dump_data(config, directory=tmp_path / "dump")
    assert server_calls == []
    rows = orjson.loads((tmp_path / "dump" / "served.json").read_bytes())
    assert [row["ratio"] for row in rows] == [1e16, -0.0] and b"-0.0" in (
        tmp_path / "dump" / "served.json"
    ).read_bytes()
    dispose(config)


def test_generated_rows_match_the_generic_encoder(db: TestDatabase, tmp_path: Path, server_calls: list[str]) -> None:
    metadata = served_metadata()
    timestamps = st.datetimes(min_value=dt.datetime(1, 1, 1), max_value=dt.datetime(9999, 12, 30))
    row = st.fixed_dictionaries(
        {
            "flag": st.none() | st.booleans(),
            "Mixed Case": st.none() | texts(40),
            "colour": st.none() | st.sampled_from(list(Colour)),
            "ref": st.none() | st.uuids(),
            "price": st.none() | st.decimals(min_value=-(10**13), max_value=10**13, places=6, allow_nan=False),
            "day": st.none() | st.dates(),
            "at": st.none() | timestamps.map(lambda value: value.replace(tzinfo=dt.timezone.utc)),
            "local": st.none() | timestamps,
            "doc": json_values().map(lambda value: sa.JSON.NULL if value is None else value) | st.just(sa.null()),
            "docb": json_values().map(lambda value: sa.JSON.NULL if value is None else value) | st.just(sa.null()),
        }
    )
    rows_strategy = st.lists(row, max_size=8).map(
        lambda rows: [{"id": index, **item} for index, item in enumerate(rows)]
    )
    counter = iter(range(10**6))

    @settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(rows=rows_strategy)
    def check(rows: list[dict[str, Any]]) -> None:
        run = tmp_path / str(next(counter))
        fill(db, metadata, rows)
        config = make_config(db, metadata)
        dump_data(config, directory=run / "server")
        dump_data(config, directory=run / "generic", raw_cursor=False)
        assert files(run / "server") == files(run / "generic")
        dispose(config)

    check()
    assert server_calls


def test_rows_without_json_pass_through_unchanged_across_batches(
    db: TestDatabase, tmp_path: Path, server_calls: list[str]
) -> None:
    metadata = served_metadata(with_json=False)  # the server's lines are written as they arrive
    table = metadata.tables["served"]
    start = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)
    rows: list[dict[str, Any]] = [
        {"id": index, "Mixed Case": f'row {index} \\ "{chr(index % 200 + 1)}"', "ref": uuid.UUID(int=index)}
        | {"price": Decimal(index) / 7 if index % 3 else None, "at": start + dt.timedelta(microseconds=index * 999)}
        for index in range(5000)
    ]
    engine = sync_engine(db)
    with engine.begin() as connection:
        metadata.drop_all(connection)
        metadata.create_all(connection)
        connection.execute(table.insert(), [row | {"price": row["price"] and round(row["price"], 6)} for row in rows])
    engine.dispose()
    config = make_config(db, metadata)
    dump_data(config, directory=tmp_path / "server", batch_size=700)
    dump_data(config, directory=tmp_path / "generic", raw_cursor=False, batch_size=700)
    assert len(server_calls) == 1
    assert files(tmp_path / "server") == files(tmp_path / "generic")
    assert len(orjson.loads((tmp_path / "server" / "served.json").read_bytes())) == 5000
    dispose(config)


def test_an_abandoned_server_dump_leaves_the_connection_usable(
    db: TestDatabase, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, server_calls: list[str]
) -> None:
    from dbops.data import files as data_files

    metadata = served_metadata()
    fill(db, metadata, [{"id": index, "Mixed Case": "x" * 100} for index in range(3000)])
    config = make_config(db, metadata)
    original = data_files._HashingFile.write
    written: list[int] = []

    def failing_write(self: data_files._HashingFile, data: bytes) -> int:
        written.append(len(data))
        if len(written) == 3:  # the disk fills up mid-table
            raise OSError(28, "No space left on device")
        return original(self, data)

    monkeypatch.setattr(data_files._HashingFile, "write", failing_write)
    with pytest.raises(DataError, match=r"cannot write the dump in .*/a: No space left on device"):
        dump_data(config, directory=tmp_path / "a", batch_size=100)
    monkeypatch.setattr(data_files._HashingFile, "write", original)
    assert not (tmp_path / "a" / "served.json").exists()
    dump_data(config, directory=tmp_path / "b", batch_size=100)  # the pooled connection works again
    assert len(orjson.loads((tmp_path / "b" / "served.json").read_bytes())) == 3000 and len(server_calls) == 2
    dispose(config)
