"""The README's example app (examples/app.py): its CRUD API on every dialect, and its ``db`` config."""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest
from litestar.testing import TestClient
from sqlalchemy import create_engine

from tests.conftest import REPO_ROOT
from tests.databases import TestDatabase


@pytest.fixture(scope="module")
def example() -> ModuleType:
    """``examples.app``, imported under the name ``litestar --app examples.app:create_app`` uses."""
    if str(REPO_ROOT) not in sys.path:
        sys.path.insert(0, str(REPO_ROOT))
    return importlib.import_module("examples.app")


def test_crud_api(example: ModuleType, db: TestDatabase) -> None:
    engine = create_engine(db.sync_url)
    example.Base.metadata.create_all(engine)
    engine.dispose()
    config = example.SQLAlchemyAsyncConfig(
        connection_string=db.async_url, metadata=example.Base.metadata, before_send_handler="autocommit"
    )
    with TestClient(example.create_app(config)) as client:
        created = client.post("/authors", json={"name": "Ursula"})
        assert created.status_code == 201, created.text
        author_id = created.json()["id"]
        assert client.post(f"/authors/{author_id}/books", json={"title": "The Dispossessed"}).status_code == 201
        assert client.patch(f"/authors/{author_id}", json={"name": "Ursula K. Le Guin"}).status_code == 200
        assert client.get("/authors").json() == [
            {"id": author_id, "name": "Ursula K. Le Guin", "books": ["The Dispossessed"]}
        ]
        assert client.get(f"/authors/{author_id}").json()["books"] == ["The Dispossessed"]
        assert client.post("/authors", json={"title": "no name"}).status_code == 400
        assert client.delete(f"/authors/{author_id}").status_code == 204
        assert client.get(f"/authors/{author_id}").status_code == 404
        assert client.get("/authors").json() == []


def test_the_cli_reads_db_without_importing_litestar(tmp_path: Path) -> None:
    code = (
        "import sys, runpy; ns = runpy.run_path('examples/app.py');"
        "print(type(ns['db']).__module__, 'litestar' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["litestar_dbops.config", "False"]


def test_litestar_database_on_the_example_app(example: ModuleType) -> None:
    from tests.plugin.helpers import run_litestar

    result = run_litestar(["--app", "examples.app:create_app", "database", "configs"], app_dir=REPO_ROOT)
    assert result.exit_code == 0, result.output
    assert result.stdout == f"default\tasync\tsqlite+aiosqlite:///{REPO_ROOT / 'examples' / 'app.sqlite'}\n"


def test_readme_flow_upgrade_then_serve(example: ModuleType, db: TestDatabase) -> None:
    """``dbops --config examples/app.py:db upgrade`` with DATABASE_URL, then the CRUD API on the migrated schema."""
    from tests.cli_runner import invoke_process

    upgraded = invoke_process(
        ["--config", "examples/app.py:db", "upgrade"], cwd=REPO_ROOT, env={"DATABASE_URL": db.async_url}
    )
    assert upgraded.exit_code == 0, upgraded.stderr
    config = example.SQLAlchemyAsyncConfig(
        connection_string=db.async_url, metadata=example.Base.metadata, before_send_handler="autocommit"
    )
    with TestClient(example.create_app(config)) as client:
        author = client.post("/authors", json={"name": "Octavia E. Butler"}).json()
        assert client.post(f"/authors/{author['id']}/books", json={"title": "Kindred"}).status_code == 201
        assert client.get("/authors").json() == [
            {"id": author["id"], "name": "Octavia E. Butler", "books": ["Kindred"]}
        ]
    checked = invoke_process(
        ["--config", "examples/app.py:db", "check"], cwd=REPO_ROOT, env={"DATABASE_URL": db.async_url}
    )
    assert checked.exit_code == 0, checked.stdout + checked.stderr
