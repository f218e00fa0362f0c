"""Test schemas for the data engines: an every-type table with edge values per dialect, and an FK chain."""

from __future__ import annotations

import datetime as dt
import enum
import math
import uuid
from decimal import Decimal
from typing import Any, Literal, overload

import sqlalchemy as sa
from sqlalchemy.dialects import mysql, postgresql

from dbops.config import SQLAlchemyAsyncConfig, SQLAlchemySyncConfig
from tests.databases import TestDatabase


class Color(enum.Enum):
    red = "R"
    green = "G"
    blue = "B"


def _dt(**kw: Any) -> sa.types.TypeEngine[Any]:
    return sa.DateTime(**kw).with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")


def everything_metadata(dialect: str) -> sa.MetaData:
    """One table holding every type the codec knows, with the variants each dialect needs to be lossless."""
    metadata = sa.MetaData()
    columns: list[sa.Column[Any]] = [
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("small", sa.SmallInteger),
        sa.Column("big", sa.BigInteger),
        sa.Column("num", sa.Numeric(30, 10)),
        sa.Column("flt", sa.Double),
        sa.Column("flag", sa.Boolean),
        sa.Column("txt", sa.Text),
        sa.Column("vchar", sa.String(200)),
        sa.Column("blob", sa.LargeBinary),
        sa.Column("d", sa.Date),
        sa.Column("t", sa.Time().with_variant(mysql.TIME(fsp=6), "mysql", "mariadb")),
        sa.Column("ts", _dt()),
        sa.Column("tstz", _dt(timezone=True)),
        sa.Column("iv", sa.Interval),
        sa.Column("uid", sa.Uuid),
        sa.Column("doc", sa.JSON),
        sa.Column("color", sa.Enum(Color, name="color")),
        sa.Column("label", sa.Enum("draft", "published", name="label_kind", native_enum=False)),
        sa.Column("created", _dt(), server_default=sa.text("CURRENT_TIMESTAMP")),
    ]
    if dialect == "postgresql":
        columns += [
            sa.Column("ints", postgresql.ARRAY(sa.Integer)),
            sa.Column("words", postgresql.ARRAY(sa.Text)),
            sa.Column("docb", postgresql.JSONB),
        ]
    sa.Table("everything", metadata, *columns)
    return metadata


def everything_rows(dialect: str) -> list[dict[str, Any]]:
    """Edge values each database can hold (MariaDB has no NaN/inf, SQLite turns NaN into NULL).

    No ``date.max``/``datetime.max``: asyncpg stores those as PostgreSQL ``infinity``.
    """
    floats = [0.1, 1e308, -2.2250738585072014e-308, 5e-324, 123456789.125]
    if dialect == "postgresql":
        floats += [math.nan, math.inf, -math.inf]
    elif dialect == "sqlite":
        floats += [math.inf, -math.inf]
    if dialect == "mariadb":
        floats.remove(5e-324)  # no subnormals
    texts = ["", "plain", "ünïcødé ✓ 🎉 中文", "ctrl \t\n\r\x01\x1f\x7f", "quotes ' \" \\ `", "trailing  "]
    aware = [
        dt.datetime(2024, 2, 29, 23, 30, 0, 1, tzinfo=dt.timezone(dt.timedelta(hours=5, minutes=30))),
        dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc),
        dt.datetime(2038, 1, 19, 3, 14, 8, 999999, tzinfo=dt.timezone(dt.timedelta(hours=-8))),
    ]
    micro = dialect != "mariadb"  # MariaDB keeps intervals as DATETIME without fractional seconds
    intervals = [
        dt.timedelta(0),
        dt.timedelta(days=-1, microseconds=1 if micro else 0, seconds=0 if micro else 1),
        dt.timedelta(days=10000, seconds=86399, microseconds=999999 if micro else 0),
        dt.timedelta(seconds=3723, microseconds=5 if micro else 0),
    ]
    docs: list[Any] = [
        {"a": [1, 2.5, "x", None, True, False], "nested": {"k": {}, "empty": []}},
        [],
        "just a string",
        0,
        {"$json": 1},
        None,  # JSON null (SQL NULL is the all-NULL row)
    ]
    rows: list[dict[str, Any]] = []
    count = max(len(floats), len(texts), len(docs), 6)
    for index in range(count):
        row: dict[str, Any] = {
            "id": index + 1,
            "small": [0, -32768, 32767][index % 3],
            "big": [-(2**63), 2**63 - 1, 0, 42][index % 4],
            "num": [
                Decimal("12345678901234567890.0123456789"),
                Decimal("-0.0000000001"),
                Decimal("0"),
                Decimal("1.5"),
            ][index % 4],
            "flt": floats[index % len(floats)],
            "flag": index % 2 == 0,
            "txt": texts[index % len(texts)],
            "vchar": texts[(index + 1) % len(texts)],
            "blob": [b"", bytes(range(256)), b"\x00\xff" * 10][index % 3],
            "d": [dt.date(1000, 1, 1), dt.date(9999, 12, 30), dt.date(2024, 2, 29)][index % 3],
            "t": [dt.time(0, 0), dt.time(23, 59, 59, 999999), dt.time(12, 34, 56, 1)][index % 3],
            "ts": [
                dt.datetime(1000, 1, 1),
                dt.datetime(9999, 12, 30, 23, 59, 59, 999999),
                dt.datetime(2024, 2, 29, 12, 0, 0, 1),
            ][index % 3],
            "tstz": aware[index % 3] if dialect == "postgresql" else aware[index % 3].replace(tzinfo=None),
            "iv": intervals[index % len(intervals)],
            "uid": [uuid.UUID(int=0), uuid.UUID(int=2**128 - 1), uuid.UUID("0b7e3f3c-9d5b-4c43-8e1a-2f7f0b9c1d2e")][
                index % 3
            ],
            "doc": sa.JSON.NULL if docs[index % len(docs)] is None else docs[index % len(docs)],
            "color": list(Color)[index % 3],
            "label": ["draft", "published"][index % 2],
        }
        if dialect == "postgresql":
            row["ints"] = [[], [1, None, 3], [-(2**31)]][index % 3]
            row["words"] = [["a", "ü 🎉", ""], [None], []][index % 3]
            row["docb"] = {"z": 1, "a": [None, {"b": "c"}]} if index % 2 else sa.JSON.NULL
        rows.append(row)
    null_row: dict[str, Any] = {key: sa.null() if key in ("doc", "docb") else None for key in rows[0]}
    null_row["id"] = len(rows) + 1
    rows.append(null_row)
    return rows


def chain_metadata() -> sa.MetaData:
    """authors ← books ← reviews, and a self-referencing categories table; UUID and integer keys."""
    metadata = sa.MetaData()
    sa.Table(
        "authors",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(100), nullable=False),
    )
    sa.Table(
        "books",
        metadata,
        sa.Column("id", sa.Uuid, primary_key=True, default=uuid.uuid4),
        sa.Column("author_id", sa.Integer, sa.ForeignKey("authors.id"), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("price", sa.Numeric(10, 2)),
        sa.Column("published", _dt(timezone=True)),
    )
    sa.Table(
        "reviews",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("book_id", sa.Uuid, sa.ForeignKey("books.id"), nullable=False),
        sa.Column("stars", sa.Integer, nullable=False),
    )
    sa.Table(
        "categories",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("parent_id", sa.Integer, sa.ForeignKey("categories.id")),
        sa.Column("name", sa.String(50)),
    )
    return metadata


BOOK_IDS = [uuid.UUID(int=index + 1) for index in range(3)]


def chain_rows() -> dict[str, list[dict[str, Any]]]:
    return {
        "authors": [{"id": 1, "name": "Ann"}, {"id": 2, "name": "Bob"}],
        "books": [
            {
                "id": BOOK_IDS[0],
                "author_id": 1,
                "title": "First",
                "price": Decimal("9.99"),
                "published": dt.datetime(2020, 1, 1, tzinfo=dt.timezone.utc),
            },
            {"id": BOOK_IDS[1], "author_id": 1, "title": "Second", "price": None, "published": None},
            {"id": BOOK_IDS[2], "author_id": 2, "title": "Third", "price": Decimal("0.50"), "published": None},
        ],
        "reviews": [
            {"id": 1, "book_id": BOOK_IDS[0], "stars": 5},
            {"id": 2, "book_id": BOOK_IDS[2], "stars": 3},
        ],
        "categories": [
            {"id": 1, "parent_id": None, "name": "root"},
            {"id": 2, "parent_id": 1, "name": "child"},
        ],
    }


@overload
def make_config(
    database: TestDatabase, metadata: sa.MetaData, *, is_async: Literal[False] = False, bind_key: str | None = None
) -> SQLAlchemySyncConfig: ...
@overload
def make_config(
    database: TestDatabase, metadata: sa.MetaData, *, is_async: bool, bind_key: str | None = None
) -> SQLAlchemySyncConfig | SQLAlchemyAsyncConfig: ...
def make_config(
    database: TestDatabase, metadata: sa.MetaData, *, is_async: bool = False, bind_key: str | None = None
) -> SQLAlchemySyncConfig | SQLAlchemyAsyncConfig:
    cls = SQLAlchemyAsyncConfig if is_async else SQLAlchemySyncConfig
    return cls(connection_string=database.url(is_async=is_async), metadata=metadata, bind_key=bind_key)


def dispose(config: SQLAlchemySyncConfig | SQLAlchemyAsyncConfig) -> None:
    """Close a sync config's pooled connections (an SQLite file is about to be deleted)."""
    if isinstance(config, SQLAlchemySyncConfig):
        config.dispose()


def sync_engine(database: TestDatabase) -> sa.Engine:
    """A plain engine with dbops' JSON serializer, so seeded JSON text matches what a load writes."""
    from dbops.config import deserialize_json, serialize_json

    return sa.create_engine(
        database.sync_url,
        poolclass=sa.pool.NullPool,
        json_serializer=serialize_json,
        json_deserializer=deserialize_json,
    )


def create_and_fill(database: TestDatabase, metadata: sa.MetaData, rows: dict[str, list[dict[str, Any]]]) -> None:
    engine = sync_engine(database)
    try:
        with engine.begin() as connection:
            metadata.create_all(connection)
            for table in metadata.sorted_tables:
                if rows.get(table.name):
                    connection.execute(table.insert(), rows[table.name])
    finally:
        engine.dispose()


def create_tables(database: TestDatabase, metadata: sa.MetaData) -> None:
    create_and_fill(database, metadata, {})


def fetch(database: TestDatabase, table: str, order: str = "id") -> list[tuple[Any, ...]]:
    engine = sync_engine(database)
    try:
        with engine.connect() as connection:
            return [tuple(row) for row in connection.execute(sa.text(f"SELECT * FROM {table} ORDER BY {order}"))]
    finally:
        engine.dispose()


def snapshot(database: TestDatabase, metadata: sa.MetaData) -> dict[str, list[str]]:
    """Every row of the metadata's tables as typed values (repr'd, so NaN equals NaN), to compare databases."""
    engine = sync_engine(database)
    try:
        with engine.connect() as connection:
            present = set(sa.inspect(connection).get_table_names())
            return {
                table.name: [
                    repr(tuple(row))
                    for row in connection.execute(
                        sa.select(
                            *[
                                sa.cast(column, sa.Text) if isinstance(column.type, sa.JSON) else column
                                for column in table.columns
                            ]
                        ).order_by(*table.primary_key.columns)
                    )
                ]
                for table in metadata.sorted_tables
                if table.name in present
            }
    finally:
        engine.dispose()
