"""Services: a repository plus input conversion, partial updates and response shaping.

>>> from dbops import repository, service
>>> class AuthorService(service.SQLAlchemyAsyncRepositoryService[AuthorModel]):
...     class Repo(repository.SQLAlchemyAsyncRepository[AuthorModel]):
...         model_type = AuthorModel
...     repository_type = Repo
>>> results, total = await AuthorService(session).list_and_count(*filters)
>>> page = AuthorService(session).to_schema(results, total, filters=filters, schema_type=Author)

``page`` is an ``OffsetPagination[Author]`` (``items``, ``limit``, ``offset``, ``total``).
"""

from __future__ import annotations

from dbops.repository._statements import LoadSpec, OrderingPair
from dbops.service._async import ModelT, SQLAlchemyAsyncRepositoryService
from dbops.service._sync import SQLAlchemySyncRepositoryService
from dbops.service._util import OffsetPagination, schema_dump
from dbops.service.typing import (
    BulkModelDictT,
    FilterTypeT,
    ModelDictListT,
    ModelDictT,
    ModelDTOT,
    find_filter,
    is_attrs_instance,
    is_attrs_instance_with_field,
    is_attrs_instance_without_field,
    is_attrs_schema,
    is_dataclass,
    is_dataclass_with_field,
    is_dataclass_without_field,
    is_dict,
    is_dict_with_field,
    is_dict_without_field,
    is_dto_data,
    is_msgspec_struct,
    is_msgspec_struct_with_field,
    is_msgspec_struct_without_field,
    is_pydantic_model,
    is_pydantic_model_with_field,
    is_pydantic_model_without_field,
    is_schema,
    is_schema_or_dict,
    is_schema_or_dict_with_field,
    is_schema_or_dict_without_field,
    is_schema_with_field,
    is_schema_without_field,
    model_from_dict,
)

__all__ = [
    "BulkModelDictT",
    "FilterTypeT",
    "LoadSpec",
    "ModelDTOT",
    "ModelDictListT",
    "ModelDictT",
    "ModelT",
    "OffsetPagination",
    "OrderingPair",
    "SQLAlchemyAsyncRepositoryService",
    "SQLAlchemySyncRepositoryService",
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
    "schema_dump",
]
