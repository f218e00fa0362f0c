"""Database configs: where an app's engine, sessions, metadata and migrations are described.

Field names follow Advanced Alchemy's configs, so a config written for it works here unchanged. These classes
import nothing from litestar; ``litestar_dbops`` subclasses them to add the request-lifecycle fields.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field, fields
from types import ModuleType
from typing import TYPE_CHECKING, Any, ClassVar, Final, Literal

import orjson

from dbops.errors import ConfigError
from dbops.urls import backend_name, mask_url, parse_url, remember

if TYPE_CHECKING:
    from sqlalchemy import Engine, MetaData
    from sqlalchemy.engine.interfaces import IsolationLevel
    from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
    from sqlalchemy.orm import Session, sessionmaker
    from sqlalchemy.orm.session import JoinTransactionMode
    from sqlalchemy.pool import Pool

__all__ = [
    "AlembicAsyncConfig",
    "AlembicConfig",
    "AlembicSyncConfig",
    "AnyConfig",
    "AsyncSessionConfig",
    "DatabaseConfig",
    "Empty",
    "EmptyType",
    "EngineConfig",
    "SQLAlchemyAsyncConfig",
    "SQLAlchemySyncConfig",
    "SyncSessionConfig",
]


class EmptyType:
    """Marks a field the user did not set, so SQLAlchemy's own default applies (the one instance is ``Empty``)."""

    _instance: ClassVar[EmptyType | None] = None

    def __new__(cls) -> EmptyType:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "Empty"

    def __bool__(self) -> bool:
        return False


Empty: Final[EmptyType] = EmptyType()


def _set_fields(obj: object, *, exclude: frozenset[str] = frozenset()) -> dict[str, Any]:
    """The dataclass fields of ``obj`` the user set, as keyword arguments."""
    return {
        f.name: getattr(obj, f.name)
        for f in fields(obj)  # type: ignore[arg-type]
        if f.name not in exclude and getattr(obj, f.name) is not Empty
    }


def serialize_json(value: Any) -> str:
    """The default JSON serializer for JSON columns: orjson, which also handles UUIDs, datetimes and dataclasses."""
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY).decode()


def deserialize_json(value: str | bytes) -> Any:
    return orjson.loads(value)


@dataclass
class EngineConfig:
    """Keyword arguments for ``create_engine`` / ``create_async_engine``; unset fields keep SQLAlchemy's defaults."""

    connect_args: dict[Any, Any] | EmptyType = Empty
    echo: bool | Literal["debug"] | EmptyType = Empty
    echo_pool: bool | Literal["debug"] | EmptyType = Empty
    enable_from_linting: bool | EmptyType = Empty
    execution_options: dict[str, Any] | EmptyType = Empty
    hide_parameters: bool | EmptyType = Empty
    insertmanyvalues_page_size: int | EmptyType = Empty
    isolation_level: IsolationLevel | EmptyType = Empty
    json_deserializer: Callable[[str], Any] = deserialize_json
    json_serializer: Callable[[Any], str] = serialize_json
    label_length: int | EmptyType | None = Empty
    logging_name: str | EmptyType = Empty
    max_identifier_length: int | EmptyType | None = Empty
    max_overflow: int | EmptyType = Empty
    module: ModuleType | EmptyType = Empty
    paramstyle: Literal["qmark", "numeric", "named", "format", "pyformat", "numeric_dollar"] | EmptyType | None = Empty
    pool: Pool | EmptyType = Empty
    poolclass: type[Pool] | EmptyType = Empty
    pool_logging_name: str | EmptyType = Empty
    pool_pre_ping: bool | EmptyType = Empty
    pool_size: int | EmptyType = Empty
    pool_recycle: int | EmptyType = Empty
    pool_reset_on_return: Literal["rollback", "commit"] | EmptyType | None = Empty
    pool_timeout: float | EmptyType = Empty
    pool_use_lifo: bool | EmptyType = Empty
    plugins: list[str] | EmptyType = Empty
    query_cache_size: int | EmptyType = Empty
    use_insertmanyvalues: bool | EmptyType = Empty

    def to_kwargs(self) -> dict[str, Any]:
        return _set_fields(self)


@dataclass
class _SessionConfig:
    autobegin: bool | EmptyType = Empty
    autoflush: bool | EmptyType = Empty
    bind: Any = Empty  # an Engine or Connection (sync) or their async twins: whatever the session maker takes
    binds: dict[Any, Any] | EmptyType = Empty
    class_: type[Any] | EmptyType = Empty
    expire_on_commit: bool | EmptyType = Empty
    info: dict[str, Any] | EmptyType = Empty
    join_transaction_mode: JoinTransactionMode | EmptyType = Empty
    query_cls: type[Any] | EmptyType | None = Empty
    twophase: bool | EmptyType = Empty

    def to_kwargs(self) -> dict[str, Any]:
        return _set_fields(self)


@dataclass
class SyncSessionConfig(_SessionConfig):
    """Keyword arguments for ``sessionmaker``."""


@dataclass
class AsyncSessionConfig(_SessionConfig):
    """Keyword arguments for ``async_sessionmaker``."""

    sync_session_class: type[Session] | EmptyType | None = Empty


# The extra that installs each driver module a URL may name (``No module named 'asyncpg'`` → dbops[postgres]).
_DRIVER_EXTRAS = {"psycopg": "postgres", "asyncpg": "postgres", "pymysql": "mysql", "asyncmy": "mysql"}
# SQLAlchemy's default drivers for URLs that name none (mysql://, postgresql://), which no extra installs: the
# hint names the URL form that uses the driver the extra does install.
_DEFAULT_DRIVER_HINTS = {
    "MySQLdb": "a URL without a driver uses mysqlclient; use mysql+pymysql:// (pip install 'dbops[mysql]')",
    "psycopg2": "a URL without a driver uses psycopg2; use postgresql+psycopg:// (pip install 'dbops[postgres]')",
}

IncludeObject = Callable[[Any, str | None, str, bool, Any], bool]


@dataclass
class AlembicConfig:
    """Where the migrations live and how Alembic treats them; every field is honoured by every command."""

    script_config: str = "alembic.ini"
    """Path of an optional alembic.ini; read only when it exists (dbops configures Alembic in memory)."""
    version_table_name: str = "alembic_versions"
    version_table_schema: str | None = None
    script_location: str = "migrations"
    user_module_prefix: str | None = "sa."
    render_as_batch: bool = True
    compare_type: bool = False
    template_path: str | None = None
    """A directory of Alembic templates for ``init`` (each a subdirectory); defaults to dbops' own."""
    include_object: IncludeObject | None = None
    version_table_pk: bool = True
    compare_server_default: bool = False
    ddl_lock_timeout: float | str | None = None
    """Run each migration statement with this lock timeout (seconds, or ``"500ms"``, ``"2s"``); ``None``: none.

    PostgreSQL ``SET LOCAL lock_timeout``, MariaDB/MySQL ``lock_wait_timeout``; ``--ddl-lock-timeout`` overrides
    it. ``dbops lint`` takes it as the lock timeout every statement runs under."""
    ddl_retries: int = 0
    """How often a revision whose statement hit ``ddl_lock_timeout`` is rolled back and retried."""
    migration_log: bool = False
    """Record every step ``upgrade`` / ``downgrade`` / ``stamp`` runs in ``migration_log_table`` (the ledger
    ``history --applied`` shows and ``verify --against-db`` checks the revision files against)."""
    migration_log_table: str = "dbops_migration_log"
    """The ledger's table name (in ``version_table_schema``)."""


@dataclass
class AlembicSyncConfig(AlembicConfig):
    """Alembic settings for a sync config."""


@dataclass
class AlembicAsyncConfig(AlembicConfig):
    """Alembic settings for an async config."""


@dataclass
class DatabaseConfig:
    """What the sync and async configs share: a connection, metadata, bind key and migrations."""

    connection_string: str | None = field(default=None, repr=False)
    """The database URL; shown only masked (``url``), and its password is scrubbed from every message."""
    engine_config: EngineConfig = field(default_factory=EngineConfig)
    engine_instance: Any = None
    create_engine_callable: Callable[..., Any] | None = None
    metadata: MetaData | None = None
    bind_key: str | None = None
    create_all: bool = False
    enable_touch_updated_timestamp_listener: bool = True
    enable_file_object_listener: bool = True

    is_async: ClassVar[bool] = False

    def __post_init__(self) -> None:
        if self.connection_string is None and self.engine_instance is None:
            raise ConfigError(
                f"{type(self).__name__}(bind_key={self.bind_key!r}) needs a connection_string or an engine_instance"
            )
        if self.engine_instance is not None and self.connection_string is None:
            self.connection_string = self.engine_instance.url.render_as_string(hide_password=False)
        remember(self)

    # -- descriptions ---------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """The connection URL with the password masked, for every message a user sees."""
        return mask_url(self.connection_string)

    @property
    def bind_label(self) -> str:
        return "default" if self.bind_key is None else self.bind_key

    def describe(self) -> str:
        return f"{self.bind_label} ({self.url})"

    def get_metadata(self) -> MetaData:
        """The config's metadata, or dbops' shared metadata for its bind key."""
        if self.metadata is not None:
            return self.metadata
        from dbops.metadata import metadata_registry

        return metadata_registry.get(self.bind_key)

    def _session_kwargs(self) -> dict[str, Any]:
        kwargs: dict[str, Any] = self.session_config.to_kwargs()  # type: ignore[attr-defined]
        opt_outs: dict[str, bool] = {}
        if not self.enable_file_object_listener:
            # Read by dbops.storage.listeners: sessions of this config don't upload/delete stored files.
            opt_outs["dbops.file_object_listener"] = False
        if not self.enable_touch_updated_timestamp_listener:
            # Read by dbops.base's before_flush listener: updated_at is left as the application sets it.
            from dbops.base import TOUCH_UPDATED_TIMESTAMP_KEY

            opt_outs[TOUCH_UPDATED_TIMESTAMP_KEY] = False
        if opt_outs:
            kwargs["info"] = {**(kwargs.get("info") or {}), **opt_outs}
        return kwargs

    def new_engine(self, factory: Callable[..., Any], kwargs: dict[str, Any]) -> Any:
        """``factory(url, **kwargs)``, with a bad URL or a missing driver as a one-line ``ConfigError``."""
        parse_url(str(self.connection_string))  # refuses what SQLAlchemy would misread, before a driver sees it
        try:
            return factory(str(self.connection_string), **kwargs)
        except ModuleNotFoundError as exc:
            hint = _DRIVER_EXTRAS.get(exc.name or "")
            extra = f" (install it with: pip install 'dbops[{hint}]')" if hint else ""
            if exc.name in _DEFAULT_DRIVER_HINTS:
                extra = f" ({_DEFAULT_DRIVER_HINTS[exc.name]})"
            raise ConfigError(f"cannot create an engine for {self.url}: {exc}{extra}") from exc
        except Exception as exc:
            raise ConfigError(f"cannot create an engine for {self.url}: {exc}") from exc

    def _engine_kwargs(self) -> dict[str, Any]:
        kwargs = self.engine_config.to_kwargs()
        if backend_name(str(self.connection_string)) == "sqlite":
            # SQLite's pool classes take none of the sizing options.
            for key in ("pool_size", "max_overflow", "pool_timeout", "pool_use_lifo"):
                kwargs.pop(key, None)
        return kwargs


@dataclass
class SQLAlchemySyncConfig(DatabaseConfig):
    """A sync SQLAlchemy config (``create_engine``, ``Session``)."""

    session_config: SyncSessionConfig = field(default_factory=SyncSessionConfig)
    session_maker_class: Any = None
    session_maker: Any = None
    alembic_config: AlembicSyncConfig = field(default_factory=AlembicSyncConfig)

    is_async: ClassVar[Literal[False]] = False

    def get_engine(self) -> Engine:
        """The config's engine, created once."""
        if self.engine_instance is None:
            from sqlalchemy import create_engine

            self.engine_instance = self.new_engine(self.create_engine_callable or create_engine, self._engine_kwargs())
        engine: Engine = self.engine_instance
        return engine

    def create_session_maker(self) -> sessionmaker[Session]:
        if self.session_maker is None:
            from sqlalchemy.orm import sessionmaker

            maker_class = self.session_maker_class or sessionmaker
            self.session_maker = maker_class(bind=self.get_engine(), **self._session_kwargs())
        maker: sessionmaker[Session] = self.session_maker
        return maker

    @contextlib.contextmanager
    def get_session(self) -> Iterator[Session]:
        """A new session, closed on exit (commit is yours to call)."""
        with self.create_session_maker()() as session:
            yield session

    def dispose(self) -> None:
        if self.engine_instance is not None:
            self.engine_instance.dispose()


@dataclass
class SQLAlchemyAsyncConfig(DatabaseConfig):
    """An async SQLAlchemy config (``create_async_engine``, ``AsyncSession``)."""

    session_config: AsyncSessionConfig = field(default_factory=AsyncSessionConfig)
    session_maker_class: Any = None
    session_maker: Any = None
    alembic_config: AlembicAsyncConfig = field(default_factory=AlembicAsyncConfig)

    is_async: ClassVar[Literal[True]] = True

    def get_engine(self) -> AsyncEngine:
        """The config's async engine, created once."""
        if self.engine_instance is None:
            from sqlalchemy.ext.asyncio import create_async_engine

            factory = self.create_engine_callable or create_async_engine
            self.engine_instance = self.new_engine(factory, self._engine_kwargs())
        engine: AsyncEngine = self.engine_instance
        return engine

    def create_session_maker(self) -> async_sessionmaker[AsyncSession]:
        if self.session_maker is None:
            from sqlalchemy.ext.asyncio import async_sessionmaker

            maker_class = self.session_maker_class or async_sessionmaker
            self.session_maker = maker_class(bind=self.get_engine(), **self._session_kwargs())
        maker: async_sessionmaker[AsyncSession] = self.session_maker
        return maker

    @contextlib.asynccontextmanager
    async def get_session(self) -> AsyncIterator[AsyncSession]:
        """A new session, closed on exit (commit is yours to call)."""
        async with self.create_session_maker()() as session:
            yield session

    async def dispose_async(self) -> None:
        if self.engine_instance is not None:
            await self.engine_instance.dispose()

    def _engine_kwargs(self) -> dict[str, Any]:
        kwargs = super()._engine_kwargs()
        from sqlalchemy.pool import AsyncAdaptedQueuePool, QueuePool

        if kwargs.get("poolclass") is QueuePool:
            # An async engine refuses the sync QueuePool; its asyncio twin takes the same options (and is what
            # the seed's `EngineConfig(poolclass=QueuePool, ...)` on an async config means).
            kwargs["poolclass"] = AsyncAdaptedQueuePool
        return kwargs


AnyConfig = SQLAlchemySyncConfig | SQLAlchemyAsyncConfig
