"""``SQLAlchemyDTO[Model]``: a Litestar DTO for mapped classes (columns, relationships, read-only properties).

This is the backend the serialization plugin uses so handlers can return models. Column defaults that the
database or SQLAlchemy fills (primary keys, server defaults) are optional on input.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Generic, TypeVar, get_args, get_origin

from litestar.dto.base_dto import AbstractDTO
from litestar.dto.data_structures import DTOFieldDefinition
from litestar.dto.field import DTOField, Mark
from litestar.types.empty import Empty
from litestar.typing import FieldDefinition

if TYPE_CHECKING:
    from sqlalchemy.orm import Mapper

__all__ = ["SQLAlchemyDTO"]

T = TypeVar("T")


def _unwrap_mapped(field_definition: FieldDefinition) -> FieldDefinition:
    """``Mapped[X]`` (and friends) → ``X``; anything else unchanged."""
    from sqlalchemy.orm import Mapped

    annotation = field_definition.annotation
    origin = get_origin(annotation)
    if origin is not None and isinstance(origin, type) and issubclass(origin, Mapped):
        return FieldDefinition.from_kwarg(annotation=get_args(annotation)[0], name=field_definition.name)
    return field_definition


class SQLAlchemyDTO(AbstractDTO[T], Generic[T]):
    """A DTO over a mapped class: its column attributes, relationships and public ``@property`` values."""

    @classmethod
    def generate_field_definitions(cls, model_type: type[Any]) -> Generator[DTOFieldDefinition, None, None]:
        from sqlalchemy import inspect as sa_inspect

        mapper: Mapper[Any] = sa_inspect(model_type)
        hints = cls.get_model_type_hints(model_type)
        for attribute in mapper.column_attrs:
            name = attribute.key
            column = attribute.columns[0]
            hint = hints.get(name)
            if hint is not None:
                definition = _unwrap_mapped(hint)
            else:
                python_type: Any
                try:
                    python_type = column.type.python_type
                except NotImplementedError:
                    python_type = Any
                definition = FieldDefinition.from_kwarg(
                    annotation=python_type | None if column.nullable else python_type,
                    name=name,
                )
            filled_by_database = column.primary_key or column.default is not None or column.server_default is not None
            yield replace(
                DTOFieldDefinition.from_field_definition(
                    definition,
                    model_name=model_type.__name__,
                    default_factory=None,
                    dto_field=DTOField(mark=Mark.READ_ONLY) if column.computed is not None else DTOField(),
                ),
                name=name,
                default=None if filled_by_database or column.nullable else Empty,
            )
        for relationship in mapper.relationships:
            hint = hints.get(relationship.key)
            if hint is None:
                continue
            yield replace(
                DTOFieldDefinition.from_field_definition(
                    _unwrap_mapped(hint),
                    model_name=model_type.__name__,
                    default_factory=None,
                    dto_field=DTOField(),
                ),
                name=relationship.key,
                default=None if not relationship.uselist else Empty,
                default_factory=list if relationship.uselist else None,
            )
        for name, property_field in cls.get_property_fields(model_type).items():
            if name.startswith("_"):
                continue
            yield DTOFieldDefinition.from_field_definition(
                property_field,
                model_name=model_type.__name__,
                default_factory=None,
                dto_field=DTOField(mark=Mark.READ_ONLY),
            )

    @classmethod
    def detect_nested_field(cls, field_definition: FieldDefinition) -> bool:
        return getattr(field_definition.annotation, "__mapper__", None) is not None
