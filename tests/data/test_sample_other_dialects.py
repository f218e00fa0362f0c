"""The shop database on MariaDB and SQLite (``samples/mariadb.sql``, ``samples/sqlite.sql``, loaded with each
database's own client), round-tripped into a schema-only copy (``mariadb-dump --no-data``, ``sqlite3
.schema``) and compared with an oracle reading both with the client (MariaDB) or Python's sqlite3 module.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pytest

from tests.cli_runner import invoke
from tests.data.sample_databases import (
    Oracle,
    mariadb,
    mariadb_drop,
    mariadb_oracle,
    mariadb_sample,
    mariadb_schema_copy,
    mariadb_url,
    settings,
    sqlite_oracle,
    sqlite_sample,
    sqlite_schema_copy,
)
from tests.databases import MYSQL_HOST, MYSQL_PORT, require_server

pytestmark = pytest.mark.xdist_group("sample-other")


@dataclass
class Sample:
    dialect: str
    source_url: str
    target_url: str
    oracle: Any
    source: Any
    target: Any
    execute: Any


@pytest.fixture(params=["mariadb", "sqlite"])
def sample(request: pytest.FixtureRequest, tmp_path: Path, is_async: bool) -> Iterator[Sample]:
    if request.param == "mariadb":
        require_server("MariaDB", MYSQL_HOST, MYSQL_PORT)
        source = mariadb_sample()
        try:
            target = mariadb_schema_copy(source)
        except BaseException:
            mariadb_drop(source)
            raise
        yield Sample(
            "mariadb",
            mariadb_url(source, is_async=is_async),
            mariadb_url(target, is_async=is_async),
            mariadb_oracle,
            source,
            target,
            lambda database, sql: mariadb(database, "-e", sql),
        )
        mariadb_drop(source)
        mariadb_drop(target)
        return
    import sqlite3

    source_path = sqlite_sample(tmp_path / "source.sqlite")
    target_path = sqlite_schema_copy(source_path, tmp_path / "target.sqlite")

    def execute(path: Path, sql: str) -> None:
        connection = sqlite3.connect(path)
        with connection:
            connection.execute(sql)
        connection.close()

    driver = "sqlite+aiosqlite" if is_async else "sqlite"
    yield Sample(
        "sqlite",
        f"{driver}:///{source_path}",
        f"{driver}:///{target_path}",
        sqlite_oracle,
        source_path,
        target_path,
        execute,
    )


def run(tmp_path: Path, *argv: str) -> None:
    result = invoke(list(argv), cwd=tmp_path)
    assert result.exit_code == 0, result.stderr


def test_round_trip_into_a_schema_only_copy(sample: Sample, tmp_path: Path) -> None:
    settings(tmp_path, source=sample.source_url, target=sample.target_url)
    expected: Oracle = sample.oracle(sample.source)
    run(tmp_path, "dump-data", "--all-tables", "--dir", "dump", "-c", "sample_settings.py:source")
    manifest = orjson.loads((tmp_path / "dump" / "manifest.json").read_bytes())
    rows = {entry["name"]: entry["rows"] for entry in manifest["tables"]}
    assert "customer_totals" not in rows and rows["orders"] == 14000  # no view; partitions are one table
    customer = next(entry for entry in manifest["tables"] if entry["name"] == "customer")
    assert {"label"} & {column["name"] for column in customer["columns"]} == set()  # generated: recomputed
    assert {counter["name"]: counter["value"] for counter in manifest["counters"]}["customer"] == 7000

    run(tmp_path, "load-data", "--dir", "dump", "-c", "sample_settings.py:target")
    assert sample.oracle(sample.target) == expected

    run(tmp_path, "load-data", "--dir", "dump", "--mode", "upsert", "-c", "sample_settings.py:target")
    assert sample.oracle(sample.target) == expected  # every row equal: nothing written, no trigger fired

    # a value changed only in letter case (equal under MariaDB's case-insensitive collation) is put back
    sample.execute(sample.target, "UPDATE customer SET email = UPPER(email) WHERE id = 3")
    run(tmp_path, "load-data", "--dir", "dump", "--mode", "upsert", "-c", "sample_settings.py:target")
    after = sample.oracle(sample.target)
    changed = sorted(set(after["customer"]) - set(expected["customer"]))
    assert len(changed) == 1 and "user3@example.com" in changed[0]  # the trigger stamped the one updated row
    assert {key: value for key, value in after.items() if key != "customer"} == {
        key: value for key, value in expected.items() if key != "customer"
    }
