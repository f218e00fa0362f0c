"""A Litestar app written the Advanced Alchemy way: write-DTO handlers pass ``DTOData`` straight to the service.

Sync and async services, on every dialect; the expected bodies are written out by hand.
"""

from __future__ import annotations

import datetime
from typing import Any
from uuid import UUID

import pytest
from litestar import Controller, Litestar, get, patch, post, put
from litestar.dto import DTOConfig, DTOData
from litestar.testing import TestClient
from litestar_dbops import (
    SQLAlchemyAsyncConfig,
    SQLAlchemyPlugin,
    SQLAlchemySyncConfig,
    async_autocommit_before_send_handler,
    sync_autocommit_before_send_handler,
)
from litestar_dbops.dto import SQLAlchemyDTO
from litestar_dbops.providers import create_service_dependencies
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from dbops import repository, service
from tests.databases import TestDatabase
from tests.models.harness import create_tables
from tests.providers.aa_models import TABLES, PortAuthor

# Handlers written as Advanced Alchemy apps write them (undeclared injection, Dependency(skip_validation=...)):
# Litestar 2.24+ deprecates that style, but a ported app must keep working, so the warnings are expected here.
pytestmark = pytest.mark.filterwarnings("ignore::litestar.exceptions.LitestarDeprecationWarning")


class AuthorRepository(repository.SQLAlchemyAsyncRepository[PortAuthor]):
    model_type = PortAuthor


class AuthorService(service.SQLAlchemyAsyncRepositoryService[PortAuthor, AuthorRepository]):
    repository_type = AuthorRepository


class SyncAuthorRepository(repository.SQLAlchemySyncRepository[PortAuthor]):
    model_type = PortAuthor


class SyncAuthorService(service.SQLAlchemySyncRepositoryService[PortAuthor, SyncAuthorRepository]):
    repository_type = SyncAuthorRepository


class AuthorCreateDTO(SQLAlchemyDTO[PortAuthor]):
    config = DTOConfig(
        exclude={"id", "created_at", "updated_at", "books.0.id", "books.0.author_id", "books.0.author"},
        max_nested_depth=1,
    )


class AuthorPatchDTO(SQLAlchemyDTO[PortAuthor]):
    config = DTOConfig(exclude={"id", "created_at", "updated_at", "books"}, partial=True)


class AuthorPutDTO(SQLAlchemyDTO[PortAuthor]):
    config = DTOConfig(exclude={"created_at", "updated_at", "books"})


class AuthorReadDTO(SQLAlchemyDTO[PortAuthor]):
    config = DTOConfig(
        exclude={"created_at", "updated_at", "books.0.author", "books.0.created_at", "books.0.updated_at"}
    )


class AsyncAuthorController(Controller):
    path = "/authors"
    dependencies = create_service_dependencies(AuthorService, "authors_service")
    return_dto = AuthorReadDTO

    @post(dto=AuthorCreateDTO)
    async def create_author(self, authors_service: AuthorService, data: DTOData[PortAuthor]) -> PortAuthor:
        return await authors_service.create(data)

    @patch("/{author_id:uuid}", dto=AuthorPatchDTO)
    async def update_author(
        self, authors_service: AuthorService, author_id: UUID, data: DTOData[PortAuthor]
    ) -> PortAuthor:
        return await authors_service.update(data, item_id=author_id)

    @put("/", dto=AuthorPutDTO)
    async def upsert_author(self, authors_service: AuthorService, data: DTOData[PortAuthor]) -> PortAuthor:
        return await authors_service.upsert(data)

    @get("/{author_id:uuid}")
    async def get_author(self, authors_service: AuthorService, author_id: UUID) -> PortAuthor:
        return await authors_service.get(author_id)


class SyncAuthorController(Controller):
    path = "/authors"
    dependencies = create_service_dependencies(SyncAuthorService, "authors_service")
    return_dto = AuthorReadDTO

    @post(dto=AuthorCreateDTO, sync_to_thread=False)
    def create_author(self, authors_service: SyncAuthorService, data: DTOData[PortAuthor]) -> PortAuthor:
        return authors_service.create(data)

    @patch("/{author_id:uuid}", dto=AuthorPatchDTO, sync_to_thread=False)
    def update_author(
        self, authors_service: SyncAuthorService, author_id: UUID, data: DTOData[PortAuthor]
    ) -> PortAuthor:
        return authors_service.update(data, item_id=author_id)

    @put("/", dto=AuthorPutDTO, sync_to_thread=False)
    def upsert_author(self, authors_service: SyncAuthorService, data: DTOData[PortAuthor]) -> PortAuthor:
        return authors_service.upsert(data)

    @get("/{author_id:uuid}", sync_to_thread=False)
    def get_author(self, authors_service: SyncAuthorService, author_id: UUID) -> PortAuthor:
        return authors_service.get(author_id)


def app_for(db: TestDatabase, is_async: bool) -> Litestar:
    create_tables(db, TABLES)
    config: Any
    if is_async:
        config = SQLAlchemyAsyncConfig(
            connection_string=db.async_url, before_send_handler=async_autocommit_before_send_handler
        )
        controller: type[Controller] = AsyncAuthorController
    else:
        config = SQLAlchemySyncConfig(
            connection_string=db.sync_url, before_send_handler=sync_autocommit_before_send_handler
        )
        controller = SyncAuthorController
    return Litestar([controller], plugins=[SQLAlchemyPlugin(config=config)])


def stored(db: TestDatabase) -> list[tuple[str, str | None, list[str]]]:
    """What the database holds, read with plain SQLAlchemy (not through dbops)."""
    engine = create_engine(db.sync_url)
    try:
        with Session(engine) as session:
            authors = session.scalars(select(PortAuthor).order_by(PortAuthor.name)).all()
            return [(a.name, a.dob.isoformat() if a.dob else None, [b.title for b in a.books]) for a in authors]
    finally:
        engine.dispose()


def test_dto_data_goes_straight_to_create_update_and_upsert(db: TestDatabase, is_async: bool) -> None:
    with TestClient(app_for(db, is_async)) as client:
        created = client.post(
            "/authors", json={"name": "Octavia Butler", "dob": "1947-06-22", "books": [{"title": "Kindred"}]}
        )
        assert created.status_code == 201, created.text
        body = created.json()
        author_id = body["id"]
        UUID(author_id)
        assert body["name"] == "Octavia Butler"
        assert body["dob"] == "1947-06-22"
        assert [book["title"] for book in body["books"]] == ["Kindred"]
        assert body["books"][0]["author_id"] == author_id

        # a partial DTO: only what the body sets changes
        patched = client.patch(f"/authors/{author_id}", json={"name": "Octavia E. Butler"})
        assert patched.status_code == 200, patched.text
        assert (patched.json()["name"], patched.json()["dob"]) == ("Octavia E. Butler", "1947-06-22")
        assert [book["title"] for book in patched.json()["books"]] == ["Kindred"]
        assert client.patch(f"/authors/{author_id}", json={"dob": None}).json()["dob"] is None

        # upsert: the same id updates the row, a new id inserts one
        upserted = client.put("/authors/", json={"id": author_id, "name": "O. Butler", "dob": "1947-06-22"})
        assert upserted.status_code == 200, upserted.text
        assert (upserted.json()["id"], upserted.json()["name"]) == (author_id, "O. Butler")
        new_id = "00000000-0000-0000-0000-00000000beef"
        inserted = client.put("/authors/", json={"id": new_id, "name": "Ursula Le Guin", "dob": None})
        assert inserted.status_code == 200, inserted.text
        assert inserted.json()["id"] == new_id

        second = client.post("/authors", json={"name": "Ann Leckie", "books": []})
        assert (second.status_code, second.json()["books"]) == (201, [])

        missing = client.patch("/authors/00000000-0000-0000-0000-000000000000", json={"name": "x"})
        assert missing.status_code == 404, missing.text
    assert stored(db) == [
        ("Ann Leckie", None, []),
        ("O. Butler", datetime.date(1947, 6, 22).isoformat(), ["Kindred"]),
        ("Ursula Le Guin", None, []),
    ]
