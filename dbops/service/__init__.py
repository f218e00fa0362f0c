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

from dbops.service._async import SQLAlchemyAsyncRepositoryService
from dbops.service._sync import SQLAlchemySyncRepositoryService
from dbops.service._util import OffsetPagination, schema_dump

__all__ = [
    "OffsetPagination",
    "SQLAlchemyAsyncRepositoryService",
    "SQLAlchemySyncRepositoryService",
    "schema_dump",
]
