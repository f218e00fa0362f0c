"""Litestar apps (no plugin) using the backends: both wirings really store sessions in the table."""

from __future__ import annotations

from typing import Any

import pytest
from litestar import Litestar, Request, get, post
from litestar.middleware.session.server_side import ServerSideSessionConfig
from litestar.testing import TestClient
from litestar_dbops.session import SQLAlchemyAsyncSessionBackend, SQLAlchemySyncSessionBackend

from tests.databases import TestDatabase
from tests.sessions.helpers import config, counts, seed
from tests.sessions.models import UserSession
from tests.sessions.test_backend import rows


@post("/login")
async def login(request: Request[Any, Any, Any]) -> dict[str, str]:
    form = await request.form()
    request.set_session({"username": form.get("username"), "login_time": "now"})
    return {"message": f"Welcome {form.get('username')}!"}


@get("/profile")
async def profile(request: Request[Any, Any, Any]) -> dict[str, Any]:
    return {"username": request.session.get("username")}


@post("/logout")
async def logout(request: Request[Any, Any, Any]) -> dict[str, str]:
    request.clear_session()
    return {"message": "Logged out successfully"}


def build_app(
    db: TestDatabase,
    is_async: bool,
    wiring: str,
    session_config: ServerSideSessionConfig | None = None,
    on_startup: list[Any] | None = None,
) -> Litestar:
    alchemy = config(db, is_async)
    session_config = session_config or ServerSideSessionConfig(max_age=3600)
    backend_class = SQLAlchemyAsyncSessionBackend if is_async else SQLAlchemySyncSessionBackend
    backend = backend_class(config=session_config, alchemy_config=alchemy, model=UserSession)  # type: ignore[arg-type]
    table = UserSession.__table__

    async def startup() -> None:
        if alchemy.is_async:
            async with alchemy.get_engine().begin() as connection:
                await connection.run_sync(lambda sync: table.create(sync, checkfirst=True))
        else:
            table.create(alchemy.get_engine(), checkfirst=True)

    async def shutdown() -> None:
        if alchemy.is_async:
            await alchemy.dispose_async()
        else:
            alchemy.dispose()

    middleware = session_config.middleware if wiring == "config" else backend.middleware
    return Litestar(
        route_handlers=[login, profile, logout],
        middleware=[middleware],
        on_startup=[startup, *(on_startup or [])],
        on_shutdown=[shutdown],
    )


@pytest.mark.parametrize("wiring", ["config", "backend"])
def test_login_profile_logout_uses_the_table(db: TestDatabase, is_async: bool, wiring: str) -> None:
    with TestClient(app=build_app(db, is_async, wiring)) as client:
        assert client.get("/profile").json() == {"username": None}
        assert rows(db) == []  # an anonymous request stores nothing

        response = client.post("/login", data={"username": "alice"})
        assert response.status_code == 201
        [row] = rows(db)
        assert b'"alice"' in row.data
        assert client.cookies.get("session") == row.session_id

        assert client.get("/profile").json() == {"username": "alice"}
        [after_read] = rows(db)
        assert after_read.updated_at == row.updated_at  # reading an unchanged session writes nothing

        assert client.post("/logout").status_code == 201
        assert rows(db) == []
        assert client.get("/profile").json() == {"username": None}


def test_two_clients_get_two_sessions(db: TestDatabase) -> None:
    with TestClient(app=build_app(db, True, "config")) as client:
        client.post("/login", data={"username": "alice"})
        alice = client.cookies.get("session")
        client.cookies.clear()
        client.post("/login", data={"username": "bob"})
        bob = client.cookies.get("session")
        assert alice and bob and alice != bob
        assert len(rows(db)) == 2
        for name, cookie in (("alice", alice), ("bob", bob)):
            client.cookies.clear()
            client.cookies.set("session", cookie)
            assert client.get("/profile").json() == {"username": name}


def test_seed_security_settings_reach_the_cookie(db: TestDatabase) -> None:
    """The seed's "Session Expiration" config: a 30-minute session, HTTPS-only, SameSite=strict.

    The seed spells HTTPS-only ``https_only=True``, which Litestar's ``ServerSideSessionConfig`` rejects (before
    any backend is involved); its option is ``secure``."""
    with pytest.raises(TypeError, match="https_only"):
        ServerSideSessionConfig(max_age=1800, https_only=True, samesite="strict")  # type: ignore[call-arg]
    session_config = ServerSideSessionConfig(max_age=1800, secure=True, samesite="strict")
    app = build_app(db, True, "config", session_config)
    with TestClient(app=app, base_url="https://testserver.local") as client:
        response = client.post("/login", data={"username": "alice"})
        cookie = response.headers["set-cookie"].lower()
        assert "secure" in cookie and "samesite=strict" in cookie and "max-age=1800" in cookie
        [row] = rows(db)
        assert 1700 < (row.expires_at - row.updated_at).total_seconds() <= 1800
        assert client.get("/profile").json() == {"username": "alice"}


def test_seed_cleanup_strategy_on_startup(db: TestDatabase, is_async: bool) -> None:
    """The seed's "Cleanup Strategy": ``await session_backend.delete_expired()`` in ``on_startup``."""
    seed(db, expired=3, live=1)
    deleted: list[int] = []
    session_config = ServerSideSessionConfig(max_age=3600)

    async def cleanup_expired_sessions() -> None:
        # The backend build_app created, as the config's middleware hands it out.
        session_backend = session_config.middleware.kwargs["backend"]
        deleted.append(await session_backend.delete_expired())

    app = build_app(db, is_async, "config", session_config, on_startup=[cleanup_expired_sessions])
    with TestClient(app=app) as client:
        assert client.get("/profile").json() == {"username": None}
    assert deleted == [3]
    assert counts(db) == (0, 1)
