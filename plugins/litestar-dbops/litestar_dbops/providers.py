"""Litestar dependency providers: a service bound to the request's session, and filters from query parameters.

``create_service_dependencies(AuthorService, "authors_service", load=[...], filters={...})`` returns the
``dependencies`` dict of a controller: the service under ``"authors_service"`` and a ``filters`` list built from
the query parameters the ``filters`` settings enable (see ``FilterConfig``). Every query parameter is typed and
bounded in the handler's signature, so Litestar rejects a bad value with a 400 that names the parameter before
the handler (or the database) sees it, and the app's OpenAPI schema shows each parameter with its type,
bounds and default.
"""

from __future__ import annotations

import datetime
import inspect
import re
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, Literal, NamedTuple, Optional, TypedDict, Union, cast

from litestar.di import NamedDependency, Provide
from litestar.params import QueryParameter
from typing_extensions import NotRequired

from dbops.errors import ConfigError
from dbops.filters import (
    BeforeAfter,
    BooleanFilter,
    ChoicesFilter,
    CollectionFilter,
    FilterTypes,
    LimitOffset,
    NotInCollectionFilter,
    OrderBy,
    SearchFilter,
    column_for,
)

if TYPE_CHECKING:
    from sqlalchemy import Select

__all__ = [
    "DEPENDENCY_DEFAULTS",
    "ChoiceField",
    "DependencyDefaults",
    "FieldNameType",
    "FilterConfig",
    "create_filter_dependencies",
    "create_service_dependencies",
    "create_service_provider",
]

SortOrder = Literal["asc", "desc"]


@dataclass(frozen=True)
class DependencyDefaults:
    """Dependency keys of the generated providers, and the default page sizes."""

    FILTERS_DEPENDENCY_KEY: str = "filters"
    CREATED_FILTER_DEPENDENCY_KEY: str = "created_filter"
    UPDATED_FILTER_DEPENDENCY_KEY: str = "updated_filter"
    ID_FILTER_DEPENDENCY_KEY: str = "id_filter"
    LIMIT_OFFSET_FILTER_DEPENDENCY_KEY: str = "limit_offset_filter"
    ORDER_BY_FILTER_DEPENDENCY_KEY: str = "order_by_filter"
    SEARCH_FILTER_DEPENDENCY_KEY: str = "search_filter"
    DEFAULT_PAGINATION_SIZE: int = 20
    DEFAULT_PAGINATION_SIZE_MAX: int = 100


DEPENDENCY_DEFAULTS = DependencyDefaults()


class FieldNameType(NamedTuple):
    """A field for ``in_fields`` / ``not_in_fields`` with the type its query values are parsed as."""

    name: str
    type_hint: type[Any] = str


FieldSpec = Union[str, FieldNameType]


@dataclass(frozen=True)
class ChoiceField:
    """A field for ``choice_fields`` with the values its parameter accepts (others are a 400)."""

    name: str
    choices: tuple[Any, ...]

    def __init__(self, name: str, choices: Collection[Any]) -> None:
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "choices", tuple(choices))


ChoiceSpec = Union[str, FieldNameType, ChoiceField, tuple[str, Any]]


class FilterConfig(TypedDict):
    """The ``filters`` settings of ``create_service_dependencies``; each key enables query parameters."""

    pagination_type: NotRequired[Literal["limit_offset"]]
    """``"limit_offset"``: ``currentPage`` (from 1) and ``pageSize`` → ``LimitOffset``."""
    pagination_size: NotRequired[int]
    """Default ``pageSize`` (20)."""
    pagination_size_max: NotRequired[int]
    """Largest ``pageSize`` accepted (100); a larger one is a 400, never an unbounded query."""
    id_filter: NotRequired[type[Any]]
    """Type of the ids: ``ids`` (repeatable) → ``CollectionFilter(id_field, ids)``."""
    id_field: NotRequired[str]
    """The model attribute ``ids`` match (``"id"``)."""
    search: NotRequired[Union[str, Collection[str]]]
    """Fields searched: ``"name,bio"`` or a list; ``searchString`` → ``SearchFilter``."""
    search_ignore_case: NotRequired[bool]
    """Default of ``searchIgnoreCase`` (False)."""
    sort_field: NotRequired[Union[str, Collection[str]]]
    """Fields that may be sorted on (the first is the default): ``orderBy`` → ``OrderBy``."""
    sort_order: NotRequired[SortOrder]
    """Default of ``sortOrder`` (``"desc"``)."""
    sort_nulls: NotRequired[Optional[Literal["first", "last"]]]
    """Where NULLs sort (``OrderBy(nulls=...)``); ``None`` (default) leaves it to the database."""
    search_escape_wildcards: NotRequired[bool]
    """Accepted for Advanced Alchemy's settings: ``%`` and ``_`` in a search are always literal here."""
    created_at: NotRequired[bool]
    """``createdBefore`` / ``createdAfter`` (ISO 8601) → ``BeforeAfter("created_at", ...)``."""
    updated_at: NotRequired[bool]
    """``updatedBefore`` / ``updatedAfter`` (ISO 8601) → ``BeforeAfter("updated_at", ...)``."""
    in_fields: NotRequired[Union[FieldSpec, Collection[FieldSpec]]]
    """Fields with a ``<field>In`` parameter (repeatable) → ``CollectionFilter``."""
    not_in_fields: NotRequired[Union[FieldSpec, Collection[FieldSpec]]]
    """Fields with a ``<field>NotIn`` parameter (repeatable) → ``NotInCollectionFilter``."""
    boolean_fields: NotRequired[Union[FieldSpec, Collection[FieldSpec]]]
    """Fields with a ``<field>`` parameter (camel-cased; ``true``/``false``) → ``BooleanFilter``."""
    choice_fields: NotRequired[Union[ChoiceSpec, Collection[ChoiceSpec]]]
    """Fields with a ``<field>`` parameter (camel-cased, repeatable) → ``ChoicesFilter``; a ``ChoiceField`` lists
    the values accepted (others are a 400, and the schema shows them as an enum)."""


_FILTER_KEYS = frozenset(FilterConfig.__annotations__)
_MAX_PAGE = 2**31 - 1
"""Largest ``currentPage``: keeps ``pageSize * (currentPage - 1)`` a valid OFFSET on every database."""


# --- service provider -----------------------------------------------------------------------------------------


def _check_service_class(service_class: Any) -> None:
    from dbops.service import SQLAlchemyAsyncRepositoryService, SQLAlchemySyncRepositoryService

    if not (
        isinstance(service_class, type)
        and issubclass(service_class, (SQLAlchemyAsyncRepositoryService, SQLAlchemySyncRepositoryService))
    ):
        raise ConfigError(
            f"create_service_dependencies: {service_class!r} is not a subclass of "
            "SQLAlchemyAsyncRepositoryService or SQLAlchemySyncRepositoryService"
        )


def create_service_provider(
    service_class: type[Any],
    /,
    statement: Select[Any] | None = None,
    config: Any = None,
    load: Any = None,
    execution_options: dict[str, Any] | None = None,
    count_with_window_function: bool | None = None,
) -> Callable[..., Any]:
    """A Litestar provider of ``service_class`` bound to the request's session.

    The session comes from the ``db_session`` dependency, or from ``config.session_dependency_key`` when a
    config is given (apps with several databases). The plugin owns the session (commit, rollback, close), so
    the service needs no teardown.
    """
    _check_service_class(service_class)
    session_key: str = getattr(config, "session_dependency_key", None) or "db_session"
    options: dict[str, Any] = {
        name: value
        for name, value in {
            "statement": statement,
            "load": load,
            "execution_options": execution_options,
            "count_with_window_function": count_with_window_function,
        }.items()
        if value is not None
    }

    def provide_service(**kwargs: Any) -> Any:
        return service_class(session=kwargs[session_key], **options)

    provide_service.__name__ = f"provide_{service_class.__name__}"
    return _with_signature(provide_service, [_dependency(session_key)], service_class)


# --- filter providers ------------------------------------------------------------------------------------------


def _with_signature(fn: Callable[..., Any], params: list[inspect.Parameter], return_type: Any) -> Callable[..., Any]:
    """Give ``fn(**kwargs)`` the signature Litestar's DI reads: one keyword parameter per query parameter."""
    fn.__signature__ = inspect.Signature(params, return_annotation=return_type)  # type: ignore[attr-defined]
    fn.__annotations__ = {**{p.name: p.annotation for p in params}, "return": return_type}
    return fn


def _dependency(name: str) -> inspect.Parameter:
    """A parameter Litestar fills with the dependency called ``name``, unvalidated (``Any``)."""
    annotation: Any = NamedDependency
    return inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=annotation[Any])


def _query(name: str, annotation: Any, default: Any, **constraints: Any) -> inspect.Parameter:
    """A query parameter whose Python name is its query name, so a 400 names the parameter the client sent."""
    return inspect.Parameter(
        name,
        inspect.Parameter.KEYWORD_ONLY,
        default=default,
        annotation=Annotated[annotation, QueryParameter(**constraints)],
    )


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def _names(value: str | Collection[str]) -> list[str]:
    items = value.split(",") if isinstance(value, str) else list(value)
    return [item.strip() for item in items if item.strip()]


def _field_specs(value: FieldSpec | Collection[FieldSpec]) -> list[FieldNameType]:
    items: list[FieldSpec] = [value] if isinstance(value, (str, FieldNameType)) else list(value)
    return [item if isinstance(item, FieldNameType) else FieldNameType(name=item) for item in items]


def _choice_specs(value: Any) -> list[tuple[str, Any]]:
    """``choice_fields`` as ``(field, type of one value)``: a ``Literal`` of the choices for a ``ChoiceField``."""
    single = isinstance(value, (str, FieldNameType, ChoiceField)) or (
        isinstance(value, tuple) and len(value) == 2 and isinstance(value[0], str) and not isinstance(value[1], str)
    )
    specs: list[tuple[str, Any]] = []
    for item in [value] if single else list(value):
        if isinstance(item, ChoiceField):
            specs.append((item.name, Literal.__getitem__(item.choices)))
        elif isinstance(item, FieldNameType):
            specs.append((item.name, item.type_hint))
        elif isinstance(item, tuple):
            specs.append((item[0], item[1]))
        else:
            specs.append((item, str))
    return specs


@dataclass
class _Group:
    """One filter dependency: its query parameters and how they become a filter (``None``: not asked for)."""

    key: str
    params: list[inspect.Parameter]
    build: Callable[[dict[str, Any]], FilterTypes | None]
    return_type: Any


def _check_config(config: FilterConfig, defaults: DependencyDefaults, model: type[Any] | None, owner: str) -> None:
    unknown = sorted(set(config) - _FILTER_KEYS)
    if unknown:
        raise ConfigError(
            f"{owner}: unknown filter setting(s) {', '.join(map(repr, unknown))} "
            f"(known: {', '.join(sorted(_FILTER_KEYS))})"
        )
    if "pagination_type" in config and config["pagination_type"] != "limit_offset":
        raise ConfigError(f"{owner}: pagination_type must be 'limit_offset', got {config['pagination_type']!r}")
    size = config.get("pagination_size", defaults.DEFAULT_PAGINATION_SIZE)
    size_max = config.get("pagination_size_max", defaults.DEFAULT_PAGINATION_SIZE_MAX)
    for name, value in (("pagination_size", size), ("pagination_size_max", size_max)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ConfigError(f"{owner}: {name} must be a positive integer, got {value!r}")
    if size > size_max:
        raise ConfigError(f"{owner}: pagination_size {size} is larger than pagination_size_max {size_max}")
    if config.get("sort_order", "desc") not in ("asc", "desc"):
        raise ConfigError(f"{owner}: sort_order must be 'asc' or 'desc', got {config.get('sort_order')!r}")
    if config.get("sort_nulls") not in (None, "first", "last"):
        raise ConfigError(f"{owner}: sort_nulls must be 'first', 'last' or None, got {config.get('sort_nulls')!r}")
    if "search" in config and not _names(config["search"]):
        raise ConfigError(f"{owner}: search names no field")
    if "sort_field" in config and not _names(config["sort_field"]):
        raise ConfigError(f"{owner}: sort_field names no field")
    if model is None:
        return
    fields: list[tuple[str, str]] = []
    if config.get("id_filter"):
        fields.append(("id_field", config.get("id_field", "id")))
    fields += [("search", name) for name in _names(config.get("search", ()))]
    fields += [("sort_field", name) for name in _names(config.get("sort_field", ()))]
    if config.get("created_at"):
        fields.append(("created_at", "created_at"))
    if config.get("updated_at"):
        fields.append(("updated_at", "updated_at"))
    fields += [("in_fields", spec.name) for spec in _field_specs(config.get("in_fields", ()))]
    fields += [("not_in_fields", spec.name) for spec in _field_specs(config.get("not_in_fields", ()))]
    fields += [("boolean_fields", spec.name) for spec in _field_specs(config.get("boolean_fields", ()))]
    fields += [("choice_fields", name) for name, _ in _choice_specs(config.get("choice_fields", ()))]
    for setting, name in fields:
        try:
            column_for(model, name, filter_name=setting)
        except Exception as exc:
            raise ConfigError(f"{owner}: filter setting {setting!r}: {model.__name__} has no column {name!r}") from exc


def _pagination(config: FilterConfig, defaults: DependencyDefaults) -> list[_Group]:
    if config.get("pagination_type") != "limit_offset":
        return []
    size = config.get("pagination_size", defaults.DEFAULT_PAGINATION_SIZE)
    size_max = config.get("pagination_size_max", defaults.DEFAULT_PAGINATION_SIZE_MAX)

    def limit_offset(values: dict[str, Any]) -> LimitOffset:
        page_size: int = values["pageSize"]
        return LimitOffset(limit=page_size, offset=page_size * (values["currentPage"] - 1))

    params = [
        _query("currentPage", int, 1, ge=1, le=_MAX_PAGE, description="Page number, from 1."),
        _query("pageSize", int, size, ge=1, le=size_max, description=f"Items per page, 1 to {size_max}."),
    ]
    return [_Group(defaults.LIMIT_OFFSET_FILTER_DEPENDENCY_KEY, params, limit_offset, LimitOffset)]


def _ids(config: FilterConfig, defaults: DependencyDefaults) -> list[_Group]:
    id_type = config.get("id_filter")
    if not id_type:
        return []
    id_field = config.get("id_field", "id")

    def ids(values: dict[str, Any]) -> CollectionFilter[Any] | None:
        return CollectionFilter(field_name=id_field, values=values["ids"]) if values["ids"] else None

    param = _query("ids", Optional[_list_of(id_type)], None, description=f"Only these {id_field}s (repeatable).")
    return [_Group(defaults.ID_FILTER_DEPENDENCY_KEY, [param], ids, Optional[CollectionFilter[Any]])]


def _dates(config: FilterConfig, defaults: DependencyDefaults) -> list[_Group]:
    groups: list[_Group] = []
    for column, prefix, key in (
        ("created_at", "created", defaults.CREATED_FILTER_DEPENDENCY_KEY),
        ("updated_at", "updated", defaults.UPDATED_FILTER_DEPENDENCY_KEY),
    ):
        if not config.get(column):
            continue

        def before_after(values: dict[str, Any], column: str = column, prefix: str = prefix) -> BeforeAfter | None:
            before, after = values[f"{prefix}Before"], values[f"{prefix}After"]
            if before is None and after is None:
                return None
            return BeforeAfter(field_name=column, before=before, after=after)

        params = [
            _query(
                f"{prefix}{edge}", Optional[datetime.datetime], None, description=f"{column} {edge.lower()} (ISO 8601)."
            )
            for edge in ("Before", "After")
        ]
        groups.append(_Group(key, params, before_after, Optional[BeforeAfter]))
    return groups


def _search(config: FilterConfig, defaults: DependencyDefaults) -> list[_Group]:
    if not config.get("search"):
        return []
    fields = _names(config["search"])

    def search(values: dict[str, Any]) -> SearchFilter | None:
        if not values["searchString"]:
            return None
        return SearchFilter(
            field_name=set(fields), value=values["searchString"], ignore_case=values["searchIgnoreCase"]
        )

    params = [
        _query("searchString", Optional[str], None, description=f"Text searched in {', '.join(fields)}."),
        _query(
            "searchIgnoreCase",
            bool,
            bool(config.get("search_ignore_case", False)),
            description="Whether the search ignores case.",
        ),
    ]
    return [_Group(defaults.SEARCH_FILTER_DEPENDENCY_KEY, params, search, Optional[SearchFilter])]


def _order(config: FilterConfig, defaults: DependencyDefaults) -> list[_Group]:
    if not config.get("sort_field"):
        return []
    fields = _names(config["sort_field"])

    nulls = config.get("sort_nulls")

    def order_by(values: dict[str, Any]) -> OrderBy:
        return OrderBy(field_name=values["orderBy"], sort_order=values["sortOrder"], nulls=nulls)

    params = [
        # a Literal of the listed fields: any other value is a 400, and the schema shows them as an enum
        _query("orderBy", Literal.__getitem__(tuple(fields)), fields[0], description=f"Sort on: {', '.join(fields)}."),
        _query("sortOrder", SortOrder, config.get("sort_order", "desc"), description="asc or desc."),
    ]
    return [_Group(defaults.ORDER_BY_FILTER_DEPENDENCY_KEY, params, order_by, OrderBy)]


def _collections(config: FilterConfig, defaults: DependencyDefaults) -> list[_Group]:
    groups: list[_Group] = []
    for setting, suffix, filter_class, verb in (
        ("in_fields", "In", CollectionFilter, "one of"),
        ("not_in_fields", "NotIn", NotInCollectionFilter, "none of"),
    ):
        specs = _field_specs(config.get(setting, ()))  # type: ignore[arg-type]
        for spec in specs:
            param = f"{_camel(spec.name)}{suffix}"

            def collection(
                values: dict[str, Any], param: str = param, name: str = spec.name, cls: type[Any] = filter_class
            ) -> FilterTypes | None:
                return cast("FilterTypes", cls(field_name=name, values=values[param])) if values[param] else None

            query = _query(
                param,
                Optional[_list_of(spec.type_hint)],
                None,
                description=f"Only rows whose {spec.name} is {verb} these (repeatable).",
            )
            key = f"{spec.name}_{setting.removesuffix('_fields')}_filter"
            groups.append(_Group(key, [query], collection, Optional[filter_class]))
    return groups


def _flags_and_choices(config: FilterConfig, defaults: DependencyDefaults) -> list[_Group]:
    groups: list[_Group] = []
    for spec in _field_specs(config.get("boolean_fields", ())):
        param = _camel(spec.name)

        def boolean(values: dict[str, Any], param: str = param, name: str = spec.name) -> BooleanFilter | None:
            return None if values[param] is None else BooleanFilter(field_name=name, value=values[param])

        query = _query(param, Optional[bool], None, description=f"Only rows whose {spec.name} is true / false.")
        groups.append(_Group(f"{spec.name}_boolean_filter", [query], boolean, Optional[BooleanFilter]))
    for name, item_type in _choice_specs(config.get("choice_fields", ())):
        param = _camel(name)

        def choices(values: dict[str, Any], param: str = param, name: str = name) -> ChoicesFilter[Any] | None:
            return ChoicesFilter(field_name=name, values=values[param]) if values[param] else None

        query = _query(
            param, Optional[_list_of(item_type)], None, description=f"Only rows whose {name} is one of these."
        )
        groups.append(_Group(f"{name}_choices_filter", [query], choices, Optional[ChoicesFilter[Any]]))
    return groups


def _list_of(item_type: Any) -> Any:
    return list.__class_getitem__(item_type)


_GROUP_BUILDERS = (_pagination, _ids, _dates, _search, _order, _collections, _flags_and_choices)


def _group_provider(group: _Group) -> Provide:
    def provide_filter(**kwargs: Any) -> FilterTypes | None:
        return group.build(kwargs)

    provide_filter.__name__ = f"provide_{group.key}"
    return Provide(_with_signature(provide_filter, group.params, group.return_type), sync_to_thread=False)


def create_filter_dependencies(
    config: FilterConfig,
    dep_defaults: DependencyDefaults = DEPENDENCY_DEFAULTS,
    *,
    model_type: type[Any] | None = None,
) -> dict[str, Provide]:
    """The filter providers ``config`` enables, plus the ``filters`` list that gathers the ones in use.

    With ``model_type``, every field the settings name is checked against the model now, not at the first
    request.
    """
    _check_config(config, dep_defaults, model_type, f"filters of {model_type.__name__}" if model_type else "filters")
    groups = [group for build in _GROUP_BUILDERS for group in build(config, dep_defaults)]
    dependencies = {group.key: _group_provider(group) for group in groups}
    keys = [group.key for group in groups]

    def provide_filters(**kwargs: Any) -> list[FilterTypes]:
        return [kwargs[key] for key in keys if kwargs[key] is not None]

    params = [_dependency(key) for key in keys]
    dependencies[dep_defaults.FILTERS_DEPENDENCY_KEY] = Provide(
        _with_signature(provide_filters, params, list[FilterTypes]), sync_to_thread=False
    )
    return dependencies


def _model_of(service_class: type[Any]) -> type[Any] | None:
    repository = getattr(service_class, "repository_type", None)
    model = getattr(repository, "model_type", None)
    return model if isinstance(model, type) else None


def create_service_dependencies(
    service_class: type[Any],
    /,
    key: str,
    statement: Select[Any] | None = None,
    config: Any = None,
    load: Any = None,
    execution_options: dict[str, Any] | None = None,
    filters: FilterConfig | None = None,
    count_with_window_function: bool | None = None,
    dep_defaults: DependencyDefaults = DEPENDENCY_DEFAULTS,
) -> dict[str, Provide]:
    """Dependencies for a controller: ``service_class`` under ``key``, and ``filters`` from query parameters.

    Example::

        dependencies = create_service_dependencies(
            AuthorService,
            "authors_service",
            load=[AuthorModel.books],
            filters={"pagination_type": "limit_offset", "id_filter": UUID, "search": "name"},
        )
    """
    if not re.fullmatch(r"[A-Za-z_]\w*", key):
        raise ConfigError(f"create_service_dependencies: key {key!r} is not a valid parameter name")
    provider = create_service_provider(
        service_class,
        statement=statement,
        config=config,
        load=load,
        execution_options=execution_options,
        count_with_window_function=count_with_window_function,
    )
    dependencies = {key: Provide(provider, sync_to_thread=False)}
    if filters:
        dependencies.update(create_filter_dependencies(filters, dep_defaults, model_type=_model_of(service_class)))
    return dependencies
