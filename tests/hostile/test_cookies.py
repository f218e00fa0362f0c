"""Session ids from cookies: anything that is not a session id is no session, and ids compare byte for byte.

The app is the sessions suite's login/profile app (Litestar's middleware with dbops' backend, no plugin). A
cookie the backend can't store (NUL, invalid UTF-8, quotes, spaces, non-ASCII, too long) must give the request
an empty session and, when the request starts one, a fresh id: no 500, no row under the bad id, no failure after
the response started. On MariaDB/MySQL the id column compares bytes, whatever the table's collation.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from http.cookies import SimpleCookie
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from litestar.testing import TestClient
from sqlalchemy import create_engine, text

from dbops.sessions import is_valid_session_id
from tests.databases import MYSQL_HOST, MYSQL_PORT, TestDatabase
from tests.hostile.corpus import NASTY_CHARACTERS
from tests.sessions.test_backend import make_backend, rows, run
from tests.sessions.test_middleware import build_app

# What a client may send after "session=": Litestar percent-decodes it (and strips surrounding spaces).
BAD_COOKIES = [
    "a%00b",  # NUL: PostgreSQL refuses it in text (was a 500)
    "%FF%FE",  # invalid UTF-8: U+FFFD, which no Set-Cookie header can carry (was an error after the response)
    "id%20",  # a trailing space (MariaDB's PAD SPACE collations would match "id")
    "in%20side",
    "%22quoted%22",
    "a%2Cb",
    "a%3Bb",
    "back%5Cslash",
    "%E2%9C%93",  # a non-ASCII character, valid UTF-8
    "tab%09id",
    "%0D%0ASet-Cookie:%20x=1",
    "x" * 4097,  # longer than any cookie a browser keeps
    "null",  # what Litestar itself writes for "no session"
]


def session_cookie(response: Any) -> str | None:
    header = response.headers.get("set-cookie")
    if header is None:
        return None
    morsel = SimpleCookie(header).get("session")
    return None if morsel is None else morsel.value


def test_a_cookie_that_is_no_session_id_is_no_session(db: TestDatabase, is_async: bool) -> None:
    with TestClient(app=build_app(db, is_async, "backend")) as client:
        for cookie in BAD_COOKIES:
            headers = {"Cookie": f"session={cookie}"}
            anonymous = client.get("/profile", headers=headers)
            assert (anonymous.status_code, anonymous.json()) == (200, {"username": None}), cookie
            assert rows(db) == [] and session_cookie(anonymous) is None, cookie

            login = client.post("/login", data={"username": "alice"}, headers=headers)
            assert login.status_code == 201, cookie
            fresh = session_cookie(login)
            assert fresh is not None and is_valid_session_id(fresh) and fresh != cookie, (cookie, fresh)
            assert [row.session_id for row in rows(db)] == [fresh], cookie  # nothing under the bad id

            client.cookies.clear()
            again = client.get("/profile", headers={"Cookie": f"session={fresh}"})
            assert again.json() == {"username": "alice"}, cookie
            client.post("/logout", headers={"Cookie": f"session={fresh}"})
            assert rows(db) == [], cookie
            client.cookies.clear()


def test_the_backend_refuses_ids_it_cannot_store(db: TestDatabase, is_async: bool) -> None:
    """Called directly (not from a cookie): a bad id finds nothing, deletes nothing, and can't be set."""
    backend = make_backend(db, is_async)

    async def work() -> list[bytes | None]:
        seen = [await backend.get(bad) for bad in ("a\x00b", "\ufffd\ufffd", "id ", "")]
        for bad in ("a\x00b", "\ufffd"):
            await backend.delete(bad)
            with pytest.raises(ValueError, match="not a session id"):
                await backend.set(bad, b"{}")
        return seen

    assert run(backend, work) == [None, None, None, None]
    assert rows(db) == []


@pytest.fixture
def case_insensitive_mariadb(mariadb_db: TestDatabase) -> Iterator[TestDatabase]:
    """A MariaDB database whose default collation folds case and trailing spaces, as most servers' default does."""
    import pymysql  # type: ignore[import-untyped]

    name = f"hostile_ci_{uuid.uuid4().hex[:8]}"
    admin = pymysql.connect(host=MYSQL_HOST, port=MYSQL_PORT, user="root", password="", autocommit=True)
    try:
        with admin.cursor() as cursor:
            cursor.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci")
        base = f"{MYSQL_HOST}:{MYSQL_PORT}/{name}?charset=utf8mb4"
        yield TestDatabase("mariadb", f"mysql+pymysql://root@{base}", f"mysql+asyncmy://root@{base}", name)
    finally:
        with admin.cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")
        admin.close()


def _exact_ids(database: TestDatabase, is_async: bool) -> None:
    with TestClient(app=build_app(database, is_async, "backend")) as client:
        for session_id, user in (("CaseId", "upper"), ("caseid", "lower"), ("CASEID", "shout")):
            client.cookies.clear()
            response = client.post("/login", data={"username": user}, headers={"Cookie": f"session={session_id}"})
            assert response.status_code == 201 and session_cookie(response) == session_id
        for session_id, user in (("CaseId", "upper"), ("caseid", "lower"), ("CASEID", "shout")):
            client.cookies.clear()
            assert client.get("/profile", headers={"Cookie": f"session={session_id}"}).json() == {"username": user}
    assert sorted(row.session_id for row in rows(database)) == ["CASEID", "CaseId", "caseid"]


def test_ids_differing_only_by_case_are_different_sessions(db: TestDatabase, is_async: bool) -> None:
    _exact_ids(db, is_async)


def test_ids_compare_bytes_under_a_case_insensitive_default_collation(
    case_insensitive_mariadb: TestDatabase, is_async: bool
) -> None:
    _exact_ids(case_insensitive_mariadb, is_async)
    engine = create_engine(case_insensitive_mariadb.sync_url)
    try:
        with engine.connect() as connection:
            collation = connection.execute(
                text(
                    "SELECT collation_name FROM information_schema.columns "
                    "WHERE table_schema = DATABASE() AND table_name = 'user_sessions' AND column_name = 'session_id'"
                )
            ).scalar()
    finally:
        engine.dispose()
    assert collation == "utf8mb4_bin"


def test_any_cookie_is_a_session_or_none(db: TestDatabase) -> None:
    """Hypothesis: whatever the cookie holds, a login answers 201 under a valid id: the client's when it is one,
    a fresh one otherwise, and the row is stored under that id only."""
    database = db
    with TestClient(app=build_app(database, False, "backend")) as client:
        characters = st.sampled_from(NASTY_CHARACTERS) | st.characters(exclude_categories=["Cs"])

        @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
        @given(st.text(alphabet=characters, max_size=300))
        def check(value: str) -> None:
            from urllib.parse import quote, unquote

            client.cookies.clear()
            cookie = quote(value, safe="")
            response = client.post("/login", data={"username": "x"}, headers={"Cookie": f"session={cookie}"})
            assert response.status_code == 201
            fresh = session_cookie(response)
            assert fresh is not None and is_valid_session_id(fresh)
            sent = unquote(cookie)  # what Litestar decodes the cookie to
            if is_valid_session_id(sent) and sent != "null":
                assert fresh == sent  # a valid id is kept (a session may start under a client's id)
            stored = [row.session_id for row in rows(database)]
            assert stored == [fresh if len(fresh) <= 255 else stored[0]]
            client.post("/logout", headers={"Cookie": f"session={fresh}"})
            assert rows(database) == []

        check()


def test_the_readme_migration_makes_an_old_session_table_exact(case_insensitive_mariadb: TestDatabase) -> None:
    """The README's upgrade note, run on a table made as before (default, case-insensitive collation)."""
    import re

    from alembic.migration import MigrationContext
    from alembic.operations import Operations

    from tests.conftest import REPO_ROOT

    readme = (REPO_ROOT / "README.md").read_text()
    note = readme[readme.index("**Upgrading an existing MariaDB/MySQL session table**") :]
    block = re.search(r"```python\n(.*?)```", note, re.S)
    assert block is not None
    code = "\n".join(line[2:] if line.startswith("  ") else line for line in block.group(1).splitlines())
    engine = create_engine(case_insensitive_mariadb.sync_url)
    try:
        with engine.begin() as connection:
            connection.execute(
                text("CREATE TABLE user_sessions (id INT PRIMARY KEY, session_id VARCHAR(255) NOT NULL UNIQUE)")
            )
            connection.execute(text("INSERT INTO user_sessions VALUES (1, 'CaseId')"))
            exec(code, {"op": Operations(MigrationContext.configure(connection))})  # the README's code
            connection.execute(text("INSERT INTO user_sessions VALUES (2, 'caseid')"))  # no longer a duplicate
            assert connection.execute(text("SELECT session_id FROM user_sessions ORDER BY id")).scalars().all() == [
                "CaseId",
                "caseid",
            ]
    finally:
        engine.dispose()
