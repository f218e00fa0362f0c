"""Drive examples/authors.py through Litestar's TestClient and print every response as JSON.

Run as ``python -m tests.providers.authors_driver <database url>`` from the repository root. The example
defines the seed's ``AuthorModel``/``BookModel`` (tables ``author``/``book``) on dbops' shared registry, as a
user's app would; other test modules use the same class names, so the app runs in a process of its own and
test_authors.py asserts on what this prints.
"""

from __future__ import annotations

import importlib.util
import json
import sys
import uuid
from pathlib import Path
from typing import Any

from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import event

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "authors.py"

BAD_QUERIES = [
    "currentPage=0",
    "currentPage=-3",
    "currentPage=two",
    "pageSize=0",
    "pageSize=-1",
    "pageSize=101",
    "pageSize=100000",
    "ids=42",
    "ids=not-a-uuid",
    "searchIgnoreCase=perhaps",
]
NAMED = ["Ada Lovelace", "Alan Turing", "Grace Hopper", "Barbara Liskov"]


def load_example() -> Any:
    spec = importlib.util.spec_from_file_location("authors_example", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def reply(response: Any) -> dict[str, Any]:
    body = response.json() if response.content else None
    return {"status": response.status_code, "body": body}


def run(url: str) -> dict[str, Any]:
    example = load_example()
    app: Litestar = example.create_app(url)
    statements = {"count": 0}
    plugin = app.plugins.get(example.SQLAlchemyPlugin)
    engine = plugin.config[0].get_engine()

    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def count(*args: Any) -> None:
        statements["count"] += 1

    out: dict[str, Any] = {}
    with TestClient(app) as client:
        # one author through its whole life
        created = client.post("/authors", json={"name": "Ursula K. Le Guin", "dob": "1929-10-21"})
        out["create"] = reply(created)
        author_id = created.json()["id"]
        out["get"] = reply(client.get(f"/authors/{author_id}"))
        out["patch"] = reply(client.patch(f"/authors/{author_id}", json={"name": "Ursula Le Guin"}))
        out["get_after_patch"] = reply(client.get(f"/authors/{author_id}"))
        out["delete"] = reply(client.delete(f"/authors/{author_id}"))
        out["get_after_delete"] = reply(client.get(f"/authors/{author_id}"))
        out["list_after_delete"] = reply(client.get("/authors"))

        # 25 numbered authors and 4 named ones
        ids = {}
        for name in [f"Author {i:02d}" for i in range(25)] + NAMED:
            ids[name] = client.post("/authors", json={"name": name}).json()["id"]
        out["ids"] = ids
        for key, query in {
            "page_default": "",
            "page_2": "currentPage=2",
            "page_3_of_7": "currentPage=3&pageSize=7",
            "page_size_max": "pageSize=100",
            "page_beyond": "currentPage=9",
            "search_upper": "searchString=LOVE",
            "search_two": "searchString=ov",
            "search_case_sensitive": "searchString=ov&searchIgnoreCase=false",
            "ids_two": f"ids={ids['Ada Lovelace']}&ids={ids['Grace Hopper']}",
            "ids_and_search": f"ids={ids['Ada Lovelace']}&ids={ids['Grace Hopper']}&searchString=hop",
            "ids_unknown": f"ids={uuid.uuid4()}",
        }.items():
            out[key] = reply(client.get(f"/authors?{query}"))

        out["bad_queries"] = {}
        for query in BAD_QUERIES:
            before = statements["count"]
            response = client.get(f"/authors?{query}")
            out["bad_queries"][query] = reply(response) | {"statements": statements["count"] - before}

        missing = str(uuid.uuid4())
        out["bad_requests"] = {
            "create_without_name": reply(client.post("/authors", json={"dob": "1900-01-01"})),
            "create_bad_date": reply(client.post("/authors", json={"name": "x", "dob": "yesterday"})),
            "get_bad_uuid": reply(client.get("/authors/not-a-uuid")),
            "get_missing": reply(client.get(f"/authors/{missing}")),
            "patch_missing": reply(client.patch(f"/authors/{missing}", json={"name": "x"})),
            "delete_missing": reply(client.delete(f"/authors/{missing}")),
        }
        out["openapi"] = client.get("/schema/openapi.json").json()
    return out


if __name__ == "__main__":
    print(json.dumps(run(sys.argv[1])))
