"""Property test over generated rows, and a cross-dialect test (PostgreSQL → SQLite and MariaDB)."""

from __future__ import annotations

import datetime as dt
import enum
import math
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.dialects import mysql

from dbops.data.dump import dump_data
from dbops.data.load import load_data
from tests.data.models import dispose, make_config, snapshot, sync_engine
from tests.data.test_roundtrip import table_files
from tests.databases import TestDatabase


class Mood(enum.Enum):
    happy = "h"
    sad = "s"


def portable_metadata() -> sa.MetaData:
    """Types every dialect stores losslessly (with MariaDB's fractional-second variants)."""
    metadata = sa.MetaData()
    micro = mysql.DATETIME(fsp=6)
    sa.Table(
        "props",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("big", sa.BigInteger),
        sa.Column("num", sa.Numeric(20, 6)),
        sa.Column("flt", sa.Double),
        sa.Column("flag", sa.Boolean),
        sa.Column("txt", sa.Text),
        sa.Column("name", sa.String(50)),
        sa.Column("blob", sa.LargeBinary),
        sa.Column("d", sa.Date),
        sa.Column("t", sa.Time().with_variant(mysql.TIME(fsp=6), "mysql", "mariadb")),
        sa.Column("ts", sa.DateTime().with_variant(micro, "mysql", "mariadb")),
        sa.Column("tstz", sa.DateTime(timezone=True).with_variant(micro, "mysql", "mariadb")),
        sa.Column("uid", sa.Uuid),
        sa.Column("doc", sa.JSON),
        sa.Column("mood", sa.Enum(Mood, name="mood")),
    )
    return metadata


def texts(max_size: int) -> st.SearchStrategy[str]:
    # No NUL (PostgreSQL text can't hold it) and no lone surrogates (not UTF-8).
    return st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), max_size=max_size)


def json_values() -> st.SearchStrategy[Any]:
    scalars: st.SearchStrategy[Any] = st.none() | st.booleans() | st.integers(-(2**53), 2**53) | texts(10)
    scalars |= st.floats(allow_nan=False, allow_infinity=False, width=64).filter(lambda f: f == 0 or abs(f) > 1e-300)
    return st.recursive(
        scalars,
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(texts(5), inner, max_size=3),
        max_leaves=8,
    )


def rows_strategy(dialect: str) -> st.SearchStrategy[list[dict[str, Any]]]:
    mariadb = dialect == "mariadb"
    floats = st.floats(allow_nan=not mariadb and dialect != "sqlite", allow_infinity=not mariadb, width=64)
    if mariadb:
        floats = floats.filter(lambda f: f == 0 or abs(f) > 1e-300)  # no subnormals in MariaDB
    timestamps = st.datetimes(min_value=dt.datetime(1000, 1, 1), max_value=dt.datetime(9999, 12, 30))
    row = st.fixed_dictionaries(
        {
            "big": st.none() | st.integers(-(2**63), 2**63 - 1),
            "num": st.none() | st.decimals(min_value=-(10**13), max_value=10**13, places=6, allow_nan=False),
            "flt": st.none() | floats,
            "flag": st.none() | st.booleans(),
            "txt": st.none() | texts(40),
            "name": st.none() | texts(50),
            "blob": st.none() | st.binary(max_size=40),
            "d": st.none() | st.dates(min_value=dt.date(1000, 1, 1), max_value=dt.date(9999, 12, 30)),
            "t": st.none() | st.times(),
            "ts": st.none() | timestamps,
            "tstz": st.none()
            | timestamps.map(lambda value: value.replace(tzinfo=dt.timezone.utc) if dialect == "postgresql" else value),
            "uid": st.none() | st.uuids(version=4),  # MariaDB's UUID type refuses other variants
            "doc": json_values().map(lambda value: sa.JSON.NULL if value is None else value) | st.just(sa.null()),
            "mood": st.none() | st.sampled_from(list(Mood)),
        }
    )
    return st.lists(row, max_size=8).map(lambda rows: [{"id": index, **item} for index, item in enumerate(rows)])


@pytest.mark.parametrize("db", ["sqlite", "postgresql", "mariadb"], indirect=True)
def test_generated_rows_round_trip(db: TestDatabase, tmp_path: Path) -> None:
    metadata = portable_metadata()
    table = metadata.tables["props"]
    counter = iter(range(10**6))

    @settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(rows=rows_strategy(db.dialect))
    def check(rows: list[dict[str, Any]]) -> None:
        run = tmp_path / str(next(counter))
        engine = sync_engine(db)
        with engine.begin() as connection:
            metadata.drop_all(connection)
            metadata.create_all(connection)
            if rows:
                connection.execute(table.insert(), rows)
        engine.dispose()
        before = snapshot(db, metadata)
        config = make_config(db, metadata)
        dump_data(config, directory=run / "a")
        with config.get_engine().begin() as connection:
            metadata.drop_all(connection)
            metadata.create_all(connection)
        load_data(config, directory=run / "a")
        assert snapshot(db, metadata) == before
        dump_data(config, directory=run / "b")
        assert table_files(run / "a") == table_files(run / "b")
        dispose(config)

    check()


SOURCE_ROWS: list[dict[str, Any]] = [
    {
        "id": 1,
        "big": 2**62,
        "num": Decimal("1234567.125000"),
        "flt": 0.1,
        "flag": True,
        "txt": "ünï 🎉\ttab",
        "name": "trailing ",
        "blob": bytes(range(256)),
        "d": dt.date(2024, 2, 29),
        "t": dt.time(23, 59, 59, 999999),
        "ts": dt.datetime(2024, 2, 29, 12, 0, 0, 1),
        "tstz": dt.datetime(2024, 2, 29, 23, 30, 0, 5, tzinfo=dt.timezone(dt.timedelta(hours=5, minutes=30))),
        "uid": uuid.UUID(int=2**128 - 1),
        "doc": {"a": [1, 2.5, None], "b": {"c": "d"}},
        "mood": Mood.sad,
    },
    {"id": 2, "doc": sa.null()},
    {"id": 3, "flt": -1e308, "doc": sa.JSON.NULL, "num": Decimal("-0.000001"), "flag": False, "mood": Mood.happy},
]


def typed_rows(database: TestDatabase, metadata: sa.MetaData) -> list[tuple[Any, ...]]:
    """Rows as Python values; aware datetimes as naive UTC (what the other dialects store)."""
    table = metadata.tables["props"]
    engine = sync_engine(database)
    with engine.connect() as connection:
        selected = [sa.cast(c, sa.Text) if isinstance(c.type, sa.JSON) else c for c in table.columns]
        rows = connection.execute(sa.select(*selected).order_by(table.c.id)).all()
    engine.dispose()

    def normal(value: Any) -> Any:
        if isinstance(value, dt.datetime) and value.tzinfo is not None:
            return value.astimezone(dt.timezone.utc).replace(tzinfo=None)
        if isinstance(value, float) and math.isnan(value):
            return "nan"
        if isinstance(value, str) and value.startswith(("{", "[")):
            return value.replace(" ", "")  # JSON text: PostgreSQL json keeps the text, spacing aside
        return value

    return [tuple(normal(value) for value in row) for row in rows]


@pytest.mark.parametrize("target", ["sqlite_db", "mariadb_db"])
def test_dump_from_postgresql_loads_into_other_dialects(
    pg_db: TestDatabase, target: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    metadata = portable_metadata()
    engine = sync_engine(pg_db)
    with engine.begin() as connection:
        metadata.create_all(connection)
        for row in SOURCE_ROWS:
            connection.execute(metadata.tables["props"].insert(), [row])
    engine.dispose()
    dump_data(make_config(pg_db, metadata), directory=tmp_path / "dump")

    other: TestDatabase = request.getfixturevalue(target)
    engine = sync_engine(other)
    with engine.begin() as connection:
        metadata.create_all(connection)
    engine.dispose()
    result = load_data(make_config(other, metadata), directory=tmp_path / "dump")
    assert result.rows == len(SOURCE_ROWS)
    assert typed_rows(other, metadata) == typed_rows(pg_db, metadata)
