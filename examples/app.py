"""The example app the README runs: a small library (authors and books) on an embedded SQLite file.

``dbops --config examples/app.py:db upgrade`` migrates it; it needs no server. Set ``DATABASE_URL`` (an async
URL such as ``postgresql+asyncpg://...`` or ``mysql+asyncmy://...``) to use another database.

The Litestar app is built by ``create_app()`` so that the dbops CLI, which only needs ``db``, does not import
Litestar: ``litestar --app examples.app:create_app run`` serves the CRUD API, and
``litestar --app examples.app:create_app database upgrade`` runs the same migrations.
"""

from __future__ import annotations

import datetime
import os
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from litestar_dbops import AlembicAsyncConfig, AsyncSessionConfig, SQLAlchemyAsyncConfig
from sqlalchemy import ForeignKey, MetaData, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from dbops.metadata import NAMING_CONVENTION

if TYPE_CHECKING:
    from litestar import Litestar

HERE = Path(__file__).resolve().parent


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class AuthorModel(Base):
    __tablename__ = "author"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(String(200))
    dob: Mapped[datetime.date | None]
    books: Mapped[list[BookModel]] = relationship(back_populates="author", lazy="selectin", cascade="all, delete")


class BookModel(Base):
    __tablename__ = "book"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    title: Mapped[str] = mapped_column(String(200))
    author_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("author.id"))
    author: Mapped[AuthorModel] = relationship(back_populates="books", lazy="joined")


db = SQLAlchemyAsyncConfig(
    connection_string=os.environ.get("DATABASE_URL") or f"sqlite+aiosqlite:///{HERE / 'app.sqlite'}",
    metadata=Base.metadata,
    alembic_config=AlembicAsyncConfig(script_location=str(HERE / "migrations")),
    session_config=AsyncSessionConfig(expire_on_commit=False),
    before_send_handler="autocommit",
)


@dataclass
class Author:
    id: uuid.UUID
    name: str
    dob: datetime.date | None
    books: list[str]

    @classmethod
    def of(cls, model: AuthorModel) -> Author:
        return cls(id=model.id, name=model.name, dob=model.dob, books=sorted(book.title for book in model.books))


@dataclass
class AuthorCreate:
    name: str
    dob: datetime.date | None = None


@dataclass
class AuthorUpdate:
    name: str | None = None
    dob: datetime.date | None = None


@dataclass
class BookCreate:
    title: str


def create_app(config: SQLAlchemyAsyncConfig | None = None) -> Litestar:
    """The CRUD API over ``db`` (or ``config``): /authors, /authors/{id}, /authors/{id}/books."""
    from litestar import Controller, Litestar, delete, get, patch, post
    from litestar.exceptions import NotFoundException
    from litestar_dbops import SQLAlchemyPlugin
    from sqlalchemy import select
    from sqlalchemy.ext.asyncio import AsyncSession

    async def load(session: AsyncSession, author_id: uuid.UUID) -> AuthorModel:
        author = await session.get(AuthorModel, author_id)
        if author is None:
            raise NotFoundException(f"no author {author_id}")
        return author

    class AuthorController(Controller):
        path = "/authors"
        signature_namespace: dict[str, Any] = {
            "AsyncSession": AsyncSession,
            "AuthorCreate": AuthorCreate,
            "AuthorUpdate": AuthorUpdate,
            "BookCreate": BookCreate,
            "Author": Author,
        }

        @get("/")
        async def list_authors(self, db_session: AsyncSession) -> list[Author]:
            authors = await db_session.scalars(select(AuthorModel).order_by(AuthorModel.name))
            return [Author.of(author) for author in authors]

        @post("/")
        async def create_author(self, db_session: AsyncSession, data: AuthorCreate) -> Author:
            author = AuthorModel(name=data.name, dob=data.dob, books=[])
            db_session.add(author)
            await db_session.flush()
            return Author.of(author)

        @get("/{author_id:uuid}")
        async def get_author(self, db_session: AsyncSession, author_id: uuid.UUID) -> Author:
            return Author.of(await load(db_session, author_id))

        @patch("/{author_id:uuid}")
        async def update_author(self, db_session: AsyncSession, author_id: uuid.UUID, data: AuthorUpdate) -> Author:
            author = await load(db_session, author_id)
            if data.name is not None:
                author.name = data.name
            if data.dob is not None:
                author.dob = data.dob
            await db_session.flush()
            return Author.of(author)

        @delete("/{author_id:uuid}")
        async def delete_author(self, db_session: AsyncSession, author_id: uuid.UUID) -> None:
            await db_session.delete(await load(db_session, author_id))

        @post("/{author_id:uuid}/books")
        async def add_book(self, db_session: AsyncSession, author_id: uuid.UUID, data: BookCreate) -> Author:
            author = await load(db_session, author_id)
            author.books.append(BookModel(title=data.title))
            await db_session.flush()
            return Author.of(author)

    return Litestar(route_handlers=[AuthorController], plugins=[SQLAlchemyPlugin(config=config or db)])
