"""The service layer: input conversion, partial updates, upserts, to_schema and hooks, sync and async."""

from __future__ import annotations

import dataclasses
import datetime
import uuid
from typing import Any, Optional

import attrs
import msgspec
import pytest
from pydantic import BaseModel
from sqlalchemy import event

from dbops import SQLAlchemyAsyncConfig, SQLAlchemySyncConfig, repository, service
from dbops.errors import FilterError, NotFoundError, RepositoryError
from dbops.filters import LimitOffset, OrderBy, SearchFilter
from tests.models.harness import Context, create_tables, run
from tests.models.models import TABLES, RtAuthorModel


class AuthorService(service.SQLAlchemyAsyncRepositoryService[RtAuthorModel]):
    class Repo(repository.SQLAlchemyAsyncRepository[RtAuthorModel]):
        model_type = RtAuthorModel

    repository_type = Repo


class SyncAuthorService(service.SQLAlchemySyncRepositoryService[RtAuthorModel]):
    class Repo(repository.SQLAlchemySyncRepository[RtAuthorModel]):
        model_type = RtAuthorModel

    repository_type = Repo


class Author(BaseModel):
    id: Optional[uuid.UUID] = None
    name: str
    dob: Optional[datetime.date] = None


class AuthorCreate(BaseModel):
    name: str
    dob: Optional[datetime.date] = None


class AuthorUpdate(BaseModel):
    name: Optional[str] = None
    dob: Optional[datetime.date] = None


class AuthorStruct(msgspec.Struct):
    name: str
    dob: Optional[datetime.date] = None


class AuthorPatchStruct(msgspec.Struct):
    name: Any = msgspec.UNSET
    bio: Any = msgspec.UNSET


@dataclasses.dataclass
class AuthorDataclass:
    name: str
    bio: Optional[str] = None


@attrs.define
class AuthorAttrs:
    name: str
    bio: Optional[str] = None


def _service(ctx: Context, **kwargs: Any) -> Any:
    if ctx.is_async:
        return AuthorService(ctx.raw_session, **kwargs)
    return ctx.wrap(SyncAuthorService(ctx.raw_session, **kwargs))


def test_create_from_every_input_kind(db, is_async):
    async def body(ctx: Context) -> None:
        authors = _service(ctx)
        dob = datetime.date(1970, 1, 2)
        created = [
            await authors.create(RtAuthorModel(name="model")),
            await authors.create({"name": "dict", "dob": dob}),
            await authors.create(AuthorCreate(name="pydantic", dob=dob)),
            await authors.create(AuthorStruct(name="msgspec", dob=dob)),
            await authors.create(AuthorDataclass(name="dataclass", bio="b")),
            await authors.create(AuthorAttrs(name="attrs", bio="b")),
        ]
        assert [a.name for a in created] == ["model", "dict", "pydantic", "msgspec", "dataclass", "attrs"]
        assert [a.dob for a in created[1:4]] == [dob, dob, dob]
        assert created[4].bio == created[5].bio == "b"
        many = await authors.create_many([{"name": "m1"}, AuthorCreate(name="m2")])
        assert [a.name for a in many] == ["m1", "m2"]
        # a schema with "id: Optional[UUID] = None": None is no id, as in create (the bulk path inserted NULL)
        with_ids = await authors.create_many([Author(name="s1"), Author(name="s2")])
        assert all(isinstance(a.id, uuid.UUID) for a in with_ids)
        upserted = await authors.upsert_many([Author(name="s3")])
        assert isinstance(upserted[0].id, uuid.UUID)
        assert await authors.count() == 11

        with pytest.raises(FilterError, match="RtAuthorModel has no field 'age'"):
            await authors.create({"name": "x", "age": 3})
        with pytest.raises(RepositoryError, match="cannot turn a int into model fields"):
            await authors.create(42)

    run(db, is_async, TABLES, body)


def test_update_is_partial(db, is_async):
    async def body(ctx: Context) -> None:
        authors = _service(ctx)
        dob = datetime.date(1970, 1, 2)
        author = await authors.create(AuthorCreate(name="Ann", dob=dob))
        author_id = author.id
        await ctx.session.commit()

        updated = await authors.update(AuthorUpdate(name="Anne"), item_id=author_id, auto_commit=True)
        assert (updated.name, updated.dob) == ("Anne", dob)  # dob was not set by the input: kept
        cleared = await authors.update(AuthorUpdate(dob=None), item_id=author_id)
        assert (cleared.name, cleared.dob) == ("Anne", None)  # explicitly set to None: cleared
        patched = await authors.update(AuthorPatchStruct(bio="b"), item_id=author_id)
        assert (patched.name, patched.bio) == ("Anne", "b")
        from_dict = await authors.update({"id": author_id, "name": "Annie"})
        assert (from_dict.name, from_dict.bio) == ("Annie", "b")
        from_model = await authors.update(RtAuthorModel(name="Anna"), item_id=author_id)
        assert (from_model.name, from_model.bio) == ("Anna", "b")

        with pytest.raises(NotFoundError):
            await authors.update(AuthorUpdate(name="x"), item_id=uuid.uuid4())
        with pytest.raises(RepositoryError, match="update needs item_id or 'id' in the data for RtAuthorModel"):
            await authors.update({"name": "x"})
        with pytest.raises(FilterError, match="RtAuthorModel has no field 'nickname'"):
            await authors.update({"nickname": "x"}, item_id=author_id)
        many = await authors.update_many([{"id": author_id, "bio": "many"}])
        assert (many[0].name, many[0].bio) == ("Anna", "many")
        detaching = _service(ctx, auto_expunge=True)
        detached = await detaching.update(AuthorUpdate(name="Detached"), item_id=author_id)
        assert detached.name == "Detached" and detached not in ctx.raw_session

    run(db, is_async, TABLES, body)


def test_update_from_a_schema_locks_with_for_update(db, is_async):
    """``update(schema, item_id=..., with_for_update=True)`` and ``get(..., with_for_update=True)`` load the row
    ``FOR UPDATE`` (it was dropped on the schema path; SQLite has no row locks, so there the statement only has
    to run)."""

    async def body(ctx: Context) -> None:
        authors = _service(ctx)
        author = await authors.create(AuthorCreate(name="Ann"), auto_commit=True)
        author_id = author.id
        statements: list[str] = []
        engine = (ctx.raw_session.sync_session if ctx.is_async else ctx.raw_session).get_bind()

        def record(conn, cursor, statement, parameters, context, executemany) -> None:
            statements.append(statement)

        event.listen(engine, "before_cursor_execute", record)
        try:
            updated = await authors.update(AuthorUpdate(name="Anne"), item_id=author_id, with_for_update=True)
            locked = await authors.get(author_id, with_for_update=True)
        finally:
            event.remove(engine, "before_cursor_execute", record)
        assert updated.name == "Anne" and locked.name == "Anne"
        selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
        if ctx.dialect != "sqlite":
            assert "FOR UPDATE" in selects[0].upper() and "FOR UPDATE" in selects[-1].upper()

    run(db, is_async, TABLES, body)


def test_upserts_and_lookups(db, is_async):
    async def body(ctx: Context) -> None:
        authors = _service(ctx)
        first = await authors.upsert({"name": "Ann", "bio": "one"})
        again = await authors.upsert(AuthorUpdate(name="Ann B"), item_id=first.id)
        assert again.id == first.id and again.name == "Ann B"
        by_name = await authors.upsert({"name": "Ann B", "bio": "two"}, match_fields="name")
        assert by_name.id == first.id and by_name.bio == "two"
        bulk = await authors.upsert_many([{"id": first.id, "bio": "three"}, AuthorCreate(name="Bob")])
        assert [(a.name, a.bio) for a in bulk] == [("Ann B", "three"), ("Bob", None)]
        item, created = await authors.get_or_upsert(match_fields="name", name="Cy", bio="c")
        assert created is True
        item, changed = await authors.get_and_update(match_fields="name", name="Cy", bio="d")
        assert changed is True and item.bio == "d"
        assert (await authors.get(first.id)).name == "Ann B"
        assert (await authors.get_one(name="Bob")).name == "Bob"
        assert await authors.get_one_or_none(name="Nobody") is None
        assert await authors.exists(name="Cy") is True
        assert len(await authors.list(SearchFilter("name", "b", ignore_case=True))) == 2
        deleted = await authors.delete(first.id)
        assert deleted.name == "Ann B"
        assert [a.name for a in await authors.delete_where(name="Cy")] == ["Cy"]
        bob = await authors.get_one(name="Bob")
        assert [a.name for a in await authors.delete_many([bob.id])] == ["Bob"]
        assert await authors.count() == 0

    run(db, is_async, TABLES, body)


def test_to_schema(db, is_async):
    async def body(ctx: Context) -> None:
        authors = _service(ctx)
        await authors.create_many([{"name": f"Author {i}"} for i in range(5)])
        filters = [OrderBy("name"), LimitOffset(limit=2, offset=2)]
        results, total = await authors.list_and_count(*filters)
        plain = getattr(authors, "_target", authors).to_schema  # to_schema is sync on both services
        page = plain(results, total, filters=filters, schema_type=Author)
        assert isinstance(page, service.OffsetPagination)
        assert (page.limit, page.offset, page.total) == (2, 2, 5)
        assert [type(a) for a in page.items] == [Author, Author] and page.items[0].name == "Author 2"
        structs = plain(results, total, filters=filters, schema_type=AuthorStruct)
        assert structs.items[1] == AuthorStruct(name="Author 3")
        dataclass_page = plain(results, schema_type=AuthorDataclass)
        assert (dataclass_page.limit, dataclass_page.offset, dataclass_page.total) == (2, 0, 2)
        assert dataclass_page.items[0] == AuthorDataclass(name="Author 2")
        assert plain(results[0], schema_type=AuthorAttrs) == AuthorAttrs(name="Author 2")
        assert plain(results[0]) is results[0]
        models = plain(results, total)
        assert models.items == results
        with pytest.raises(RepositoryError, match="unsupported schema_type"):
            plain(results[0], schema_type=int)

    run(db, is_async, TABLES, body)


def test_to_model_hooks(db, is_async):
    class Shouting(AuthorService):
        async def to_model_on_create(self, data: Any) -> Any:
            values = service.schema_dump(data, exclude_unset=False)
            return {**values, "name": values["name"].upper()}

        async def to_model_on_update(self, data: Any) -> Any:
            values = service.schema_dump(data, exclude_unset=True)
            return {**values, "bio": "edited"}

    class SyncShouting(SyncAuthorService):
        def to_model_on_create(self, data: Any) -> Any:
            values = service.schema_dump(data, exclude_unset=False)
            return {**values, "name": values["name"].upper()}

        def to_model_on_update(self, data: Any) -> Any:
            values = service.schema_dump(data, exclude_unset=True)
            return {**values, "bio": "edited"}

    async def body(ctx: Context) -> None:
        authors = Shouting(ctx.raw_session) if ctx.is_async else ctx.wrap(SyncShouting(ctx.raw_session))
        created = await authors.create(AuthorCreate(name="ann"))
        assert created.name == "ANN"
        updated = await authors.update(AuthorUpdate(dob=datetime.date(2000, 1, 1)), item_id=created.id)
        assert (updated.name, updated.bio, updated.dob) == ("ANN", "edited", datetime.date(2000, 1, 1))

    run(db, is_async, TABLES, body)


def test_service_new_from_config(db, is_async):
    import asyncio

    create_tables(db, TABLES)
    if is_async:
        config = SQLAlchemyAsyncConfig(connection_string=db.async_url)

        async def main() -> None:
            async with AuthorService.new(config=config) as authors:
                await authors.create({"name": "Ann"}, auto_commit=True)
            async with AuthorService.new(config=config) as authors:
                assert [a.name for a in await authors.list()] == ["Ann"]
            await config.dispose_async()

        asyncio.run(main())
    else:
        sync_config = SQLAlchemySyncConfig(connection_string=db.sync_url)
        with SyncAuthorService.new(config=sync_config) as authors:
            authors.create({"name": "Ann"}, auto_commit=True)
        with SyncAuthorService.new(config=sync_config) as authors:
            assert [a.name for a in authors.list()] == ["Ann"]
        sync_config.dispose()


def test_service_misuse_is_reported():
    class NoRepo(service.SQLAlchemySyncRepositoryService[RtAuthorModel]):
        pass

    with pytest.raises(RepositoryError, match="NoRepo needs repository_type"):
        NoRepo(None)  # type: ignore[arg-type]
    with (
        pytest.raises(RepositoryError, match=r"SyncAuthorService\.new\(\) needs a session or a config"),
        SyncAuthorService.new(),
    ):
        pass
