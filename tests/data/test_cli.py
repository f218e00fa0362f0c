"""The data commands from argv: exit codes, stdout/stderr, prompts and --bind-key."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.cli_runner import invoke
from tests.data.models import chain_metadata, chain_rows, create_and_fill, create_tables, sync_engine
from tests.databases import TestDatabase, sqlite_database

SETTINGS = """
from dbops import SQLAlchemySyncConfig
from tests.data.models import chain_metadata

db = SQLAlchemySyncConfig(connection_string={url!r}, metadata=chain_metadata())
other = SQLAlchemySyncConfig(connection_string={other!r}, metadata=chain_metadata(), bind_key="other")
both = [db, other]
"""


@pytest.fixture
def project(db: TestDatabase, tmp_path: Path) -> Path:
    other_dir = tmp_path / "other"
    other_dir.mkdir()
    other = sqlite_database(other_dir)
    (tmp_path / "settings.py").write_text(SETTINGS.format(url=db.sync_url, other=other.sync_url))
    create_and_fill(db, chain_metadata(), chain_rows())
    create_and_fill(other, chain_metadata(), chain_rows())
    return tmp_path


def tables(url_db: TestDatabase) -> set[str]:
    engine = sync_engine(url_db)
    with engine.connect() as connection:
        names = set(sa.inspect(connection).get_table_names())
    engine.dispose()
    return names


def test_dump_then_load_round_trip(db: TestDatabase, project: Path) -> None:
    dumped = invoke(["dump-data", "--dir", "backup", "--config", "settings.py:db"], cwd=project)
    assert dumped.exit_code == 0, dumped.stderr
    assert dumped.stdout.splitlines()[0].split("\t")[:2] == ["authors", "2"]
    assert "Dumped 9 rows from 4 tables" in dumped.stderr
    loaded = invoke(["load-data", "--dir", "backup", "--mode", "truncate", "-c", "settings.py:db"], cwd=project)
    assert loaded.exit_code == 0, loaded.stderr
    assert [line.split("\t")[:2] for line in loaded.stdout.splitlines()] == [
        ["authors", "2"],
        ["categories", "2"],
        ["books", "3"],
        ["reviews", "2"],
    ]
    quiet = invoke(["-q", "load-data", "--dir", "backup", "--mode", "upsert", "-c", "settings.py:db"], cwd=project)
    assert quiet.exit_code == 0 and quiet.stderr == ""


def test_bad_row_is_one_line_exit_2(db: TestDatabase, project: Path) -> None:
    (project / "fixtures").mkdir()
    (project / "fixtures" / "authors.json").write_text('[{"id": 7, "name": "ok"}, {"id": "eight", "name": "x"}]')
    result = invoke(["load-data", "-c", "settings.py:db"], cwd=project)
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert result.stderr.startswith("Error: fixtures/authors.json row 2, column 'id': expected an integer")
    engine = sync_engine(db)
    with engine.connect() as connection:
        assert connection.execute(sa.text("SELECT count(*) FROM authors WHERE id = 7")).scalar_one() == 0
    engine.dispose()


def test_bad_options(project: Path) -> None:
    result = invoke(["load-data", "--mode", "merge", "-c", "settings.py:db"], cwd=project)
    assert result.exit_code == 2 and "'merge' is not one of 'insert', 'truncate', 'upsert'" in result.stderr
    result = invoke(["load-data", "--dir", "nowhere", "-c", "settings.py:db"], cwd=project)
    assert result.exit_code == 2 and result.stderr == "Error: nowhere: no such directory\n"
    result = invoke(["dump-data", "--format", "xml", "-c", "settings.py:db"], cwd=project)
    assert result.exit_code == 2 and "'xml' is not one of 'json', 'jsonl'" in result.stderr


def test_jobs_from_argv(db: TestDatabase, project: Path) -> None:
    dumped = invoke(["dump-data", "--dir", "backup", "-j", "3", "-c", "settings.py:db"], cwd=project)
    assert dumped.exit_code == 0, dumped.stderr
    assert dumped.stdout.splitlines()[0].split("\t")[:2] == ["authors", "2"]
    assert ("Reading with 3 connections from one snapshot" in dumped.stderr) == (db.dialect != "sqlite")
    refused = invoke(["load-data", "--dir", "backup", "--jobs", "2", "-c", "settings.py:db"], cwd=project)
    if db.dialect == "sqlite":  # one writer, one transaction: an insert of existing keys fails as without --jobs
        assert refused.exit_code == 2 and "UNIQUE constraint failed" in refused.stderr
    else:
        assert refused.exit_code == 2
        assert refused.stderr == (
            "Error: --jobs 2 loads into empty tables only, and authors has rows; nothing was loaded "
            "(empty the tables first, or load with --jobs 1: one transaction, any mode)\n"
        )
    assert invoke(["drop-all", "--yes", "-c", "settings.py:db"], cwd=project).exit_code == 0
    create_tables(db, chain_metadata())
    loaded = invoke(["load-data", "--dir", "backup", "--jobs", "2", "-c", "settings.py:db"], cwd=project)
    assert loaded.exit_code == 0, loaded.stderr
    assert "Loaded 9 rows into 4 tables (insert)" in loaded.stderr
    zero = invoke(["dump-data", "--jobs", "0", "-c", "settings.py:db"], cwd=project)
    assert zero.exit_code == 2 and "Invalid value for '--jobs' / '-j'" in zero.stderr


def test_drop_all_refuses_without_yes_and_tty(db: TestDatabase, project: Path) -> None:
    result = invoke(["drop-all", "-c", "settings.py:db"], cwd=project)
    assert result.exit_code == 2
    assert "pass --yes to confirm (stdin is not a terminal); nothing was changed" in result.stderr
    assert "drop\ttable\treviews" in result.stdout  # it said what it would have dropped
    assert {"authors", "books"} <= tables(db)


def test_drop_all_dry_run_then_yes(db: TestDatabase, project: Path) -> None:
    dry = invoke(["drop-all", "--dry-run", "-c", "settings.py:db"], cwd=project)
    assert dry.exit_code == 0
    assert dry.stdout.splitlines()[0] == "drop\ttable\treviews"
    assert {"authors", "books"} <= tables(db)
    done = invoke(["drop-all", "--yes", "-c", "settings.py:db"], cwd=project)
    assert done.exit_code == 0, done.stderr
    assert tables(db) == set()
    again = invoke(["drop-all", "--yes", "-c", "settings.py:db"], cwd=project)
    assert again.exit_code == 0 and "Nothing to drop" in again.stderr


def test_drop_all_acts_only_on_the_chosen_bind_key(db: TestDatabase, project: Path) -> None:
    other = sqlite_database(project / "other")
    result = invoke(["drop-all", "--yes", "--bind-key", "other", "-c", "settings.py:both"], cwd=project)
    assert result.exit_code == 0, result.stderr
    assert tables(other) == set()
    assert {"authors", "books", "reviews", "categories"} <= tables(db)


@pytest.mark.parametrize("command", ["dump-data", "load-data", "drop-all"])
def test_help_has_an_example(command: str, tmp_path: Path) -> None:
    result = invoke([command, "--help"], cwd=tmp_path)
    assert result.exit_code == 0
    assert "Example: dbops" in result.stdout


def test_load_into_empty_database_via_manifest_file(db: TestDatabase, project: Path) -> None:
    assert invoke(["dump-data", "--dir", "b", "--gzip", "-c", "settings.py:db"], cwd=project).exit_code == 0
    assert invoke(["drop-all", "--yes", "-c", "settings.py:db"], cwd=project).exit_code == 0
    create_tables(db, chain_metadata())
    result = invoke(["load-data", "b/manifest.json", "-c", "settings.py:db"], cwd=project)
    assert result.exit_code == 0, result.stderr
    assert json.loads((project / "b" / "manifest.json").read_text())["tables"][0]["file"] == "authors.json.gz"
