"""create_service_dependencies with the real services: sync and async, every filter key, on every database."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from litestar import Litestar, get
from litestar.di import NamedDependency, Provide
from litestar.params import SkipValidation
from litestar.testing import TestClient
from litestar_dbops.providers import FieldNameType, FilterConfig, create_service_dependencies
from sqlalchemy import select
from sqlalchemy.orm import raiseload

from dbops.config import SQLAlchemyAsyncConfig, SQLAlchemySyncConfig
from dbops.filters import FilterTypes
from tests.databases import TestDatabase
from tests.providers.dto_models import AuthorModel, UserModel
from tests.providers.services import AuthorService, UserService, UserSyncService, uid

FILTERS: FilterConfig = {
    "pagination_type": "limit_offset",
    "pagination_size": 3,
    "id_filter": uuid.UUID,
    "search": "first_name,last_name",
    "search_ignore_case": True,
    "sort_field": "last_name,first_name",
    "sort_order": "asc",
    "created_at": True,
    "updated_at": True,
    "in_fields": [FieldNameType("nickname", str)],
    "not_in_fields": ["last_name"],
}


def session_provider(config: SQLAlchemyAsyncConfig | SQLAlchemySyncConfig) -> Provide:
    """A request session, as the plugin provides it (kept here so these tests need only the service)."""
    if isinstance(config, SQLAlchemyAsyncConfig):

        async def provide_async_session() -> AsyncIterator[Any]:
            async with config.get_session() as session:
                yield session

        return Provide(provide_async_session)

    def provide_sync_session() -> Iterator[Any]:
        with config.get_session() as session:
            yield session

    return Provide(provide_sync_session)  # a generator: sync_to_thread does not apply


def users_app(db: TestDatabase, is_async: bool, **options: Any) -> Litestar:
    if is_async:
        config: SQLAlchemyAsyncConfig | SQLAlchemySyncConfig = SQLAlchemyAsyncConfig(connection_string=db.async_url)

        @get("/users", dependencies=create_service_dependencies(UserService, "users_service", **options))
        async def list_users(
            users_service: NamedDependency[UserService], filters: NamedDependency[SkipValidation[list[FilterTypes]]]
        ) -> dict[str, Any]:
            results, total = await users_service.list_and_count(*filters)
            return {"names": [user.first_name for user in results], "total": total}

    else:
        config = SQLAlchemySyncConfig(connection_string=db.sync_url)

        @get(
            "/users",
            dependencies=create_service_dependencies(UserSyncService, "users_service", **options),
            sync_to_thread=False,
        )
        def list_users(
            users_service: NamedDependency[UserSyncService], filters: NamedDependency[SkipValidation[list[FilterTypes]]]
        ) -> dict[str, Any]:
            results, total = users_service.list_and_count(*filters)
            return {"names": [user.first_name for user in results], "total": total}

    return Litestar([list_users], dependencies={"db_session": session_provider(config)})


@pytest.mark.parametrize(
    ("query", "names", "total"),
    [
        ("", ["Grace", "Donald", "Ada"], 4),  # sorted on last_name asc, 3 a page
        ("currentPage=2", ["Alan"], 4),
        ("pageSize=2&sortOrder=desc", ["Alan", "Ada"], 4),
        ("orderBy=first_name&pageSize=4", ["Ada", "Alan", "Donald", "Grace"], 4),
        ("searchString=OVE", ["Ada"], 1),
        (f"ids={uid('Alan')}&ids={uid('Grace')}", ["Grace", "Alan"], 2),
        ("createdAfter=2024-01-02T12:00:00Z", ["Grace", "Donald"], 2),
        ("createdBefore=2024-01-02T12:00:00Z", ["Ada", "Alan"], 2),
        ("updatedAfter=2024-01-09T12:00:00Z", ["Ada", "Alan"], 2),
        ("nicknameIn=tex&nicknameIn=amazing", ["Grace", "Donald"], 2),
        ("lastNameNotIn=Hopper&lastNameNotIn=Knuth", ["Ada", "Alan"], 2),
        ("searchString=a&nicknameIn=countess&nicknameIn=tex&orderBy=first_name&sortOrder=desc", ["Donald", "Ada"], 2),
    ],
)
def test_list_with_every_filter_key(
    seeded: TestDatabase, is_async: bool, query: str, names: list[str], total: int
) -> None:
    with TestClient(users_app(seeded, is_async, filters=FILTERS)) as client:
        response = client.get(f"/users?{query}")
    assert response.status_code == 200, response.text
    assert response.json() == {"names": names, "total": total}


def test_statement_option_scopes_the_service(seeded: TestDatabase, is_async: bool) -> None:
    statement = select(UserModel).where(UserModel.nickname.is_not(None))
    app = users_app(seeded, is_async, statement=statement, filters={"sort_field": "first_name", "sort_order": "asc"})
    with TestClient(app) as client:
        assert client.get("/users").json() == {"names": ["Ada", "Donald", "Grace"], "total": 3}


def test_load_option_reaches_the_repository(seeded: TestDatabase) -> None:
    def app_with(load: Any) -> Litestar:
        @get("/authors", dependencies=create_service_dependencies(AuthorService, "authors_service", load=load))
        async def list_authors(authors_service: NamedDependency[AuthorService]) -> list[int]:
            return [len(author.books) for author in await authors_service.list()]

        config = SQLAlchemyAsyncConfig(connection_string=seeded.async_url)
        return Litestar([list_authors], dependencies={"db_session": session_provider(config)}, debug=False)

    with TestClient(app_with([AuthorModel.books])) as client:
        assert client.get("/authors").json() == [1]
    # raiseload: the option really is applied (reading books then fails)
    with TestClient(app_with([raiseload(AuthorModel.books)])) as client:
        assert client.get("/authors").status_code == 500


def test_service_uses_the_session_key_of_the_given_config(seeded: TestDatabase) -> None:
    class Keyed:
        session_dependency_key = "library_session"

    @get("/users", dependencies=create_service_dependencies(UserService, "users_service", config=Keyed()))
    async def list_users(users_service: NamedDependency[UserService]) -> int:
        return await users_service.count()

    config = SQLAlchemyAsyncConfig(connection_string=seeded.async_url)
    app = Litestar([list_users], dependencies={"library_session": session_provider(config)})
    with TestClient(app) as client:
        assert client.get("/users").json() == 4


def test_missing_session_dependency_fails_at_startup() -> None:
    from litestar.exceptions import ImproperlyConfiguredException

    @get("/users", dependencies=create_service_dependencies(UserService, "users_service"))
    async def list_users(users_service: NamedDependency[UserService]) -> int:
        return 0

    with pytest.raises(ImproperlyConfiguredException, match="db_session"):
        Litestar([list_users])
