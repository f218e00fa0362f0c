"""``SQLAlchemyDTO[Model]``: a Litestar DTO backend for SQLAlchemy models.

Fields come from the model's mapper (columns, relationships, hybrid properties, association proxies) and from
plain ``@property`` / ``@functools.cached_property`` members of the model and its mixins, which are read-only.
``DTOConfig`` (``exclude``, ``include``, ``rename_fields``, ``rename_strategy``, ``partial``,
``max_nested_depth``) works as for Litestar's own DTOs, and takes model attributes (``AuthorModel.books``) as
well as names; ``SQLAlchemyDTOConfig`` adds ``include_implicit_fields``.

How each member becomes a field:

- a column: its ``Mapped[...]`` annotation (or the column's Python type), with the column's scalar or callable
  default; nullable columns and autoincrement integer primary keys default to ``None``; computed columns and
  columns a ``MappedAsDataclass`` model leaves out of ``__init__`` are read-only;
- a relationship (``Mapped[...]``, ``Relationship[...]`` or no annotation): the related model as a nested DTO
  (down to ``DTOConfig.max_nested_depth``); collections default to empty, nullable many-to-one to ``None``;
  ``viewonly`` ones are read-only; a dynamic one (``lazy="dynamic"`` / ``DynamicMapped[X]``) is a list of X,
  read by running its query and written by assigning the list; write-only ones (which only an explicit
  ``select()`` can read) are left out;
- a hybrid property: typed by the getter's return annotation; read-only without a setter; with one, writable
  as in Advanced Alchemy (the constructor calls the setter) and so required on write unless the DTO is partial;
- a ``@property`` / ``@cached_property`` not starting with ``_`` and not already an SQLAlchemy attribute:
  read-only (a setter does not make it writable), typed by the return annotation (``Any`` without one).

``info=dto_field("read-only")`` on a column / relationship / hybrid (or ``Annotated[T, DTOField(...)]``)
overrides these marks.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect as pyinspect
import sys
import typing
from collections.abc import Callable, Generator, Mapping
from collections.abc import Set as AbstractSet
from typing import Any, ClassVar, Generic, Literal, Optional, TypeVar, Union

import sqlalchemy.orm
from litestar.dto.base_dto import AbstractDTO
from litestar.dto.config import DTOConfig
from litestar.dto.data_structures import DTOFieldDefinition
from litestar.dto.field import DTOField, Mark, extract_dto_field
from litestar.types.empty import Empty
from litestar.typing import FieldDefinition
from sqlalchemy import Column, inspect
from sqlalchemy.ext.associationproxy import AssociationProxy
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import (
    ColumnProperty,
    CompositeProperty,
    DynamicMapped,
    Mapped,
    Mapper,
    QueryableAttribute,
    Relationship,
    RelationshipDirection,
    RelationshipProperty,
    WriteOnlyMapped,
)
from sqlalchemy.sql.schema import Computed

from dbops.errors import ConfigError

__all__ = ["SQLAlchemyDTO", "SQLAlchemyDTOConfig"]

T = TypeVar("T")


def _attribute_key(name: Any) -> Any:
    """A model attribute (``AuthorModel.name``) as its field name; anything else as it is."""
    return name.key if isinstance(name, QueryableAttribute) else name


@dataclasses.dataclass(frozen=True)
class SQLAlchemyDTOConfig(DTOConfig):
    """``DTOConfig`` with two SQLAlchemy-specific controls (the names Advanced Alchemy uses).

    ``exclude``, ``include`` and ``rename_fields`` take model attributes (``AuthorModel.books``) as well as
    names; a plain ``DTOConfig`` given to ``SQLAlchemyDTO`` accepts them too. ``include_implicit_fields=False``
    leaves out every mapped attribute the model does not annotate (``name = mapped_column(String)`` without a
    ``Mapped[...]`` annotation, imperatively mapped columns); ``"hybrid-only"`` keeps the hybrids among them.
    An attribute marked with ``dto_field(...)`` is kept either way.
    """

    exclude: AbstractSet[Any] = dataclasses.field(default_factory=set)
    include: AbstractSet[Any] = dataclasses.field(default_factory=set)
    rename_fields: dict[Any, str] = dataclasses.field(default_factory=dict)
    include_implicit_fields: Union[bool, Literal["hybrid-only"]] = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "exclude", {_attribute_key(name) for name in self.exclude})
        object.__setattr__(self, "include", {_attribute_key(name) for name in self.include})
        object.__setattr__(self, "rename_fields", {_attribute_key(k): v for k, v in self.rename_fields.items()})
        super().__post_init__()


def _sqlalchemy_config(config: DTOConfig) -> SQLAlchemyDTOConfig:
    """``config`` as an ``SQLAlchemyDTOConfig`` (attributes turned into names), field by field: not through
    ``dataclasses.asdict``, which deep-copies the attributes (and fails on them)."""
    if isinstance(config, SQLAlchemyDTOConfig):
        return config
    values = {f.name: getattr(config, f.name) for f in dataclasses.fields(config) if f.init}
    return SQLAlchemyDTOConfig(**values)


class SQLAlchemyDTO(AbstractDTO[T], Generic[T]):
    """A DTO for an SQLAlchemy mapped class: ``SQLAlchemyDTO[AuthorModel]``.

    Narrow it with ``DTOConfig`` as for any Litestar DTO::

        class AuthorReadDTO(SQLAlchemyDTO[AuthorModel]):
            config = DTOConfig(exclude={"books"}, rename_strategy="camel", max_nested_depth=0)
    """

    config: ClassVar[DTOConfig]

    @classmethod
    def get_config_for_model_type(cls, config: DTOConfig, model_type: type[Any]) -> DTOConfig:
        return _sqlalchemy_config(config)

    @classmethod
    def generate_field_definitions(cls, model_type: type[Any]) -> Generator[DTOFieldDefinition, None, None]:
        mapper = _mapper_of(model_type)
        if mapper is None:
            raise ConfigError(f"SQLAlchemyDTO[{model_type!r}]: not an SQLAlchemy mapped class")
        model = _ModelInfo(model_type, mapper)
        config = getattr(cls, "config", None)
        implicit: bool | str = config.include_implicit_fields if isinstance(config, SQLAlchemyDTOConfig) else True

        composite_columns = {
            col.key for composite in mapper.composites for col in composite.columns if isinstance(col, Column)
        }
        seen_hybrids: set[int] = set()
        for key, descriptor in mapper.all_orm_descriptors.items():
            if key == "__mapper__" or key in composite_columns:
                continue
            hybrid_kept = implicit == "hybrid-only" and isinstance(descriptor, hybrid_property)
            if (
                implicit is not True
                and not hybrid_kept
                and key not in model.annotations
                and not model.marked(descriptor)
            ):
                continue  # include_implicit_fields: mapped, but not annotated on the model
            if isinstance(descriptor, hybrid_property):
                # one hybrid is listed once per name its getter/setter/expression was bound to
                if id(descriptor) in seen_hybrids:
                    continue
                seen_hybrids.add(id(descriptor))
                yield model.hybrid_field(descriptor)
            elif isinstance(descriptor, AssociationProxy):
                yield model.association_proxy_field(key, descriptor)
            elif isinstance(descriptor, QueryableAttribute):
                field = model.attribute_field(key, descriptor)
                if field is not None:
                    yield field
            else:
                raise ConfigError(
                    f"SQLAlchemyDTO[{model_type.__name__}]: attribute {key!r} is a {type(descriptor).__name__}, "
                    "which SQLAlchemyDTO does not support; exclude it with DTOConfig(exclude={...})"
                )

        yield from model.property_fields()

    @classmethod
    def detect_nested_field(cls, field_definition: FieldDefinition) -> bool:
        return _mapper_of(field_definition.annotation) is not None


def _mapper_of(obj: Any) -> Mapper[Any] | None:
    if not isinstance(obj, type):
        return None
    found: Any = inspect(obj, raiseerr=False)
    return found if isinstance(found, Mapper) else None


class _ModelInfo:
    """Resolves the annotations and defaults of one mapped class, one attribute at a time.

    Annotations are resolved per attribute (not with one ``get_type_hints`` over the whole class) so one
    unresolvable annotation on an unrelated mixin does not break the DTO for every other field.
    """

    def __init__(self, model_type: type[Any], mapper: Mapper[Any]) -> None:
        self.model_type = model_type
        self.name = model_type.__name__
        self.mapper = mapper
        # annotations may name SQLAlchemy's and typing's names, or any class of the same registry, without
        # importing them at runtime (``from __future__ import annotations`` plus TYPE_CHECKING imports)
        self.namespace: dict[str, Any] = {"typing": typing, **vars(typing), **vars(sqlalchemy.orm)}
        self.namespace.update({m.class_.__name__: m.class_ for m in mapper.registry.mappers})
        self.annotations: dict[str, tuple[type[Any], Any]] = {}
        for klass in reversed(model_type.__mro__):
            for key, annotation in pyinspect.get_annotations(klass).items():
                self.annotations[key] = (klass, annotation)
        self.dataclass_fields: dict[str, dataclasses.Field[Any]] = (
            {f.name: f for f in dataclasses.fields(model_type)} if dataclasses.is_dataclass(model_type) else {}
        )

    def marked(self, descriptor: Any) -> bool:
        """Whether ``descriptor`` carries a ``dto_field(...)`` mark (on its property, column or itself)."""
        from litestar.dto.field import DTO_FIELD_META_KEY

        prop = getattr(descriptor, "property", None)
        holders = [getattr(prop, "info", None), getattr(getattr(prop, "expression", None), "info", None)]
        holders.append(getattr(descriptor, "info", None))
        return any(isinstance(info, Mapping) and DTO_FIELD_META_KEY in info for info in holders)

    # --- type resolution -----------------------------------------------------------------------------------

    def _resolve(self, owner: Any, name: str, annotation: Any) -> Any:
        """``annotation`` (found on ``owner``) evaluated in ``owner``'s module; raises if a name is unknown."""
        module = sys.modules.get(getattr(owner, "__module__", ""), None)
        holder = type("_Holder", (), {"__annotations__": {name: annotation}})
        globalns = dict(vars(module)) if module is not None else {}
        return typing.get_type_hints(holder, globalns=globalns, localns=self.namespace, include_extras=True)[name]

    def hint(self, key: str) -> FieldDefinition | None:
        """The model's own annotation for ``key`` with ``Mapped[...]`` unwrapped, if it has a usable one."""
        if key not in self.annotations:
            return None
        owner, annotation = self.annotations[key]
        try:
            resolved = self._resolve(owner, key, annotation)
        except Exception as exc:
            raise ConfigError(
                f"SQLAlchemyDTO[{self.name}]: cannot resolve the annotation of {key!r} ({annotation!r}): {exc}"
            ) from exc
        field = FieldDefinition.from_kwarg(annotation=resolved, name=key)
        if field.origin in (Mapped, WriteOnlyMapped, DynamicMapped, Relationship):
            (field,) = field.inner_types
        return field

    def return_type(self, fn: Callable[..., Any] | None) -> Any:
        """The return annotation of ``fn``, or ``Any`` when it has none or it cannot be resolved."""
        annotation = pyinspect.get_annotations(fn).get("return") if fn is not None else None
        if annotation is None:
            return Any
        try:
            return self._resolve(fn, "return", annotation)
        except Exception:
            # a property typed with a name only imported under TYPE_CHECKING is still served, untyped
            return Any

    # --- field builders ------------------------------------------------------------------------------------

    def _field(
        self,
        key: str,
        field: FieldDefinition,
        *,
        default: Any = Empty,
        default_factory: Callable[[], Any] | None = None,
        info: Mapping[str, Any] | None = None,
        mark: Mark | None = None,
    ) -> DTOFieldDefinition:
        dto_field = extract_dto_field(field, info or {})
        if dto_field.mark is None and mark is not None:
            dto_field = DTOField(mark=mark)
        return DTOFieldDefinition.from_field_definition(
            field_definition=dataclasses.replace(field, name=key, default=default),
            model_name=self.name,
            default_factory=default_factory,
            dto_field=dto_field,
        )

    def attribute_field(self, key: str, descriptor: QueryableAttribute[Any]) -> DTOFieldDefinition | None:
        prop = descriptor.property
        if isinstance(prop, ColumnProperty):
            return self.column_field(key, prop)
        if isinstance(prop, RelationshipProperty):
            return self.relationship_field(key, prop)
        if isinstance(prop, CompositeProperty):
            field = self.hint(key) or FieldDefinition.from_annotation(prop.composite_class)
            return self._field(key, field, info=prop.info, **self.dataclass_default(key))
        raise ConfigError(
            f"SQLAlchemyDTO[{self.name}]: attribute {key!r} is a {type(prop).__name__}, which SQLAlchemyDTO "
            "does not support; exclude it with DTOConfig(exclude={...})"
        )

    def column_field(self, key: str, prop: ColumnProperty[Any]) -> DTOFieldDefinition:
        expression = prop.expression
        info: dict[str, Any] = {**prop.info}
        mark: Mark | None = None
        default: Any = Empty
        default_factory: Callable[[], Any] | None = None
        if isinstance(expression, Column):
            info = {**expression.info, **info}
            field = self.hint(key) or FieldDefinition.from_annotation(_column_python_type(expression))
            default, default_factory = _column_default(expression)
            if isinstance(expression.computed, Computed):
                mark = Mark.READ_ONLY
        else:
            # column_property(<SQL expression>): computed by the database, never written
            field = self.hint(key) or FieldDefinition.from_annotation(_column_python_type(expression))
            mark = Mark.READ_ONLY
        if self.dataclass_fields:
            dc = self.dataclass_default(key)
            if dc:
                default, default_factory = dc.get("default", Empty), dc.get("default_factory")
            if key in self.dataclass_fields and not self.dataclass_fields[key].init:
                mark = Mark.READ_ONLY
        return self._field(key, field, default=default, default_factory=default_factory, info=info, mark=mark)

    def relationship_field(self, key: str, prop: RelationshipProperty[Any]) -> DTOFieldDefinition | None:
        if prop.lazy == "write_only":
            return None  # reading one needs an explicit select(); there is no value to serialize
        field = self.hint(key)
        target = prop.mapper.class_
        if prop.lazy == "dynamic":
            # ``DynamicMapped[Book]`` names the element, but the attribute is a query over many: a list of them,
            # read by running the query (in the request's session), written by assigning the list.
            field = FieldDefinition.from_annotation(list[target])  # type: ignore[valid-type]
        default: Any = Empty
        default_factory: Callable[[], Any] | None = None
        if prop.uselist:
            collection: Any = prop.collection_class or list
            if field is None:
                origin = collection if isinstance(collection, type) else list
                field = FieldDefinition.from_annotation(origin[target])  # type: ignore[index]
            factory = collection if callable(collection) else list
            default_factory = factory
        else:
            nullable = prop.direction is not RelationshipDirection.MANYTOONE or all(
                c.nullable for c in prop.local_columns
            )
            if field is None:
                field = FieldDefinition.from_annotation(Optional[target] if nullable else target)
            if nullable:
                default = None
        mark = Mark.READ_ONLY if prop.viewonly else None
        if key in self.dataclass_fields and not self.dataclass_fields[key].init:
            mark = Mark.READ_ONLY
        dc = self.dataclass_default(key)
        if dc:
            default, default_factory = dc.get("default", Empty), dc.get("default_factory")
        return self._field(key, field, default=default, default_factory=default_factory, info=prop.info, mark=mark)

    def hybrid_field(self, hybrid: hybrid_property[Any]) -> DTOFieldDefinition:
        name = hybrid.__name__
        info = hybrid.info
        getter = FieldDefinition.from_annotation(self.return_type(hybrid.fget))
        # With a setter the field is writable, as in Advanced Alchemy: the body's value goes to the constructor,
        # which calls the setter. It is then required on write (unless the DTO is partial): a non-partial DTO
        # passes every field to the constructor, so an absent one would reach the setter as a default.
        return self._field(name, getter, info=info, mark=None if hybrid.fset is not None else Mark.READ_ONLY)

    def association_proxy_field(self, key: str, proxy: AssociationProxy[Any]) -> DTOFieldDefinition:
        field = self.hint(key)
        if field is not None and field.origin is AssociationProxy:
            (field,) = field.inner_types
        return self._field(key, field or FieldDefinition.from_annotation(Any), info=proxy.info, mark=Mark.READ_ONLY)

    def property_fields(self) -> Generator[DTOFieldDefinition, None, None]:
        """Read-only fields for the public ``@property`` / ``@cached_property`` members of the model and mixins."""
        seen: set[str] = set(self.mapper.all_orm_descriptors.keys())
        for klass in self.model_type.__mro__:
            if klass is object or klass.__module__.partition(".")[0] == "sqlalchemy":
                continue
            for name, member in vars(klass).items():
                if name in seen:
                    continue
                # the first class in the MRO that defines a name owns it, whatever it is
                seen.add(name)
                if name.startswith("_"):
                    continue
                if isinstance(member, property):
                    fn = member.fget
                elif isinstance(member, functools.cached_property):
                    fn = member.func
                else:
                    continue
                field = FieldDefinition.from_annotation(self.return_type(fn))
                yield self._field(name, field, mark=Mark.READ_ONLY)

    # --- defaults ------------------------------------------------------------------------------------------

    def dataclass_default(self, key: str) -> dict[str, Any]:
        """``default`` / ``default_factory`` of a ``MappedAsDataclass`` field, when it declares one."""
        dc_field = self.dataclass_fields.get(key)
        if dc_field is None:
            return {}
        if dc_field.default is not dataclasses.MISSING:
            return {"default": dc_field.default}
        if dc_field.default_factory is not dataclasses.MISSING:
            return {"default_factory": dc_field.default_factory}
        return {}


def _column_python_type(expression: Any) -> Any:
    try:
        python_type: Any = expression.type.python_type
    except (AttributeError, NotImplementedError):
        python_type = Any
    if getattr(expression, "nullable", False):
        return python_type | None if python_type is not Any else Any
    return python_type


def _column_default(column: Column[Any]) -> tuple[Any, Callable[[], Any] | None]:
    """The DTO default for ``column``: its Python-side default, else ``None`` where the database fills it in."""
    sqla_default = column.default
    if sqla_default is not None:
        if sqla_default.is_scalar:
            return getattr(sqla_default, "arg", Empty), None
        # SQLAlchemy wraps a zero-argument callable to take an execution context and keeps the original as
        # __wrapped__; a callable that needs the context cannot run outside a flush, so the field stays required
        original = getattr(getattr(sqla_default, "arg", None), "__wrapped__", None)
        if sqla_default.is_callable and callable(original):
            return Empty, original
    if column.nullable:
        return None, None
    if column.primary_key and column.autoincrement in (True, "auto") and column is _autoincrement_column(column):
        return None, None
    if column.identity is not None:
        return None, None
    return Empty, None


def _autoincrement_column(column: Column[Any]) -> Column[Any] | None:
    """The column the database numbers by itself on insert (SQLAlchemy's own choice), if any."""
    found: Column[Any] | None = getattr(column.table, "_autoincrement_column", None)
    return found
