"""Database errors come out as dbops errors naming the model and the field, on every dialect."""

from __future__ import annotations

import datetime
import uuid

import pytest

from dbops.errors import (
    DbopsError,
    DuplicateKeyError,
    ForeignKeyError,
    IntegrityError,
    NotFoundError,
    RepositoryError,
)
from tests.models.harness import Context, run
from tests.models.models import TABLES, AuthorModel, BookModel, CounterModel, SecretModel


async def _expect(ctx: Context, error: type[DbopsError], pattern: str, coroutine, *, caused: bool = True) -> DbopsError:
    with pytest.raises(error, match=pattern) as info:
        await coroutine
    await ctx.session.rollback()
    if caused:  # the driver error stays reachable for debugging
        assert info.value.__cause__ is not None
    assert "sqlalchemy" not in str(info.value).lower() and "\n" not in str(info.value)
    return info.value


def test_unique_violation_names_the_field(db, is_async):
    async def body(ctx: Context) -> None:
        repo = ctx.repo(AuthorModel)
        await repo.add(AuthorModel(name="Ann"), auto_commit=True)
        error = await _expect(
            ctx, DuplicateKeyError, r"^AuthorModel with this name already exists", repo.add(AuthorModel(name="Ann"))
        )
        assert (error.model, error.field, error.exit_code) == ("AuthorModel", "name", 2)
        error = await _expect(
            ctx,
            DuplicateKeyError,
            r"^AuthorModel with this name already exists",
            repo.add_many([AuthorModel(name="Bob"), AuthorModel(name="Bob")]),
        )
        counters = ctx.repo(CounterModel)
        await counters.add(CounterModel(kind="k", slot=1), auto_commit=True)
        error = await _expect(
            ctx,
            DuplicateKeyError,
            r"^CounterModel with this kind, slot already exists",
            counters.add(CounterModel(kind="k", slot=1)),
        )
        assert error.field == "kind, slot"
        existing = (await repo.get_one(name="Ann")).id
        await _expect(
            ctx,
            DuplicateKeyError,
            r"^AuthorModel with this id already exists",
            repo.add(AuthorModel(id=existing, name="Other")),
        )

    run(db, is_async, TABLES, body)


def test_foreign_key_violations(db, is_async):
    async def body(ctx: Context) -> None:
        books = ctx.repo(BookModel)
        error = await _expect(
            ctx,
            ForeignKeyError,
            r"^BookModel"
            + (
                r" violates a foreign key"
                if ctx.dialect == "sqlite"
                else r"\.author_id refers to a row that does not exist"
            ),
            books.add(BookModel(title="Orphan", author_id=uuid.uuid4())),
        )
        assert error.model == "BookModel" and error.exit_code == 2
        if ctx.dialect != "sqlite":  # SQLite does not say which key failed
            assert error.field == "author_id"
        authors = ctx.repo(AuthorModel)
        author = await authors.add(AuthorModel(name="Ann"))
        await books.add(BookModel(title="T", author_id=author.id), auto_commit=True)
        author_id = author.id
        await _expect(
            ctx,
            ForeignKeyError,
            r"^AuthorModel "
            + (r"violates a foreign key" if ctx.dialect == "sqlite" else r"is still referenced by rt_book\.author_id"),
            authors.delete_many([author_id]),
        )

    run(db, is_async, TABLES, body)


def test_not_null_check_and_bad_values(db, is_async):
    async def body(ctx: Context) -> None:
        authors = ctx.repo(AuthorModel)
        error = await _expect(ctx, IntegrityError, r"^AuthorModel\.name cannot be null$", authors.add(AuthorModel()))
        assert error.field == "name"
        await _expect(
            ctx,
            IntegrityError,
            r"^AuthorModel\.name cannot be null$",
            authors.upsert_many([AuthorModel(id=uuid.uuid4(), bio="partial row for a missing item")]),
        )
        author = await authors.add(AuthorModel(name="Ann"), auto_commit=True)
        author_id = author.id
        await _expect(
            ctx,
            IntegrityError,
            r"^BookModel violates check constraint (ck_rt_book_)?pages_positive",
            ctx.repo(BookModel).add(BookModel(title="T", pages=-1, author_id=author_id)),
        )
        secrets = ctx.repo(SecretModel)
        await _expect(
            ctx,
            RepositoryError,
            r"^SecretModel: DateTimeUTC column got the naive datetime 2024-01-01T00:00:00; give it a timezone",
            secrets.add(SecretModel(label="x", seen_at=datetime.datetime(2024, 1, 1))),
        )
        await _expect(ctx, NotFoundError, r"^no AuthorModel with id=", authors.delete(uuid.uuid4()), caused=False)

    run(db, is_async, TABLES, body)


def test_errors_can_be_left_raw(sqlite_db):
    from sqlalchemy.exc import IntegrityError as SAIntegrityError

    async def body(ctx: Context) -> None:
        repo = ctx.repo(AuthorModel, wrap_exceptions=False)
        with pytest.raises(SAIntegrityError):
            await repo.add(AuthorModel())

    run(sqlite_db, False, TABLES, body)
