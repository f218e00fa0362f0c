"""Ctrl-C during a migration: one line naming the interrupted revision and what was rolled back, exit 130."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.databases import TestDatabase
from tests.migrations.conftest import table_names, versions, write_revision
from tests.migrations.test_lock import SETTINGS

SLOW_STEP = '''"""slow step"""
import pathlib
import time

import sqlalchemy as sa
from alembic import op

revision = "b2"
down_revision = "a1"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table("t2", sa.Column("id", sa.Integer, primary_key=True))
    pathlib.Path({marker!r}).touch()
    for _ in range(1200):  # a statement now and then, so an async run's cancellation gets in
        op.execute("SELECT 1")
        time.sleep(0.05)


def downgrade():
    op.drop_table("t2")
'''


def project(folder: Path, db: TestDatabase, is_async: bool) -> Path:
    cls, alembic = (
        ("SQLAlchemyAsyncConfig", "AlembicAsyncConfig") if is_async else ("SQLAlchemySyncConfig", "AlembicSyncConfig")
    )
    (folder / "settings.py").write_text(SETTINGS.format(cls=cls, alembic=alembic, url=db.url(is_async=is_async)))
    migrations = folder / "migrations"
    (migrations / "versions").mkdir(parents=True)
    (migrations / "env.py").write_text("from dbops.migrations.environment import run_migrations\n\nrun_migrations()\n")
    write_revision(
        migrations,
        "a1",
        None,
        'op.create_table("t1", sa.Column("id", sa.Integer, primary_key=True))',
        "op.drop_table('t1')",
    )
    marker = folder / "in-b2"
    (migrations / "versions" / "b2.py").write_text(SLOW_STEP.format(marker=str(marker)))
    return marker


def test_ctrl_c_names_the_revision_and_what_was_rolled_back(db: TestDatabase, is_async: bool, tmp_path: Path) -> None:
    marker = project(tmp_path, db, is_async)
    env = {key: value for key, value in os.environ.items() if key != "DBOPS_TRACEBACK"}
    process = subprocess.Popen(
        [sys.executable, "-m", "dbops", "--config", "settings.py:db", "upgrade"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while not marker.exists():
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "the slow migration never started"
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    lines = [line for line in stderr.splitlines() if not line.startswith("Running upgrade")]
    assert len(lines) == 1 and lines[0].startswith("Error: upgrade interrupted during upgrade a1 -> b2, slow step"), (
        stderr
    )
    assert "Traceback" not in stderr
    if db.dialect == "sqlite":
        # The whole run is one transaction on SQLite: a1 went too.
        assert lines[0].endswith("rolled back a1, b2; the database is at <base>")
        assert not {"t1", "t2", "alembic_versions"} & table_names(db)
    elif db.dialect == "postgresql":
        assert lines[0].endswith("rolled back b2; the database is at a1")
        assert versions(db) == {"a1"} and "t1" in table_names(db) and "t2" not in table_names(db)
    else:
        assert "the database is at a1: mysql cannot roll back DDL" in lines[0]
        assert versions(db) == {"a1"} and "t2" in table_names(db)  # what the step did before the interrupt


@pytest.mark.parametrize("is_async", [False], ids=["sync"])
def test_interrupt_message_without_steps(is_async: bool) -> None:
    from dbops.migrations.interrupt import StepTracker, interrupted_error
    from dbops.migrations.results import Step

    tracker = StepTracker(lambda step: step)
    assert str(interrupted_error(tracker, frozenset(), dialect="postgresql", command="upgrade")) == (
        "upgrade interrupted before any migration ran; the database is at <base>"
    )
    list(tracker.track((), [Step("upgrade", (), ("a1",), "first")]))
    error = interrupted_error(tracker, None, dialect="postgresql", command="upgrade")
    assert error.exit_code == 130
    assert (
        str(error)
        == "upgrade interrupted during upgrade <base> -> a1, first; the version table could not be read afterwards"
    )
