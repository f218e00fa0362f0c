"""The Litestar plugin: engine lifecycle, per-request sessions by injection, autocommit, the CLI mount.

``SQLAlchemyPlugin`` is ``SQLAlchemyInitPlugin`` (lifecycle, DI, before-send handlers, ``litestar database``)
plus ``SQLAlchemySerializationPlugin`` (models as handler return types). It adapts dbops' configs to
Litestar's hooks and re-implements nothing: engines and sessions come from the configs, the CLI is dbops'.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from litestar.plugins import CLIPlugin, InitPlugin, SerializationPlugin

from dbops.errors import ConfigError
from litestar_dbops.config import AnyLitestarConfig, SQLAlchemyAsyncConfig, SQLAlchemySyncConfig

if TYPE_CHECKING:
    from click import Group
    from litestar import Request, Response
    from litestar.config.app import AppConfig
    from litestar.dto import AbstractDTO
    from litestar.typing import FieldDefinition

__all__ = ["SQLAlchemyInitPlugin", "SQLAlchemyPlugin", "SQLAlchemySerializationPlugin"]

_CONFLICT_DETAIL = "Conflict: the changes violate a database constraint and were not saved"


def integrity_error_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """Answer 409 when a handler lets an ``IntegrityError`` escape (its before-send hook then rolls back)."""
    from litestar import Response

    return Response({"status_code": 409, "detail": _CONFLICT_DETAIL}, status_code=409)


def repository_error_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """Answer a dbops repository error with its HTTP meaning: 404 not found, 409 conflict, 400 bad filter.

    Repository messages are written for people and never carry driver text, so they are shown; anything
    else a repository raises is a 500 without detail.
    """
    from litestar import Response

    from dbops.errors import FilterError, NotFoundError
    from dbops.errors import IntegrityError as RowIntegrityError

    status = next(
        (
            code
            for kind, code in ((NotFoundError, 404), (RowIntegrityError, 409), (FilterError, 400))
            if isinstance(exc, kind)
        ),
        500,
    )
    detail = str(exc) if status != 500 else "Internal Server Error"
    return Response({"status_code": status, "detail": detail}, status_code=status)


class SQLAlchemyInitPlugin(InitPlugin, CLIPlugin):
    """Wire one or more configs into a Litestar app and mount ``litestar database`` (alias ``db``).

    For each config: its engine is created on startup (tables too with ``create_all``) and disposed on
    shutdown; handlers receive ``db_session`` / ``db_engine`` (or the config's own dependency keys); its
    before-send handler ends each request's session.
    """

    def __init__(self, config: AnyLitestarConfig | Sequence[AnyLitestarConfig]) -> None:
        configs = list(config) if isinstance(config, Sequence) else [config]
        if not configs:
            raise ConfigError("SQLAlchemyPlugin needs at least one config")
        for item in configs:
            if not isinstance(item, SQLAlchemyAsyncConfig | SQLAlchemySyncConfig):
                raise ConfigError(
                    f"SQLAlchemyPlugin takes litestar_dbops.SQLAlchemyAsyncConfig/SQLAlchemySyncConfig, got "
                    f"{type(item).__module__}.{type(item).__name__}"
                )
        _check_unique_keys(configs)
        self._configs = configs

    @property
    def config(self) -> list[AnyLitestarConfig]:
        """The plugin's configs, in the order given."""
        return list(self._configs)

    def dbops_configs(self) -> list[AnyLitestarConfig]:
        """The configs dbops' CLI acts on (``dbops --app module:app``, ``litestar database``)."""
        return list(self._configs)

    def on_cli_init(self, cli: Group) -> None:
        from litestar_dbops.cli import add_database_commands

        add_database_commands(cli)

    def on_app_init(self, app_config: AppConfig) -> AppConfig:
        from litestar.di import Provide
        from sqlalchemy.exc import IntegrityError

        for config in self._configs:
            providers = {
                config.engine_dependency_key: Provide(config.provide_engine, sync_to_thread=False),
                config.session_dependency_key: Provide(config.session_dependency),  # an async generator
            }
            for key, provider in providers.items():
                if key in app_config.dependencies:
                    raise ConfigError(
                        f"the app already has a dependency named {key!r}; give {config.describe()} another "
                        "session_dependency_key/engine_dependency_key"
                    )
                app_config.dependencies[key] = provider
            app_config.lifespan.append(config.lifespan)
            app_config.before_send.extend(config.before_send_handlers())
            app_config.signature_namespace.update(config.signature_namespace)
        if any(config.set_default_exception_handler for config in self._configs):
            from dbops.errors import RepositoryError

            app_config.exception_handlers.setdefault(IntegrityError, integrity_error_handler)
            app_config.exception_handlers.setdefault(RepositoryError, repository_error_handler)
        return app_config


def _check_unique_keys(configs: Sequence[AnyLitestarConfig]) -> None:
    """Two configs sharing a dependency, state or scope key would silently share one session: refuse."""
    seen: dict[str, AnyLitestarConfig] = {}
    for config in configs:
        if config.session_dependency_key == config.engine_dependency_key:
            raise ConfigError(
                f"{config.describe()}: session_dependency_key and engine_dependency_key are both "
                f"{config.session_dependency_key!r}"
            )
        keys = {
            config.session_dependency_key,
            config.engine_dependency_key,
            f"state:{config.engine_app_state_key}",
            f"state:{config.session_maker_app_state_key}",
            f"scope:{config.session_scope_key}",
        }
        for key in keys:
            other = seen.get(key)
            if other is not None:
                raise ConfigError(
                    f"configs {other.describe()} and {config.describe()} both use the key {key!r}; give each "
                    "config its own session_dependency_key and engine_dependency_key"
                )
            seen[key] = config


def _model_of(field_definition: FieldDefinition) -> Any:
    """The mapped class a return type is about (the model, or the model inside a collection), or None."""
    candidates = [field_definition, *field_definition.inner_types] if field_definition.is_collection else []
    for candidate in candidates or [field_definition]:
        annotation = candidate.annotation
        if isinstance(annotation, type) and getattr(annotation, "__mapper__", None) is not None:
            return annotation
    return None


class SQLAlchemySerializationPlugin(SerializationPlugin):
    """Let handlers return models (or collections of models): each gets a ``SQLAlchemyDTO``, made once."""

    def __init__(self) -> None:
        self._dtos: dict[Any, type[AbstractDTO[Any]]] = {}

    def supports_type(self, field_definition: FieldDefinition) -> bool:
        return _model_of(field_definition) is not None

    def create_dto_for_type(self, field_definition: FieldDefinition) -> type[AbstractDTO[Any]]:
        import importlib

        model = _model_of(field_definition)
        if model not in self._dtos:
            dto_class: Any = importlib.import_module("litestar_dbops.dto").SQLAlchemyDTO
            self._dtos[model] = dto_class[model]
        return self._dtos[model]


class SQLAlchemyPlugin(SQLAlchemyInitPlugin, SQLAlchemySerializationPlugin):
    """The whole integration: ``SQLAlchemyInitPlugin`` + ``SQLAlchemySerializationPlugin`` in one plugin."""

    def __init__(self, config: AnyLitestarConfig | Sequence[AnyLitestarConfig]) -> None:
        SQLAlchemyInitPlugin.__init__(self, config)
        SQLAlchemySerializationPlugin.__init__(self)
