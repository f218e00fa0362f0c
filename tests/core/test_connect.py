"""run_sync against every real database, sync and async configs; unreachable servers → one-line error."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from dbops.config import SQLAlchemyAsyncConfig, SQLAlchemySyncConfig
from dbops.connect import run_sync
from dbops.errors import ConnectionError
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
    with pytest.raises(ConnectionError) as info:
        run_sync(config, lambda connection: None)
    message = str(info.value)
    assert "s3cret" not in message and "***" in message
    assert message.startswith("cannot connect to default")
    assert "\n" not in message


def test_bad_credentials_are_masked(mariadb_db: TestDatabase) -> None:
    url = mariadb_db.sync_url.replace("root@", "root:wrongpass@")
    with pytest.raises(ConnectionError) as info:
        run_sync(SQLAlchemySyncConfig(connection_string=url), lambda connection: None)
    assert "wrongpass" not in str(info.value)
    assert "Access denied" in str(info.value)
