"""Repositories: CRUD, bulk writes and filtered queries for one model, on a sync or async session.

>>> from dbops import repository
>>> class AuthorRepository(repository.SQLAlchemyAsyncRepository[AuthorModel]):
...     model_type = AuthorModel
>>> repo = AuthorRepository(session=db_session, load=[AuthorModel.books])
>>> authors, total = await repo.list_and_count(LimitOffset(10, 0))

Both classes share one implementation (the async one runs it through ``AsyncSession.run_sync``), so every
method, option and error behaves the same. See ``SQLAlchemySyncRepository`` for the methods.
"""

from __future__ import annotations

from dbops.repository._async import SQLAlchemyAsyncRepository
from dbops.repository._errors import translate_error, wrap_sqlalchemy_exception
from dbops.repository._statements import FilterArg, LoadSpec, OrderingPair, loader_options, model_info
from dbops.repository._sync import ModelT, SQLAlchemySyncRepository
from dbops.service.typing import model_from_dict

__all__ = [
    "FilterArg",
    "LoadSpec",
    "ModelT",
    "OrderingPair",
    "SQLAlchemyAsyncRepository",
    "SQLAlchemySyncRepository",
    "loader_options",
    "model_from_dict",
    "model_info",
    "translate_error",
    "wrap_sqlalchemy_exception",
]
