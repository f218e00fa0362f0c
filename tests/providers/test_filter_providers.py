"""Filter dependencies: every query parameter against a real database, every bad value a 400, the OpenAPI schema."""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from litestar import Litestar, get
from litestar.di import NamedDependency
from litestar.params import SkipValidation
from litestar.testing import TestClient
from litestar_dbops.providers import DependencyDefaults, FieldNameType, FilterConfig, create_filter_dependencies
from sqlalchemy import Engine, create_engine, event, select
from sqlalchemy.orm import Session

from dbops.errors import ConfigError
from dbops.filters import FilterTypes
from tests.databases import TestDatabase
from tests.providers.dto_models import Base, UserModel

FULL: FilterConfig = {
    "pagination_type": "limit_offset",
    "pagination_size": 3,
    "pagination_size_max": 5,
    "id_filter": uuid.UUID,
    "search": "first_name,last_name",
    "search_ignore_case": True,
    "sort_field": "first_name,last_name",
    "sort_order": "asc",
    "created_at": True,
    "updated_at": True,
    "in_fields": [FieldNameType("last_name", str), "nickname"],
    "not_in_fields": ["first_name"],
}
T0 = datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc)
USERS = [  # first_name, last_name, nickname, days after T0
    ("Ada", "Lovelace", "countess", 0),
    ("Alan", "Turing", None, 1),
    ("Grace", "Hopper", "amazing", 2),
    ("Edsger", "Dijkstra", None, 3),
    ("Barbara", "Liskov", None, 4),
    ("Donald", "Knuth", "tex", 5),
    ("Margaret", "Hamilton", None, 6),
]


class Statements:
    """Counts the SQL statements an engine runs: bad requests must run none."""

    def __init__(self, engine: Engine) -> None:
        self.count = 0
        event.listen(engine, "before_cursor_execute", self._seen)

    def _seen(self, *args: Any) -> None:
        self.count += 1


@pytest.fixture
def engine(db: TestDatabase) -> Iterator[Engine]:
    engine = create_engine(db.sync_url)
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        for first, last, nick, days in USERS:
            user = UserModel(first_name=first, last_name=last, nickname=nick)
            user.id = uuid.uuid5(uuid.NAMESPACE_DNS, first)
            user.created_at = T0 + datetime.timedelta(days=days)
            user.updated_at = T0 + datetime.timedelta(days=10 - days)
            session.add(user)
        session.commit()
    yield engine
    engine.dispose()


def users_app(engine: Engine, config: FilterConfig = FULL) -> Litestar:
    @get("/users", dependencies=create_filter_dependencies(config, model_type=UserModel), sync_to_thread=False)
    def list_users(filters: NamedDependency[SkipValidation[list[FilterTypes]]]) -> list[str]:
        statement = select(UserModel)
        for item in filters:
            statement = item.append_to_statement(statement, UserModel)
        with Session(engine) as session:
            return [user.first_name for user in session.scalars(statement)]

    return Litestar([list_users])


def uid(first_name: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_DNS, first_name))


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", ["Ada", "Alan", "Barbara"]),  # default page size 3, default order first_name asc
        ("currentPage=2", ["Donald", "Edsger", "Grace"]),
        ("currentPage=3", ["Margaret"]),
        ("currentPage=9", []),
        ("pageSize=5&sortOrder=desc", ["Margaret", "Grace", "Edsger", "Donald", "Barbara"]),
        ("orderBy=last_name&pageSize=2", ["Edsger", "Margaret"]),
        ("searchString=AR", ["Barbara", "Margaret"]),  # first or last name, ignoring case by default
        ("searchString=AR&searchIgnoreCase=false", []),
        ("searchString=ar&searchIgnoreCase=false", ["Barbara", "Margaret"]),
        ("searchString=ov", ["Ada", "Barbara"]),
        (f"ids={uid('Grace')}&ids={uid('Ada')}", ["Ada", "Grace"]),
        ("createdAfter=2024-01-04T12:00:00Z", ["Barbara", "Donald", "Margaret"]),
        ("createdBefore=2024-01-02T12:00:00%2B00:00", ["Ada", "Alan"]),
        ("updatedBefore=2024-01-06T12:00:00Z", ["Donald", "Margaret"]),
        ("updatedAfter=2024-01-08T12:00:00Z&updatedBefore=2024-01-10T12:00:00Z", ["Alan", "Grace"]),
        ("lastNameIn=Hopper&lastNameIn=Knuth", ["Donald", "Grace"]),
        ("nicknameIn=tex", ["Donald"]),
        ("firstNameNotIn=Ada&firstNameNotIn=Alan&pageSize=5", ["Barbara", "Donald", "Edsger", "Grace", "Margaret"]),
        (
            "searchString=a&lastNameIn=Hopper&lastNameIn=Turing&lastNameIn=Knuth&orderBy=last_name",
            ["Grace", "Donald", "Alan"],
        ),
    ],
)
def test_query_parameters_filter_rows(engine: Engine, query: str, expected: list[str]) -> None:
    with TestClient(users_app(engine)) as client:
        response = client.get(f"/users?{query}")
    assert response.status_code == 200, response.text
    assert response.json() == expected


BAD_QUERIES = [
    ("currentPage=0", "currentPage", ">= 1"),
    ("currentPage=-1", "currentPage", ">= 1"),
    ("currentPage=first", "currentPage", "Expected `int`"),
    ("currentPage=99999999999", "currentPage", "<= 2147483647"),
    ("pageSize=0", "pageSize", ">= 1"),
    ("pageSize=-5", "pageSize", ">= 1"),
    ("pageSize=6", "pageSize", "<= 5"),
    ("pageSize=100000", "pageSize", "<= 5"),
    ("pageSize=ten", "pageSize", "Expected `int`"),
    ("ids=not-a-uuid", "ids", "Invalid UUID"),
    (f"ids={uid('Ada')}&ids=42", "ids", "Invalid UUID"),
    ("createdBefore=yesterday", "createdBefore", "datetime"),
    ("createdAfter=2024-13-01T00:00:00Z", "createdAfter", "datetime"),
    ("updatedBefore=2024-01-01 noon", "updatedBefore", "datetime"),
    ("updatedAfter=2024-01-01T25:00:00Z", "updatedAfter", "datetime"),
    ("orderBy=nickname", "orderBy", "Invalid enum value 'nickname'"),
    ("orderBy=password_hash", "orderBy", "Invalid enum value"),
    ("sortOrder=sideways", "sortOrder", "Invalid enum value 'sideways'"),
    ("searchIgnoreCase=maybe", "searchIgnoreCase", "Expected `bool`"),
]


@pytest.mark.parametrize(("query", "parameter", "message"), BAD_QUERIES, ids=[q for q, _, _ in BAD_QUERIES])
def test_bad_values_are_400_naming_the_parameter_and_never_reach_the_database(
    engine: Engine, query: str, parameter: str, message: str
) -> None:
    statements = Statements(engine)
    with TestClient(users_app(engine)) as client:
        response = client.get(f"/users?{query}")
    assert response.status_code == 400, response.text
    body = response.json()
    assert [error["key"] for error in body["extra"]] == [parameter]
    assert message in body["extra"][0]["message"]
    assert statements.count == 0


def test_bad_values_in_typed_collection_filters(sqlite_db: TestDatabase) -> None:
    config: FilterConfig = {"id_filter": int, "in_fields": [FieldNameType("age", int)]}

    @get("/things", dependencies=create_filter_dependencies(config), sync_to_thread=False)
    def things(filters: NamedDependency[SkipValidation[list[FilterTypes]]]) -> list[str]:
        return [repr(item) for item in filters]

    with TestClient(Litestar([things])) as client:
        assert client.get("/things?ids=1&ids=2&ageIn=30").json() == [
            "CollectionFilter(field_name='id', values=[1, 2])",
            "CollectionFilter(field_name='age', values=[30])",
        ]
        for query, key in (("ids=one", "ids"), ("ageIn=3.5", "ageIn")):
            response = client.get(f"/things?{query}")
            assert response.status_code == 400
            assert response.json()["extra"][0]["key"] == key


def test_page_size_is_capped_at_100_by_default() -> None:
    @get("/x", dependencies=create_filter_dependencies({"pagination_type": "limit_offset"}), sync_to_thread=False)
    def handler(filters: NamedDependency[SkipValidation[list[FilterTypes]]]) -> list[str]:
        return [repr(item) for item in filters]

    with TestClient(Litestar([handler])) as client:
        assert client.get("/x").json() == ["LimitOffset(limit=20, offset=0)"]
        assert client.get("/x?pageSize=100&currentPage=3").json() == ["LimitOffset(limit=100, offset=200)"]
        response = client.get("/x?pageSize=101")
    assert response.status_code == 400
    assert response.json()["extra"] == [{"message": "Expected `int` <= 100", "key": "pageSize", "source": "query"}]


def test_openapi_schema_shows_every_parameter_with_type_and_default(sqlite_db: TestDatabase) -> None:
    engine = create_engine(sqlite_db.sync_url)
    with TestClient(users_app(engine)) as client:
        parameters = client.get("/schema/openapi.json").json()["paths"]["/users"]["get"]["parameters"]
    engine.dispose()
    by_name = {p["name"]: p for p in parameters}
    assert set(by_name) == {
        "currentPage",
        "pageSize",
        "ids",
        "searchString",
        "searchIgnoreCase",
        "orderBy",
        "sortOrder",
        "createdBefore",
        "createdAfter",
        "updatedBefore",
        "updatedAfter",
        "lastNameIn",
        "nicknameIn",
        "firstNameNotIn",
    }
    assert all(p["in"] == "query" and p["required"] is False for p in parameters)
    schema = {name: p["schema"] for name, p in by_name.items()}
    assert schema["currentPage"] | {"description": None} == {
        "type": "integer",
        "minimum": 1,
        "maximum": 2**31 - 1,
        "default": 1,
        "description": None,
    }
    assert (schema["pageSize"]["type"], schema["pageSize"]["minimum"], schema["pageSize"]["maximum"]) == (
        "integer",
        1,
        5,
    )
    assert schema["pageSize"]["default"] == 3
    assert schema["orderBy"]["enum"] == ["first_name", "last_name"]
    assert schema["orderBy"]["default"] == "first_name"
    assert (schema["sortOrder"]["enum"], schema["sortOrder"]["default"]) == (["asc", "desc"], "asc")
    assert (schema["searchIgnoreCase"]["type"], schema["searchIgnoreCase"]["default"]) == ("boolean", True)
    assert {"type": "string"} in schema["searchString"]["oneOf"]
    assert {"items": {"type": "string", "format": "uuid"}, "type": "array"} in schema["ids"]["oneOf"]
    for name in ("createdBefore", "createdAfter", "updatedBefore", "updatedAfter"):
        assert {"type": "string", "format": "date-time"} in schema[name]["oneOf"]
    assert {"items": {"type": "string"}, "type": "array"} in schema["lastNameIn"]["oneOf"]


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"pagination": "limit_offset"}, "unknown filter setting(s) 'pagination'"),
        ({"pagination_type": "cursor"}, "pagination_type must be 'limit_offset', got 'cursor'"),
        ({"pagination_type": "limit_offset", "pagination_size": 0}, "pagination_size must be a positive integer"),
        ({"pagination_type": "limit_offset", "pagination_size": 200}, "pagination_size 200 is larger than"),
        ({"pagination_size_max": "many"}, "pagination_size_max must be a positive integer"),
        ({"sort_field": "first_name", "sort_order": "up"}, "sort_order must be 'asc' or 'desc', got 'up'"),
        ({"search": " , "}, "search names no field"),
        ({"sort_field": ""}, "sort_field names no field"),
        ({"search": "first_name,bio"}, "filter setting 'search': UserModel has no column 'bio'"),
        ({"sort_field": "full_name"}, "filter setting 'sort_field': UserModel has no column 'full_name'"),
        ({"id_filter": int, "id_field": "pk"}, "filter setting 'id_field': UserModel has no column 'pk'"),
        ({"in_fields": ["age"]}, "filter setting 'in_fields': UserModel has no column 'age'"),
        ({"not_in_fields": "age"}, "filter setting 'not_in_fields': UserModel has no column 'age'"),
    ],
)
def test_bad_settings_are_config_errors_at_definition(config: Any, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        create_filter_dependencies(config, model_type=UserModel)
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_created_and_updated_filters_need_the_columns() -> None:
    from tests.providers.dto_models import AuthorModel

    with pytest.raises(ConfigError, match="filter setting 'created_at': AuthorModel has no column 'created_at'"):
        create_filter_dependencies({"created_at": True}, model_type=AuthorModel)


def test_dependency_defaults_rename_keys_and_change_page_sizes() -> None:
    defaults = DependencyDefaults(
        FILTERS_DEPENDENCY_KEY="query_filters", DEFAULT_PAGINATION_SIZE=5, DEFAULT_PAGINATION_SIZE_MAX=10
    )
    dependencies = create_filter_dependencies({"pagination_type": "limit_offset", "search": "name"}, defaults)
    assert set(dependencies) == {"query_filters", "limit_offset_filter", "search_filter"}

    @get("/x", dependencies=dependencies, sync_to_thread=False)
    def handler(query_filters: NamedDependency[SkipValidation[list[FilterTypes]]]) -> list[str]:
        return [repr(item) for item in query_filters]

    with TestClient(Litestar([handler])) as client:
        assert client.get("/x").json() == ["LimitOffset(limit=5, offset=0)"]
        assert client.get("/x?pageSize=10").status_code == 200
        assert client.get("/x?pageSize=11").status_code == 400
    with pytest.raises(ConfigError, match="pagination_size 20 is larger than pagination_size_max 10"):
        create_filter_dependencies({"pagination_type": "limit_offset", "pagination_size": 20}, defaults)
