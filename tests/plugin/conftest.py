"""Fixtures of the plugin tests."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def plugin_log() -> Iterator[list[logging.LogRecord]]:
    """Records of the litestar_dbops logger (Litestar's own logging setup replaces the root handlers)."""
    handler = _Records()
    logger = logging.getLogger("litestar_dbops")
    logger.addHandler(handler)
    yield handler.records
    logger.removeHandler(handler)
