"""Services from create_service_dependencies inside apps using SQLAlchemyPlugin: one bind and several."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from litestar import Litestar, get, patch, post
from litestar.di import NamedDependency
from litestar.dto import DTOConfig, DTOData
from litestar.params import JSONBody, SkipValidation
from litestar.testing import TestClient
from litestar_dbops import SQLAlchemyAsyncConfig, SQLAlchemyPlugin, SQLAlchemySyncConfig
from litestar_dbops.dto import SQLAlchemyDTO
from litestar_dbops.providers import create_service_dependencies
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from dbops.filters import FilterTypes
from tests.databases import TestDatabase
from tests.providers.dto_models import AuthorModel, Base, UserModel
from tests.providers.services import AuthorService, UserService, UserSyncService, uid


def test_each_service_uses_the_session_of_its_config(seeded: TestDatabase, tmp_path: Path) -> None:
    """The default bind is an empty database; the "library" bind is the seeded one."""
    empty_url = f"sqlite:///{tmp_path / 'empty.sqlite'}"
    engine = create_engine(empty_url)
    Base.metadata.create_all(engine)
    engine.dispose()
    default = SQLAlchemyAsyncConfig(
        connection_string=empty_url.replace("sqlite:", "sqlite+aiosqlite:"), metadata=Base.metadata
    )
    library = SQLAlchemySyncConfig(
        connection_string=seeded.sync_url,
        metadata=Base.metadata,
        bind_key="library",
        session_dependency_key="library_session",
        engine_dependency_key="library_engine",
    )

    @get("/default", dependencies=create_service_dependencies(UserService, "users_service"))
    async def count_default(users_service: NamedDependency[UserService]) -> int:
        return await users_service.count()

    @get(
        "/library",
        dependencies=create_service_dependencies(
            UserSyncService, "users_service", config=library, filters={"search": "last_name"}
        ),
        sync_to_thread=False,
    )
    def count_library(
        users_service: NamedDependency[UserSyncService], filters: NamedDependency[SkipValidation[list[FilterTypes]]]
    ) -> int:
        return users_service.count(*filters)

    app = Litestar([count_default, count_library], plugins=[SQLAlchemyPlugin(config=[default, library])])
    with TestClient(app) as client:
        assert client.get("/default").json() == 0
        assert client.get("/library").json() == 4
        assert client.get("/library?searchString=ing").json() == 1


def test_create_through_the_service_is_committed_by_the_plugin(db: TestDatabase) -> None:
    config = SQLAlchemyAsyncConfig(
        connection_string=db.async_url, metadata=Base.metadata, create_all=True, before_send_handler="autocommit"
    )
    dependencies = create_service_dependencies(
        AuthorService, "authors_service", load=[AuthorModel.books], filters={"pagination_type": "limit_offset"}
    )

    @post("/authors", dependencies=dependencies, return_dto=SQLAlchemyDTO[AuthorModel])
    async def create_author(
        authors_service: NamedDependency[AuthorService], data: JSONBody[dict[str, Any]]
    ) -> AuthorModel:
        return await authors_service.create(data)

    @get("/authors", dependencies=dependencies)
    async def list_authors(
        authors_service: NamedDependency[AuthorService], filters: NamedDependency[SkipValidation[list[FilterTypes]]]
    ) -> dict[str, Any]:
        results, total = await authors_service.list_and_count(*filters)
        return {"names": sorted(author.name for author in results), "total": total}

    app = Litestar([create_author, list_authors], plugins=[SQLAlchemyPlugin(config=config)])
    with TestClient(app) as client:
        created = client.post("/authors", json={"name": "N. K. Jemisin"})
        assert created.status_code == 201, created.text
        assert created.json()["books"] == []
        assert created.json()["name_length"] == 13
        assert client.get("/authors?pageSize=1").json() == {"names": ["N. K. Jemisin"], "total": 1}


class UserPatchDTO(SQLAlchemyDTO[UserModel]):
    config = DTOConfig(exclude={"id"}, rename_strategy="camel", partial=True)


# The README's example as printed, in the seed's style (Litestar 2.24+ warns about it; it must keep working).
@pytest.mark.filterwarnings("ignore::litestar.exceptions.LitestarDeprecationWarning")
def test_readme_partial_update_with_a_dto(seeded: TestDatabase) -> None:
    """The README's example: a partial, camel-cased DTO applied to the stored row through the service."""
    config = SQLAlchemyAsyncConfig(
        connection_string=seeded.async_url, metadata=Base.metadata, before_send_handler="autocommit"
    )

    @patch(
        "/users/{user_id:uuid}",
        dto=UserPatchDTO,
        return_dto=SQLAlchemyDTO[UserModel],
        dependencies=create_service_dependencies(UserService, "users_service"),
    )
    async def update_user(user_id: UUID, data: DTOData[UserModel], users_service: UserService) -> UserModel:
        user = data.update_instance(await users_service.get(user_id))  # only the fields the body set
        return await users_service.update(user)

    app = Litestar([update_user], plugins=[SQLAlchemyPlugin(config=config)])
    with TestClient(app) as client:
        response = client.patch(f"/users/{uid('Grace')}", json={"lastName": "Murray Hopper", "fullName": "ignored"})
    assert response.status_code == 200, response.text
    assert response.json()["full_name"] == "Grace Murray Hopper"
    engine = create_engine(seeded.sync_url)
    with Session(engine) as session:
        grace = session.get_one(UserModel, uid("Grace"))
        assert (grace.first_name, grace.last_name, grace.nickname) == ("Grace", "Murray Hopper", "amazing")
    engine.dispose()


def test_explicit_markers_work_without_warnings(seeded: TestDatabase) -> None:
    """The Litestar 3 style the README shows: the service and the filters marked as named dependencies."""
    import warnings

    from litestar.di import NamedDependency
    from litestar.params import SkipValidation

    config = SQLAlchemyAsyncConfig(connection_string=seeded.async_url, metadata=Base.metadata)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")

        @get(
            "/users",
            dependencies=create_service_dependencies(
                UserService, "users_service", filters={"pagination_type": "limit_offset", "search": "last_name"}
            ),
            signature_namespace={"NamedDependency": NamedDependency, "SkipValidation": SkipValidation},
        )
        async def list_users(
            users_service: NamedDependency[UserService],
            filters: NamedDependency[SkipValidation[list[FilterTypes]]],
        ) -> dict[str, Any]:
            results, total = await users_service.list_and_count(*filters)
            return {"names": sorted(user.first_name for user in results), "total": total}

        app = Litestar([list_users], plugins=[SQLAlchemyPlugin(config=config)])
    assert [str(w.message) for w in caught] == []
    with TestClient(app) as client:
        assert client.get("/users?searchString=o&pageSize=2").json() == {"names": ["Ada", "Grace"], "total": 2}
        assert client.get("/users?pageSize=0").status_code == 400
