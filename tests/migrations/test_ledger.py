"""The migration ledger (``migration_log=True``): a row per step, ``history --applied``, ``verify --against-db``.

The rows are read back with plain SQL and the checksums computed with hashlib from the files, not through
dbops' own reader.
"""

from __future__ import annotations

import hashlib
import json
import socket
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

import dbops
from dbops.errors import MigrationError
from dbops.migrations import commands
from dbops.migrations.alembic_config import TEMPLATES_DIR
from dbops.migrations.verify import verify
from tests.cli_runner import invoke
from tests.databases import TestDatabase
from tests.migrations.conftest import make_config, table_names, versions
from tests.migrations.lint.helpers import ENV_PY, write_revision
from tests.migrations.test_options import ADVANCED_ALCHEMY_ENV

LEDGER = "dbops_migration_log"
CREATE_T = 'op.create_table("t", sa.Column("id", sa.Integer, primary_key=True))'
ADD_X = 'op.add_column("t", sa.Column("x", sa.Integer))'


def rows(db: TestDatabase, table: str = LEDGER) -> list[dict[str, Any]]:
    engine = sa.create_engine(db.sync_url)
    try:
        with engine.connect() as connection:
            result = connection.execute(sa.text(f"SELECT * FROM {table} ORDER BY id"))
            return [dict(row) for row in result.mappings()]
    finally:
        engine.dispose()


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def models() -> sa.MetaData:
    metadata = sa.MetaData()
    sa.Table("t", metadata, sa.Column("id", sa.Integer, primary_key=True), sa.Column("x", sa.Integer))
    return metadata


def project(
    folder: Path, db: TestDatabase, is_async: bool, revisions: list[tuple[str, Any, str]], **alembic: Any
) -> Any:
    migrations = folder / "migrations"
    (migrations / "versions").mkdir(parents=True)
    (migrations / "env.py").write_text(ENV_PY)
    (migrations / "script.py.mako").write_text((TEMPLATES_DIR / "dbops" / "script.py.mako").read_text())
    for revision, down, body in revisions:
        write_revision(migrations, revision, down, body, message=f"step {revision}")
    alembic.setdefault("migration_log", True)
    return make_config(
        db.url(is_async=is_async),
        is_async=is_async,
        metadata=models(),
        script_location=str(migrations),
        **alembic,
    )


def _steps(found: list[dict[str, Any]]) -> list[tuple[str, str, str, str, str]]:
    return [(r["revision"], r["direction"], r["from_revisions"], r["to_revisions"], r["result"]) for r in found]


def test_every_step_is_recorded_with_its_file_checksum(db: TestDatabase, is_async: bool, tmp_path: Path) -> None:
    config = project(tmp_path, db, is_async, [("r1", None, CREATE_T), ("r2", "r1", ADD_X)])
    commands.upgrade(config)
    # The ledger is dbops' table, like the version table: the models don't have it and check must not mind.
    assert commands.check(config).ok
    commands.downgrade(config, "-1")
    commands.stamp(config, "r2")
    found = rows(db)
    assert _steps(found) == [
        ("r1", "upgrade", "", "r1", "applied"),
        ("r2", "upgrade", "r1", "r2", "applied"),
        ("r2", "downgrade", "r2", "r1", "applied"),
        ("r2", "stamp", "r1", "r2", "applied"),
    ]
    versions_dir = tmp_path / "migrations" / "versions"
    for row in found:
        assert row["checksum"] == sha256(versions_dir / f"{row['revision']}.py")
        assert row["file"] == f"{row['revision']}.py" and row["message"] == f"step {row['revision']}"
        assert row["host"] == socket.gethostname() and row["dbops_version"] == dbops.__version__
        assert row["started_at"] <= row["finished_at"] and row["duration_seconds"] >= 0 and row["error"] is None
    assert versions(db) == {"r2"}


def test_make_migrations_leaves_the_ledger_table_alone(db: TestDatabase, is_async: bool, tmp_path: Path) -> None:
    config = project(tmp_path, db, is_async, [("r1", None, CREATE_T)])
    commands.upgrade(config)
    written = commands.make_migrations(config, "add x")
    assert [operation.kind for operation in written.operations] == ["add_column"]
    assert LEDGER not in Path(written.path).read_text()


def test_a_failed_step_is_recorded_and_applied_rows_match_the_version_table(
    db: TestDatabase, is_async: bool, tmp_path: Path
) -> None:
    failing = 'op.execute("UPDATE no_such_table SET x = 1")'
    config = project(tmp_path, db, is_async, [("r1", None, CREATE_T), ("r2", "r1", failing)])
    with pytest.raises(MigrationError, match="no_such_table"):
        commands.upgrade(config)
    found = rows(db)
    if db.dialect == "sqlite":
        # One transaction for the whole run: r1 was rolled back with r2, its row with it.
        assert _steps(found) == [("r2", "upgrade", "r1", "r2", "failed")]
        assert "alembic_versions" not in table_names(db)
    else:
        assert _steps(found) == [("r1", "upgrade", "", "r1", "applied"), ("r2", "upgrade", "r1", "r2", "failed")]
        assert versions(db) == {"r1"}
    assert "no_such_table" in found[-1]["error"]


def test_the_ledger_row_and_the_version_update_commit_together(
    db: TestDatabase, is_async: bool, tmp_path: Path
) -> None:
    """A step whose ledger row can't be written (its upgrade drops the ledger) leaves the version table as it
    was: the row and the version update are one transaction on every dialect. Only MariaDB keeps the DDL."""
    sabotage = f'op.create_table("t2", sa.Column("id", sa.Integer, primary_key=True))\nop.drop_table("{LEDGER}")'
    config = project(tmp_path, db, is_async, [("r1", None, CREATE_T), ("r2", "r1", sabotage)])
    commands.upgrade(config, "r1")
    with pytest.raises(MigrationError):
        commands.upgrade(config)
    assert versions(db) == {"r1"}
    found = rows(db)  # the failure is recorded after the rollback, on a connection of its own
    if db.dialect == "mariadb":
        assert "t2" in table_names(db)  # MariaDB committed the DDL, the ledger's earlier rows went with its table
        assert _steps(found) == [("r2", "upgrade", "r1", "r2", "failed")]
    else:
        assert "t2" not in table_names(db)
        assert _steps(found) == [("r1", "upgrade", "", "r1", "applied"), ("r2", "upgrade", "r1", "r2", "failed")]


def test_off_by_default_and_a_table_name_of_your_own(db: TestDatabase, tmp_path: Path) -> None:
    config = project(tmp_path / "off", db, False, [("r1", None, CREATE_T)], migration_log=False)
    commands.upgrade(config)
    assert LEDGER not in table_names(db)
    with pytest.raises(MigrationError, match="migration ledger is off") as raised:
        verify(config, against_db=True)
    assert raised.value.exit_code == 2
    commands.downgrade(config, "base")  # r1's downgrade keeps t: the second project makes a table of its own
    named = project(
        tmp_path / "named",
        db,
        False,
        [("r1", None, CREATE_T.replace('"t"', '"t_named"'))],
        migration_log_table="deploys",
    )
    commands.upgrade(named)
    assert _steps(rows(db, "deploys")) == [("r1", "upgrade", "", "r1", "applied")]
    assert LEDGER not in table_names(db)


def test_an_advanced_alchemy_env_py_records_too(db: TestDatabase, is_async: bool, tmp_path: Path) -> None:
    """env.py files that call context.configure themselves (Advanced Alchemy's) get the hook as well."""
    config = project(tmp_path, db, is_async, [("r1", None, CREATE_T), ("r2", "r1", ADD_X)])
    (tmp_path / "migrations" / "env.py").write_text(ADVANCED_ALCHEMY_ENV.replace("IS_ASYNC", str(is_async)))
    commands.upgrade(config)
    commands.downgrade(config, "r1")
    assert _steps(rows(db)) == [
        ("r1", "upgrade", "", "r1", "applied"),
        ("r2", "upgrade", "r1", "r2", "applied"),
        ("r2", "downgrade", "r2", "r1", "applied"),
    ]


SETTINGS = """
from dbops import {cls}, {alembic}
db = {cls}(connection_string={url!r}, alembic_config={alembic}(script_location="migrations", migration_log={log}))
"""


def cli_project(folder: Path, db: TestDatabase, is_async: bool, *, log: bool = True) -> Path:
    cls, alembic = (
        ("SQLAlchemyAsyncConfig", "AlembicAsyncConfig") if is_async else ("SQLAlchemySyncConfig", "AlembicSyncConfig")
    )
    (folder / "settings.py").write_text(
        SETTINGS.format(cls=cls, alembic=alembic, url=db.url(is_async=is_async), log=log)
    )
    migrations = folder / "migrations"
    (migrations / "versions").mkdir(parents=True)
    (migrations / "env.py").write_text(ENV_PY)
    write_revision(migrations, "r1", None, CREATE_T, message="create t")
    write_revision(migrations, "r2", "r1", ADD_X, message="add x")
    return migrations / "versions"


def test_history_applied_and_verify_against_db_through_the_cli(
    db: TestDatabase, is_async: bool, tmp_path: Path
) -> None:
    versions_dir = cli_project(tmp_path, db, is_async)
    dbops_cli = ["--config", "settings.py:db"]
    # Nothing ran with the ledger yet: verify says so and passes (there is nothing it could contradict).
    fresh = invoke([*dbops_cli, "verify", "--against-db"], cwd=tmp_path)
    assert fresh.exit_code == 0, fresh.output
    assert f"Warning: the migration ledger {LEDGER} does not exist yet" in fresh.stderr
    empty = invoke([*dbops_cli, "history", "--applied"], cwd=tmp_path)
    assert empty.exit_code == 0 and empty.stdout == "" and "No steps recorded" in empty.stderr

    assert invoke([*dbops_cli, "upgrade"], cwd=tmp_path).exit_code == 0
    text = invoke([*dbops_cli, "history", "--applied"], cwd=tmp_path)
    assert text.exit_code == 0, text.output
    lines = text.stdout.splitlines()
    assert len(lines) == 2 and "upgrade   r1 -> r2  applied" in lines[0] and "add x" in lines[0]
    assert "upgrade   <base> -> r1  applied" in lines[1] and socket.gethostname() in lines[1]
    as_json = json.loads(invoke([*dbops_cli, "history", "--applied", "--format", "json"], cwd=tmp_path).stdout)
    assert [(entry["revision"], entry["result"]) for entry in as_json] == [("r2", "applied"), ("r1", "applied")]
    assert as_json[0]["checksum"] == sha256(versions_dir / "r2.py")

    ok = invoke([*dbops_cli, "verify", "--against-db"], cwd=tmp_path)
    assert ok.exit_code == 0, ok.output
    assert "2 applied revision(s) match the ledger: history is sound." in ok.stderr

    # An applied revision edited afterwards, and one whose file disappeared (its row says it is applied).
    (versions_dir / "r2.py").write_text((versions_dir / "r2.py").read_text() + "\n# edited after the deploy\n")
    changed = invoke([*dbops_cli, "verify", "--against-db"], cwd=tmp_path)
    assert changed.exit_code == 1
    assert "changed: revision r2" in changed.stdout and "changed since it was applied (upgrade on" in changed.stdout
    assert "Traceback" not in changed.stderr
    (versions_dir / "r2.py").unlink()
    missing = invoke([*dbops_cli, "verify", "--against-db", "--format", "json"], cwd=tmp_path)
    assert missing.exit_code == 1
    problems = json.loads(missing.stdout)["problems"]
    assert [(p["kind"], p["revision"]) for p in problems] == [("missing", "r2")]
    # Without --against-db the files alone are a sound history: no database is asked.
    assert invoke([*dbops_cli, "verify"], cwd=tmp_path).exit_code == 0


def test_verify_against_db_reports_revisions_applied_before_the_ledger(db: TestDatabase, tmp_path: Path) -> None:
    cli_project(tmp_path, db, False, log=False)
    assert invoke(["--config", "settings.py:db", "upgrade", "r1"], cwd=tmp_path).exit_code == 0
    # The same app with the ledger turned on (a module of its own: the CLI runs in this process, which has
    # imported settings.py already).
    settings = (tmp_path / "settings.py").read_text()
    (tmp_path / "settings_log.py").write_text(settings.replace("migration_log=False", "migration_log=True"))
    assert invoke(["--config", "settings_log.py:db", "upgrade"], cwd=tmp_path).exit_code == 0
    result = invoke(["--config", "settings_log.py:db", "verify", "--against-db"], cwd=tmp_path)
    assert result.exit_code == 0, result.output
    assert "1 applied revision(s) have no ledger row" in result.stderr and "checked: r1" in result.stderr


def test_cli_errors_are_one_line_exit_2(sqlite_db: TestDatabase, tmp_path: Path) -> None:
    cli_project(tmp_path, sqlite_db, False, log=False)
    for argv in (["verify", "--against-db"], ["history", "--applied"]):
        result = invoke(["--config", "settings.py:db", *argv], cwd=tmp_path)
        assert result.exit_code == 2, result.output
        assert result.stderr.startswith("Error: the migration ledger is off for default")
        assert result.stderr.count("\n") == 1
    both = invoke(["--config", "settings.py:db", "history", "--applied", "-r", "base:head"], cwd=tmp_path)
    assert both.exit_code == 2 and "--rev-range" in both.stderr
    unreachable = "postgresql+psycopg://app:s3cret@127.0.0.1:1/nowhere"
    (tmp_path / "settings_down.py").write_text(
        (tmp_path / "settings.py")
        .read_text()
        .replace("migration_log=False", "migration_log=True")
        .replace(sqlite_db.sync_url, unreachable)
    )
    down = invoke(["--config", "settings_down.py:db", "history", "--applied"], cwd=tmp_path)
    assert down.exit_code == 2 and down.stderr.count("\n") == 1 and "s3cret" not in down.stderr, down.output


def test_through_litestar_database(
    db: TestDatabase, is_async: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.plugin.helpers import run_litestar, write_module

    versions_dir = cli_project(tmp_path, db, is_async)
    module = write_module(
        tmp_path,
        (tmp_path / "settings.py").read_text().replace("from dbops import", "from litestar_dbops import")
        + "from litestar import Litestar\nfrom litestar_dbops import SQLAlchemyPlugin\n"
        "app = Litestar(plugins=[SQLAlchemyPlugin(config=db)])\n",
        prefix="ledger_app",
    )
    monkeypatch.chdir(tmp_path)  # script_location is relative, as in a project
    app = ["--app", f"{module}:app", "database"]
    assert run_litestar([*app, "upgrade"], app_dir=tmp_path).exit_code == 0
    applied = run_litestar([*app, "history", "--applied", "--format", "json"], app_dir=tmp_path)
    assert applied.exit_code == 0, applied.output
    assert [entry["revision"] for entry in json.loads(applied.stdout)] == ["r2", "r1"]
    assert run_litestar([*app, "verify", "--against-db"], app_dir=tmp_path).exit_code == 0
    (versions_dir / "r1.py").write_text((versions_dir / "r1.py").read_text() + "# edited\n")
    checked = run_litestar([*app, "verify", "--against-db"], app_dir=tmp_path)
    assert checked.exit_code == 1 and "changed: revision r1" in checked.output


@pytest.mark.parametrize("is_async", [False], ids=["sync"])
def test_an_interrupted_step_is_recorded(db: TestDatabase, is_async: bool, tmp_path: Path) -> None:
    import os
    import signal
    import subprocess
    import sys
    import time

    from tests.migrations import test_interrupt

    marker = test_interrupt.project(tmp_path, db, is_async)
    settings = tmp_path / "settings.py"
    settings.write_text(
        settings.read_text().replace(
            'script_location="migrations")', 'script_location="migrations", migration_log=True)'
        )
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "dbops", "--config", "settings.py:db", "upgrade"],
        cwd=tmp_path,
        env={key: value for key, value in os.environ.items() if key != "DBOPS_TRACEBACK"},
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while not marker.exists():
        assert process.poll() is None and time.monotonic() < deadline, process.communicate()
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    found = _steps(rows(db))
    if db.dialect == "sqlite":  # the run's one transaction took a1's row with it
        assert found == [("b2", "upgrade", "a1", "b2", "interrupted")]
    else:
        assert found == [("a1", "upgrade", "", "a1", "applied"), ("b2", "upgrade", "a1", "b2", "interrupted")]


def test_data_commands_treat_the_ledger_like_the_version_table(
    db: TestDatabase, is_async: bool, tmp_path: Path
) -> None:
    """dump-data leaves the ledger out (no 'table without a model' warning), load-data refuses to write it,
    and drop-all drops it with the version table: it describes the migrations, not the app's data."""
    from dbops.data import drop_all, dump_data, load_data
    from dbops.errors import DataError
    from tests.reporter import RecordingReporter

    config = project(tmp_path, db, is_async, [("r1", None, CREATE_T), ("r2", "r1", ADD_X)])
    commands.upgrade(config)
    reporter = RecordingReporter()
    dumped = dump_data(config, directory=tmp_path / "dump", reporter=reporter)
    assert [table.name for table in dumped.tables] == ["t"] and dumped.skipped == []
    assert not [line for line in reporter.warnings if LEDGER in line]
    manifest = json.loads((tmp_path / "dump" / "manifest.json").read_text())
    assert [entry["name"] for entry in manifest["tables"]] == ["t"]
    with pytest.raises(DataError, match="migration ledger"):
        dump_data(config, directory=tmp_path / "other", tables=[LEDGER])
    with pytest.raises(DataError, match="migration ledger"):
        load_data(config, directory=tmp_path / "dump", tables=[LEDGER])
    (tmp_path / "fixture").mkdir()
    (tmp_path / "fixture" / f"{LEDGER}.json").write_text('[{"id": 99, "revision": "bogus"}]')
    reporter = RecordingReporter()
    load_data(config, files=[tmp_path / "fixture" / f"{LEDGER}.json"], reporter=reporter)
    assert any("migration ledger is never loaded" in line for line in reporter.warnings)
    assert "bogus" not in {row["revision"] for row in rows(db)}
    plan = drop_all(config, dry_run=True)
    assert plan.unknown == [] and plan.tables[-2:] == [LEDGER, "alembic_versions"]
    drop_all(config)
    assert table_names(db) == set()
