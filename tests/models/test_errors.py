"""Database errors come out as dbops errors naming the model and the field, on every dialect."""

from __future__ import annotations

import datetime
import uuid
from typing import TypeVar

import pytest
from sqlalchemy import String, text
from sqlalchemy.orm import Mapped, mapped_column

from dbops import base
from dbops.errors import (
    DbopsError,
    DuplicateKeyError,
    ForeignKeyError,
    IntegrityError,
    NotFoundError,
    RepositoryError,
)
from tests.models.harness import Context, run
from tests.models.models import TABLES, RtAuthorModel, RtBookModel, RtCounterModel, RtSecretModel

E = TypeVar("E", bound=DbopsError)


async def _expect(ctx: Context, error: type[E], pattern: str, coroutine, *, caused: bool = True) -> E:
    with pytest.raises(error, match=pattern) as info:
        await coroutine
    await ctx.session.rollback()
    if caused:  # the driver error stays reachable for debugging
        assert info.value.__cause__ is not None
    assert "sqlalchemy" not in str(info.value).lower() and "\n" not in str(info.value)
    return info.value


def test_unique_violation_names_the_field(db, is_async):
    async def body(ctx: Context) -> None:
        repo = ctx.repo(RtAuthorModel)
        await repo.add(RtAuthorModel(name="Ann"), auto_commit=True)
        error = await _expect(
            ctx, DuplicateKeyError, r"^RtAuthorModel with this name already exists", repo.add(RtAuthorModel(name="Ann"))
        )
        assert (error.model, error.field, error.exit_code) == ("RtAuthorModel", "name", 2)
        error = await _expect(
            ctx,
            DuplicateKeyError,
            r"^RtAuthorModel with this name already exists",
            repo.add_many([RtAuthorModel(name="Bob"), RtAuthorModel(name="Bob")]),
        )
        counters = ctx.repo(RtCounterModel)
        await counters.add(RtCounterModel(kind="k", slot=1), auto_commit=True)
        error = await _expect(
            ctx,
            DuplicateKeyError,
            r"^RtCounterModel with this kind, slot already exists",
            counters.add(RtCounterModel(kind="k", slot=1)),
        )
        assert error.field == "kind, slot"
        # a key whose bytes hold both quote characters (MariaDB echoes the BINARY(16) value in its message)
        quoted = uuid.UUID(bytes=b"\"'" + bytes(range(14)))
        await repo.add(RtAuthorModel(id=quoted, name="Quoted"), auto_commit=True)
        await _expect(
            ctx,
            DuplicateKeyError,
            r"^RtAuthorModel with this id already exists",
            repo.add(RtAuthorModel(id=quoted, name="Quoted again")),
        )
        existing = (await repo.get_one(name="Ann")).id
        await _expect(
            ctx,
            DuplicateKeyError,
            r"^RtAuthorModel with this id already exists",
            repo.add(RtAuthorModel(id=existing, name="Other")),
        )

    run(db, is_async, TABLES, body)


def test_upsert_many_duplicate_on_another_unique_key(db, is_async):
    """A row new by its id but repeating another row's unique name is a DuplicateKeyError on every dialect
    (MariaDB's ON DUPLICATE KEY UPDATE matches any unique key: it updated the other row, then a KeyError)."""

    async def body(ctx: Context) -> None:
        repo = ctx.repo(RtAuthorModel)
        ann = await repo.add(RtAuthorModel(name="Ann", bio="original"), auto_commit=True)
        ann_id = ann.id
        error = await _expect(
            ctx,
            DuplicateKeyError,
            r"^RtAuthorModel with this name already exists",
            repo.upsert_many([RtAuthorModel(id=uuid.uuid4(), name="Ann", bio="clobbered"), RtAuthorModel(name="Bob")]),
            caused=False,
        )
        assert (error.model, error.field) == ("RtAuthorModel", "name")
        ctx.raw_session.expunge_all()
        assert [(a.id, a.bio) for a in await repo.list()] == [(ann_id, "original")]  # after the rollback

    run(db, is_async, TABLES, body)


def test_fields_the_server_names_only_in_details(db, is_async):
    """A unique index the metadata doesn't know is named from the driver's detail (asyncpg keeps it off the
    message), and PostgreSQL's "value too long" is traced to its column, on both drivers."""

    async def body(ctx: Context) -> None:
        await ctx.session.execute(text("CREATE UNIQUE INDEX custom_bio_idx ON rt_author (bio)"))
        await ctx.session.commit()
        repo = ctx.repo(RtAuthorModel)
        await repo.add(RtAuthorModel(name="Ann", bio="b"), auto_commit=True)
        # MariaDB/MySQL name only the key, which is not in the metadata
        pattern = r"repeats a unique value \(unique constraint custom_bio_idx\)$"
        error = await _expect(
            ctx,
            DuplicateKeyError,
            "^RtAuthorModel " + (pattern if ctx.dialect == "mariadb" else "with this bio already exists"),
            repo.add(RtAuthorModel(name="Bob", bio="b")),
        )
        assert error.field == (None if ctx.dialect == "mariadb" else "bio")
        if ctx.dialect != "sqlite":  # SQLite doesn't enforce VARCHAR lengths
            invalid = await _expect(
                ctx,
                RepositoryError,
                r"^RtAuthorModel\.name: invalid value: ",
                repo.add(RtAuthorModel(name="x" * 101)),
            )
            assert invalid.field == "name"

    run(db, is_async, TABLES, body)


class RtVeryLongNamedModelForTruncatedConstraints(base.UUIDBase):
    __tablename__ = "rt_extremely_long_table_name_for_identifier_truncation_tests"

    another_fairly_long_column_name: Mapped[str] = mapped_column(String(50), unique=True)


def test_unique_constraint_with_a_shortened_name(db, is_async):
    """A naming-convention name past the identifier limit is shortened by SQLAlchemy (``..._111a``); the error
    still finds it in the metadata (MariaDB reports only that name)."""
    model = RtVeryLongNamedModelForTruncatedConstraints

    async def body(ctx: Context) -> None:
        repo = ctx.repo(model)
        await repo.add(model(another_fairly_long_column_name="x"), auto_commit=True)
        error = await _expect(
            ctx,
            DuplicateKeyError,
            rf"^{model.__name__} with this another_fairly_long_column_name already exists",
            repo.add(model(another_fairly_long_column_name="x")),
        )
        assert error.field == "another_fairly_long_column_name"

    run(db, is_async, [model.__table__], body)


def test_foreign_key_violations(db, is_async):
    async def body(ctx: Context) -> None:
        books = ctx.repo(RtBookModel)
        error = await _expect(
            ctx,
            ForeignKeyError,
            r"^RtBookModel"
            + (
                r" violates a foreign key"
                if ctx.dialect == "sqlite"
                else r"\.author_id refers to a row that does not exist"
            ),
            books.add(RtBookModel(title="Orphan", author_id=uuid.uuid4())),
        )
        assert error.model == "RtBookModel" and error.exit_code == 2
        if ctx.dialect != "sqlite":  # SQLite does not say which key failed
            assert error.field == "author_id"
        authors = ctx.repo(RtAuthorModel)
        author = await authors.add(RtAuthorModel(name="Ann"))
        await books.add(RtBookModel(title="T", author_id=author.id), auto_commit=True)
        author_id = author.id
        await _expect(
            ctx,
            ForeignKeyError,
            r"^RtAuthorModel "
            + (r"violates a foreign key" if ctx.dialect == "sqlite" else r"is still referenced by rt_book\.author_id"),
            authors.delete_many([author_id]),
        )

    run(db, is_async, TABLES, body)


def test_not_null_check_and_bad_values(db, is_async):
    async def body(ctx: Context) -> None:
        authors = ctx.repo(RtAuthorModel)
        error = await _expect(
            ctx, IntegrityError, r"^RtAuthorModel\.name cannot be null$", authors.add(RtAuthorModel())
        )
        assert error.field == "name"
        await _expect(
            ctx,
            IntegrityError,
            r"^RtAuthorModel\.name cannot be null$",
            authors.upsert_many([RtAuthorModel(id=uuid.uuid4(), bio="partial row for a missing item")]),
        )
        author = await authors.add(RtAuthorModel(name="Ann"), auto_commit=True)
        author_id = author.id
        await _expect(
            ctx,
            IntegrityError,
            r"^RtBookModel violates check constraint (ck_rt_book_)?pages_positive",
            ctx.repo(RtBookModel).add(RtBookModel(title="T", pages=-1, author_id=author_id)),
        )
        secrets = ctx.repo(RtSecretModel)
        await _expect(
            ctx,
            RepositoryError,
            r"^RtSecretModel: DateTimeUTC column got the naive datetime 2024-01-01T00:00:00; give it a timezone",
            secrets.add(RtSecretModel(label="x", seen_at=datetime.datetime(2024, 1, 1))),
        )
        await _expect(ctx, NotFoundError, r"^no RtAuthorModel with id=", authors.delete(uuid.uuid4()), caused=False)

    run(db, is_async, TABLES, body)


def test_errors_can_be_left_raw(sqlite_db):
    from sqlalchemy.exc import IntegrityError as SAIntegrityError

    async def body(ctx: Context) -> None:
        repo = ctx.repo(RtAuthorModel, wrap_exceptions=False)
        with pytest.raises(SAIntegrityError):
            await repo.add(RtAuthorModel())

    run(sqlite_db, False, TABLES, body)
