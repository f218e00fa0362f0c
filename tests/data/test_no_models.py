"""A config whose models were never imported, on a database that has tables: ``load-data`` and the ``sessions``
commands say so in one line (as ``check``, ``drop-all`` and ``dump-data`` do), through the CLI.

The schema is made by SQL, as another app (or an earlier deploy) left it; the settings module imports no models.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import sqlalchemy as sa

from tests.cli_runner import invoke
from tests.databases import TestDatabase
from tests.sessions.helpers import counts, seed

SETTINGS = """
from dbops import {cls}
# The app's models live in myapp.models, which nothing imports here.
db = {cls}(connection_string={url!r}, bind_key={bind_key!r})
"""


def _project(tmp_path: Path, db: TestDatabase, is_async: bool) -> None:
    cls = "SQLAlchemyAsyncConfig" if is_async else "SQLAlchemySyncConfig"
    # A bind key no model uses: the in-process CLI must not find the test suite's own models.
    bind_key = f"nomodels_{uuid.uuid4().hex[:8]}"
    (tmp_path / "settings.py").write_text(SETTINGS.format(cls=cls, url=db.url(is_async=is_async), bind_key=bind_key))
    engine = sa.create_engine(db.sync_url)
    with engine.begin() as connection:
        connection.execute(sa.text("CREATE TABLE author (id INTEGER PRIMARY KEY, name VARCHAR(50) NOT NULL)"))
    engine.dispose()


def _warnings(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("Warning: ")]


def test_load_data_warns_and_loads_into_the_reflected_table(db: TestDatabase, is_async: bool, tmp_path: Path) -> None:
    _project(tmp_path, db, is_async)
    (tmp_path / "author.json").write_text('[{"id": 1, "name": "Ann"}, {"id": 2, "name": "Bo"}]')
    result = invoke(["--config", "settings.py:db", "load-data", "author.json"], cwd=tmp_path)
    assert result.exit_code == 0, result.output
    [warning] = _warnings(result.stderr)
    assert "has no model tables, but its database holds 1 table(s) (author)" in warning
    assert "loading into the tables as reflected" in warning
    engine = sa.create_engine(db.sync_url)
    with engine.connect() as connection:
        assert connection.execute(sa.text("SELECT name FROM author ORDER BY id")).scalars().all() == ["Ann", "Bo"]
    engine.dispose()


def test_sessions_commands_warn_and_find_the_session_table_by_its_columns(
    db: TestDatabase, is_async: bool, tmp_path: Path
) -> None:
    _project(tmp_path, db, is_async)
    seed(db, expired=4, live=2)  # user_sessions, as the app's SessionModelMixin model made it
    stats = invoke(["--config", "settings.py:db", "sessions", "stats"], cwd=tmp_path)
    assert stats.exit_code == 0, stats.output
    [warning] = _warnings(stats.stderr)
    assert "has no model tables, but its database holds 2 table(s) (author, user_sessions)" in warning
    assert warning.endswith("session tables found by their columns: user_sessions")
    assert "user_sessions" in stats.stdout
    cleaned = invoke(["--config", "settings.py:db", "sessions", "cleanup"], cwd=tmp_path)
    assert cleaned.exit_code == 0, cleaned.output
    assert len(_warnings(cleaned.stderr)) == 1
    assert counts(db) == (0, 2)


def test_sessions_without_any_session_table_warn_then_fail(db: TestDatabase, tmp_path: Path) -> None:
    _project(tmp_path, db, False)
    result = invoke(["--config", "settings.py:db", "sessions", "cleanup"], cwd=tmp_path)
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert len(lines) == 2 and lines[0].startswith("Warning: ") and "has no model tables" in lines[0]
    assert lines[0].endswith("session tables found by their columns: none")
    assert lines[1].startswith("Error: the models of config") and "pass --table NAME" in lines[1]
