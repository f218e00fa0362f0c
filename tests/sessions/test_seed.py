"""The seed's "Session Middleware" examples (../shared/seed/litestar-integration.rst) with our package names.

Each example runs in its own process (its session model registers on dbops' shared metadata, so two
dialects' runs can't share one), through Litestar's TestClient: login → profile → logout, checking the
table after each step.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO_ROOT
from tests.databases import TestDatabase

QUICK_SETUP = (
    """
from litestar import Litestar
from litestar.middleware.session.server_side import ServerSideSessionConfig
from litestar_dbops import SQLAlchemyAsyncConfig, SQLAlchemyPlugin
from litestar_dbops.session import (
    SessionModelMixin,
    SQLAlchemyAsyncSessionBackend,
)
# 1. Create your session model
class UserSession(SessionModelMixin):
    __tablename__ = "user_sessions"
# 2. Configure SQLAlchemy
alchemy_config = SQLAlchemyAsyncConfig(
    connection_string="postgresql+asyncpg://user:password@localhost/mydb",
    create_all=True,
)
# 3. Configure session backend
session_config = ServerSideSessionConfig(
    max_age=3600, # 1 hour
)
# 4. Create the session backend
session_backend = SQLAlchemyAsyncSessionBackend(
    config=session_config,
    alchemy_config=alchemy_config,
    model=UserSession,
)
"""
    + """
from litestar import get, post
from litestar.connection import ASGIConnection
from litestar.response import Response
@get("/login")
async def login_form() -> str:
    return "<form method='post'><input name='username'><button>Login</button></form>"
@post("/login")
async def login(request: ASGIConnection) -> Response:
    form = await request.form()
    username = form.get("username")
    # Set session data
    request.set_session({"user_id": 123, "username": username})
    return Response("Logged in!", status_code=200)
@get("/profile")
async def profile(request: ASGIConnection) -> dict:
    # Access session data
    user_id = request.session.get("user_id")
    username = request.session.get("username")
    if not user_id:
        return {"error": "Not logged in"}
    return {"user_id": user_id, "username": username}
@post("/logout")
async def logout(request: ASGIConnection) -> str:
    # Clear session
    request.clear_session()
    return "Logged out!"
"""
    + """
# 5. Create your Litestar app
app = Litestar(
    route_handlers=[login_form, login, profile, logout],
    plugins=[SQLAlchemyPlugin(config=alchemy_config)],
    middleware=[session_config.middleware],
)
"""
)

SYNC_SETUP = (
    QUICK_SETUP.replace("SQLAlchemyAsyncSessionBackend", "SQLAlchemySyncSessionBackend")
    .replace("SQLAlchemyAsyncConfig", "SQLAlchemySyncConfig")
    .replace("postgresql+asyncpg://user:password@localhost/mydb", "postgresql://user:password@localhost/mydb")
)

COMPLETE_EXAMPLE = """
from litestar import Litestar, get, post
from litestar.connection import ASGIConnection
from litestar.middleware.session.server_side import ServerSideSessionConfig
from litestar_dbops import (
    AsyncSessionConfig,
    SQLAlchemyAsyncConfig,
    SQLAlchemyPlugin,
)
from litestar.response import Template
from litestar_dbops.session import (
    SessionModelMixin,
    SQLAlchemyAsyncSessionBackend,
)
# Session model
class WebSession(SessionModelMixin):
    __tablename__ = "web_sessions"
# Database configuration
alchemy_config = SQLAlchemyAsyncConfig(
    connection_string="sqlite+aiosqlite:///sessions.db",
    session_config=AsyncSessionConfig(expire_on_commit=False),
    create_all=True,
)
# Session configuration
session_config = ServerSideSessionConfig(
    max_age=3600, # 1 hour
)
# Session backend
session_backend = SQLAlchemyAsyncSessionBackend(
    config=session_config,
    alchemy_config=alchemy_config,
    model=WebSession,
)
# Routes
@get("/")
async def home(request: ASGIConnection) -> dict:
    username = request.session.get("username")
    return {"message": f"Hello {username}!" if username else "Hello stranger!"}
@post("/login")
async def login(request: ASGIConnection) -> dict:
    form = await request.form()
    username = form.get("username")
    if username:
        request.set_session({"username": username, "login_time": "now"})
        return {"message": f"Welcome {username}!"}
    return {"error": "Username required"}
@post("/logout")
async def logout(request: ASGIConnection) -> dict:
    request.clear_session()
    return {"message": "Logged out successfully"}
# Application
app = Litestar(
    route_handlers=[home, login, logout],
    plugins=[SQLAlchemyPlugin(config=alchemy_config)],
    middleware=[session_config.middleware],
)
"""

RUNNER = """
import importlib.util, json, sys
from litestar.testing import TestClient
from sqlalchemy import create_engine, text

path, table, page, sync_url = sys.argv[1:5]
spec = importlib.util.spec_from_file_location("seed_app", path)
module = importlib.util.module_from_spec(spec)
sys.modules["seed_app"] = module
spec.loader.exec_module(module)

def rows():
    engine = create_engine(sync_url)
    try:
        with engine.connect() as connection:
            return [bytes(row[0]).decode() for row in connection.execute(text(f"SELECT data FROM {table}"))]
    finally:
        engine.dispose()

report = {}
with TestClient(app=module.app) as client:
    report["anonymous"] = client.get(page).json()
    report["rows_before"] = rows()
    login = client.post("/login", data={"username": "alice"})
    report["login"] = [login.status_code, login.text]
    report["rows_after_login"] = rows()
    report["page"] = client.get(page).json()
    logout = client.post("/logout")
    report["logout"] = logout.status_code
    report["rows_after_logout"] = rows()
    report["page_after_logout"] = client.get(page).json()
print(json.dumps(report))
"""


def run_example(tmp_path: Path, source: str, table: str, page: str, sync_url: str) -> dict[str, Any]:
    (tmp_path / "seed_app.py").write_text(source)
    (tmp_path / "runner.py").write_text(RUNNER)
    completed = subprocess.run(
        [sys.executable, "runner.py", "seed_app.py", table, page, sync_url],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")]))},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    report: dict[str, Any] = json.loads(completed.stdout.strip().splitlines()[-1])  # the runner's JSON
    return report


def with_url(source: str, seed_url: str, url: str) -> str:
    assert seed_url in source
    return source.replace(seed_url, url)


def test_quick_setup_with_routes(db: TestDatabase, tmp_path: Path) -> None:
    source = with_url(QUICK_SETUP, "postgresql+asyncpg://user:password@localhost/mydb", db.async_url)
    report = run_example(tmp_path, source, "user_sessions", "/profile", db.sync_url)
    assert report["anonymous"] == {"error": "Not logged in"}
    assert report["rows_before"] == []
    assert report["login"] == [200, "Logged in!"]
    [data] = report["rows_after_login"]
    assert json.loads(data) == {"user_id": 123, "username": "alice"}
    assert report["page"] == {"user_id": 123, "username": "alice"}
    assert report["logout"] == 201
    assert report["rows_after_logout"] == []
    assert report["page_after_logout"] == {"error": "Not logged in"}


def test_sync_configuration(db: TestDatabase, tmp_path: Path) -> None:
    source = with_url(SYNC_SETUP, "postgresql://user:password@localhost/mydb", db.sync_url)
    report = run_example(tmp_path, source, "user_sessions", "/profile", db.sync_url)
    assert len(report["rows_after_login"]) == 1
    assert report["page"] == {"user_id": 123, "username": "alice"}
    assert report["rows_after_logout"] == []


@pytest.mark.parametrize("as_printed", [True, False], ids=["as-printed", "on-test-db"])
def test_complete_example(sqlite_db: TestDatabase, tmp_path: Path, as_printed: bool) -> None:
    url = "sqlite:///sessions.db" if as_printed else sqlite_db.sync_url
    source = (
        COMPLETE_EXAMPLE
        if as_printed
        else with_url(COMPLETE_EXAMPLE, "sqlite+aiosqlite:///sessions.db", sqlite_db.async_url)
    )
    report = run_example(tmp_path, source, "web_sessions", "/", url)
    assert report["anonymous"] == {"message": "Hello stranger!"}
    assert report["login"][0] == 201
    [data] = report["rows_after_login"]
    assert json.loads(data) == {"username": "alice", "login_time": "now"}
    assert report["page"] == {"message": "Hello alice!"}
    assert report["rows_after_logout"] == []
    assert report["page_after_logout"] == {"message": "Hello stranger!"}


def test_complete_example_on_servers(db: TestDatabase, tmp_path: Path) -> None:
    source = with_url(COMPLETE_EXAMPLE, "sqlite+aiosqlite:///sessions.db", db.async_url)
    report = run_example(tmp_path, source, "web_sessions", "/", db.sync_url)
    assert len(report["rows_after_login"]) == 1
    assert report["page"] == {"message": "Hello alice!"}
    assert report["rows_after_logout"] == []


SETUP_ROWS = """
import datetime, importlib.util, sys, uuid
from sqlalchemy import create_engine

spec = importlib.util.spec_from_file_location("seed_app", "seed_app.py")
module = importlib.util.module_from_spec(spec)
sys.modules["seed_app"] = module
spec.loader.exec_module(module)
engine = create_engine(sys.argv[1])
table = module.WebSession.__table__
table.create(engine)
now = datetime.datetime.now(datetime.timezone.utc)
rows = [
    {"id": uuid.uuid4(), "session_id": f"s{index}", "data": b"{}", "created_at": now, "updated_at": now,
     "expires_at": now + datetime.timedelta(hours=-1 if index % 2 else 1)}
    for index in range(10)
]
with engine.begin() as connection:
    connection.execute(table.insert(), rows)
engine.dispose()
"""


def test_litestar_database_sessions_cleanup(sqlite_db: TestDatabase, tmp_path: Path) -> None:
    """`litestar database sessions ...` finds the app's session model through the plugin's configs."""
    (tmp_path / "seed_app.py").write_text(
        with_url(COMPLETE_EXAMPLE, "sqlite+aiosqlite:///sessions.db", sqlite_db.async_url)
    )
    (tmp_path / "setup_rows.py").write_text(SETUP_ROWS)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")]))}

    def run(*argv: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, *argv], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False
        )

    assert run("setup_rows.py", sqlite_db.sync_url).returncode == 0
    database = ["-m", "litestar", "--app", "seed_app:app", "database", "sessions"]
    stats = run(*database, "stats", "--format", "json")
    assert stats.returncode == 0, stats.stderr
    assert [(row["table"], row["live"], row["expired"]) for row in json.loads(stats.stdout)] == [("web_sessions", 5, 5)]
    cleanup = run(*database, "cleanup", "--format", "json")
    assert cleanup.returncode == 0, cleanup.stderr
    assert json.loads(cleanup.stdout)["deleted"] == 5
