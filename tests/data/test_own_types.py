"""dbops' own column types and bases: dump → load → dump is byte-identical, on every dialect, sync and async."""

from __future__ import annotations

import datetime as dt
import inspect
from pathlib import Path
from typing import Any

import orjson
import pytest
import sqlalchemy as sa

import dbops.base
import dbops.types
from dbops.data.dump import dump_data
from dbops.data.load import load_data
from dbops.errors import DataError
from tests.data import own_types
from tests.data.models import dispose, make_config, snapshot, sync_engine
from tests.data.test_roundtrip import manifest_without_timestamp, table_files
from tests.databases import TestDatabase


def _is_column_type(value: Any) -> bool:
    return isinstance(value, sa.types.TypeEngine) or (inspect.isclass(value) and issubclass(value, sa.types.TypeEngine))


def test_every_public_type_and_base_is_covered() -> None:
    """A new name in dbops.types or dbops.base must be classified here, and a column type must be tested."""
    names = set(dbops.types.__all__)
    assert own_types.COVERED_TYPES | set(own_types.NOT_COLUMN_TYPES) == names
    for name in names:
        assert _is_column_type(getattr(dbops.types, name)) == (name in own_types.COVERED_TYPES), name
    used = {type(column.type) for model in own_types.MODELS for column in model.__table__.columns}  # type: ignore[attr-defined]
    for name in own_types.COVERED_TYPES:
        kind = getattr(dbops.types, name)
        kind = kind if inspect.isclass(kind) else type(kind)
        assert any(issubclass(column_type, kind) for column_type in used), f"no test column of type {name}"

    bases = set(dbops.base.__all__)
    assert set(own_types.COVERED_BASES) | set(own_types.NOT_BASES) == bases
    for name, model in own_types.COVERED_BASES.items():
        assert issubclass(model, getattr(dbops.base, name)), name
    for name in own_types.NOT_BASES:
        value = getattr(dbops.base, name)
        assert not (inspect.isclass(value) and hasattr(value, "__table__")), name


def seed(database: TestDatabase) -> None:
    metadata = own_types.metadata()
    engine = sync_engine(database)
    try:
        with engine.begin() as connection:
            if database.dialect == "mariadb":  # an explicit id 0 is an id, not "the next one"
                connection.exec_driver_sql("SET SESSION sql_mode = CONCAT(@@sql_mode, ',NO_AUTO_VALUE_ON_ZERO')")
            metadata.create_all(connection)
            for table in metadata.sorted_tables:
                for row in own_types.rows()[table.name]:
                    connection.execute(table.insert(), [row])
    finally:
        engine.dispose()


def create_schema(database: TestDatabase) -> None:
    engine = sync_engine(database)
    try:
        with engine.begin() as connection:
            own_types.metadata().create_all(connection)
    finally:
        engine.dispose()


def test_own_types_round_trip_byte_identical(db: TestDatabase, is_async: bool, tmp_path: Path) -> None:
    seed(db)
    metadata = own_types.metadata()
    before = snapshot(db, metadata)
    config = make_config(db, metadata, is_async=is_async)
    first = dump_data(config, directory=tmp_path / "first")
    assert {table.name: table.rows for table in first.tables} == {
        name: len(rows) for name, rows in own_types.rows().items()
    }
    every = {row["id"]: row for row in orjson.loads((tmp_path / "first" / "dt_every_type.json").read_bytes())}
    first_row = every["00000000-0000-0000-0000-000000000001"]
    assert first_row["guid"] == "00000000-0000-0000-0000-000000000000"
    assert first_row["moment"] == "2024-03-01T09:29:59.999999+00:00"  # the instant, in UTC, on every dialect
    assert first_row["secret"] != "" and first_row["secret"].startswith("gAAAA")  # ciphertext, never plaintext
    assert first_row["file"]["filename"] == "a.txt"

    dispose(config)
    db.reset()
    create_schema(db)
    config = make_config(db, metadata, is_async=is_async)
    assert load_data(config, directory=tmp_path / "first").rows == first.rows
    assert snapshot(db, metadata) == before
    dump_data(config, directory=tmp_path / "second")
    dispose(config)
    assert table_files(tmp_path / "first") == table_files(tmp_path / "second")
    assert manifest_without_timestamp(tmp_path / "first") == manifest_without_timestamp(tmp_path / "second")


def test_orm_reads_loaded_rows(db: TestDatabase, tmp_path: Path) -> None:
    """What a load wrote is what the models read: decrypted secrets, aware datetimes, FileObjects."""
    from sqlalchemy.orm import Session

    seed(db)
    metadata = own_types.metadata()
    config = make_config(db, metadata)
    dump_data(config, directory=tmp_path / "dump")
    dispose(config)
    db.reset()
    create_schema(db)
    config = make_config(db, metadata)
    load_data(config, directory=tmp_path / "dump")
    dispose(config)
    engine = sync_engine(db)
    try:
        with Session(engine) as session:
            row = session.get(own_types.DtEveryType, own_types.rows()["dt_every_type"][1]["id"])
            assert row is not None
            assert row.secret == "p@ss wörd 🎉"
            assert row.moment == dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc) and row.moment.tzinfo is not None
            assert row.files == []
            first = session.get(own_types.DtEveryType, own_types.rows()["dt_every_type"][0]["id"])
            assert first is not None and first.files is not None
            assert [item.filename for item in first.files] == ["c.txt", "d.txt"]
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    "value",
    ["2024-01-01T00:00:00", "2024-01-01 12:00"],
    ids=["naive-iso", "naive-space"],
)
def test_naive_timestamp_into_datetime_utc_is_refused(db: TestDatabase, tmp_path: Path, value: str) -> None:
    create_schema(db)
    metadata = own_types.metadata()
    fixtures = tmp_path / "fixtures"
    fixtures.mkdir()
    (fixtures / "dt_own_key.json").write_bytes(
        orjson.dumps([{"code": "ok", "seen": "2024-01-01T00:00:00Z"}, {"code": "naive", "seen": value}])
    )
    config = make_config(db, metadata)
    with pytest.raises(DataError) as caught:
        load_data(config, files=[fixtures / "dt_own_key.json"])
    message = str(caught.value)
    assert "dt_own_key.json row 2, column 'seen'" in message and "time zone" in message, message
    assert snapshot(db, metadata)["dt_own_key"] == []
    dispose(config)
