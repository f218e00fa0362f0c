"""The seed's models + schemas + "Repository-Only Pattern" app, with dbops / litestar_dbops names swapped in.

The snippets define tables named ``author`` and ``book`` on dbops' shared metadata, as a user's app would,
so the app runs in its own process; it prints what its CRUD calls returned.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.databases import TestDatabase

MODELS_SCHEMAS_AND_APP = '''
from __future__ import annotations

import datetime
from typing import TYPE_CHECKING, Optional
from uuid import UUID

from litestar import Controller, Litestar, delete, get, patch, post
from litestar.di import Provide
from litestar.pagination import OffsetPagination
from litestar.params import Parameter
from pydantic import BaseModel, TypeAdapter
from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dbops.base import UUIDAuditBase, UUIDBase
from dbops.config import AsyncSessionConfig
from litestar_dbops import SQLAlchemyAsyncConfig, SQLAlchemyPlugin
from dbops.filters import LimitOffset
from dbops.repository import SQLAlchemyAsyncRepository

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession


class BaseModel(BaseModel):
    """Extend Pydantic's BaseModel to enable ORM mode"""

    model_config = {"from_attributes": True}


# Models
class AuthorModel(UUIDBase):
    __tablename__ = "author"
    name: Mapped[str]
    dob: Mapped[Optional[datetime.date]]
    books: Mapped[list[BookModel]] = relationship(back_populates="author", lazy="noload")


class BookModel(UUIDAuditBase):
    __tablename__ = "book"
    title: Mapped[str]
    author_id: Mapped[UUID] = mapped_column(ForeignKey("author.id"))
    author: Mapped[AuthorModel] = relationship(lazy="joined", innerjoin=True, viewonly=True)


# Schemas
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


# Repository
class AuthorRepository(SQLAlchemyAsyncRepository[AuthorModel]):
    """Author repository."""

    model_type = AuthorModel


# Dependency providers
async def provide_authors_repo(db_session: AsyncSession) -> AuthorRepository:
    """This provides the default Authors repository."""
    return AuthorRepository(session=db_session)


async def provide_author_details_repo(db_session: AsyncSession) -> AuthorRepository:
    """Repository with eager loading for author details."""
    return AuthorRepository(load=[AuthorModel.books], session=db_session)


def provide_limit_offset_pagination(
    current_page: int = Parameter(ge=1, query="currentPage", default=1, required=False),
    page_size: int = Parameter(query="pageSize", ge=1, default=10, required=False),
) -> LimitOffset:
    """Add offset/limit pagination."""
    return LimitOffset(page_size, page_size * (current_page - 1))


# Controller
class AuthorController(Controller):
    """Author CRUD using repository pattern."""

    dependencies = {"authors_repo": Provide(provide_authors_repo)}

    @get(path="/authors")
    async def list_authors(
        self,
        authors_repo: AuthorRepository,
        limit_offset: LimitOffset,
    ) -> OffsetPagination[Author]:
        """List authors with pagination."""
        results, total = await authors_repo.list_and_count(limit_offset)
        type_adapter = TypeAdapter(list[Author])
        return OffsetPagination[Author](
            items=type_adapter.validate_python(results),
            total=total,
            limit=limit_offset.limit,
            offset=limit_offset.offset,
        )

    @post(path="/authors")
    async def create_author(
        self,
        authors_repo: AuthorRepository,
        data: AuthorCreate,
    ) -> Author:
        """Create a new author."""
        obj = await authors_repo.add(
            AuthorModel(**data.model_dump(exclude_unset=True, exclude_none=True)),
        )
        await authors_repo.session.commit()
        return Author.model_validate(obj)

    @get(path="/authors/{author_id:uuid}", dependencies={"authors_repo": Provide(provide_author_details_repo)})
    async def get_author(
        self,
        authors_repo: AuthorRepository,
        author_id: UUID = Parameter(title="Author ID", description="The author to retrieve."),
    ) -> Author:
        """Get an existing author with details."""
        obj = await authors_repo.get(author_id)
        return Author.model_validate(obj)

    @patch(path="/authors/{author_id:uuid}", dependencies={"authors_repo": Provide(provide_author_details_repo)})
    async def update_author(
        self,
        authors_repo: AuthorRepository,
        data: AuthorUpdate,
        author_id: UUID = Parameter(title="Author ID", description="The author to update."),
    ) -> Author:
        """Update an author."""
        raw_obj = data.model_dump(exclude_unset=True, exclude_none=True)
        raw_obj.update({"id": author_id})
        obj = await authors_repo.update(AuthorModel(**raw_obj))
        await authors_repo.session.commit()
        return Author.model_validate(obj)

    @delete(path="/authors/{author_id:uuid}")
    async def delete_author(
        self,
        authors_repo: AuthorRepository,
        author_id: UUID = Parameter(title="Author ID", description="The author to delete."),
    ) -> None:
        """Delete an author from the system."""
        _ = await authors_repo.delete(author_id)
        await authors_repo.session.commit()


# Repository and Service Layer (the seed's form: the modules from the plugin package)
from litestar_dbops import repository, service


class AuthorService(service.SQLAlchemyAsyncRepositoryService[AuthorModel]):
    """Author service."""

    class Repo(repository.SQLAlchemyAsyncRepository[AuthorModel]):
        """Author repository."""

        model_type = AuthorModel

    repository_type = Repo


@get(path="/service/authors")
async def list_authors_with_service(
    db_session: AsyncSession, limit_offset: LimitOffset
) -> service.OffsetPagination[Author]:
    authors_service = AuthorService(session=db_session)
    results, total = await authors_service.list_and_count(limit_offset)
    return authors_service.to_schema(results, total, filters=[limit_offset], schema_type=Author)


# Application setup
session_config = AsyncSessionConfig(expire_on_commit=False)
alchemy_config = SQLAlchemyAsyncConfig(
    connection_string="sqlite+aiosqlite:///test.sqlite",
    session_config=session_config,
    create_all=True,
)
sqlalchemy_plugin = SQLAlchemyPlugin(config=alchemy_config)
app = Litestar(
    route_handlers=[AuthorController, list_authors_with_service],
    plugins=[sqlalchemy_plugin],
    dependencies={"limit_offset": Provide(provide_limit_offset_pagination, sync_to_thread=False)},
)
'''

DRIVER = """

if __name__ == "__main__":
    import json

    from litestar.testing import TestClient

    calls = []
    with TestClient(app) as client:
        def call(method, url, **kwargs):
            response = client.request(method, url, **kwargs)
            calls.append([method, url, response.status_code, response.json() if response.content else None])
            return response

        created = call("POST", "/authors", json={"name": "Ursula", "dob": "1929-10-21"}).json()
        call("POST", "/authors", json={"name": "Octavia"})
        call("PATCH", f"/authors/{created['id']}", json={"name": "Ursula K. Le Guin"})
        call("GET", f"/authors/{created['id']}")
        call("GET", "/authors?pageSize=1&currentPage=2")
        call("GET", "/service/authors?pageSize=10")
        call("DELETE", f"/authors/{created['id']}")
        call("GET", f"/authors/{created['id']}")
    print(json.dumps({"id": created["id"], "calls": calls}))
"""


def test_repository_only_pattern(db: TestDatabase, tmp_path: Path) -> None:
    source = MODELS_SCHEMAS_AND_APP.replace("sqlite+aiosqlite:///test.sqlite", db.async_url) + DRIVER
    (tmp_path / "seed_repository_app.py").write_text(source)
    done = subprocess.run(
        [sys.executable, "seed_repository_app.py"], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.splitlines()[-1])
    author_id = result["id"]
    statuses = [(method, status) for method, _, status, _ in result["calls"]]
    assert statuses == [
        ("POST", 201),
        ("POST", 201),
        ("PATCH", 200),
        ("GET", 200),
        ("GET", 200),
        ("GET", 200),
        ("DELETE", 204),
        ("GET", 404),
    ]
    calls = result["calls"]
    assert calls[3][3] == {"id": author_id, "name": "Ursula K. Le Guin", "dob": "1929-10-21"}
    page = calls[4][3]
    assert (page["total"], page["limit"], page["offset"], len(page["items"])) == (2, 1, 1, 1)
    by_service = calls[5][3]
    assert (by_service["total"], by_service["limit"], by_service["offset"]) == (2, 10, 0)
    assert sorted(item["name"] for item in by_service["items"]) == ["Octavia", "Ursula K. Le Guin"]
    assert calls[7][3]["status_code"] == 404  # the repository's NotFoundError, mapped by the plugin
