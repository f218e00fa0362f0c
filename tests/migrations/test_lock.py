"""The migration lock: concurrent deploys apply each migration once; a busy lock times out with exit 3."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from dbops.errors import LockTimeoutError
from dbops.migrations import commands
from dbops.migrations.lock import lock_key, lock_name
from tests.cli_runner import invoke
from tests.databases import TestDatabase
from tests.migrations.conftest import ConfigFactory, table_names, versions, write_revision

SETTINGS = """
from dbops import {cls}, {alembic}
db = {cls}(connection_string={url!r}, alembic_config={alembic}(script_location="migrations"))
"""


def write_project(folder: Path, db: TestDatabase, is_async: bool, *, slow: bool = True) -> None:
    cls, alembic = (
        ("SQLAlchemyAsyncConfig", "AlembicAsyncConfig") if is_async else ("SQLAlchemySyncConfig", "AlembicSyncConfig")
    )
    (folder / "settings.py").write_text(SETTINGS.format(cls=cls, alembic=alembic, url=db.url(is_async=is_async)))
    migrations = folder / "migrations"
    (migrations / "versions").mkdir(parents=True)
    (migrations / "env.py").write_text("from dbops.migrations.environment import run_migrations\n\nrun_migrations()\n")
    pause = "time.sleep(0.4); " if slow else ""
    write_revision(
        migrations,
        "r1",
        None,
        pause + 'op.create_table("runs", sa.Column("rev", sa.String(10), nullable=False)); '
        "op.execute(\"INSERT INTO runs (rev) VALUES ('r1')\")",
    )
    for previous, revision in (("r1", "r2"), ("r2", "r3")):
        write_revision(
            migrations, revision, previous, pause + f"op.execute(\"INSERT INTO runs (rev) VALUES ('{revision}')\")"
        )


def runs(db: TestDatabase) -> list[str]:
    engine = sa.create_engine(db.sync_url)
    try:
        with engine.connect() as connection:
            return sorted(connection.execute(sa.text("SELECT rev FROM runs")).scalars())
    finally:
        engine.dispose()


def test_two_concurrent_upgrades_apply_each_migration_once(db: TestDatabase, is_async: bool, tmp_path: Path) -> None:
    """Both processes start while the lock is held elsewhere, so they truly overlap: each is seen waiting at the
    lock before it is released. Then one applies every migration and the other, having waited for it, none."""
    from dbops.config import AlembicSyncConfig, SQLAlchemySyncConfig

    write_project(tmp_path, db, is_async)
    config = SQLAlchemySyncConfig(
        connection_string=db.sync_url, alembic_config=AlembicSyncConfig(script_location="migrations")
    )
    if db.path is not None:
        sqlite3.connect(db.path).close()  # the file the lock is taken on
    env = {**os.environ}
    env.pop("DBOPS_TRACEBACK", None)
    argv = [sys.executable, "-m", "dbops", "--config", "settings.py:db", "upgrade"]
    logs = [tmp_path / f"upgrade-{index}.log" for index in range(2)]
    with lock_held_elsewhere(db, config):
        processes = [
            subprocess.Popen(argv, cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=log.open("w"))
            for log in logs
        ]
        for process, log in zip(processes, logs, strict=True):
            _wait_until_waiting_for_the_lock(process, log, db)
    for process in processes:
        process.wait(timeout=120)
    outputs = [log.read_text() for log in logs]
    for process, stderr in zip(processes, outputs, strict=True):
        assert process.returncode == 0, stderr
        assert "Traceback" not in stderr
    assert runs(db) == ["r1", "r2", "r3"]
    assert versions(db) == {"r3"}
    running = [[line for line in stderr.splitlines() if line.startswith("Running upgrade")] for stderr in outputs]
    assert sorted(running, key=len) == [
        [],  # the one that waited for the other found nothing to do
        ["Running upgrade  -> r1, r1", "Running upgrade r1 -> r2, r2", "Running upgrade r2 -> r3, r3"],
    ]


def _wait_until_waiting_for_the_lock(process: subprocess.Popen[bytes], log: Path, db: TestDatabase) -> None:
    """Until ``process`` waits at the migration lock: it says so on servers; on SQLite it blocks in ``BEGIN
    IMMEDIATE`` with the database file open (seen in /proc), since SQLite's busy wait says nothing."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, f"finished while the lock was held elsewhere: {log.read_text()}"
        if db.path is None:
            if "Waiting for the migration lock" in log.read_text():
                return
        elif any(Path(fd).resolve() == db.path.resolve() for fd in _open_files(process.pid)):
            return
        time.sleep(0.05)
    raise AssertionError(f"never waited at the lock: {log.read_text()}")


def _open_files(pid: int) -> list[str]:
    folder = Path(f"/proc/{pid}/fd")
    try:
        return [os.readlink(folder / name) for name in os.listdir(folder)]
    except OSError:  # the process is gone, or a descriptor closed while we looked
        return []


@contextlib.contextmanager
def lock_held_elsewhere(db: TestDatabase, config: object) -> Iterator[None]:
    """Take the migration lock the way another dbops process would, on a connection of our own."""
    if db.dialect == "sqlite":
        assert db.path is not None
        connection = sqlite3.connect(db.path, isolation_level=None)
        connection.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            connection.rollback()
            connection.close()
        return
    engine = sa.create_engine(db.sync_url)
    name = lock_name(config)  # type: ignore[arg-type]
    key = lock_key(db.dialect, name)
    sql = ("SELECT pg_advisory_lock(:key)", "SELECT pg_advisory_unlock(:key)")
    if db.dialect != "postgresql":
        sql = ("SELECT GET_LOCK(:key, 5)", "SELECT RELEASE_LOCK(:key)")
    try:
        with engine.connect() as server:
            acquired = server.execute(sa.text(sql[0]), {"key": key}).scalar()
            assert acquired in ("", 1)  # pg_advisory_lock returns void, GET_LOCK 1
            server.commit()
            try:
                yield
            finally:
                server.execute(sa.text(sql[1]), {"key": key})
                server.commit()
    finally:
        engine.dispose()


def test_busy_lock_times_out(db: TestDatabase, config_factory: ConfigFactory, tmp_path: Path) -> None:
    config = config_factory()
    commands.init(config)
    write_revision(
        tmp_path / "migrations", "a1", None, 'op.create_table("t1", sa.Column("id", sa.Integer, primary_key=True))'
    )
    if db.dialect == "sqlite":
        commands.ensure_version(config)  # make the file exist before another connection locks it
    with lock_held_elsewhere(db, config):
        with pytest.raises(LockTimeoutError, match="migration lock"):
            commands.upgrade(config, lock_timeout=0.5)
        with pytest.raises(LockTimeoutError):
            commands.stamp(config, "a1", lock_timeout=0.2)
        assert "t1" not in table_names(db)
    commands.upgrade(config, lock_timeout=5)
    assert "t1" in table_names(db)
    with lock_held_elsewhere(db, config), pytest.raises(LockTimeoutError):
        commands.downgrade(config, "base", lock_timeout=0.2)
    assert "t1" in table_names(db)


@pytest.mark.parametrize("is_async", [False], ids=["sync"])
def test_cli_lock_timeout_exit_3(
    db: TestDatabase, is_async: bool, tmp_path: Path, config_factory: ConfigFactory
) -> None:
    write_project(tmp_path, db, is_async, slow=False)
    config = config_factory(script_location=str(tmp_path / "migrations"))
    if db.dialect == "sqlite":
        commands.ensure_version(config)
    with lock_held_elsewhere(db, config):
        result = invoke(["--config", "settings.py:db", "upgrade", "--lock-timeout", "0.3"], cwd=tmp_path)
    assert result.exit_code == 3, result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and errors[0].startswith("Error: could not take the migration lock")
    assert result.stderr.splitlines()[-1] == errors[0]
    assert "Traceback" not in result.stderr
    assert "runs" not in table_names(db)


def test_noop_upgrade_imports_no_alembic(db: TestDatabase, is_async: bool, tmp_path: Path) -> None:
    """At head, upgrade answers from the version table and the revision files alone (the cheap path)."""
    write_project(tmp_path, db, is_async, slow=False)
    first = invoke(["--config", "settings.py:db", "upgrade"], cwd=tmp_path)
    assert first.exit_code == 0, first.stderr
    code = (
        "import sys, contextlib, io\n"
        "from dbops.cli.app import run\n"
        "with contextlib.redirect_stderr(io.StringIO()) as err:\n"
        "    status = run(['--config', 'settings.py:db', 'upgrade'])\n"
        "print(status, 'alembic' in sys.modules, repr(err.getvalue()))\n"
    )
    completed = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=True)
    assert completed.stdout.split(" ", 2) == ["0", "False", "'Already at head.\\n'\n"]
    # One revision behind: the same command takes the full path and applies it.
    write_revision(tmp_path / "migrations", "r4", "r3", "op.execute(\"INSERT INTO runs (rev) VALUES ('r4')\")")
    behind = invoke(["--config", "settings.py:db", "upgrade"], cwd=tmp_path)
    assert behind.exit_code == 0 and "Running upgrade r3 -> r4" in behind.stderr
    assert runs(db) == ["r1", "r2", "r3", "r4"]


FOREIGN_ENV = """
from alembic import context

config = context.config
with config.engine.connect() as connection:
    context.configure(connection=connection, version_table=config.version_table_name)
    with context.begin_transaction():
        context.run_migrations()
"""


def test_sqlite_with_a_foreign_env_py_locks_a_file(sqlite_db: TestDatabase, tmp_path: Path) -> None:
    """An env.py opening its own connections (Advanced Alchemy's) still runs each migration once on SQLite."""
    import fcntl

    write_project(tmp_path, sqlite_db, False)
    (tmp_path / "migrations" / "env.py").write_text(FOREIGN_ENV)
    argv = [sys.executable, "-m", "dbops", "--config", "settings.py:db", "upgrade"]
    lock_file = Path(f"{sqlite_db.path}.dbops-lock")
    with lock_file.open("a") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        blocked = invoke(["--config", "settings.py:db", "upgrade", "--lock-timeout", "0.3"], cwd=tmp_path)
        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
    assert blocked.exit_code == 3 and "could not take the migration lock" in blocked.stderr
    processes = [
        subprocess.Popen(argv, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outputs = [process.communicate(timeout=120) for process in processes]
    assert [process.returncode for process in processes] == [0, 0], outputs
    assert runs(sqlite_db) == ["r1", "r2", "r3"]


HELD_DOWNGRADE = '''"""r3"""
import pathlib
import time

import sqlalchemy as sa
from alembic import op

revision = "r3"
down_revision = "r2"
branch_labels = None
depends_on = None


def upgrade():
    op.execute("INSERT INTO runs (rev) VALUES ('r3')")


def downgrade():
    op.execute("DELETE FROM runs WHERE rev = 'r3'")
    pathlib.Path({marker!r}).touch()
    go = pathlib.Path({go!r})
    for _ in range(1200):  # until the test has started the upgrade (at most a minute)
        if go.exists():
            break
        time.sleep(0.05)
'''


def test_no_op_upgrade_waits_for_a_running_downgrade(db: TestDatabase, tmp_path: Path) -> None:
    """The fast path must not say "Already at head" while a downgrade holds the lock (issue 14, point 6)."""
    write_project(tmp_path, db, is_async=False, slow=False)
    marker, go = tmp_path / "in-downgrade", tmp_path / "go"
    (tmp_path / "migrations" / "versions" / "r3.py").write_text(HELD_DOWNGRADE.format(marker=str(marker), go=str(go)))
    env = {key: value for key, value in os.environ.items() if key != "DBOPS_TRACEBACK"}

    def start(*argv: str) -> subprocess.Popen[str]:
        command = [sys.executable, "-m", "dbops", "--config", "settings.py:db", *argv]
        return subprocess.Popen(
            command, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )

    first = start("upgrade")
    assert first.wait(timeout=120) == 0, first.communicate()
    assert versions(db) == {"r3"}

    downgrade = start("downgrade", "-2", "--yes")
    deadline = time.monotonic() + 60
    while not marker.exists():
        assert downgrade.poll() is None, downgrade.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.05)
    upgrade = start("upgrade")
    time.sleep(2.0)
    # The overlap really happened: both ran at once, and the upgrade had not answered while the downgrade held
    # the lock (before the fix it printed "Already at head." here and exited 0).
    assert downgrade.poll() is None and upgrade.poll() is None, upgrade.communicate()
    go.touch()
    _, down_err = downgrade.communicate(timeout=120)
    _, up_err = upgrade.communicate(timeout=120)
    assert downgrade.returncode == 0, down_err
    assert upgrade.returncode == 0, up_err
    assert "Already at head" not in up_err
    assert "Running upgrade r1 -> r2" in up_err and "Running upgrade r2 -> r3" in up_err
    assert versions(db) == {"r3"} and runs(db) == ["r1", "r2", "r2", "r3"]  # r2's downgrade keeps its row
    # With nobody migrating, the fast path answers at once again.
    again = start("upgrade")
    _, again_err = again.communicate(timeout=120)
    assert again.returncode == 0 and again_err.strip() == "Already at head."


def test_fast_readers_see_a_held_lock(db: TestDatabase, config_factory: ConfigFactory, tmp_path: Path) -> None:
    """Both fast readers (bare driver, SQLAlchemy) take the lock for an instant; a held lock is LockBusy."""
    from dbops.migrations.fast import LockBusy, current_revisions, current_revisions_direct

    config = config_factory()
    commands.init(config)
    write_revision(tmp_path / "migrations", "a1", None, "pass")
    commands.upgrade(config)
    plain = config_factory()
    plain.connection_string = db.sync_url  # the bare drivers are the sync ones
    assert current_revisions_direct(plain, under_lock=True) == frozenset({"a1"})
    assert current_revisions(config, under_lock=True) == (frozenset({"a1"}) if db.dialect != "sqlite" else None)
    with lock_held_elsewhere(db, config):
        with pytest.raises(LockBusy):
            current_revisions_direct(plain, under_lock=True)
        if db.dialect != "sqlite":
            with pytest.raises(LockBusy):
                current_revisions(config, under_lock=True)
        assert current_revisions_direct(plain) == frozenset({"a1"})  # without under_lock: a plain read
        with pytest.raises(LockTimeoutError):  # the no-op upgrade took the slow path, which waits for the lock
            commands.upgrade(config, lock_timeout=0.3)
    assert current_revisions_direct(plain, under_lock=True) == frozenset({"a1"})  # released again
