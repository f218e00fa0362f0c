"""Fixtures of the hostile-input tests: servers that check passwords (see servers.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.hostile.servers import PasswordServer, password_mariadb, password_postgres


@pytest.fixture(scope="session")
def postgres_password_server() -> Iterator[PasswordServer]:
    with password_postgres() as server:
        yield server


@pytest.fixture(scope="session")
def mariadb_password_server() -> Iterator[PasswordServer]:
    with password_mariadb() as server:
        yield server
