"""The seed's usage (shared/seed/litestar-integration.rst), minus the web layer: models, the service pattern
with ``repository_type = Repo``, ``load=[SeedAuthorModel.books]``, filters + ``to_schema``, and the
repository-only pattern with pydantic ``TypeAdapter`` and ``OffsetPagination``."""

from __future__ import annotations

import datetime
from functools import cached_property
from typing import Any, Optional
from uuid import UUID

from pydantic import BaseModel as _BaseModel
from pydantic import TypeAdapter
from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped, MappedAsDataclass, mapped_column, relationship

from dbops import base, filters, repository, service
from tests.models.harness import Context, run


class SeedAuthorModel(base.UUIDBase):
    __tablename__ = "seed_author"

    name: Mapped[str]
    dob: Mapped[Optional[datetime.date]]
    books: Mapped[list[SeedBookModel]] = relationship(back_populates="author", lazy="selectin")


class SeedBookModel(base.UUIDAuditBase):
    __tablename__ = "seed_book"

    title: Mapped[str]
    author_id: Mapped[UUID] = mapped_column(ForeignKey("seed_author.id"))
    author: Mapped[SeedAuthorModel] = relationship(lazy="joined", innerjoin=True, viewonly=True)


class SeedUserModel(base.UUIDAuditBase, MappedAsDataclass):
    __tablename__ = "seed_user"

    first_name: Mapped[str]
    last_name: Mapped[str]

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    @cached_property
    def name_length(self) -> int:
        return len(self.full_name)


SEED_TABLES = [SeedAuthorModel.__table__, SeedBookModel.__table__, SeedUserModel.__table__]


class BaseModel(_BaseModel):
    model_config = {"from_attributes": True}


class Author(BaseModel):
    id: Optional[UUID] = None
    name: str
    dob: Optional[datetime.date] = None


class AuthorCreate(BaseModel):
    name: str
    dob: Optional[datetime.date] = None


class AuthorUpdate(BaseModel):
    name: Optional[str] = None
    dob: Optional[datetime.date] = None


class AuthorService(service.SQLAlchemyAsyncRepositoryService[SeedAuthorModel]):
    """Author service."""

    class Repo(repository.SQLAlchemyAsyncRepository[SeedAuthorModel]):
        """Author repository."""

        model_type = SeedAuthorModel

    repository_type = Repo


class SyncAuthorService(service.SQLAlchemySyncRepositoryService[SeedAuthorModel]):
    class Repo(repository.SQLAlchemySyncRepository[SeedAuthorModel]):
        model_type = SeedAuthorModel

    repository_type = Repo


class AuthorRepository(repository.SQLAlchemyAsyncRepository[SeedAuthorModel]):
    """Author repository."""

    model_type = SeedAuthorModel


class SyncAuthorRepository(repository.SQLAlchemySyncRepository[SeedAuthorModel]):
    model_type = SeedAuthorModel


def test_seed_service_pattern(db, is_async):
    async def body(ctx: Context) -> None:
        # providers.create_service_dependencies(AuthorService, "authors_service", load=[SeedAuthorModel.books], ...)
        service_type: Any = AuthorService if ctx.is_async else SyncAuthorService
        authors_service = ctx.wrap(service_type(ctx.raw_session, load=[SeedAuthorModel.books]))

        # create_author
        to_schema = getattr(authors_service, "_target", authors_service).to_schema  # sync on both services
        obj = await authors_service.create(AuthorCreate(name="Agatha Christie", dob=datetime.date(1890, 9, 15)))
        created = to_schema(obj, schema_type=Author)
        assert created == Author(id=obj.id, name="Agatha Christie", dob=datetime.date(1890, 9, 15))
        await authors_service.create(AuthorCreate(name="Arthur Conan Doyle"))
        await ctx.repo(SeedBookModel).add(SeedBookModel(title="Poirot", author_id=obj.id))
        await ctx.session.commit()
        ctx.raw_session.expunge_all()  # the next request: a fresh identity map

        # list_authors: filters from the provider (limit_offset, id_filter, search name, ignore case)
        page_filters: list[filters.FilterTypes] = [
            filters.LimitOffset(limit=10, offset=0),
            filters.SearchFilter(field_name="name", value="AGATHA", ignore_case=True),
            filters.CollectionFilter(field_name="id", values=[obj.id]),
        ]
        results, total = await authors_service.list_and_count(*page_filters)
        page = to_schema(results, total, filters=page_filters, schema_type=Author)
        assert isinstance(page, service.OffsetPagination)
        assert (page.total, page.limit, page.offset, [a.name for a in page.items]) == (1, 10, 0, ["Agatha Christie"])
        assert [b.title for b in results[0].books] == ["Poirot"]  # load=[SeedAuthorModel.books]

        # get_author / update_author (partial) / delete_author
        got = await authors_service.get(obj.id)
        assert to_schema(got, schema_type=Author).name == "Agatha Christie"
        updated = await authors_service.update(AuthorUpdate(name="Dame Agatha"), item_id=obj.id, auto_commit=True)
        assert (updated.name, updated.dob) == ("Dame Agatha", datetime.date(1890, 9, 15))
        book = await ctx.repo(SeedBookModel).get_one(title="Poirot")
        assert book.author.name == "Dame Agatha"  # lazy="joined", innerjoin=True, viewonly=True
        await ctx.repo(SeedBookModel).delete(book.id)
        _ = await authors_service.delete(obj.id)
        await ctx.session.commit()
        assert await authors_service.count() == 1

        users = ctx.repo(SeedUserModel)
        user = await users.add(SeedUserModel(first_name="Ada", last_name="Lovelace"))
        assert (user.full_name, user.name_length) == ("Ada Lovelace", 12)
        assert user.created_at is not None and user.updated_at is not None

    run(db, is_async, SEED_TABLES, body)


def test_seed_repository_only_pattern(db, is_async):
    async def body(ctx: Context) -> None:
        repo_type: Any = AuthorRepository if ctx.is_async else SyncAuthorRepository

        def provide_authors_repo() -> Any:
            return ctx.wrap(repo_type(session=ctx.raw_session))

        def provide_author_details_repo() -> Any:
            return ctx.wrap(repo_type(load=[SeedAuthorModel.books], session=ctx.raw_session))

        def provide_limit_offset_pagination(current_page: int = 1, page_size: int = 10) -> filters.LimitOffset:
            return filters.LimitOffset(page_size, page_size * (current_page - 1))

        # create_author
        authors_repo = provide_authors_repo()
        data = AuthorCreate(name="Ursula K. Le Guin", dob=datetime.date(1929, 10, 21))
        obj = await authors_repo.add(SeedAuthorModel(**data.model_dump(exclude_unset=True, exclude_none=True)))
        await ctx.session.commit()
        assert Author.model_validate(obj).name == "Ursula K. Le Guin"
        for i in range(12):
            await authors_repo.add(SeedAuthorModel(name=f"Writer {i:02d}"))
        await ctx.session.commit()

        # list_authors
        limit_offset = provide_limit_offset_pagination(current_page=2, page_size=5)
        results, total = await authors_repo.list_and_count(limit_offset, filters.OrderBy("name"))
        type_adapter = TypeAdapter(list[Author])
        page = service.OffsetPagination[Author](
            items=type_adapter.validate_python(results),
            total=total,
            limit=limit_offset.limit,
            offset=limit_offset.offset,
        )
        assert (page.total, page.limit, page.offset) == (13, 5, 5)
        assert [a.name for a in page.items] == [f"Writer {i:02d}" for i in range(4, 9)]

        # get_author with details
        details_repo = provide_author_details_repo()
        detailed = await details_repo.get(obj.id)
        assert detailed.books == []

        # update_author: a model carrying only the fields the request set
        raw_obj = AuthorUpdate(name="Ursula Le Guin").model_dump(exclude_unset=True, exclude_none=True)
        raw_obj.update({"id": obj.id})
        updated = await details_repo.update(SeedAuthorModel(**raw_obj))
        await ctx.session.commit()
        assert (updated.name, updated.dob) == ("Ursula Le Guin", datetime.date(1929, 10, 21))

        # delete_author
        _ = await authors_repo.delete(obj.id)
        await ctx.session.commit()
        assert await authors_repo.count() == 12

    run(db, is_async, SEED_TABLES, body)
