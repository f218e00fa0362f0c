"""Fixtures of the provider tests."""

from __future__ import annotations

import pytest

from tests.databases import TestDatabase
from tests.providers.services import seed


@pytest.fixture
def seeded(db: TestDatabase) -> TestDatabase:
    """The ``db`` database with the test tables, four users and one author."""
    seed(db.sync_url)
    return db
