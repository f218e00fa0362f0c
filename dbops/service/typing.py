"""What a service's input may be, and predicates to tell the kinds apart in ``to_model_on_*`` hooks.

Advanced Alchemy apps write hooks such as ``if is_dict_without_field(data, "slug"): data["slug"] = ...``;
these are the same tests under the same names (plain ``isinstance`` / attribute checks, no copies).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from typing import Any, TypeAlias, TypeGuard, TypeVar, Union

from dbops.service._util import _attrs, _is_pydantic, _msgspec, is_dto_data

__all__ = [
    "BulkModelDictT",
    "FilterTypeT",
    "ModelDTOT",
    "ModelDictListT",
    "ModelDictT",
    "find_filter",
    "is_attrs_instance",
    "is_attrs_instance_with_field",
    "is_attrs_instance_without_field",
    "is_attrs_schema",
    "is_dataclass",
    "is_dataclass_with_field",
    "is_dataclass_without_field",
    "is_dict",
    "is_dict_with_field",
    "is_dict_without_field",
    "is_dto_data",
    "is_msgspec_struct",
    "is_msgspec_struct_with_field",
    "is_msgspec_struct_without_field",
    "is_pydantic_model",
    "is_pydantic_model_with_field",
    "is_pydantic_model_without_field",
    "is_schema",
    "is_schema_or_dict",
    "is_schema_or_dict_with_field",
    "is_schema_or_dict_without_field",
    "is_schema_with_field",
    "is_schema_without_field",
    "model_from_dict",
]

ModelT = TypeVar("ModelT")
ModelDTOT = TypeVar("ModelDTOT")
"""A schema type ``to_schema`` converts to."""
FilterTypeT = TypeVar("FilterTypeT")
"""A filter class, for ``find_filter``."""

ModelDictT: TypeAlias = Union[ModelT, dict[str, Any], Any]
"""What ``create`` / ``update`` / ``upsert`` take: a model, a dict, a schema (pydantic, msgspec, dataclass, attrs)
or Litestar's ``DTOData``."""
ModelDictListT: TypeAlias = Sequence[Union[ModelT, dict[str, Any], Any]]
"""What ``create_many`` / ``update_many`` / ``upsert_many`` take."""
BulkModelDictT: TypeAlias = Sequence[Union[ModelT, dict[str, Any], Any]]


def is_dict(value: Any) -> TypeGuard[dict[str, Any]]:
    return isinstance(value, dict)


def is_dict_with_field(value: Any, field_name: str) -> TypeGuard[dict[str, Any]]:
    return isinstance(value, dict) and field_name in value


def is_dict_without_field(value: Any, field_name: str) -> TypeGuard[dict[str, Any]]:
    return isinstance(value, dict) and field_name not in value


def is_pydantic_model(value: Any) -> bool:
    return _is_pydantic(value)


def is_pydantic_model_with_field(value: Any, field_name: str) -> bool:
    return _is_pydantic(value) and hasattr(value, field_name)


def is_pydantic_model_without_field(value: Any, field_name: str) -> bool:
    return _is_pydantic(value) and not hasattr(value, field_name)


def is_msgspec_struct(value: Any) -> bool:
    msgspec = _msgspec()
    return msgspec is not None and isinstance(value, msgspec.Struct)


def is_msgspec_struct_with_field(value: Any, field_name: str) -> bool:
    return is_msgspec_struct(value) and field_name in value.__struct_fields__


def is_msgspec_struct_without_field(value: Any, field_name: str) -> bool:
    return is_msgspec_struct(value) and field_name not in value.__struct_fields__


def is_attrs_instance(value: Any) -> bool:
    attrs = _attrs()
    return attrs is not None and attrs.has(type(value))


def is_attrs_schema(cls: Any) -> bool:
    attrs = _attrs()
    return attrs is not None and isinstance(cls, type) and attrs.has(cls)


def is_attrs_instance_with_field(value: Any, field_name: str) -> bool:
    return is_attrs_instance(value) and hasattr(value, field_name)


def is_attrs_instance_without_field(value: Any, field_name: str) -> bool:
    return is_attrs_instance(value) and not hasattr(value, field_name)


def is_dataclass(value: Any) -> bool:
    return dataclasses.is_dataclass(value) and not isinstance(value, type)


def is_dataclass_with_field(value: Any, field_name: str) -> bool:
    return is_dataclass(value) and hasattr(value, field_name)


def is_dataclass_without_field(value: Any, field_name: str) -> bool:
    return is_dataclass(value) and not hasattr(value, field_name)


def is_schema(value: Any) -> bool:
    """A pydantic model or msgspec Struct instance (what Advanced Alchemy calls a schema)."""
    return is_pydantic_model(value) or is_msgspec_struct(value)


def is_schema_with_field(value: Any, field_name: str) -> bool:
    return is_pydantic_model_with_field(value, field_name) or is_msgspec_struct_with_field(value, field_name)


def is_schema_without_field(value: Any, field_name: str) -> bool:
    return is_pydantic_model_without_field(value, field_name) or is_msgspec_struct_without_field(value, field_name)


def is_schema_or_dict(value: Any) -> bool:
    return is_schema(value) or is_dict(value)


def is_schema_or_dict_with_field(value: Any, field_name: str) -> bool:
    return is_schema_with_field(value, field_name) or is_dict_with_field(value, field_name)


def is_schema_or_dict_without_field(value: Any, field_name: str) -> bool:
    return is_schema_without_field(value, field_name) or is_dict_without_field(value, field_name)


def find_filter(filter_type: type[FilterTypeT], filters: Iterable[Any]) -> FilterTypeT | None:
    """The first filter of ``filter_type`` among ``filters`` (``find_filter(LimitOffset, filters)``), or ``None``."""
    return next((item for item in filters if isinstance(item, filter_type)), None)


def model_from_dict(model: type[ModelT], **kwargs: Any) -> ModelT:
    """``model(**kwargs)`` with only the keys that are mapped attributes of ``model`` (others are dropped, as in
    Advanced Alchemy; the service's own conversion refuses them instead)."""
    from sqlalchemy import inspect

    known = set(inspect(model).attrs.keys())
    return model(**{key: value for key, value in kwargs.items() if key in known})
