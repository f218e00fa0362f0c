"""Type-checked, never run: config fields accept their types and nothing else.

tests/core/test_config_typing.py runs ``mypy --strict --warn-unused-ignores`` on this file: each ``type: ignore``
below must be needed (a field that accepted anything would leave it unused, which mypy reports), and the
lines without one must type-check.
"""

from __future__ import annotations

from sqlalchemy.pool import NullPool

from dbops import EngineConfig
from dbops.config import AsyncSessionConfig, SyncSessionConfig

EngineConfig(echo=True, echo_pool="debug", pool_size=5, max_overflow=2, isolation_level="AUTOCOMMIT")
EngineConfig(poolclass=NullPool, pool_reset_on_return=None, connect_args={"timeout": 5}, plugins=["x"])
SyncSessionConfig(expire_on_commit=False, autoflush=True, join_transaction_mode="create_savepoint")
AsyncSessionConfig(expire_on_commit=False, info={"tenant": 1})

EngineConfig(echo="banana")  # type: ignore[arg-type]
EngineConfig(pool_size="5")  # type: ignore[arg-type]
EngineConfig(poolclass="NullPool")  # type: ignore[arg-type]
EngineConfig(isolation_level="SOMETIMES")  # type: ignore[arg-type]
EngineConfig(pool_reset_on_return="discard")  # type: ignore[arg-type]
SyncSessionConfig(expire_on_commit="no")  # type: ignore[arg-type]
SyncSessionConfig(join_transaction_mode="whatever")  # type: ignore[arg-type]
AsyncSessionConfig(info=["not", "a", "dict"])  # type: ignore[arg-type]
