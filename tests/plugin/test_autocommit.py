"""before_send_handler variants: what is committed, what is rolled back, and failed commits → 409/500."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest
from litestar.testing import TestClient
from litestar_dbops import autocommit_before_send_handler, autocommit_handler_maker, get_scope_session
from sqlalchemy import event
from sqlalchemy.orm import Session

from dbops.errors import ConfigError
from tests.databases import TestDatabase
from tests.plugin.apps import app_for, checked_out, item_names, make_config


def _client(db: TestDatabase, is_async: bool, handler: Any) -> tuple[TestClient[Any], Any]:
    config = make_config(db.url(is_async=is_async), is_async=is_async, before_send_handler=handler)
    return TestClient(app_for(config)), config


@pytest.mark.parametrize(
    ("handler", "committed"),
    [
        ("autocommit", {"ok", "created"}),
        ("autocommit_include_redirect", {"ok", "created", "redirect"}),
        (None, set()),
        (autocommit_before_send_handler(extra_commit_statuses={409}), {"ok", "created", "conflict"}),
        (autocommit_handler_maker(extra_rollback_statuses={201}), {"ok"}),  # Advanced Alchemy's name
        (autocommit_before_send_handler(commit_on_status=lambda status: status == 409), {"conflict"}),
        (autocommit_before_send_handler(commit_on_redirect=True, extra_rollback_statuses={302}), {"ok", "created"}),
    ],
    ids=["autocommit", "include-redirect", "none", "extra-commit", "extra-rollback", "on-status", "redirect-minus"],
)
def test_what_each_handler_commits(db: TestDatabase, is_async: bool, handler: Any, committed: set[str]) -> None:
    client, config = _client(db, is_async, handler)
    requests = {
        "ok": "status=200",
        "created": "status=201",
        "redirect": "status=302",
        "conflict": "status=409",
        "bad": "status=400",
        "raised": "fail=raise",
        "rejected": "fail=http",
    }
    expected_status = {"ok": 200, "created": 201, "redirect": 302, "conflict": 409, "bad": 400, "raised": 500}
    with client:
        for name, query in requests.items():
            response = client.post(f"/items/{name}?{query}", follow_redirects=False)
            assert response.status_code == expected_status.get(name, 400), name
        assert checked_out(config) == 0
    assert set(item_names(db.sync_url)) == committed


def test_unique_violation_at_commit_answers_409_and_saves_nothing(
    db: TestDatabase, is_async: bool, plugin_log: list[logging.LogRecord]
) -> None:
    client, config = _client(db, is_async, "autocommit")
    with client:
        assert client.post("/items/dup").status_code == 201
        response = client.post("/items/dup")
        assert response.status_code == 409
        assert response.headers["content-type"] == "application/json"
        assert response.json() == {
            "status_code": 409,
            "detail": "Conflict: the changes violate a database constraint and were not saved",
        }
        assert int(response.headers["content-length"]) == len(response.content)
        assert [record.levelno for record in plugin_log] == [logging.ERROR]
        assert plugin_log[0].getMessage().startswith("commit failed for POST /items/dup; answering 409 instead of 201")
        # The app keeps working after a failed commit, and the pool has its connection back.
        assert client.post("/items/after").status_code == 201
        assert checked_out(config) == 0
    assert item_names(db.sync_url) == ["after", "dup"]


@pytest.fixture
def exploding_commits() -> Iterator[None]:
    """Sessions whose ``info`` says ``explode`` fail in ``before_commit`` (not an integrity error)."""

    def before_commit(session: Session) -> None:
        if session.info.get("explode"):
            raise RuntimeError("commit refused by a before_commit hook")

    event.listen(Session, "before_commit", before_commit)
    yield
    event.remove(Session, "before_commit", before_commit)


def test_other_commit_failure_answers_500(db: TestDatabase, is_async: bool, exploding_commits: None) -> None:
    from litestar import Litestar, Request, post

    config = make_config(db.url(is_async=is_async), is_async=is_async, before_send_handler="autocommit")

    @post("/explode", sync_to_thread=False)
    def explode(request: Request[Any, Any, Any]) -> dict[str, str]:
        session = config.provide_session(request.app.state, request.scope)
        session.info["explode"] = True
        from tests.plugin.apps import Item

        session.add(Item(name="lost"))
        return {"original": "body"}

    from litestar_dbops import SQLAlchemyPlugin

    with TestClient(Litestar([explode], plugins=[SQLAlchemyPlugin(config)])) as client:
        response = client.post("/explode")
        assert response.status_code == 500
        assert response.json()["detail"] == "Internal Server Error: the changes could not be saved"
        assert "original" not in response.text
        assert checked_out(config) == 0
    assert item_names(db.sync_url) == []


def test_a_custom_callable_runs_and_the_session_is_still_closed(sqlite_db: TestDatabase, is_async: bool) -> None:
    seen: list[tuple[int, bool]] = []

    async def always_commit(message: Any, scope: Any) -> None:
        if message["type"] == "http.response.start":
            session = get_scope_session(scope, "_dbops_db_session")
            seen.append((message["status"], session is not None))
            if session is not None:
                if is_async:
                    await session.commit()
                else:
                    session.commit()

    client, config = _client(sqlite_db, is_async, always_commit)
    with client:
        assert client.post("/items/kept?status=400").status_code == 400
        assert checked_out(config) == 0
    assert seen == [(400, True)]
    assert item_names(sqlite_db.sync_url) == ["kept"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"before_send_handler": "autocommit_always"}, "before_send_handler='autocommit_always' is not one of"),
        ({"before_send_handler": 42}, "before_send_handler must be a string, a callable or None, got int"),
        ({"session_dependency_key": "db-session"}, "session_dependency_key='db-session' must be a valid Python"),
    ],
)
def test_bad_handler_options_are_config_errors(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match="^" + message.replace("(", r"\(").replace("[", r"\[")):
        make_config("sqlite:///x.sqlite", is_async=False, **kwargs)


def test_a_status_cannot_both_commit_and_roll_back() -> None:
    with pytest.raises(ConfigError, match=r"statuses \[404\] are in both"):
        autocommit_before_send_handler(extra_commit_statuses={404, 200}, extra_rollback_statuses={404})


def test_a_failed_commit_replaces_a_compressed_body(db: TestDatabase, is_async: bool) -> None:
    """Behind gzip the response arrives compressed, with content-encoding set: the error replaces it, plain."""
    from litestar.config.compression import CompressionConfig

    config = make_config(db.url(is_async=is_async), is_async=is_async, before_send_handler="autocommit")
    app = app_for(config, compression_config=CompressionConfig(backend="gzip", minimum_size=10))
    with TestClient(app) as client:
        first = client.post("/items/dup?pad=300000", headers={"accept-encoding": "gzip"})
        assert (first.status_code, first.headers.get("content-encoding")) == (201, "gzip")
        again = client.post("/items/dup?pad=300000", headers={"accept-encoding": "gzip"})
        assert again.status_code == 409
        assert "content-encoding" not in again.headers
        assert again.json()["status_code"] == 409
        assert int(again.headers["content-length"]) == len(again.content)
        assert checked_out(config) == 0
    assert item_names(db.sync_url) == ["dup"]
