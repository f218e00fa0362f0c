"""``dbops sessions cleanup`` / ``stats``: argv → exit code → output, and two cleanups at once."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli_runner import invoke
from tests.conftest import REPO_ROOT
from tests.databases import TestDatabase
from tests.sessions.helpers import counts, seed, write_config_file


def test_cleanup_from_config_models_json(db: TestDatabase, is_async: bool, tmp_path: Path) -> None:
    seed(db, expired=11, live=4)
    write_config_file(tmp_path, db, is_async=is_async)
    result = invoke(
        ["sessions", "cleanup", "--config", "dbconfig.py:db", "--batch-size", "3", "--format", "json"], cwd=tmp_path
    )
    assert result.exit_code == 0, result.stderr
    row = json.loads(result.stdout)
    assert list(row) == ["table", "deleted", "remaining_expired", "seconds"]  # exactly the keys
    assert (row["table"], row["deleted"], row["remaining_expired"]) == ("user_sessions", 11, 0)
    assert isinstance(row["seconds"], float) and row["seconds"] >= 0
    assert counts(db) == (0, 4)


def test_cleanup_with_url_only_text(db: TestDatabase, tmp_path: Path) -> None:
    seed(db, expired=5, live=1)
    result = invoke(["sessions", "cleanup", "--url", db.sync_url], cwd=tmp_path)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("user_sessions: deleted 5 expired sessions in ")
    assert result.stdout.rstrip().endswith("0 expired remain")
    assert counts(db) == (0, 1)
    with_async_driver = invoke(["sessions", "stats", "--url", db.async_url, "--format", "json"], cwd=tmp_path)
    assert with_async_driver.exit_code == 0, with_async_driver.stderr
    assert [(row["live"], row["expired"]) for row in json.loads(with_async_driver.stdout)] == [(1, 0)]


def test_url_mode_imports_no_app(sqlite_db: TestDatabase, tmp_path: Path) -> None:
    """An ops box: a pyproject and DBOPS_CONFIG pointing at an app that can't be imported don't matter with --url."""
    seed(sqlite_db, expired=2, live=1)
    (tmp_path / "pyproject.toml").write_text('[tool.dbops]\nconfig = "missing_app.db:config"\n')
    (tmp_path / "broken_app.py").write_text("raise RuntimeError('the app must not be imported')\n")
    env = {"DBOPS_CONFIG": "broken_app:config"}
    stats = invoke(["sessions", "stats", "--url", sqlite_db.sync_url, "--format", "json"], cwd=tmp_path, env=env)
    assert stats.exit_code == 0, stats.stderr
    result = invoke(["sessions", "cleanup", "--url", sqlite_db.sync_url, "--format", "json"], cwd=tmp_path, env=env)
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["deleted"] == 2
    without_url = invoke(["sessions", "stats"], cwd=tmp_path, env=env)
    assert without_url.exit_code != 0  # the same folder without --url does import the (broken) app


def test_dry_run_and_older_than(sqlite_db: TestDatabase, tmp_path: Path) -> None:
    import datetime

    seed(sqlite_db, expired=3, expired_ago=datetime.timedelta(minutes=10))
    seed(sqlite_db, expired=2, expired_ago=datetime.timedelta(days=3))
    url = ["--url", sqlite_db.sync_url, "--table", "user_sessions"]
    dry = invoke(["sessions", "cleanup", *url, "--dry-run", "--older-than", "1h"], cwd=tmp_path)
    assert (dry.exit_code, dry.stdout) == (0, "user_sessions: 2 expired sessions would be deleted\n")
    assert counts(sqlite_db) == (5, 0)
    dry_json = invoke(["sessions", "cleanup", *url, "--dry-run", "--format", "json"], cwd=tmp_path)
    assert dry_json.exit_code == 0
    assert {key: value for key, value in json.loads(dry_json.stdout).items() if key != "seconds"} == {
        "table": "user_sessions",
        "deleted": 0,
        "remaining_expired": 5,
    }
    assert counts(sqlite_db) == (5, 0)
    real = invoke(["sessions", "cleanup", *url, "--older-than", "2d", "--format", "json"], cwd=tmp_path)
    assert real.exit_code == 0 and json.loads(real.stdout)["deleted"] == 2
    assert counts(sqlite_db) == (3, 0)


def test_max_seconds_exit_code(pg_db: TestDatabase, tmp_path: Path) -> None:
    seed(pg_db, expired=50)
    argv = ["sessions", "cleanup", "--url", pg_db.sync_url, "--batch-size", "1", "--max-seconds", "0.001"]
    result = invoke([*argv, "--format", "json"], cwd=tmp_path)
    assert result.exit_code == 75, result.stderr
    row = json.loads(result.stdout)
    assert list(row) == ["table", "deleted", "remaining_expired", "seconds"]
    assert row["remaining_expired"] > 0
    assert row["deleted"] + row["remaining_expired"] == 50
    assert "the next run continues" in result.stderr


def test_stats(db: TestDatabase, tmp_path: Path) -> None:
    seed(db, expired=3, live=2)
    write_config_file(tmp_path, db)
    text = invoke(["sessions", "stats", "--config", "dbconfig.py:db"], cwd=tmp_path)
    assert text.exit_code == 0, text.stderr
    header, line = text.stdout.splitlines()
    assert header.split()[:3] == ["table", "live", "expired"]
    assert line.split()[:3] == ["user_sessions", "2", "3"]
    as_json = invoke(["sessions", "stats", "--url", db.sync_url, "--format", "json"], cwd=tmp_path)
    [row] = json.loads(as_json.stdout)
    assert (row["table"], row["live"], row["expired"]) == ("user_sessions", 2, 3)
    assert row["oldest_expiry"].endswith("+00:00")


@pytest.mark.parametrize(
    ("extra", "fragment"),
    [
        (["--table", "nope"], "table nope does not exist"),
        (["--older-than", "soon"], "is not a duration"),
        (["--older-than", "5x"], "is not a duration"),
        (["--batch-size", "0"], "--batch-size"),
        (["--max-seconds", "0"], "--max-seconds"),
        (["--format", "xml"], "'xml' is not one of 'text', 'json'"),
    ],
)
def test_bad_input_is_one_line_and_changes_nothing(
    sqlite_db: TestDatabase, tmp_path: Path, extra: list[str], fragment: str
) -> None:
    seed(sqlite_db, expired=2)
    result = invoke(["sessions", "cleanup", "--url", sqlite_db.sync_url, *extra], cwd=tmp_path)
    assert result.exit_code == 2
    assert fragment in result.stderr
    assert "Traceback" not in result.output
    assert result.stdout == ""
    assert counts(sqlite_db) == (2, 0)


def test_bad_url_and_missing_tables(tmp_path: Path, sqlite_db: TestDatabase) -> None:
    bad = invoke(["sessions", "cleanup", "--url", "nosuchdb://u:secret@h/x"], cwd=tmp_path)
    assert bad.exit_code == 2 and bad.stderr.startswith("Error: bad --url") and "secret" not in bad.stderr
    assert bad.stderr.count("\n") == 1
    empty = invoke(["sessions", "stats", "--url", sqlite_db.sync_url], cwd=tmp_path)
    assert empty.exit_code == 2
    assert empty.stderr.startswith("Error: no session tables") and empty.stderr.count("\n") == 1


def test_unreachable_database_exits_2(tmp_path: Path) -> None:
    """A cron wrapper tells "could not run" (2) from "ran out of time" (75) and "done" (0)."""
    result = invoke(["sessions", "cleanup", "--url", "postgresql+psycopg://ops:secret@127.0.0.1:1/app"], cwd=tmp_path)
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: cannot connect to") and result.stderr.count("\n") == 1
    assert "secret" not in result.stderr and result.stdout == ""


def test_table_in_another_schema(pg_db: TestDatabase, tmp_path: Path) -> None:
    import psycopg

    seed(pg_db, expired=4, live=1)
    with psycopg.connect(pg_db.sync_url.replace("postgresql+psycopg", "postgresql"), autocommit=True) as conn:
        conn.execute("CREATE SCHEMA ops")
        conn.execute("CREATE TABLE ops.user_sessions (LIKE public.user_sessions INCLUDING ALL)")
        conn.execute("INSERT INTO ops.user_sessions SELECT * FROM public.user_sessions")
        conn.execute("DELETE FROM public.user_sessions")
    argv = ["sessions", "cleanup", "--url", pg_db.sync_url, "--table", "ops.user_sessions", "--batch-size", "3"]
    result = invoke([*argv, "--format", "json"], cwd=tmp_path)
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["table"] == "ops.user_sessions"
    assert json.loads(result.stdout)["deleted"] == 4
    stats = invoke(["sessions", "stats", "--url", pg_db.sync_url, "--table", "ops.user_sessions", "--format", "json"])
    assert [(row["live"], row["expired"]) for row in json.loads(stats.stdout)] == [(1, 0)]


def test_config_without_session_models(tmp_path: Path, sqlite_db: TestDatabase) -> None:
    (tmp_path / "plain.py").write_text(
        "from sqlalchemy import MetaData\n"
        "from dbops.config import SQLAlchemySyncConfig\n"
        f"db = SQLAlchemySyncConfig(connection_string={sqlite_db.sync_url!r}, metadata=MetaData(), bind_key='x')\n"
    )
    result = invoke(["sessions", "cleanup", "--config", "plain.py:db"], cwd=tmp_path)
    assert result.exit_code == 2
    assert "define no session table" in result.stderr and "--table NAME" in result.stderr


def test_two_cleanups_at_once(db: TestDatabase, tmp_path: Path) -> None:
    """Two cron hosts: no deadlock, no double counting, both exit 0."""
    expired = 6000
    seed(db, expired=expired, live=25)
    argv = [sys.executable, "-m", "dbops", "sessions", "cleanup", "--url", db.sync_url, "--batch-size", "100"]
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    processes = [
        subprocess.Popen(
            [*argv, "--format", "json"],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [process.communicate(timeout=120) for process in processes]
    assert [process.returncode for process in processes] == [0, 0], [err for _, err in outputs]
    deleted = [json.loads(out)["deleted"] for out, _ in outputs]
    assert sum(deleted) == expired
    assert counts(db) == (0, 25)


@pytest.mark.parametrize("dialect", ["postgresql", "mariadb"])
def test_a_url_without_a_driver_uses_the_driver_the_extra_installs(
    request: pytest.FixtureRequest, tmp_path: Path, dialect: str
) -> None:
    """``--url mysql://...`` would need mysqlclient (``No module named 'MySQLdb'``): dbops uses PyMySQL instead."""
    db: TestDatabase = request.getfixturevalue("pg_db" if dialect == "postgresql" else "mariadb_db")
    scheme = "postgresql" if dialect == "postgresql" else "mysql"
    plain = scheme + "://" + db.sync_url.split("://", 1)[1]
    result = invoke(["sessions", "stats", "--url", plain, "--format", "json"], cwd=tmp_path)
    assert result.exit_code == 2, result.output  # the database has no session table: dbops got that far
    assert "no session table" in result.stderr and "No module named" not in result.stderr


def test_a_config_naming_a_driver_no_extra_installs_says_which_url_to_use(tmp_path: Path) -> None:
    (tmp_path / "settings.py").write_text(
        "from dbops import SQLAlchemySyncConfig\n"
        "db = SQLAlchemySyncConfig(connection_string='mysql://root:secret@127.0.0.1/x')\n"
    )
    result = invoke(["--config", "settings.py:db", "sessions", "stats", "--table", "t"], cwd=tmp_path)
    assert result.exit_code == 2 and "secret" not in result.stderr
    assert "No module named 'MySQLdb'" in result.stderr and "use mysql+pymysql://" in result.stderr
