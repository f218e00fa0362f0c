"""Type-checked (never run): a user's service and repository methods are typed with the user's model.

tests/models/test_typing.py runs ``mypy --strict`` on this file; every ``assert_type`` must hold.
"""

from __future__ import annotations

import datetime
from typing import Any, Optional
from uuid import UUID

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, Session
from typing_extensions import assert_type

from dbops import base, filters, repository, service


class TypedAuthor(base.UUIDBase):
    __tablename__ = "typing_author"

    name: Mapped[str]
    dob: Mapped[Optional[datetime.date]]


class Author(BaseModel):
    id: Optional[UUID] = None
    name: str


class AuthorService(service.SQLAlchemyAsyncRepositoryService[TypedAuthor]):
    class Repo(repository.SQLAlchemyAsyncRepository[TypedAuthor]):
        model_type = TypedAuthor

    repository_type = Repo


class SyncAuthorService(service.SQLAlchemySyncRepositoryService[TypedAuthor]):
    class Repo(repository.SQLAlchemySyncRepository[TypedAuthor]):
        model_type = TypedAuthor

    repository_type = Repo


# Advanced Alchemy's two-parameter form: the second parameter types ``service.repository``.
class AuthorRepository(repository.SQLAlchemyAsyncRepository[TypedAuthor]):
    model_type = TypedAuthor

    async def named(self, name: str) -> TypedAuthor:
        return await self.get_one(name=name)


class TwoParamAuthorService(service.SQLAlchemyAsyncRepositoryService[TypedAuthor, AuthorRepository]):
    repository_type = AuthorRepository


class SyncAuthorRepository(repository.SQLAlchemySyncRepository[TypedAuthor]):
    model_type = TypedAuthor


class TwoParamSyncAuthorService(service.SQLAlchemySyncRepositoryService[TypedAuthor, SyncAuthorRepository]):
    repository_type = SyncAuthorRepository


async def check_async(session: AsyncSession, author_id: UUID, page: list[filters.FilterTypes]) -> None:
    authors = AuthorService(session)
    assert_type(await authors.get(author_id), TypedAuthor)
    assert_type(await authors.get_one_or_none(name="x"), Optional[TypedAuthor])
    assert_type(await authors.list(), list[TypedAuthor])
    results, total = await authors.list_and_count(*page)
    assert_type(results, list[TypedAuthor])
    assert_type(total, int)
    assert_type(authors.to_schema(results, total, filters=page, schema_type=Author), service.OffsetPagination[Author])
    assert_type(authors.to_schema(results[0], schema_type=Author), Author)
    assert_type(authors.to_schema(results[0]), TypedAuthor)
    assert_type(await authors.create({"name": "x"}), TypedAuthor)
    assert_type(await authors.update({"name": "y"}, item_id=author_id, auto_commit=True), TypedAuthor)
    assert_type(await authors.get_or_upsert(name="x"), tuple[TypedAuthor, bool])
    assert_type(await authors.delete(author_id), TypedAuthor)
    async with AuthorService.new(session=session) as scoped:
        assert_type(scoped, AuthorService)

    repo = AuthorService.Repo(session=session, load=[])
    assert_type(await repo.get(author_id), TypedAuthor)
    assert_type(await repo.add_many([TypedAuthor(name="x")]), list[TypedAuthor])
    assert_type(await repo.upsert_many([TypedAuthor(name="x")]), list[TypedAuthor])
    assert_type(await repo.exists(name="x"), bool)


async def check_two_parameters(session: AsyncSession, author_id: UUID) -> None:
    authors = TwoParamAuthorService(session)
    assert_type(await authors.get(author_id), TypedAuthor)
    assert_type(await authors.get_many(), list[TypedAuthor])
    assert_type(await authors.get_many_and_count(), tuple[list[TypedAuthor], int])
    assert_type(await authors.create({"name": "x"}), TypedAuthor)
    assert_type(authors.repository, AuthorRepository)
    assert_type(await authors.repository.get_many(filters.NullFilter("dob")), list[TypedAuthor])
    assert_type(await authors.repository.named("x"), TypedAuthor)
    assert_type(AuthorService(session).repository, repository.SQLAlchemyAsyncRepository[Any])
    sync_authors = TwoParamSyncAuthorService(Session())
    assert_type(sync_authors.get(author_id), TypedAuthor)
    assert_type(sync_authors.repository, SyncAuthorRepository)
    assert_type(sync_authors.delete_many([author_id]), list[TypedAuthor])


def check_sync(session: Session, author_id: UUID) -> None:
    authors = SyncAuthorService(session)
    assert_type(authors.get(author_id), TypedAuthor)
    assert_type(authors.list(filters.LimitOffset(10, 0)), list[TypedAuthor])
    repo = SyncAuthorService.Repo(session=session)
    assert_type(repo.update(TypedAuthor(id=author_id, name="x")), TypedAuthor)
    assert_type(repo.delete_many([author_id]), list[TypedAuthor])
