"""The seed's AuthorController (examples/authors.py) on SQLite, PostgreSQL and MariaDB.

The example runs in its own process (see authors_driver.py), once per database; the tests below assert on the
responses it recorded.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from dbops.errors import ConfigError
from tests.databases import DIALECTS, sqlite_database

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module", params=DIALECTS)
def run(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    if request.param == "sqlite":
        database = sqlite_database(tmp_path_factory.mktemp("authors"))
    else:
        database = request.getfixturevalue("postgres_database" if request.param == "postgresql" else "mariadb_database")
        database.reset()
    result = subprocess.run(
        [sys.executable, "-m", "tests.providers.authors_driver", database.async_url],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    recorded: dict[str, Any] = json.loads(result.stdout)
    return recorded


def names(reply: dict[str, Any]) -> list[str]:
    return sorted(item["name"] for item in reply["body"]["items"])


def test_create_get_patch_delete(run: dict[str, Any]) -> None:
    created = run["create"]
    assert created["status"] == 201
    assert created["body"]["name"] == "Ursula K. Le Guin"
    assert created["body"]["dob"] == "1929-10-21"
    author_id = created["body"]["id"]
    assert run["get"] == {"status": 200, "body": created["body"]}
    # a partial update: dob is kept
    expected = {"id": author_id, "name": "Ursula Le Guin", "dob": "1929-10-21"}
    assert run["patch"] == {"status": 200, "body": expected}
    assert run["get_after_patch"] == {"status": 200, "body": expected}
    assert run["delete"]["status"] == 204
    assert run["get_after_delete"]["status"] == 404
    assert run["list_after_delete"]["body"] == {"items": [], "limit": 20, "offset": 0, "total": 0}


def test_pagination(run: dict[str, Any]) -> None:
    def page(key: str) -> tuple[int, int, int, int]:
        body = run[key]["body"]
        return len(body["items"]), body["total"], body["limit"], body["offset"]

    assert page("page_default") == (20, 29, 20, 0)
    assert page("page_2") == (9, 29, 20, 20)
    assert page("page_3_of_7") == (7, 29, 7, 14)
    assert page("page_size_max") == (29, 29, 100, 0)
    assert page("page_beyond") == (0, 29, 20, 160)
    first, second = run["page_default"]["body"]["items"], run["page_2"]["body"]["items"]
    assert len({a["id"] for a in first + second}) == 29


def test_search_ignores_case_by_default(run: dict[str, Any]) -> None:
    assert names(run["search_upper"]) == ["Ada Lovelace"]
    assert run["search_upper"]["body"]["total"] == 1
    assert names(run["search_two"]) == ["Ada Lovelace", "Barbara Liskov"]
    assert names(run["search_case_sensitive"]) == ["Ada Lovelace", "Barbara Liskov"]


def test_id_filter(run: dict[str, Any]) -> None:
    assert names(run["ids_two"]) == ["Ada Lovelace", "Grace Hopper"]
    assert run["ids_two"]["body"]["total"] == 2
    assert names(run["ids_and_search"]) == ["Grace Hopper"]
    assert run["ids_unknown"]["body"]["total"] == 0


@pytest.mark.parametrize(
    ("query", "parameter", "message"),
    [
        ("currentPage=0", "currentPage", "Expected `int` >= 1"),
        ("currentPage=-3", "currentPage", "Expected `int` >= 1"),
        ("currentPage=two", "currentPage", "Expected `int`, got `str`"),
        ("pageSize=0", "pageSize", "Expected `int` >= 1"),
        ("pageSize=-1", "pageSize", "Expected `int` >= 1"),
        ("pageSize=101", "pageSize", "Expected `int` <= 100"),
        ("pageSize=100000", "pageSize", "Expected `int` <= 100"),
        ("ids=42", "ids", "Invalid UUID"),
        ("ids=not-a-uuid", "ids", "Invalid UUID"),
        ("searchIgnoreCase=perhaps", "searchIgnoreCase", "Expected `bool`, got `str`"),
    ],
)
def test_bad_query_values_are_400_naming_the_parameter(
    run: dict[str, Any], query: str, parameter: str, message: str
) -> None:
    reply = run["bad_queries"][query]
    assert reply["status"] == 400
    assert reply["body"]["extra"] == [{"message": message, "key": parameter, "source": "query"}]
    assert reply["statements"] == 0  # rejected before any SQL ran


def test_bad_bodies_and_unknown_ids(run: dict[str, Any]) -> None:
    bad = run["bad_requests"]
    assert bad["create_without_name"]["status"] == 400
    assert bad["create_bad_date"]["status"] == 400
    assert bad["get_bad_uuid"]["status"] == 404  # the path does not match
    assert bad["get_missing"]["status"] == 404
    assert bad["patch_missing"]["status"] == 404
    assert bad["delete_missing"]["status"] == 404


def test_openapi_schema_documents_the_list_parameters(run: dict[str, Any]) -> None:
    operation = run["openapi"]["paths"]["/authors"]["get"]
    parameters = {p["name"]: p for p in operation["parameters"]}
    assert set(parameters) == {"currentPage", "pageSize", "ids", "searchString", "searchIgnoreCase"}
    assert all(p["in"] == "query" and not p["required"] for p in parameters.values())
    current_page = parameters["currentPage"]["schema"]
    assert (current_page["type"], current_page["default"], current_page["minimum"]) == ("integer", 1, 1)
    page_size = parameters["pageSize"]["schema"]
    assert (page_size["type"], page_size["default"], page_size["minimum"], page_size["maximum"]) == (
        "integer",
        20,
        1,
        100,
    )
    assert {"items": {"type": "string", "format": "uuid"}, "type": "array"} in parameters["ids"]["schema"]["oneOf"]
    assert {"type": "string"} in parameters["searchString"]["schema"]["oneOf"]
    ignore_case = parameters["searchIgnoreCase"]["schema"]
    assert (ignore_case["type"], ignore_case["default"]) == ("boolean", True)
    response = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert "OffsetPagination" in response["$ref"]


def test_service_must_be_a_repository_service() -> None:
    from litestar_dbops import providers

    with pytest.raises(ConfigError, match="is not a subclass of SQLAlchemyAsyncRepositoryService"):
        providers.create_service_dependencies(dict, "things_service")


def test_bad_dependency_key_is_a_config_error() -> None:
    from litestar_dbops import providers

    from tests.providers.services import UserService

    with pytest.raises(ConfigError, match="key 'users-service' is not a valid parameter name"):
        providers.create_service_dependencies(UserService, "users-service")
