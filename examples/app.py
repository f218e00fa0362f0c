"""The example app the README runs: a small library (authors and books) on an embedded SQLite file.

``dbops --config examples/app.py:db upgrade`` migrates it; it needs no server. Set ``DATABASE_URL`` (an async
URL such as ``postgresql+asyncpg://...`` or ``mysql+asyncmy://...``) to use another database.

The Litestar app is built by ``create_app()`` so that the dbops CLI, which only needs ``db``, does not import
Litestar: ``litestar --app examples.app:create_app run`` serves the CRUD API, and
``litestar --app examples.app:create_app database upgrade`` runs the same migrations.
"""

from __future__ import annotations

import os
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


class Author(Base):
    __tablename__ = "author"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    books: Mapped[list[Book]] = relationship(back_populates="author", lazy="selectin", cascade="all, delete")


class Book(Base):
    __tablename__ = "book"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    author_id: Mapped[int] = mapped_column(ForeignKey("author.id"))
    author: Mapped[Author] = relationship(back_populates="books")


db = SQLAlchemyAsyncConfig(
    connection_string=os.environ.get("DATABASE_URL") or f"sqlite+aiosqlite:///{HERE / 'app.sqlite'}",
    metadata=Base.metadata,
    alembic_config=AlembicAsyncConfig(script_location=str(HERE / "migrations")),
    session_config=AsyncSessionConfig(expire_on_commit=False),
    before_send_handler="autocommit",
)


@dataclass
class AuthorOut:
    id: int
    name: str
    books: list[str]

    @classmethod
    def of(cls, model: Author) -> AuthorOut:
        return cls(id=model.id, name=model.name, books=sorted(book.title for book in model.books))


@dataclass
class AuthorIn:
    name: str


@dataclass
class BookIn:
    title: str


def create_app(config: SQLAlchemyAsyncConfig | None = None) -> Litestar:
    """The CRUD API over ``db`` (or ``config``): /authors, /authors/{id}, /authors/{id}/books."""
    from litestar import Controller, Litestar, delete, get, patch, post
    from litestar.di import NamedDependency
    from litestar.exceptions import NotFoundException
    from litestar.params import FromPath, JSONBody
    from litestar_dbops import SQLAlchemyPlugin
    from sqlalchemy import select
    from sqlalchemy.ext.asyncio import AsyncSession

    async def load(session: AsyncSession, author_id: int) -> Author:
        author = await session.get(Author, author_id)
        if author is None:
            raise NotFoundException(f"no author {author_id}")
        return author

    class AuthorController(Controller):
        path = "/authors"
        # Parameters say where each value comes from (NamedDependency, FromPath, JSONBody), as Litestar 3 requires;
        # the names are listed because this module's annotations are strings (``from __future__ import annotations``).
        signature_namespace: dict[str, Any] = {
            "AsyncSession": AsyncSession,
            "AuthorIn": AuthorIn,
            "AuthorOut": AuthorOut,
            "BookIn": BookIn,
            "FromPath": FromPath,
            "JSONBody": JSONBody,
            "NamedDependency": NamedDependency,
        }

        @get("/")
        async def list_authors(self, db_session: NamedDependency[AsyncSession]) -> list[AuthorOut]:
            authors = await db_session.scalars(select(Author).order_by(Author.name))
            return [AuthorOut.of(author) for author in authors]

        @post("/")
        async def create_author(self, db_session: NamedDependency[AsyncSession], data: JSONBody[AuthorIn]) -> AuthorOut:
            author = Author(name=data.name, books=[])
            db_session.add(author)
            await db_session.flush()
            return AuthorOut.of(author)

        @get("/{author_id:int}")
        async def get_author(self, db_session: NamedDependency[AsyncSession], author_id: FromPath[int]) -> AuthorOut:
            return AuthorOut.of(await load(db_session, author_id))

        @patch("/{author_id:int}")
        async def rename_author(
            self, db_session: NamedDependency[AsyncSession], author_id: FromPath[int], data: JSONBody[AuthorIn]
        ) -> AuthorOut:
            author = await load(db_session, author_id)
            author.name = data.name
            await db_session.flush()
            return AuthorOut.of(author)

        @delete("/{author_id:int}")
        async def delete_author(self, db_session: NamedDependency[AsyncSession], author_id: FromPath[int]) -> None:
            await db_session.delete(await load(db_session, author_id))

        @post("/{author_id:int}/books")
        async def add_book(
            self, db_session: NamedDependency[AsyncSession], author_id: FromPath[int], data: JSONBody[BookIn]
        ) -> AuthorOut:
            author = await load(db_session, author_id)
            author.books.append(Book(title=data.title))
            await db_session.flush()
            return AuthorOut.of(author)

    return Litestar(route_handlers=[AuthorController], plugins=[SQLAlchemyPlugin(config=config or db)])
