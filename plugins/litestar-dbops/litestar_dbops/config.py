"""dbops' configs with the fields a Litestar app needs: dependency keys, app-state keys, the before-send handler.

Everything dbops' own configs do (engines, sessions, metadata, migrations) is inherited unchanged; this adds
the request lifecycle: ``provide_session(state, scope)`` (one session per request, stored in the scope),
``provide_engine(state)``, and ``lifespan(app)`` (engine on startup, ``create_all``, dispose on shutdown).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, cast

from dbops import config as _base
from dbops.config import (
    AlembicAsyncConfig,
    AlembicSyncConfig,
    AsyncSessionConfig,
    EngineConfig,
    SyncSessionConfig,
)
from dbops.errors import ConfigError
from litestar_dbops.handlers import AutocommitHandler, SessionHandler, end_scope_session

if TYPE_CHECKING:
    from litestar import Litestar
    from litestar.datastructures import State
    from litestar.types import BeforeMessageSendHookHandler, Scope
    from sqlalchemy import Engine
    from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
    from sqlalchemy.orm import Session

__all__ = [
    "AlembicAsyncConfig",
    "AlembicSyncConfig",
    "AsyncSessionConfig",
    "EngineConfig",
    "LitestarConfigFields",
    "SQLAlchemyAsyncConfig",
    "SQLAlchemySyncConfig",
    "SyncSessionConfig",
]

BeforeSendHandlerOption = (
    Literal["autocommit", "autocommit_include_redirect"] | Callable[..., Any] | SessionHandler | None
)


@dataclass(kw_only=True)
class LitestarConfigFields:
    """The Litestar fields both configs share (keyword-only, after dbops' own fields)."""

    before_send_handler: BeforeSendHandlerOption = None
    """``"autocommit"`` (commit on 2xx), ``"autocommit_include_redirect"`` (2xx and 3xx), a handler from
    ``autocommit_before_send_handler(...)``, any ``(message, scope)`` callable, or None (close, never commit)."""
    session_dependency_key: str = "db_session"
    engine_dependency_key: str = "db_engine"
    engine_app_state_key: str = ""
    """Key of the engine in ``app.state``; defaults to ``engine_dependency_key``."""
    session_maker_app_state_key: str = ""
    """Key of the session maker in ``app.state``; defaults to ``<session_dependency_key>_maker``."""
    session_scope_key: str = ""
    """Key of the request's session in the ASGI scope; defaults to ``_dbops_<session_dependency_key>``."""
    set_default_exception_handler: bool = True
    """Map errors a handler lets escape (unless the app maps them itself): SQLAlchemy's ``IntegrityError`` → 409;
    dbops repository errors: ``NotFoundError`` → 404, ``IntegrityError``/``DuplicateKeyError`` → 409,
    ``FilterError`` → 400, others → 500."""

    def _init_litestar_fields(self) -> None:
        for name in ("session_dependency_key", "engine_dependency_key"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value.isidentifier():
                raise ConfigError(f"{name}={value!r} must be a valid Python identifier (it names a handler argument)")
        self.engine_app_state_key = self.engine_app_state_key or self.engine_dependency_key
        self.session_maker_app_state_key = self.session_maker_app_state_key or f"{self.session_dependency_key}_maker"
        self.session_scope_key = self.session_scope_key or f"_dbops_{self.session_dependency_key}"
        self._handler = self._resolve_handler(self.before_send_handler)

    def _resolve_handler(self, option: Any) -> Callable[..., Any]:
        handler: Any
        if option is None:
            handler = SessionHandler()
        elif option == "autocommit":
            handler = AutocommitHandler()
        elif option == "autocommit_include_redirect":
            handler = AutocommitHandler(commit_on_redirect=True)
        elif isinstance(option, str):
            raise ConfigError(
                f"before_send_handler={option!r} is not one of 'autocommit', 'autocommit_include_redirect', "
                "a callable or None"
            )
        elif callable(option):
            handler = option
        else:
            raise ConfigError(f"before_send_handler must be a string, a callable or None, got {type(option).__name__}")
        if isinstance(handler, SessionHandler):
            handler = handler.bind(self.session_scope_key)
        return cast("Callable[..., Any]", handler)

    def before_send_handlers(self) -> list[BeforeMessageSendHookHandler]:
        """The hooks the plugin registers: the configured one, plus a closing one after a custom callable.

        A custom callable may forget to close the session; the closing hook makes sure the connection goes
        back to the pool either way (it does nothing when the session is already gone).
        """
        handlers: list[Any] = [self._handler]
        if not isinstance(self._handler, SessionHandler):
            handlers.append(SessionHandler(session_scope_key=self.session_scope_key))
        return handlers

    @property
    def signature_namespace(self) -> dict[str, Any]:
        """Names handlers may use in string annotations (``from __future__ import annotations``)."""
        from sqlalchemy import Engine
        from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
        from sqlalchemy.orm import Session, sessionmaker

        return {
            "AsyncEngine": AsyncEngine,
            "AsyncSession": AsyncSession,
            "Engine": Engine,
            "Session": Session,
            "async_sessionmaker": async_sessionmaker,
            "sessionmaker": sessionmaker,
        }

    def _scope_session(self, state: State, scope: Scope) -> Any:
        store = cast("dict[str, Any]", scope)
        session = store.get(self.session_scope_key)
        if session is None:
            maker = state.get(self.session_maker_app_state_key)
            if maker is None:  # used before the app started (a test calling the provider directly)
                maker = self.create_session_maker()  # type: ignore[attr-defined]
            session = maker()
            store[self.session_scope_key] = session
        return session

    async def session_dependency(self, state: State, scope: Scope) -> AsyncIterator[Any]:
        """The provider the plugin registers under ``session_dependency_key``: ``provide_session``, plus an end.

        Over HTTP the before-send handler ends the session when the response starts. Two ways to end with
        nothing sent, where this ends it instead (rolled back and closed, unless a send ended it already): a
        websocket whose handler returns (the client may have left without a close), and a request whose task is
        cancelled (some servers cancel it when the client goes away).
        """
        session = self._scope_session(state, scope)
        try:
            yield session
        except BaseException as error:
            if not isinstance(error, Exception):  # cancelled: no response will be sent
                import anyio

                with anyio.CancelScope(shield=True):
                    await end_scope_session(scope, self.session_scope_key)
            raise
        finally:
            if cast("str", scope["type"]) == "websocket":  # the server sends a plain string
                await end_scope_session(scope, self.session_scope_key)

    @contextlib.asynccontextmanager
    async def lifespan(self, app: Litestar) -> AsyncIterator[None]:
        """Create the engine (and the tables with ``create_all``) on startup; dispose of it on shutdown."""
        from litestar_dbops.lifecycle import start_config, stop_config

        config = cast("AnyLitestarConfig", self)
        await start_config(config, app.state)
        try:
            yield
        finally:
            await stop_config(config, app.state)


@dataclass
class SQLAlchemySyncConfig(_base.SQLAlchemySyncConfig, LitestarConfigFields):
    """A sync config for a Litestar app (``Engine``, ``Session``); ``db_session``/``db_engine`` by default."""

    def __post_init__(self) -> None:
        super().__post_init__()
        self._init_litestar_fields()

    def provide_session(self, state: State, scope: Scope) -> Session:
        """The request's session: the one already in ``scope``, or a new one stored there."""
        session: Session = self._scope_session(state, scope)
        return session

    def provide_engine(self, state: State) -> Engine:
        engine: Engine = state.get(self.engine_app_state_key) or self.get_engine()
        return engine


@dataclass
class SQLAlchemyAsyncConfig(_base.SQLAlchemyAsyncConfig, LitestarConfigFields):
    """An async config for a Litestar app (``AsyncEngine``, ``AsyncSession``); ``db_session``/``db_engine``."""

    def __post_init__(self) -> None:
        super().__post_init__()
        self._init_litestar_fields()

    def provide_session(self, state: State, scope: Scope) -> AsyncSession:
        """The request's session: the one already in ``scope``, or a new one stored there."""
        session: AsyncSession = self._scope_session(state, scope)
        return session

    def provide_engine(self, state: State) -> AsyncEngine:
        engine: AsyncEngine = state.get(self.engine_app_state_key) or self.get_engine()
        return engine


AnyLitestarConfig = SQLAlchemySyncConfig | SQLAlchemyAsyncConfig
