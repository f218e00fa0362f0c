"""Services written the way Advanced Alchemy apps write them run unchanged, sync and async, on every dialect."""

from __future__ import annotations

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


def _service(ctx: Context) -> object:
    return AuthorService(ctx.raw_session) if ctx.is_async else ctx.wrap(SyncAuthorService(ctx.raw_session))


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
