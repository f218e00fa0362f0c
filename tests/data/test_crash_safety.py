"""A dump replaces its directory whole or not at all; a load refuses what looks like an interrupted dump."""

from __future__ import annotations

import shutil
from pathlib import Path

import orjson
import pytest

from dbops.data import files
from dbops.data.dump import dump_data
from dbops.data.load import load_data
from dbops.errors import DataError
from tests.cli_runner import invoke
from tests.data.models import chain_metadata, chain_rows, create_and_fill, create_tables, make_config, snapshot
from tests.databases import TestDatabase

DEAD_PID = 2**22 + 12345  # above Linux's default pid_max: no such process


def contents(directory: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(directory.iterdir())}


@pytest.fixture
def dumped(sqlite_db: TestDatabase, tmp_path: Path) -> Path:
    create_and_fill(sqlite_db, chain_metadata(), chain_rows())
    dump_data(make_config(sqlite_db, chain_metadata()), directory=tmp_path / "dump")
    return tmp_path / "dump"


def test_leftovers_of_dead_dumps_are_removed_and_a_swap_cut_short_is_undone(
    sqlite_db: TestDatabase, dumped: Path, tmp_path: Path
) -> None:
    before = contents(dumped)
    (tmp_path / f".dump.dbops-{DEAD_PID}-0123abcd.new").mkdir()
    (tmp_path / f".dump.dbops-{DEAD_PID}-0123abcd.new" / "authors.json").write_bytes(b"[\n")
    # killed between the two renames of the fallback swap: the previous dump sits aside, the target is gone
    dumped.rename(tmp_path / f".dump.dbops-{DEAD_PID}-89abcdef.old")
    with pytest.raises(DataError, match="no table 'nope'"):
        dump_data(make_config(sqlite_db, chain_metadata()), directory=dumped, tables=["nope"])
    assert contents(dumped) == before
    assert sorted(path.name for path in tmp_path.iterdir()) == ["dump", "test.sqlite"]


def test_without_an_atomic_exchange_the_swap_still_replaces_the_dump(
    sqlite_db: TestDatabase, dumped: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(files, "_exchange", lambda first, second: False)
    create_and_fill(sqlite_db, chain_metadata(), {"authors": [{"id": 3, "name": "Cy"}]})
    result = dump_data(make_config(sqlite_db, chain_metadata()), directory=dumped)
    assert {table.name: table.rows for table in result.tables}["authors"] == 3
    assert sorted(path.name for path in tmp_path.iterdir()) == ["dump", "test.sqlite"]


def test_a_directory_holding_other_files_is_refused_and_untouched(sqlite_db: TestDatabase, tmp_path: Path) -> None:
    create_and_fill(sqlite_db, chain_metadata(), chain_rows())
    target = tmp_path / "project"
    target.mkdir()
    (target / "README.md").write_text("mine")
    (target / "authors.json").write_text('[{"id": 1, "name": "hand-written"}]')
    before = contents(target)
    with pytest.raises(DataError) as caught:
        dump_data(make_config(sqlite_db, chain_metadata()), directory=target)
    assert "README.md" in str(caught.value) and "not part of a dbops dump" in str(caught.value)
    assert contents(target) == before


def test_load_refuses_table_files_without_their_manifest(sqlite_db: TestDatabase, dumped: Path, tmp_path: Path) -> None:
    (tmp_path / "settings.py").write_text(
        "from dbops import SQLAlchemySyncConfig\nfrom tests.data.models import chain_metadata\n"
        f"db = SQLAlchemySyncConfig(connection_string={sqlite_db.sync_url!r}, metadata=chain_metadata())\n"
    )
    (dumped / "manifest.json").unlink()  # as a dump of an older dbops killed mid-way left it
    result = invoke(["load-data", "--dir", str(dumped), "-c", "settings.py:db"], cwd=tmp_path)
    assert result.exit_code == 2 and result.stderr.count("\n") == 1, result.stderr
    assert "incomplete dump: no manifest.json; was the dump interrupted?" in result.stderr
    # named one by one, they are fixture files
    sqlite_db.reset()
    create_tables(sqlite_db, chain_metadata())
    named = invoke(
        ["load-data", *(str(path) for path in sorted(dumped.iterdir())), "-c", "settings.py:db"], cwd=tmp_path
    )
    assert named.exit_code == 0, named.stderr


def test_load_refuses_a_temporary_file_or_a_file_the_manifest_does_not_list(
    sqlite_db: TestDatabase, dumped: Path, tmp_path: Path
) -> None:
    config = make_config(sqlite_db, chain_metadata())
    before = snapshot(sqlite_db, chain_metadata())
    (dumped / "extra.json").write_bytes(b"[\n]\n")
    with pytest.raises(DataError, match=r"extra.json: not listed in manifest.json"):
        load_data(config, directory=dumped, mode="truncate")
    (dumped / "extra.json").unlink()
    shutil.copytree(dumped, tmp_path / "partial")
    (tmp_path / "partial" / "manifest.json").unlink()
    for path in (tmp_path / "partial").iterdir():
        path.write_text(orjson.dumps([{"id": 1, "name": "pretty"}], option=orjson.OPT_INDENT_2).decode())
    (tmp_path / "partial" / ".reviews.json.tmp-4242").write_bytes(b"[\n{")
    with pytest.raises(DataError, match="incomplete dump"):
        load_data(config, directory=tmp_path / "partial", mode="truncate")
    assert snapshot(sqlite_db, chain_metadata()) == before


@pytest.mark.parametrize("db", ["sqlite", "mariadb"], indirect=True)
def test_disable_triggers_is_refused_where_it_cannot_work(db: TestDatabase, dumped: Path) -> None:
    create_tables(db, chain_metadata())
    with pytest.raises(DataError, match=r"--disable-triggers works on PostgreSQL only \((sqlite|mysql) can't"):
        load_data(make_config(db, chain_metadata()), directory=dumped, disable_triggers=True)


def test_disable_triggers_needs_a_superuser(pg_db: TestDatabase, dumped: Path) -> None:
    from tests.data.sample_databases import pg_role

    create_tables(pg_db, chain_metadata())
    with pg_role(pg_db.name, "ALL ON ALL TABLES IN SCHEMA public") as role:
        database = TestDatabase(
            "postgresql", pg_db.sync_url.replace("postgres@", f"{role}@"), pg_db.async_url, pg_db.name
        )
        with pytest.raises(DataError, match=r"--disable-triggers: permission denied.*superuser"):
            load_data(make_config(database, chain_metadata()), directory=dumped, disable_triggers=True)
        assert all(not rows for rows in snapshot(pg_db, chain_metadata()).values())


def test_a_sequence_the_role_cannot_read_is_a_warning(pg_db: TestDatabase, tmp_path: Path) -> None:
    from tests.data.sample_databases import pg_role
    from tests.reporter import RecordingReporter

    create_and_fill(pg_db, chain_metadata(), chain_rows())
    with pg_role(pg_db.name, "SELECT ON ALL TABLES IN SCHEMA public") as role:
        database = TestDatabase(
            "postgresql", pg_db.sync_url.replace("postgres@", f"{role}@"), pg_db.async_url, pg_db.name
        )
        reporter = RecordingReporter()
        result = dump_data(make_config(database, chain_metadata()), directory=tmp_path / "dump", reporter=reporter)
    assert result.rows == 9
    assert any("sequence authors_id_seq: permission denied" in warning for warning in reporter.warnings)
