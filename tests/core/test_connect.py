"""run_sync against every real database, sync and async configs; unreachable servers → one-line error."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from sqlalchemy import text

from dbops.config import SQLAlchemyAsyncConfig, SQLAlchemySyncConfig
from dbops.connect import run_sync
from dbops.errors import ConfigError, DatabaseConnectionError
from tests.cli_runner import invoke
from tests.databases import TestDatabase


def test_run_sync_on_every_dialect(db: TestDatabase, is_async: bool) -> None:
    config_class = SQLAlchemyAsyncConfig if is_async else SQLAlchemySyncConfig
    config = config_class(connection_string=db.url(is_async=is_async))
    assert run_sync(config, lambda connection: connection.execute(text("select 1")).scalar()) == 1


@pytest.mark.parametrize(
    "url",
    [
        "postgresql+psycopg://postgres:s3cret@127.0.0.1:1/test",
        "postgresql+asyncpg://postgres:s3cret@127.0.0.1:1/test",
        "mysql+pymysql://root:s3cret@127.0.0.1:1/test",
        "mysql+asyncmy://root:s3cret@127.0.0.1:1/test",
    ],
)
def test_unreachable_server_is_one_masked_line(url: str) -> None:
    config_class = SQLAlchemyAsyncConfig if "async" in url else SQLAlchemySyncConfig
    config = config_class(connection_string=url)
    with pytest.raises(DatabaseConnectionError) as info:
        run_sync(config, lambda connection: None)
    message = str(info.value)
    assert "s3cret" not in message and "***" in message
    assert message.startswith("cannot connect to default")
    assert "\n" not in message


def test_bad_credentials_are_masked(mariadb_db: TestDatabase) -> None:
    url = mariadb_db.sync_url.replace("root@", "root:wrongpass@")
    with pytest.raises(DatabaseConnectionError) as info:
        run_sync(SQLAlchemySyncConfig(connection_string=url), lambda connection: None)
    assert "wrongpass" not in str(info.value)
    assert "Access denied" in str(info.value)


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
def test_missing_driver_is_a_config_error_naming_the_extra(monkeypatch: pytest.MonkeyPatch, is_async: bool) -> None:
    # None in sys.modules makes `import asyncpg` / `import psycopg` fail as an absent package does.
    driver = "asyncpg" if is_async else "psycopg"
    monkeypatch.setitem(sys.modules, driver, None)
    config_class = SQLAlchemyAsyncConfig if is_async else SQLAlchemySyncConfig
    config = config_class(connection_string=f"postgresql+{driver}://postgres:s3cret@127.0.0.1/test")
    with pytest.raises(ConfigError) as info:
        run_sync(config, lambda connection: None)
    message = str(info.value)
    assert message.startswith("cannot create an engine for postgresql+")
    assert "pip install 'dbops[postgres]'" in message
    assert "s3cret" not in message and "***" in message


def test_unknown_driver_through_the_cli_is_one_line_exit_2(tmp_path: Path) -> None:
    (tmp_path / "cfg.py").write_text(
        "from dbops import SQLAlchemySyncConfig\n"
        "db = SQLAlchemySyncConfig(connection_string='postgresql+nodriver://postgres:s3cret@127.0.0.1/test')\n"
    )
    result = invoke(["--config", f"{tmp_path / 'cfg.py'}:db", "dump-data", "--dir", str(tmp_path / "out")])
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("Error: cannot create an engine for postgresql+nodriver://postgres:***@")
    assert result.stderr.count("\n") == 1
    assert "s3cret" not in result.output and "Traceback" not in result.output
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())
