"""dump → load into an empty database → dump again is byte-identical, on every dialect, sync and async."""

from __future__ import annotations

from pathlib import Path

import orjson

from dbops.data.dump import dump_data
from dbops.data.load import load_data
from tests.data.models import (
    create_and_fill,
    create_tables,
    dispose,
    everything_metadata,
    everything_rows,
    make_config,
    snapshot,
)
from tests.databases import TestDatabase


def table_files(directory: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(directory.iterdir()) if path.name != "manifest.json"}


def manifest_without_timestamp(directory: Path) -> dict[str, object]:
    manifest = orjson.loads((directory / "manifest.json").read_bytes())
    manifest.pop("created_at")
    return manifest


def test_every_type_round_trips_byte_identical(db: TestDatabase, is_async: bool, tmp_path: Path) -> None:
    metadata = everything_metadata(db.dialect)
    create_and_fill(db, metadata, {"everything": everything_rows(db.dialect)})
    config = make_config(db, metadata, is_async=is_async)
    before = snapshot(db, metadata)
    first = dump_data(config, directory=tmp_path / "first")
    assert first.tables[0].rows == len(everything_rows(db.dialect))

    dispose(config)
    db.reset()
    create_tables(db, metadata)
    config = make_config(db, metadata, is_async=is_async)
    loaded = load_data(config, directory=tmp_path / "first")
    assert loaded.rows == first.rows
    assert snapshot(db, metadata) == before  # the database holds exactly what it held

    dump_data(config, directory=tmp_path / "second")
    dispose(config)
    assert table_files(tmp_path / "first") == table_files(tmp_path / "second")
    assert manifest_without_timestamp(tmp_path / "first") == manifest_without_timestamp(tmp_path / "second")
