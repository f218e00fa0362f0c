"""Data conversion shared by the sync and async services: inputs → field dicts, models → schemas."""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from dbops.errors import FilterError, RepositoryError
from dbops.filters import LimitOffset

__all__ = ["OffsetPagination", "is_dto_data", "is_schema_data", "schema_dump", "to_schema_value"]

T = TypeVar("T")


@dataclass
class OffsetPagination(Generic[T]):
    """One page of results: ``items``, the ``limit`` and ``offset`` that produced it, and the ``total`` count."""

    items: Sequence[T]
    limit: int
    offset: int
    total: int


def _msgspec() -> Any:
    try:
        import msgspec
    except ImportError:  # optional: pip install 'dbops[msgspec]'
        return None
    return msgspec


def _attrs() -> Any:
    try:
        import attrs
    except ImportError:  # optional: pip install 'dbops[attrs]'
        return None
    return attrs


def _is_pydantic(value: Any) -> bool:
    return hasattr(value, "model_dump") and hasattr(type(value), "model_fields")


def is_dto_data(value: Any) -> bool:
    """Whether ``value`` is Litestar's ``DTOData`` (what a handler with a write DTO receives as ``data``).

    Looked up in ``sys.modules`` rather than imported: dbops doesn't depend on Litestar, and a ``DTOData`` can
    only exist once Litestar has been imported.
    """
    module = sys.modules.get("litestar.dto.data_structures")
    return module is not None and isinstance(value, module.DTOData)


def is_schema_data(value: Any) -> bool:
    """Whether ``value`` is input data the service can turn into model fields (not a model instance)."""
    if isinstance(value, dict) or _is_pydantic(value):
        return True
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return True
    msgspec = _msgspec()
    if msgspec is not None and isinstance(value, msgspec.Struct):
        return True
    attrs = _attrs()
    return attrs is not None and attrs.has(type(value))


def schema_dump(data: Any, exclude_unset: bool = True) -> dict[str, Any]:
    """The fields of ``data`` (dict, pydantic model, msgspec Struct, dataclass or attrs instance) as a dict.

    With ``exclude_unset``, only what the input set: pydantic's ``model_fields_set``, msgspec fields that are
    not ``msgspec.UNSET``; dicts carry only their keys anyway. Dataclasses and attrs classes don't record what
    was set, so all their fields count.
    """
    if isinstance(data, dict):
        return dict(data)
    if _is_pydantic(data):
        dumped: dict[str, Any] = data.model_dump(exclude_unset=exclude_unset)
        return dumped
    msgspec = _msgspec()
    if msgspec is not None and isinstance(data, msgspec.Struct):
        values = {name: getattr(data, name) for name in data.__struct_fields__}
        return {k: v for k, v in values.items() if v is not msgspec.UNSET}
    if dataclasses.is_dataclass(data) and not isinstance(data, type):
        return {f.name: getattr(data, f.name) for f in dataclasses.fields(data)}
    attrs = _attrs()
    if attrs is not None and attrs.has(type(data)):
        return {f.name: getattr(data, f.name) for f in attrs.fields(type(data))}
    raise RepositoryError(
        f"cannot turn a {type(data).__name__} into model fields: pass a model instance, a dict, a pydantic model, "
        "a msgspec Struct, a dataclass or an attrs instance"
    )


def model_kwargs(model_type: type[Any], values: dict[str, Any]) -> dict[str, Any]:
    """``values`` checked against ``model_type``'s attributes (``FilterError`` naming an unknown field)."""
    from sqlalchemy import inspect

    mapper = inspect(model_type)
    known = set(mapper.attrs.keys()) | {k for k, v in mapper.all_orm_descriptors.items() if v is not None}
    for key in values:
        if key not in known:
            raise FilterError(
                f"{model_type.__name__} has no field {key!r} (fields: {', '.join(sorted(mapper.column_attrs.keys()))})",
                model=model_type.__name__,
                field=key,
            )
    return values


def to_schema_value(obj: Any, schema_type: Any) -> Any:
    """``obj`` (a model instance) as ``schema_type``: pydantic, msgspec, dataclass, attrs, or itself if ``None``."""
    if schema_type is None:
        return obj
    if hasattr(schema_type, "model_validate"):
        return schema_type.model_validate(obj, from_attributes=True)
    msgspec = _msgspec()
    if msgspec is not None and isinstance(schema_type, type) and issubclass(schema_type, msgspec.Struct):
        return msgspec.convert(obj, type=schema_type, from_attributes=True)
    if isinstance(schema_type, type) and dataclasses.is_dataclass(schema_type):
        names = [f.name for f in dataclasses.fields(schema_type) if f.init]
        return schema_type(**{name: getattr(obj, name) for name in names if hasattr(obj, name)})
    attrs = _attrs()
    if attrs is not None and attrs.has(schema_type):
        names = [f.name for f in attrs.fields(schema_type) if f.init]
        return schema_type(**{name: getattr(obj, name) for name in names if hasattr(obj, name)})
    raise RepositoryError(
        f"to_schema: unsupported schema_type {schema_type!r} (use a pydantic model, msgspec Struct, dataclass, attrs)"
    )


def paginate(items: Sequence[Any], total: int | None, filters: Sequence[Any] | None, schema_type: Any) -> Any:
    limit_offset = next((f for f in filters or () if isinstance(f, LimitOffset)), None)
    converted = [to_schema_value(item, schema_type) for item in items]
    return OffsetPagination(
        items=converted,
        limit=limit_offset.limit if limit_offset is not None else len(converted),
        offset=limit_offset.offset if limit_offset is not None else 0,
        total=total if total is not None else len(converted),
    )
