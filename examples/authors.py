"""The seed's AuthorController app with dbops' names: a CRUD API for authors, with pagination, search and ids.

Run it (SQLite file next to this script, tables created on startup)::

    uv run --with uvicorn litestar --app examples.authors:app run
    curl 'localhost:8000/authors?currentPage=1&pageSize=10&searchString=ann'

``AUTHORS_DB_URL`` points it at another database (``postgresql+asyncpg://...``); ``create_app(url)`` builds
the same app for any URL (the tests run it on SQLite, PostgreSQL and MariaDB).
"""

from __future__ import annotations

import datetime
import os
from pathlib import Path
from typing import Annotated, Optional
from uuid import UUID

from litestar import Controller, Litestar, delete, get, patch, post
from litestar.params import Dependency, Parameter
from litestar_dbops import (
    AsyncSessionConfig,
    SQLAlchemyAsyncConfig,
    SQLAlchemyPlugin,
    base,
    filters,
    providers,
    repository,
    service,
)
from pydantic import BaseModel
from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped, mapped_column, relationship

DEFAULT_URL = f"sqlite+aiosqlite:///{Path(__file__).resolve().parent / 'authors.sqlite'}"


class AuthorModel(base.UUIDBase):
    __tablename__ = "author"

    name: Mapped[str]
    dob: Mapped[Optional[datetime.date]]
    books: Mapped[list[BookModel]] = relationship(back_populates="author", lazy="selectin")


class BookModel(base.UUIDAuditBase):
    __tablename__ = "book"

    title: Mapped[str]
    author_id: Mapped[UUID] = mapped_column(ForeignKey("author.id"))
    author: Mapped[AuthorModel] = relationship(lazy="joined", innerjoin=True, viewonly=True)


class Author(BaseModel):
    """Author response schema."""

    id: Optional[UUID] = None
    name: str
    dob: Optional[datetime.date] = None


class AuthorCreate(BaseModel):
    """Schema for creating authors."""

    name: str
    dob: Optional[datetime.date] = None


class AuthorUpdate(BaseModel):
    """Schema for updating authors."""

    name: Optional[str] = None
    dob: Optional[datetime.date] = None


class AuthorService(service.SQLAlchemyAsyncRepositoryService[AuthorModel]):
    """Author service."""

    class Repo(repository.SQLAlchemyAsyncRepository[AuthorModel]):
        """Author repository."""

        model_type = AuthorModel

    repository_type = Repo


class AuthorController(Controller):
    """Author CRUD endpoints."""

    dependencies = providers.create_service_dependencies(
        AuthorService,
        "authors_service",
        load=[AuthorModel.books],
        filters={"pagination_type": "limit_offset", "id_filter": UUID, "search": "name", "search_ignore_case": True},
    )

    @get(path="/authors")
    async def list_authors(
        self,
        authors_service: AuthorService,
        filters: Annotated[list[filters.FilterTypes], Dependency(skip_validation=True)],
    ) -> service.OffsetPagination[Author]:
        """List all authors with pagination."""
        results, total = await authors_service.list_and_count(*filters)
        return authors_service.to_schema(results, total, filters=filters, schema_type=Author)

    @post(path="/authors")
    async def create_author(self, authors_service: AuthorService, data: AuthorCreate) -> Author:
        """Create a new author."""
        obj = await authors_service.create(data)
        return authors_service.to_schema(obj, schema_type=Author)

    @get(path="/authors/{author_id:uuid}")
    async def get_author(
        self,
        authors_service: AuthorService,
        author_id: UUID = Parameter(title="Author ID", description="The author to retrieve."),
    ) -> Author:
        """Get an existing author."""
        obj = await authors_service.get(author_id)
        return authors_service.to_schema(obj, schema_type=Author)

    @patch(path="/authors/{author_id:uuid}")
    async def update_author(
        self,
        authors_service: AuthorService,
        data: AuthorUpdate,
        author_id: UUID = Parameter(title="Author ID", description="The author to update."),
    ) -> Author:
        """Update an author."""
        obj = await authors_service.update(data, item_id=author_id, auto_commit=True)
        return authors_service.to_schema(obj, schema_type=Author)

    @delete(path="/authors/{author_id:uuid}")
    async def delete_author(
        self,
        authors_service: AuthorService,
        author_id: UUID = Parameter(title="Author ID", description="The author to delete."),
    ) -> None:
        """Delete an author from the system."""
        _ = await authors_service.delete(author_id)


def create_app(connection_string: str = DEFAULT_URL) -> Litestar:
    """The authors app on ``connection_string`` (tables created on startup)."""
    alchemy_config = SQLAlchemyAsyncConfig(
        connection_string=connection_string,
        before_send_handler="autocommit",
        session_config=AsyncSessionConfig(expire_on_commit=False),
        create_all=True,
    )
    return Litestar(route_handlers=[AuthorController], plugins=[SQLAlchemyPlugin(config=alchemy_config)])


app = create_app(os.environ.get("AUTHORS_DB_URL", DEFAULT_URL))
