"""A PostgreSQL database dbops did not create (``samples/postgres.sql``, loaded with psql), round-tripped
through ``dump-data --all-tables`` / ``load-data`` into a copy made by ``pg_dump --schema-only``, and compared
with an oracle that reads both with COPY (``sample_databases.pg_oracle``): partitions, an INHERITS child,
sequences owned or not, an identity, a generated column, triggers, domains, enums, arrays, tsvector, bytea.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from tests.cli_runner import invoke
from tests.data.sample_databases import (
    Oracle,
    pg_drop,
    pg_next_values,
    pg_oracle,
    pg_sample,
    pg_schema_copy,
    pg_url,
    psql,
    settings,
)
from tests.databases import PG_HOST, PG_PORT, require_server

pytestmark = pytest.mark.xdist_group("sample-postgres")

TABLES = {"country", "category", "customer", "product", "orders", "shipment", "event", "login_event"}


@pytest.fixture(scope="module")
def sample() -> Iterator[str]:
    require_server("PostgreSQL", PG_HOST, PG_PORT)
    name = pg_sample()
    yield name
    pg_drop(name)


@pytest.fixture(scope="module")
def oracle(sample: str) -> Oracle:
    return pg_oracle(sample)


@pytest.fixture
def copy(sample: str) -> Iterator[str]:
    name = pg_schema_copy(sample)
    yield name
    pg_drop(name)


def run(tmp_path: Path, *argv: str) -> None:
    result = invoke(list(argv), cwd=tmp_path)
    assert result.exit_code == 0, result.stderr


def test_round_trip_into_a_schema_only_copy(
    sample: str, oracle: Oracle, copy: str, tmp_path: Path, is_async: bool
) -> None:
    settings(tmp_path, source=pg_url(sample, is_async=is_async), target=pg_url(copy, is_async=is_async))
    run(tmp_path, "dump-data", "--all-tables", "--dir", "dump", "-c", "sample_settings.py:source")
    manifest = orjson.loads((tmp_path / "dump" / "manifest.json").read_bytes())
    rows = {entry["name"]: entry["rows"] for entry in manifest["tables"]}
    assert set(rows) == TABLES  # no partition, no view, no materialized view
    assert rows["orders"] == 30000 and rows["event"] == 1500 and rows["login_event"] == 1000  # each row once
    names = [entry["name"] for entry in manifest["tables"]]
    assert names.index("orders") > max(names.index("customer"), names.index("product"))  # FKs of the partitions
    customer = next(entry for entry in manifest["tables"] if entry["name"] == "customer")
    assert "label" not in {column["name"] for column in customer["columns"]}  # generated: recomputed
    assert {counter["name"] for counter in manifest["counters"]} >= {"customer_id_seq", "ticket_seq", "never_used_seq"}

    run(tmp_path, "load-data", "--dir", "dump", "-c", "sample_settings.py:target")
    assert pg_oracle(copy) == oracle

    # the same dump again, as an upsert: every row is equal, so nothing is written and no trigger fires
    run(tmp_path, "load-data", "--dir", "dump", "--mode", "upsert", "-c", "sample_settings.py:target")
    assert pg_oracle(copy) == oracle
    if not is_async:
        upsert_changed_rows(tmp_path, copy, oracle)
    assert pg_next_values(copy) == next_values_of(oracle)


def upsert_changed_rows(tmp_path: Path, copy: str, oracle: Oracle) -> None:
    """An upsert updates the rows that differ, whose BEFORE UPDATE trigger fires; --disable-triggers not."""
    psql(copy, "-c", "UPDATE customer SET email = 'changed' WHERE id IN (5, 6)")
    upsert = ["load-data", "--dir", "dump", "--table", "customer", "--mode", "upsert"]
    run(tmp_path, *upsert, "-c", "sample_settings.py:target")
    after = pg_oracle(copy)
    changed = sorted(set(after["public.customer"]) - set(oracle["public.customer"]))
    assert [line.split("\t")[0] for line in changed] == ["5", "6"]  # the trigger stamped the two updated rows
    assert {key: value for key, value in after.items() if key != "public.customer"} == {
        key: value for key, value in oracle.items() if key != "public.customer"
    }
    psql(copy, "-c", "UPDATE customer SET email = 'changed' WHERE id IN (5, 6)")
    run(tmp_path, *upsert, "--disable-triggers", "-c", "sample_settings.py:target")
    assert pg_oracle(copy) == oracle


def next_values_of(oracle: Oracle) -> dict[str, int]:
    """What ``nextval`` returns after the recorded state (every sample sequence counts up by its increment)."""
    increments = {"invoice_no_seq": 7}
    found = {}
    for key, lines in oracle.items():
        if key.startswith("sequence "):
            name = key.removeprefix("sequence ")
            last, called = lines[0].strip().split("|")
            found[name] = int(last) + (increments.get(name, 1) if called == "t" else 0)
    return found


def full_dump(tmp_path: Path) -> dict[str, bytes]:
    return {
        path.name: path.read_bytes() for path in sorted((tmp_path / "dump").iterdir()) if path.name != "manifest.json"
    }


def manifest_without_time(directory: Path) -> dict[str, object]:
    manifest = orjson.loads((directory / "manifest.json").read_bytes())
    manifest.pop("created_at")
    return manifest


def wait_for_staging(folder: Path, process: subprocess.Popen[bytes]) -> float:
    """When ``process``'s staging directory appears beside ``folder / "dump"`` (the tables are being written)."""
    deadline = time.monotonic() + 120
    while not list(folder.glob(f".dump.dbops-{process.pid}-*")):
        assert process.poll() is None and time.monotonic() < deadline, "the dump never started writing"
        time.sleep(0.005)
    return time.monotonic()


def test_a_killed_dump_leaves_the_previous_dump_intact(sample: str, oracle: Oracle, copy: str, tmp_path: Path) -> None:
    """kill -9 at random points of a dump over an existing one: the existing one stays complete and loads."""
    settings(tmp_path, source=pg_url(sample), target=pg_url(copy))
    command = [sys.executable, "-m", "dbops", "-q", "dump-data", "--all-tables", "--dir", "dump"]
    command += ["-c", "sample_settings.py:source"]
    started = time.monotonic()
    first = subprocess.Popen(command, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    writing_from = wait_for_staging(tmp_path, first)
    assert first.wait(timeout=300) == 0
    finished = time.monotonic()
    duration, writing = finished - started, finished - writing_from
    previous = full_dump(tmp_path)
    previous_manifest = manifest_without_time(tmp_path / "dump")
    chance = random.Random(13)
    killed_partial = 0
    for attempt in range(6):  # three kills anywhere, three while tables are written
        process = subprocess.Popen(command, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if attempt % 2:  # anywhere: while starting, connecting, writing, swapping
            time.sleep(chance.uniform(0.05, duration))
        else:  # while the tables are being written (a busy machine can stretch start-up over the whole run)
            wait_for_staging(tmp_path, process)
            time.sleep(chance.uniform(0, writing * 0.6))
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=60)
        assert full_dump(tmp_path) == previous
        assert manifest_without_time(tmp_path / "dump") == previous_manifest
        for staged in tmp_path.glob(".dump.dbops-*"):
            if not (staged / "manifest.json").exists():
                killed_partial += 1
                refused = invoke(["load-data", "--dir", str(staged), "-c", "sample_settings.py:target"], cwd=tmp_path)
                assert refused.exit_code == 2 and refused.stderr.count("\n") == 1, refused.stderr
                assert "incomplete dump" in refused.stderr or "no manifest.json and no data files" in refused.stderr
    assert killed_partial >= 1  # at least one kill hit a dump in progress
    run(tmp_path, "load-data", "--dir", "dump", "-c", "sample_settings.py:target")
    assert pg_oracle(copy) == oracle
    run(tmp_path, "-q", "dump-data", "--all-tables", "--dir", "dump", "-c", "sample_settings.py:source")
    assert not list(tmp_path.glob(".dump.dbops-*"))  # leftovers of the killed dumps are gone
    assert full_dump(tmp_path) == previous
