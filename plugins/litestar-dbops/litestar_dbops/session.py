"""Server-side sessions stored in the app's database, for Litestar's ``ServerSideSessionConfig``.

Either wiring stores sessions in the table (the backend hooks itself into the config it is given)::

    session_config = ServerSideSessionConfig(max_age=3600)
    session_backend = SQLAlchemyAsyncSessionBackend(config=session_config, alchemy_config=db, model=UserSession)
    app = Litestar(..., middleware=[session_config.middleware])   # or: middleware=[session_backend.middleware]

Behaviour:

- ``set`` is one atomic upsert (``ON CONFLICT`` / ``ON DUPLICATE KEY``), so concurrent first writes of one
  session never raise; expiry is computed by the database's clock (``dbops.sessions.clock``).
- ``get`` never returns an expired row and does not write on every request: it pushes ``expires_at`` back to
  ``max_age`` only when less than ``renew_fraction * max_age`` remains (default 0.5). An idle session therefore
  lives between ``renew_fraction * max_age`` and ``max_age`` after its last request; ``renew_fraction=1``
  renews on every read, ``0`` never on reads. Left unset, it is 1 when the config says ``renew_on_access=True``.
- A response whose session data did not change writes nothing; an empty session nobody stored is not stored.
- Ids longer than 255 characters are stored as ``sha256:<hex>`` (``dbops.sessions.storage_key``), never truncated.
- A cookie whose id is not 1 to 4096 cookie characters (``dbops.sessions.is_valid_session_id``: NUL, spaces,
  quotes, invalid UTF-8, non-ASCII, ...) is no session: nothing is read or stored under it, and a session the
  request starts gets a fresh id. ``get``/``delete`` of such an id find nothing; ``set`` refuses it.
- The sync backend runs every query in a worker thread, so it never blocks the event loop.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Generic, TypeVar, cast

import anyio.to_thread
from litestar.datastructures import Cookie, MutableScopeHeaders
from litestar.middleware.base import DefineMiddleware
from litestar.middleware.session.base import SessionMiddleware
from litestar.middleware.session.server_side import ServerSideSessionBackend, ServerSideSessionConfig
from litestar.types import Empty
from litestar.utils.dataclass import extract_dataclass_items

from dbops.connect import dialect_name
from dbops.sessions import SessionModelMixin, SessionTable, cleanup, is_valid_session_id, storage_key
from dbops.sessions.statements import (
    delete_all_statement,
    delete_statement,
    get_statement,
    renew_statement,
    upsert_statement,
)

if TYPE_CHECKING:
    from litestar.connection import ASGIConnection
    from litestar.stores.base import Store
    from litestar.types import Message, ScopeSession
    from sqlalchemy import Connection, Table
    from sqlalchemy.ext.asyncio import AsyncEngine

    from dbops.config import SQLAlchemyAsyncConfig, SQLAlchemySyncConfig

__all__ = [
    "SQLAlchemyAsyncSessionBackend",
    "SQLAlchemySessionBackendBase",
    "SQLAlchemySyncSessionBackend",
    "SessionModelMixin",
]

T = TypeVar("T")
ConfigT = TypeVar("ConfigT", bound="SQLAlchemyAsyncConfig | SQLAlchemySyncConfig")

_LOADED = "_dbops_session_loaded"
"""Scope key: (session id, raw data) as ``get`` returned them for this request, to skip unchanged writes."""

_EMPTY = b"{}"


class SQLAlchemySessionBackendBase(ServerSideSessionBackend, Generic[ConfigT]):
    """What the sync and async backends share: wiring, the write-skipping, and the statements they run."""

    def __init__(
        self,
        config: ServerSideSessionConfig,
        alchemy_config: ConfigT,
        model: type[SessionModelMixin],
        *,
        renew_fraction: float | None = None,
    ) -> None:
        if renew_fraction is None:
            # Litestar's own switch keeps its meaning: renew_on_access=True renews on every read.
            renew_fraction = 1.0 if config.renew_on_access else 0.5
        if not 0.0 <= renew_fraction <= 1.0:
            raise ValueError(f"renew_fraction must be between 0 and 1, got {renew_fraction}")
        super().__init__(config=config)
        self.alchemy_config: ConfigT = alchemy_config
        self.model = model
        self.renew_fraction = renew_fraction
        self.table: Table = model.__table__
        self.dialect = dialect_name(alchemy_config)
        # ``ServerSideSessionConfig.middleware`` builds ``self._backend_class(config=self)``; shadowing the class
        # attribute on this config instance makes it hand out this backend instead of an in-memory store one.
        config._backend_class = self._for_config  # type: ignore[assignment]

    def _for_config(self, config: ServerSideSessionConfig) -> SQLAlchemySessionBackendBase[ConfigT]:
        return self

    @property
    def middleware(self) -> DefineMiddleware:
        """The session middleware using this backend (same as ``config.middleware``)."""
        return DefineMiddleware(SessionMiddleware, backend=self)

    @property
    def max_age(self) -> float:
        return float(self.config.max_age)

    async def _run(self, work: Callable[[Connection], T]) -> T:
        """Run ``work`` in one transaction on the config's engine."""
        raise NotImplementedError

    async def get(self, session_id: str, store: Store | None = None) -> bytes | None:
        """The live session's data (``None`` when missing or expired); renews it when half its time is gone."""
        if not is_valid_session_id(session_id):
            return None
        return await self._run(lambda connection: self._get(connection, session_id))

    async def set(self, session_id: str, data: bytes, store: Store | None = None) -> None:
        """Store ``data`` and push the expiry to ``max_age`` from now (one atomic upsert)."""
        if not is_valid_session_id(session_id):
            raise ValueError(f"not a session id (1 to 4096 cookie characters): {session_id[:40]!r}")
        await self._run(lambda connection: self._set(connection, session_id, data))

    async def delete(self, session_id: str, store: Store | None = None) -> None:
        """Delete the session; nothing happens when there is none."""
        if not is_valid_session_id(session_id):
            return
        await self._run(lambda connection: self._delete(connection, session_id))

    async def delete_all(self, store: Store | None = None) -> None:
        """Delete every session in the table."""
        await self._run(self._delete_all)

    # -- statements -------------------------------------------------------------------------------------

    def _get(self, connection: Connection, session_id: str) -> bytes | None:
        key = storage_key(session_id)
        row = connection.execute(
            get_statement(self.table, key=key, renew_within=self.renew_fraction * self.max_age)
        ).first()
        if row is None:
            return None
        if row.renew:
            connection.execute(renew_statement(self.table, key=key, max_age=self.max_age))
        return bytes(row.data)

    def _set(self, connection: Connection, session_id: str, data: bytes) -> None:
        statement = upsert_statement(
            self.table, self.dialect, key=storage_key(session_id), data=data, max_age=self.max_age
        )
        connection.execute(statement)

    def _delete(self, connection: Connection, session_id: str) -> None:
        connection.execute(delete_statement(self.table, key=storage_key(session_id)))

    def _delete_all(self, connection: Connection) -> None:
        connection.execute(delete_all_statement(self.table))

    async def delete_expired(self, *, batch_size: int = 5000) -> int:
        """Delete expired sessions in batches (the engine behind ``dbops sessions cleanup``); return how many."""
        table = SessionTable(self.table.name, self.table.schema)
        work = functools.partial(cleanup, self.alchemy_config, tables=[table], batch_size=batch_size)
        [result] = await anyio.to_thread.run_sync(work)
        return result.deleted

    # -- the middleware's side --------------------------------------------------------------------------

    def get_session_id(self, connection: ASGIConnection[Any, Any, Any, Any]) -> str:
        """The cookie's id when it is one; else the id this request was given, or a fresh one."""
        session_id = connection.cookies.get(self.config.key)
        if session_id != "null" and is_valid_session_id(session_id):
            return session_id
        # The middleware stores what this returns at the start of the request; later calls must agree with it.
        return connection.get_session_id() or self.generate_session_id()

    async def load_from_connection(self, connection: ASGIConnection[Any, Any, Any, Any]) -> dict[str, Any]:
        session_id = connection.cookies.get(self.config.key)
        if is_valid_session_id(session_id):
            data = await self.get(session_id)
            if data is not None:
                cast("dict[str, Any]", connection.scope)[_LOADED] = (session_id, data)
                return self.deserialize_data(data)
        return {}

    async def store_in_message(
        self, scope_session: ScopeSession, message: Message, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> None:
        if scope_session is Empty or scope_session is None:
            await super().store_in_message(scope_session, message, connection)
            return
        session_id = self.get_session_id(connection)
        data = self.serialize_data(scope_session, connection.scope)
        loaded = cast("dict[str, Any]", connection.scope).get(_LOADED)
        if loaded is None and data == _EMPTY:
            return  # nothing was stored and nothing is to be: no row, no cookie
        if loaded != (session_id, data):
            await self.set(session_id, data)
        cookie_params = dict(extract_dataclass_items(self.config, exclude_none=True, include=Cookie.__dict__.keys()))
        headers = MutableScopeHeaders.from_message(message)
        headers.add("Set-Cookie", Cookie(value=session_id, key=self.config.key, **cookie_params).to_header(header=""))


class SQLAlchemyAsyncSessionBackend(SQLAlchemySessionBackendBase["SQLAlchemyAsyncConfig"]):
    """Sessions in the database of a ``SQLAlchemyAsyncConfig``."""

    async def _run(self, work: Callable[[Connection], T]) -> T:
        engine: AsyncEngine = self.alchemy_config.get_engine()
        async with engine.begin() as connection:
            return await connection.run_sync(work)


class SQLAlchemySyncSessionBackend(SQLAlchemySessionBackendBase["SQLAlchemySyncConfig"]):
    """Sessions in the database of a ``SQLAlchemySyncConfig``; queries run in a worker thread."""

    async def _run(self, work: Callable[[Connection], T]) -> T:
        def in_thread() -> T:
            with self.alchemy_config.get_engine().begin() as connection:
                return work(connection)

        return await anyio.to_thread.run_sync(in_thread)
