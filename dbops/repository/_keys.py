"""Which row an ``item_id`` names: one attribute's value, or a whole composite primary key.

As in Advanced Alchemy, a model whose primary key has several columns takes its key as a tuple in column order
(``get((1, "math"))``) or as a dict (``get({"student_id": 1, "course": "math"})``); any other model, or any call
with ``id_attribute=``, takes the value of that one attribute. The repository and the service both ask here, so
they read keys the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dbops.errors import RepositoryError
from dbops.repository._statements import model_info

__all__ = ["attribute_name", "is_composite", "key_fields", "key_names", "key_of", "set_key"]


def attribute_name(id_attribute: Any) -> str | None:
    """``id_attribute`` as an attribute name: a model attribute (``Model.slug``) becomes ``"slug"``."""
    if id_attribute is None or isinstance(id_attribute, str):
        return id_attribute
    key = getattr(id_attribute, "key", None)
    return key if isinstance(key, str) else str(id_attribute)


def is_composite(model: type[Any], id_attribute: Any, default: str) -> bool:
    """Whether keys of ``model`` are whole composite primary keys: several primary-key columns, no
    ``id_attribute`` given for the call, and no column by the repository's default name (``id``)."""
    info = model_info(model)
    return (
        attribute_name(id_attribute) is None and len(info.primary_key) > 1 and default not in info.mapper.column_attrs
    )


def key_names(model: type[Any], id_attribute: Any, default: str) -> list[str]:
    """The attributes a key of ``model`` sets: the whole composite primary key, or the one id attribute."""
    if is_composite(model, id_attribute, default):
        return list(model_info(model).primary_key)
    return [attribute_name(id_attribute) or default]


def key_fields(model: type[Any], item_id: Any, *, id_attribute: Any, default: str) -> dict[str, Any]:
    """The attribute → value pairs that pick out the row ``item_id`` names."""
    name = attribute_name(id_attribute)
    if name is not None:
        return {name: item_id}
    primary_key = model_info(model).primary_key
    if len(primary_key) > 1 and (isinstance(item_id, (tuple, list, dict)) or is_composite(model, None, default)):
        if isinstance(item_id, Mapping) and set(item_id) == set(primary_key):
            return {key: item_id[key] for key in primary_key}
        if isinstance(item_id, (tuple, list)) and len(item_id) == len(primary_key):
            return dict(zip(primary_key, item_id, strict=True))
        raise RepositoryError(
            f"{model.__name__} has a composite primary key ({', '.join(primary_key)}): give it as a tuple "
            f"({', '.join(primary_key)}) or a dict {{{', '.join(repr(k) + ': ...' for k in primary_key)}}}, "
            f"not {item_id!r}",
            model=model.__name__,
        )
    if isinstance(item_id, Mapping) and len(item_id) == 1 and next(iter(item_id)) in (default, *primary_key):
        return dict(item_id)
    return {default: item_id}


def key_of(model: type[Any], values: Mapping[str, Any], *, id_attribute: Any, default: str) -> Any:
    """The key ``values`` (the fields of an instance or input) carry, as ``key_fields`` takes it: a tuple for a
    composite primary key, the one attribute's value otherwise; ``None`` when a part of it is missing."""
    if is_composite(model, id_attribute, default):
        key = tuple(values.get(name) for name in model_info(model).primary_key)
        return None if any(part is None for part in key) else key
    return values.get(attribute_name(id_attribute) or default)


def set_key(model: type[Any], instance: Any, item_id: Any, *, id_attribute: Any, default: str) -> None:
    """Give ``instance`` the key ``item_id``."""
    for name, value in key_fields(model, item_id, id_attribute=id_attribute, default=default).items():
        setattr(instance, name, value)
