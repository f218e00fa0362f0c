"""SQLAlchemyDTO through Litestar's TestClient: fields, properties, nesting, DTOConfig, and database round trips."""

from __future__ import annotations

import functools
import re
import uuid
from collections.abc import Iterator
from typing import Any, Optional

import pytest
from litestar import Litestar, get, patch, post
from litestar.dto import DTOConfig, DTOData, dto_field
from litestar.params import FromPath, JSONBody
from litestar.testing import TestClient
from litestar_dbops.dto import SQLAlchemyDTO
from sqlalchemy import Computed, Engine, ForeignKey, String, create_engine, select
from sqlalchemy.ext.associationproxy import AssociationProxy, association_proxy
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, WriteOnlyMapped, mapped_column, relationship

from dbops.errors import ConfigError
from tests.databases import TestDatabase
from tests.providers.dto_models import AuthorModel, Base, BookModel, UserModel

AUTHOR_ID = uuid.UUID("00000000-0000-0000-0000-0000000000a1")


def sample_author() -> AuthorModel:
    author = AuthorModel(id=AUTHOR_ID, name="Ursula Le Guin", dob=None, country="US")
    author.books = [BookModel(id=1, title="The Dispossessed", author_id=AUTHOR_ID)]
    return author


def schemas(app: Litestar) -> dict[str, Any]:
    with TestClient(app) as client:
        result: dict[str, Any] = client.get("/schema/openapi.json").json()["components"]["schemas"]
    return result


def schema_for(app: Litestar, suffix: str) -> dict[str, Any]:
    # Litestar numbers a schema name it has generated before in this process (``..._1``)
    (found,) = [schema for name, schema in schemas(app).items() if re.sub(r"_\d+$", "", name).endswith(suffix)]
    return found


def read_app(dto: type[SQLAlchemyDTO[Any]]) -> Litestar:
    @get("/author", return_dto=dto, sync_to_thread=False)
    def read_author() -> AuthorModel:
        return sample_author()

    return Litestar([read_author], debug=False)


# --- read: which fields, which types ---------------------------------------------------------------------------


def test_read_has_columns_relationships_hybrids_and_properties() -> None:
    app = read_app(SQLAlchemyDTO[AuthorModel])
    with TestClient(app) as client:
        body = client.get("/author").json()
    assert body == {
        "id": str(AUTHOR_ID),
        "name": "Ursula Le Guin",
        "dob": None,
        "country": "US",
        "books": [
            {
                "id": 1,
                "title": "The Dispossessed",
                "author_id": str(AUTHOR_ID),
                "author_name": None,  # a column_property, loaded only from the database
                "shout": "THE DISPOSSESSED",
            }
        ],
        "name_length": 14,
        "upper_name": "URSULA LE GUIN",
        "initials": "ULG",
        "nickname": "Ursula",
        "shout": "URSULA LE GUIN",
        "untyped": 1,
        "price": "1.5",
    }


def test_property_types_come_from_return_annotations() -> None:
    properties = schema_for(read_app(SQLAlchemyDTO[AuthorModel]), "AuthorModelResponseBody")["properties"]
    assert properties["name_length"] == {"type": "integer"}
    assert properties["upper_name"] == {"type": "string"}
    assert properties["initials"] == {"type": "string"}  # cached_property
    assert properties["nickname"] == {"type": "string"}
    assert properties["shout"] == {"type": "string"}  # from the mixin
    assert properties["untyped"] == {}  # no annotation: Any
    assert properties["price"] == {}  # annotation not resolvable at runtime: Any
    assert properties["id"] == {"type": "string", "format": "uuid"}
    assert "_secret" not in properties


def test_nested_relationships_follow_max_nested_depth() -> None:
    class Flat(SQLAlchemyDTO[AuthorModel]):
        config = DTOConfig(max_nested_depth=0)

    class Deep(SQLAlchemyDTO[AuthorModel]):
        config = DTOConfig(max_nested_depth=2, exclude={"books.0.author.books"})

    with TestClient(read_app(Flat)) as client:
        assert "books" not in client.get("/author").json()
    author = sample_author()
    author.books[0].author = author

    @get("/deep", return_dto=Deep, sync_to_thread=False)
    def deep() -> AuthorModel:
        return author

    with TestClient(Litestar([deep])) as client:
        book = client.get("/deep").json()["books"][0]
    assert book["author"]["name"] == "Ursula Le Guin"
    assert "books" not in book["author"]


def test_properties_shadowed_by_sqlalchemy_attributes_are_skipped() -> None:
    @get("/book", return_dto=SQLAlchemyDTO[BookModel], sync_to_thread=False)
    def read_book() -> BookModel:
        return sample_author().books[0]

    properties = schema_for(Litestar([read_book]), "BookModelResponseBody")["properties"]
    # TitleMixin.title (an int property) is shadowed by the mapped column
    assert properties["title"] == {"type": "string"}
    assert properties["shout"] == {"type": "string"}
    assert properties["author_name"] == {"type": "string"}


# --- write: what can be set --------------------------------------------------------------------------------------


def test_properties_and_hybrids_without_setter_are_read_only() -> None:
    received: list[AuthorModel] = []

    @post("/author", dto=SQLAlchemyDTO[AuthorModel], signature_namespace={"AuthorModel": AuthorModel})
    async def create(data: JSONBody[AuthorModel]) -> None:
        received.append(data)

    app = Litestar([create])
    request = schema_for(app, "AuthorModelRequestBody")
    # the hybrid with a setter (upper_name) is writable; a plain property's setter (nickname) is not
    assert set(request["properties"]) == {"id", "name", "dob", "country", "books", "upper_name"}
    assert request["required"] == ["name", "upper_name"]
    with TestClient(app) as client:
        response = client.post(
            "/author",
            json={
                "name": "x",
                "upper_name": "ANN",
                "nickname": "IGNORED",
                "initials": "X",
                "name_length": 99,
                "shout": "no",
            },
        )
    assert response.status_code == 201, response.text
    (author,) = received
    assert author.name == "ann"  # the upper_name setter ran (after name); the nickname setter did not
    assert author.initials == "a"  # computed, not taken from the body
    assert author.country == "FR"  # the column's scalar default
    assert isinstance(author.id, uuid.UUID)  # the column's callable default
    assert author.books == []


def test_hybrid_with_a_setter_is_written_through_the_setter() -> None:
    """As in Advanced Alchemy: required on write (a non-partial DTO passes every field to the constructor)."""
    received: list[AuthorModel] = []

    class Partial(SQLAlchemyDTO[AuthorModel]):
        config = DTOConfig(partial=True, exclude={"books"})

    @post("/author", dto=SQLAlchemyDTO[AuthorModel], signature_namespace={"AuthorModel": AuthorModel})
    async def create(data: JSONBody[AuthorModel]) -> None:
        received.append(data)

    @patch("/author", dto=Partial, signature_namespace={"AuthorModel": AuthorModel}, sync_to_thread=False)
    def update(data: JSONBody[DTOData[AuthorModel]]) -> None:
        received.append(data.update_instance(AuthorModel(name="kept")))

    with TestClient(Litestar([create, update])) as client:
        assert client.post("/author", json={"name": "x", "upper_name": "BOB"}).status_code == 201
        missing = client.post("/author", json={"name": "x"})
        assert missing.status_code == 400
        assert "upper_name" in missing.json()["detail"]
        assert client.patch("/author", json={"dob": None}).status_code == 200  # partial: may be left out
        assert client.patch("/author", json={"upper_name": "EVE"}).status_code == 200
    assert [author.name for author in received] == ["bob", "kept", "eve"]


def test_viewonly_relationship_and_column_property_are_read_only() -> None:
    @post("/book", dto=SQLAlchemyDTO[BookModel], signature_namespace={"BookModel": BookModel})
    async def create(data: JSONBody[BookModel]) -> None:
        pass

    request = schema_for(Litestar([create]), "BookModelRequestBody")
    assert "author_view" not in request["properties"]
    assert "author_name" not in request["properties"]
    assert "title" in request["properties"]
    # an autoincrement integer primary key may be left out
    assert "id" not in request["required"]


def test_dataclass_model_like_the_seed_user_model() -> None:
    @post("/users", dto=SQLAlchemyDTO[UserModel], signature_namespace={"UserModel": UserModel}, sync_to_thread=False)
    def create(data: JSONBody[UserModel]) -> UserModel:
        return data

    app = Litestar([create])
    request = schema_for(app, "UserModelRequestBody")
    response = schema_for(app, "UserModelResponseBody")
    # init=False dataclass fields (id, created_at, updated_at) and properties are read-only
    assert set(request["properties"]) == {"first_name", "last_name", "nickname"}
    assert set(response["properties"]) == {
        "id",
        "created_at",
        "updated_at",
        "first_name",
        "last_name",
        "nickname",
        "full_name",
        "name_length",
    }
    with TestClient(app) as client:
        body = client.post("/users", json={"first_name": "Ada", "last_name": "Lovelace", "full_name": "x"}).json()
    assert body["full_name"] == "Ada Lovelace"
    assert body["name_length"] == 12
    assert body["nickname"] is None
    uuid.UUID(body["id"])


# --- DTOConfig --------------------------------------------------------------------------------------------------


def test_exclude_and_rename_strategy_on_read_and_write() -> None:
    class ReadDTO(SQLAlchemyDTO[AuthorModel]):
        config = DTOConfig(exclude={"books", "dob", "price", "untyped"}, rename_strategy="camel")

    class WriteDTO(SQLAlchemyDTO[AuthorModel]):
        # Litestar types exclude as a set of str; SQLAlchemyDTO takes attributes in a plain DTOConfig too
        config = DTOConfig(exclude={"id", AuthorModel.books, "upper_name"}, rename_strategy="camel")  # type: ignore[arg-type]

    received: list[AuthorModel] = []

    @post("/author", dto=WriteDTO, return_dto=ReadDTO, signature_namespace={"AuthorModel": AuthorModel})
    async def create(data: JSONBody[AuthorModel]) -> AuthorModel:
        data.id = AUTHOR_ID
        received.append(data)
        return data

    app = Litestar([create])
    with TestClient(app) as client:
        response = client.post("/author", json={"name": "Ann Lee", "upperName": "IGNORED", "id": "bad"})
    assert response.status_code == 201, response.text
    assert response.json() == {
        "id": str(AUTHOR_ID),
        "name": "Ann Lee",
        "country": "FR",
        "nameLength": 7,
        "upperName": "ANN LEE",
        "initials": "AL",
        "nickname": "Ann",
        "shout": "ANN LEE",
    }
    assert set(schema_for(app, "AuthorModelRequestBody")["properties"]) == {"name", "dob", "country"}


class NotMapped:
    name: str


def test_unknown_model_type_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="not an SQLAlchemy mapped class"):

        @get("/x", return_dto=SQLAlchemyDTO[NotMapped], sync_to_thread=False)
        def read() -> NotMapped:
            return NotMapped()

        Litestar([read])


# --- round trips through a real database -------------------------------------------------------------------------


@pytest.fixture
def engine(db: TestDatabase) -> Iterator[Engine]:
    engine = create_engine(db.sync_url)
    Base.metadata.create_all(engine)
    yield engine
    engine.dispose()


def crud_app(engine: Engine) -> Litestar:
    class CreateDTO(SQLAlchemyDTO[AuthorModel]):
        config = DTOConfig(exclude={"id", "upper_name", "books.0.id", "books.0.author_id"})

    class PatchDTO(SQLAlchemyDTO[AuthorModel]):
        config = DTOConfig(exclude={"id", "books"}, partial=True, rename_strategy="camel")

    class ReadDTO(SQLAlchemyDTO[AuthorModel]):
        config = DTOConfig(exclude={"price", "untyped", "books.0.author_id"}, rename_strategy="camel")

    @post("/authors", dto=CreateDTO, return_dto=ReadDTO, sync_to_thread=False)
    def create(data: JSONBody[AuthorModel]) -> AuthorModel:
        with Session(engine, expire_on_commit=False) as session:
            session.add(data)
            session.commit()
            return session.scalars(select(AuthorModel).where(AuthorModel.id == data.id)).one()

    @patch("/authors/{author_id:uuid}", dto=PatchDTO, return_dto=ReadDTO, sync_to_thread=False)
    def update(author_id: FromPath[uuid.UUID], data: JSONBody[DTOData[AuthorModel]]) -> AuthorModel:
        with Session(engine, expire_on_commit=False) as session:
            author = session.get_one(AuthorModel, author_id)
            data.update_instance(author)
            session.commit()
            session.refresh(author)
            return author

    return Litestar([create, update], signature_namespace={"AuthorModel": AuthorModel})


def test_create_with_nested_books_and_partial_update_round_trip(engine: Engine) -> None:
    with TestClient(crud_app(engine)) as client:
        created = client.post(
            "/authors",
            json={"name": "Octavia Butler", "dob": "1947-06-22", "books": [{"title": "Kindred"}, {"title": "Dawn"}]},
        )
        assert created.status_code == 201, created.text
        body = created.json()
        assert sorted(book["title"] for book in body["books"]) == ["Dawn", "Kindred"]
        assert all(isinstance(book["id"], int) for book in body["books"])
        assert body["nameLength"] == 14
        patched = client.patch(f"/authors/{body['id']}", json={"country": "US"})
        assert patched.status_code == 200, patched.text
    # the partial update touched only what the body set
    assert patched.json()["country"] == "US"
    assert patched.json()["dob"] == "1947-06-22"
    assert patched.json()["name"] == "Octavia Butler"
    with Session(engine) as session:
        stored = session.get_one(AuthorModel, uuid.UUID(body["id"]))
        assert (stored.name, stored.country, str(stored.dob), len(stored.books)) == (
            "Octavia Butler",
            "US",
            "1947-06-22",
            2,
        )


def test_dataclass_model_round_trip(engine: Engine) -> None:
    class PatchDTO(SQLAlchemyDTO[UserModel]):
        config = DTOConfig(partial=True)

    @post("/users", dto=SQLAlchemyDTO[UserModel], sync_to_thread=False)
    def create(data: JSONBody[UserModel]) -> UserModel:
        with Session(engine, expire_on_commit=False) as session:
            session.add(data)
            session.commit()
            return data

    @patch("/users/{user_id:uuid}", dto=PatchDTO, return_dto=SQLAlchemyDTO[UserModel], sync_to_thread=False)
    def update(user_id: FromPath[uuid.UUID], data: JSONBody[DTOData[UserModel]]) -> UserModel:
        with Session(engine, expire_on_commit=False) as session:
            user = data.update_instance(session.get_one(UserModel, user_id))
            session.commit()
            return user

    app = Litestar([create, update], signature_namespace={"UserModel": UserModel})
    with TestClient(app) as client:
        created = client.post("/users", json={"first_name": "Grace", "last_name": "Hopper"}).json()
        patched = client.patch(f"/users/{created['id']}", json={"nickname": "Amazing Grace"})
    assert patched.status_code == 200, patched.text
    assert patched.json()["full_name"] == "Grace Hopper"
    assert patched.json()["nickname"] == "Amazing Grace"
    with Session(engine) as session:
        stored = session.scalars(select(UserModel)).one()
        assert (stored.first_name, stored.nickname, stored.created_at is not None) == ("Grace", "Amazing Grace", True)


class OtherBase(DeclarativeBase):
    pass


class Shelf(OtherBase):
    __tablename__ = "shelf"

    id: Mapped[int] = mapped_column(primary_key=True)
    width: Mapped[int]
    depth: Mapped[int]
    area: Mapped[int] = mapped_column(Computed("width * depth"))
    label: Mapped[str] = mapped_column(String(20), info=dto_field("private"))
    items: WriteOnlyMapped[Item] = relationship(back_populates="shelf")
    tags: Mapped[list[Tag]] = relationship()
    tag_names: AssociationProxy[list[str]] = association_proxy("tags", "name")


class Item(OtherBase):
    __tablename__ = "item"

    id: Mapped[int] = mapped_column(primary_key=True)
    shelf_id: Mapped[int] = mapped_column(ForeignKey("shelf.id"))
    shelf: Mapped[Shelf] = relationship(back_populates="items")


class Tag(OtherBase):
    __tablename__ = "tag"

    id: Mapped[int] = mapped_column(primary_key=True)
    shelf_id: Mapped[Optional[int]] = mapped_column(ForeignKey("shelf.id"))
    name: Mapped[str] = mapped_column(String(20))


def test_computed_columns_proxies_write_only_and_private_fields() -> None:
    @post("/shelves", dto=SQLAlchemyDTO[Shelf], signature_namespace={"Shelf": Shelf}, sync_to_thread=False)
    def create(data: JSONBody[Shelf]) -> Shelf:
        data.area = data.width * data.depth
        data.tags = [Tag(id=1, name="oak")]
        return data

    app = Litestar([create])
    request = schema_for(app, "ShelfRequestBody")["properties"]
    response = schema_for(app, "ShelfResponseBody")["properties"]
    assert set(request) == {"id", "width", "depth", "tags"}  # area is computed, tag_names a proxy
    assert set(response) == {"id", "width", "depth", "area", "tags", "tag_names"}  # no write-only items, no label
    assert response["tag_names"] == {"items": {"type": "string"}, "type": "array"}
    with TestClient(app) as client:
        body = client.post("/shelves", json={"width": 2, "depth": 3, "area": 99, "label": "x"}).json()
    assert (body["area"], body["tag_names"], body["tags"][0]["name"]) == (6, ["oak"], "oak")


class SlugMixin:
    """A mixin with a cached_property, a property with a setter, and private ones: what the DTO makes of each."""

    @functools.cached_property
    def slug(self) -> str:
        return str(getattr(self, "name", "")).lower().replace(" ", "-")

    @property
    def loud(self) -> str:
        return str(getattr(self, "name", "")).upper()

    @loud.setter
    def loud(self, value: str) -> None:
        raise AssertionError("the DTO called a property setter")

    @functools.cached_property
    def _cache_key(self) -> str:
        return "private"


class Gizmo(SlugMixin, OtherBase):
    __tablename__ = "gizmo"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50))


def test_mixin_cached_property_and_setter_property_are_read_only_fields() -> None:
    @post("/gizmos", dto=SQLAlchemyDTO[Gizmo], signature_namespace={"Gizmo": Gizmo}, sync_to_thread=False)
    def create(data: JSONBody[Gizmo]) -> Gizmo:
        return data

    app = Litestar([create])
    assert set(schema_for(app, "GizmoRequestBody")["properties"]) == {"id", "name"}
    response = schema_for(app, "GizmoResponseBody")["properties"]
    assert response == {
        "id": {"type": "integer"},
        "name": {"type": "string"},
        "slug": {"type": "string"},
        "loud": {"type": "string"},
    }
    with TestClient(app) as client:
        created = client.post("/gizmos", json={"id": 1, "name": "Flux Capacitor", "loud": "x", "slug": "y"})
    assert created.status_code == 201, created.text
    assert created.json() == {"id": 1, "name": "Flux Capacitor", "slug": "flux-capacitor", "loud": "FLUX CAPACITOR"}


def test_partial_read_dto_serves_every_field_and_requires_none() -> None:
    class PartialRead(SQLAlchemyDTO[AuthorModel]):
        config = DTOConfig(partial=True, exclude={"books", "price", "untyped"}, rename_strategy="camel")

    app = read_app(PartialRead)
    schema = schema_for(app, "AuthorModelResponseBody")
    assert schema.get("required", []) == []
    with TestClient(app) as client:
        body = client.get("/author").json()
    assert body == {
        "id": str(AUTHOR_ID),
        "name": "Ursula Le Guin",
        "dob": None,
        "country": "US",
        "nameLength": 14,
        "upperName": "URSULA LE GUIN",
        "initials": "ULG",
        "nickname": "Ursula",
        "shout": "URSULA LE GUIN",
    }
