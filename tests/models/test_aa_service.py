"""Services written the way Advanced Alchemy apps write them run unchanged, sync and async, on every dialect."""

from __future__ import annotations

from typing import cast

from dbops import repository, service
from tests.models.harness import Context, run
from tests.models.models import TABLES, RtAuthorModel


class AuthorRepository(repository.SQLAlchemyAsyncRepository[RtAuthorModel]):
    model_type = RtAuthorModel


class SyncAuthorRepository(repository.SQLAlchemySyncRepository[RtAuthorModel]):
    model_type = RtAuthorModel


class AuthorService(service.SQLAlchemyAsyncRepositoryService[RtAuthorModel, AuthorRepository]):
    repository_type = AuthorRepository


class SyncAuthorService(service.SQLAlchemySyncRepositoryService[RtAuthorModel, SyncAuthorRepository]):
    repository_type = SyncAuthorRepository


def _service(ctx: Context) -> AuthorService:
    # typed as the async service: the wrapped sync one answers the same awaited calls (its .repository is the
    # sync repository, which the test checks at runtime)
    if ctx.is_async:
        return AuthorService(ctx.raw_session)
    return cast(AuthorService, ctx.wrap(SyncAuthorService(ctx.raw_session)))


def test_two_parameter_service_generic(db, is_async):
    async def body(ctx: Context) -> None:
        authors = _service(ctx)
        created = await authors.create({"name": "Ann"})
        assert (await authors.get(created.id)).name == "Ann"
        expected = AuthorRepository if ctx.is_async else SyncAuthorRepository
        assert type(authors.repository) is expected
        assert authors.model_type is RtAuthorModel

    run(db, is_async, TABLES, body)


def test_both_generic_forms_subscript_at_runtime():
    for cls, repo in (
        (service.SQLAlchemyAsyncRepositoryService, AuthorRepository),
        (service.SQLAlchemySyncRepositoryService, SyncAuthorRepository),
    ):
        assert cls[RtAuthorModel].__origin__ is cls  # type: ignore[attr-defined]
        assert cls[RtAuthorModel, repo].__args__ == (RtAuthorModel, repo)  # type: ignore[attr-defined]


def test_update_with_a_detached_instance_carries_its_relationships(db, is_async):
    # what service.update(DTOData, item_id=...) does with a body holding nested objects: the related objects
    # the instance carries replace the stored ones; a relationship it never set stays as it is
    from tests.providers.aa_models import TABLES as PORT_TABLES
    from tests.providers.aa_models import PortAuthor, PortBook

    async def body(ctx: Context) -> None:
        repo = ctx.repo(PortAuthor)
        author = await repo.add(PortAuthor(name="Ann", books=[PortBook(title="One"), PortBook(title="Two")]))
        await ctx.session.commit()
        updated = await repo.update(PortAuthor(id=author.id, name="Ann B"))
        assert sorted(b.title for b in updated.books) == ["One", "Two"]
        updated = await repo.update(PortAuthor(id=author.id, books=[PortBook(title="Three")]))
        await ctx.session.commit()
        assert (updated.name, [b.title for b in updated.books]) == ("Ann B", ["Three"])
        assert await ctx.repo(PortBook).count() == 1  # delete-orphan removed the replaced books

    run(db, is_async, PORT_TABLES, body)


def test_advanced_alchemy_method_names(db, is_async):
    from dbops.filters import LimitOffset, OrderBy

    async def body(ctx: Context) -> None:
        authors = _service(ctx)
        created = await authors.create_many([{"name": n} for n in ("Ann", "Bob", "Cy", "Di")])
        assert [a.name for a in await authors.get_many(OrderBy("name", "desc"))] == ["Di", "Cy", "Bob", "Ann"]
        page, total = await authors.get_many_and_count(OrderBy("name"), LimitOffset(2, 1))
        assert ([a.name for a in page], total) == (["Bob", "Cy"], 4)
        # delete_many with model instances, ids, or both
        gone = await authors.delete_many([created[0], created[1].id])
        assert sorted(a.name for a in gone) == ["Ann", "Bob"]
        gone = await authors.delete_many([await authors.get_one(name="Cy")])
        assert [a.name for a in gone] == ["Cy"]
        await ctx.session.commit()
        assert [a.name for a in await authors.list()] == ["Di"]

    run(db, is_async, TABLES, body)


def test_service_loader_options_class_variable(db, is_async):
    # Advanced Alchemy services declare default eager loads as a class variable
    from tests.models.models import RtBookModel

    class BookService(service.SQLAlchemyAsyncRepositoryService[RtBookModel]):
        class Repo(repository.SQLAlchemyAsyncRepository[RtBookModel]):
            model_type = RtBookModel

        repository_type = Repo
        loader_options = [RtBookModel.author]  # the relationship is lazy="raise" without it

    class SyncBookService(service.SQLAlchemySyncRepositoryService[RtBookModel]):
        class Repo(repository.SQLAlchemySyncRepository[RtBookModel]):
            model_type = RtBookModel

        repository_type = Repo
        loader_options = [RtBookModel.author]

    async def body(ctx: Context) -> None:
        author = await ctx.repo(RtAuthorModel).add(RtAuthorModel(name="Ann"))
        await ctx.repo(RtBookModel).add(RtBookModel(title="One", author_id=author.id))
        await ctx.session.commit()
        ctx.raw_session.expunge_all()
        books = BookService(ctx.raw_session) if ctx.is_async else ctx.wrap(SyncBookService(ctx.raw_session))
        (book,) = await books.list()
        assert book.author.name == "Ann"

    run(db, is_async, TABLES, body)
