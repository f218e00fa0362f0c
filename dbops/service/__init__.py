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
from dbops.service import typing as _typing
from dbops.service._async import ModelT, SQLAlchemyAsyncRepositoryService
from dbops.service._sync import SQLAlchemySyncRepositoryService
from dbops.service._util import OffsetPagination, schema_dump
from dbops.service.typing import *  # noqa: F403

__all__ = [
    "LoadSpec",
    "ModelT",
    "OffsetPagination",
    "OrderingPair",
    "SQLAlchemyAsyncRepositoryService",
    "SQLAlchemySyncRepositoryService",
    "schema_dump",
    *_typing.__all__,
]
