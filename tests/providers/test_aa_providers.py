"""Filter settings Advanced Alchemy apps use beyond the basic ones: ``boolean_fields``, ``choice_fields``
(with ``ChoiceField``), ``sort_nulls`` and ``search_escape_wildcards``; through a real app on every dialect."""

from __future__ import annotations

from typing import Annotated, Any

import pytest
from litestar import Litestar, get
from litestar.params import Dependency
from litestar.testing import TestClient
from litestar_dbops import SQLAlchemyAsyncConfig, SQLAlchemyPlugin
from litestar_dbops.providers import ChoiceField, FieldNameType, create_service_dependencies
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from dbops import repository, service
from dbops.errors import ConfigError
from dbops.filters import FilterTypes
from tests.databases import TestDatabase
from tests.models.harness import create_tables
from tests.models.models import FILTER_TABLES, RtItemModel

# Handlers written as Advanced Alchemy apps write them (undeclared injection, Dependency(skip_validation=...)):
# Litestar 2.24+ deprecates that style, but a ported app must keep working, so the warnings are expected here.
pytestmark = pytest.mark.filterwarnings("ignore::litestar.exceptions.LitestarDeprecationWarning")


class ItemService(service.SQLAlchemyAsyncRepositoryService[RtItemModel]):
    class Repo(repository.SQLAlchemyAsyncRepository[RtItemModel]):
        model_type = RtItemModel

    repository_type = Repo


ROWS = [("alpha", True, 10, "a"), ("Beta", False, None, "b"), ("gamma", None, 30, "a"), ("delta", True, None, None)]


def app_for(db: TestDatabase, filters: dict[str, Any]) -> Litestar:
    create_tables(db, FILTER_TABLES)
    engine = create_engine(db.sync_url)
    with Session(engine) as session:
        session.add_all([RtItemModel(name=n, active=a, score=s, kind=k) for n, a, s, k in ROWS])
        session.commit()
    engine.dispose()

    @get("/items", dependencies=create_service_dependencies(ItemService, "items", filters=filters))  # type: ignore[arg-type]
    async def list_items(
        items: ItemService, filters: Annotated[list[FilterTypes], Dependency(skip_validation=True)]
    ) -> list[str]:
        return [item.name for item in await items.list(*filters)]

    config = SQLAlchemyAsyncConfig(connection_string=db.async_url)
    return Litestar([list_items], plugins=[SQLAlchemyPlugin(config=config)])


def test_boolean_choice_and_null_placement_settings(db: TestDatabase) -> None:
    filters = {
        "boolean_fields": "active",
        "choice_fields": [ChoiceField("kind", ["a", "b"]), FieldNameType("name", str)],
        "sort_field": ["score", "name"],
        "sort_order": "asc",
        "sort_nulls": "last",
        "search": "name",
        "search_escape_wildcards": True,
    }
    with TestClient(app_for(db, filters)) as client:

        def names(query: str) -> Any:
            response = client.get(f"/items?{query}")
            return response.json() if response.status_code == 200 else (response.status_code, response.text)

        ordered = names("")
        assert ordered[:2] == ["alpha", "gamma"]  # by score ascending, NULL scores last
        assert sorted(ordered[2:]) == ["Beta", "delta"]
        assert sorted(names("active=true")) == ["alpha", "delta"]
        assert names("active=false") == ["Beta"]
        assert sorted(names("kind=a")) == ["alpha", "gamma"]
        assert sorted(names("kind=a&kind=b")) == ["Beta", "alpha", "gamma"]
        assert names("name=delta&name=gamma&orderBy=name&sortOrder=desc") == ["gamma", "delta"]
        status, body = names("kind=c")
        assert status == 400 and "kind" in body
        status, body = names("active=maybe")
        assert status == 400 and "active" in body
        schema = client.get("/schema/openapi.json").json()
    parameters = {p["name"]: p for p in schema["paths"]["/items"]["get"]["parameters"]}
    assert parameters["kind"]["schema"]["oneOf"][0] == {
        "items": {"type": "string", "enum": ["a", "b"]},
        "type": "array",
    }
    assert parameters["active"]["schema"]["oneOf"][0] == {"type": "boolean"}


@pytest.mark.parametrize(
    ("filters", "message"),
    [
        ({"boolean_fields": "colour"}, "'boolean_fields': RtItemModel has no column 'colour'"),
        ({"choice_fields": ChoiceField("shape", ["x"])}, "'choice_fields': RtItemModel has no column 'shape'"),
        ({"sort_field": "name", "sort_nulls": "middle"}, "sort_nulls must be 'first', 'last' or None"),
    ],
)
def test_bad_settings_are_refused_when_the_controller_is_defined(filters: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        create_service_dependencies(ItemService, "items", filters=filters)  # type: ignore[arg-type]
