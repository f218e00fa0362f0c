"""SQLAlchemyDTO on models written the Advanced Alchemy way: ``Relationship[...]`` annotations, hybrids with
setters, dynamic relationships, ``DTOConfig``/``SQLAlchemyDTOConfig`` given model attributes; round trips
through a real database on every dialect."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from litestar import Litestar, get, post
from litestar.dto import DTOConfig, dto_field
from litestar.testing import TestClient
from litestar_dbops import SQLAlchemyDTO
from litestar_dbops.dto import SQLAlchemyDTOConfig
from sqlalchemy import Column, ColumnElement, Engine, ForeignKey, Integer, String, create_engine, func, select
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import (
    DeclarativeBase,
    DynamicMapped,
    Mapped,
    Relationship,
    Session,
    mapped_column,
    relationship,
    sessionmaker,
)

from tests.databases import TestDatabase
from tests.providers.test_dto import schema_for

# Handlers written as Advanced Alchemy apps write them (undeclared injection, Dependency(skip_validation=...)):
# Litestar 2.24+ deprecates that style, but a ported app must keep working, so the warnings are expected here.
pytestmark = pytest.mark.filterwarnings("ignore::litestar.exceptions.LitestarDeprecationWarning")


class Base(DeclarativeBase):
    pass


class Team(Base):
    __tablename__ = "dto_team"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    name: Mapped[str] = mapped_column(String(50))
    players: Relationship[list[Player]] = relationship(back_populates="team", lazy="selectin", order_by="Player.id")
    fixtures: DynamicMapped[Fixture] = relationship(lazy="dynamic", order_by="Fixture.id")
    # mapped without an annotation: an "implicit" field
    motto = Column(String(50), nullable=True, info=dto_field("read-only"))
    city = Column(String(50), nullable=True)

    @hybrid_property
    def shout(self) -> str:
        return self.name.upper()

    @shout.inplace.setter
    def _shout_setter(self, value: str) -> None:
        self.name = value.title()

    @shout.inplace.expression
    @classmethod
    def _shout_expression(cls) -> ColumnElement[str]:
        return func.upper(cls.name)

    @hybrid_property
    def size(self) -> int:
        return len(self.players)


class Player(Base):
    __tablename__ = "dto_player"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    team_id: Mapped[int] = mapped_column(ForeignKey("dto_team.id"))
    name: Mapped[str] = mapped_column(String(50))
    team: Mapped[Team] = relationship(back_populates="players")


class Fixture(Base):
    __tablename__ = "dto_fixture"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    team_id: Mapped[int] = mapped_column(ForeignKey("dto_team.id"))
    venue: Mapped[str] = mapped_column(String(50))


class TeamWrite(SQLAlchemyDTO[Team]):
    config = DTOConfig(exclude={Team.city, "players.0.team", "players.0.team_id", "fixtures.0.team_id"})


class TeamRead(SQLAlchemyDTO[Team]):
    config = SQLAlchemyDTOConfig(exclude={"players.0.team"}, rename_fields={Team.name: "title"})


class TeamExplicit(SQLAlchemyDTO[Team]):
    config = SQLAlchemyDTOConfig(include_implicit_fields=False, exclude={"players", "fixtures"})


class TeamHybridOnly(SQLAlchemyDTO[Team]):
    config = SQLAlchemyDTOConfig(include_implicit_fields="hybrid-only", exclude={"players", "fixtures"})


@pytest.fixture
def engine(db: TestDatabase) -> Iterator[Engine]:
    engine = create_engine(db.sync_url)
    Base.metadata.create_all(engine)
    yield engine
    engine.dispose()


def team_app(engine: Engine) -> Litestar:
    maker = sessionmaker(engine, expire_on_commit=False)

    def session() -> Iterator[Session]:
        with maker() as db_session:
            yield db_session

    @post("/teams", dto=TeamWrite, return_dto=TeamRead, sync_to_thread=False)
    def create(data: Team, db_session: Session) -> Team:
        db_session.add(data)
        db_session.commit()
        return db_session.scalars(select(Team).where(Team.id == data.id)).one()

    @get("/teams/{team_id:int}", return_dto=TeamRead, sync_to_thread=False)
    def read(team_id: int, db_session: Session) -> Team:
        return db_session.get_one(Team, team_id)

    return Litestar([create, read], dependencies={"db_session": session}, signature_namespace={"Session": Session})


def test_relationship_annotation_hybrid_setter_and_dynamic_round_trip(engine: Engine) -> None:
    with TestClient(team_app(engine)) as client:
        created = client.post(
            "/teams",
            json={
                "id": 1,
                "name": "ignored: the shout setter runs after it",
                "shout": "RED STAR",
                "players": [{"id": 10, "name": "Ann"}, {"id": 11, "name": "Bo"}],
                "fixtures": [{"id": 100, "venue": "Home"}, {"id": 101, "venue": "Away"}],
                "city": "not writable: excluded",
                "motto": "not writable: read-only",
            },
        )
        assert created.status_code == 201, created.text
        expected = {
            "id": 1,
            "title": "Red Star",
            "players": [{"id": 10, "team_id": 1, "name": "Ann"}, {"id": 11, "team_id": 1, "name": "Bo"}],
            "fixtures": [{"id": 100, "team_id": 1, "venue": "Home"}, {"id": 101, "team_id": 1, "venue": "Away"}],
            "motto": None,
            "city": None,
            "shout": "RED STAR",
            "size": 2,
        }
        assert created.json() == expected
        assert client.get("/teams/1").json() == expected
    with Session(engine) as session:
        rows = session.execute(select(Fixture.id, Fixture.team_id, Fixture.venue).order_by(Fixture.id)).all()
        assert [tuple(row) for row in rows] == [(100, 1, "Home"), (101, 1, "Away")]
        assert session.scalars(select(Team.name)).all() == ["Red Star"]


def test_request_and_response_fields() -> None:
    @post("/teams", dto=TeamWrite, return_dto=TeamRead, signature_namespace={"Team": Team}, sync_to_thread=False)
    def create(data: Team) -> Team:
        return data

    app = Litestar([create])
    request = schema_for(app, "TeamRequestBody")
    # players is typed from Relationship[list[Player]]: a list of nested objects, not a bare `list`
    assert request["properties"]["players"]["type"] == "array"
    assert request["properties"]["fixtures"]["type"] == "array"
    assert set(request["properties"]) == {
        "id",
        "name",
        "players",
        "fixtures",
        "shout",
    }  # city excluded, motto read-only
    assert sorted(request["required"]) == ["id", "name", "shout"]


def fields_of(dto: type[SQLAlchemyDTO[Any]]) -> set[str]:
    @get("/team", return_dto=dto, signature_namespace={"Team": Team}, sync_to_thread=False)
    def read() -> Team:
        return Team(id=1, name="x")

    return set(schema_for(Litestar([read]), "TeamResponseBody")["properties"])


def test_include_implicit_fields() -> None:
    # motto and city are mapped without Mapped[...]; motto carries a dto_field mark, so it stays
    assert fields_of(TeamExplicit) == {"id", "name", "motto"}
    assert fields_of(TeamHybridOnly) == {"id", "name", "motto", "shout", "size"}


def test_sqlalchemy_dto_config_takes_attributes_and_names() -> None:
    config = SQLAlchemyDTOConfig(exclude={Team.city, "id"}, include=set(), rename_fields={Team.name: "title"})
    assert config.exclude == {"city", "id"}
    assert config.rename_fields == {"name": "title"}
    with pytest.raises(Exception, match=r"include.*exclude|exclude.*include"):
        SQLAlchemyDTOConfig(exclude={Team.city}, include={Team.name})
