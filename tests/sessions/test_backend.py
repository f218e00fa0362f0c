"""The Litestar session backends, called directly: upsert, expiry, renewal, long ids, not blocking the loop."""

from __future__ import annotations

import asyncio
import datetime
import threading
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import pytest
from litestar.middleware.session.server_side import ServerSideSessionConfig
from litestar_dbops.session import SQLAlchemyAsyncSessionBackend, SQLAlchemySyncSessionBackend
from sqlalchemy import create_engine, select, update

from dbops.sessions.clock import utc_now
from tests.databases import TestDatabase
from tests.sessions.helpers import TABLE, config, create_table
from tests.sessions.models import UserSession

T = TypeVar("T")
MAX_AGE = 3600


def make_backend(
    db: TestDatabase, is_async: bool, *, renew_on_access: bool = False, **kwargs: Any
) -> SQLAlchemyAsyncSessionBackend | SQLAlchemySyncSessionBackend:
    create_table(db)
    alchemy = config(db, is_async)
    session_config = ServerSideSessionConfig(max_age=MAX_AGE, renew_on_access=renew_on_access)
    if is_async:
        return SQLAlchemyAsyncSessionBackend(session_config, alchemy, UserSession, **kwargs)  # type: ignore[arg-type]
    return SQLAlchemySyncSessionBackend(session_config, alchemy, UserSession, **kwargs)  # type: ignore[arg-type]


def run(backend: Any, work: Callable[[], Awaitable[T]]) -> T:
    async def main() -> T:
        try:
            return await work()
        finally:
            if backend.alchemy_config.is_async:
                await backend.alchemy_config.dispose_async()
            else:
                backend.alchemy_config.dispose()

    return asyncio.run(main())


def rows(db: TestDatabase) -> list[Any]:
    engine = create_engine(db.sync_url)
    try:
        with engine.connect() as connection:
            return list(connection.execute(select(TABLE).order_by(TABLE.c.session_id)))
    finally:
        engine.dispose()


def shift_expiry(db: TestDatabase, session_id: str, seconds: float) -> datetime.datetime:
    """Set a row's expiry to ``seconds`` from the database's now; return it."""
    engine = create_engine(db.sync_url)
    try:
        with engine.begin() as connection:
            now = connection.execute(select(utc_now())).scalar_one()
            expires = now + datetime.timedelta(seconds=seconds)
            connection.execute(update(TABLE).where(TABLE.c.session_id == session_id).values(expires_at=expires))
            return expires
    finally:
        engine.dispose()


def db_now(db: TestDatabase) -> datetime.datetime:
    engine = create_engine(db.sync_url)
    try:
        with engine.connect() as connection:
            return connection.execute(select(utc_now())).scalar_one()
    finally:
        engine.dispose()


def test_set_get_delete(db: TestDatabase, is_async: bool) -> None:
    backend = make_backend(db, is_async)

    async def work() -> tuple[Any, ...]:
        await backend.set("a", b'{"n":1}')
        await backend.set("b", b'{"n":2}')
        await backend.set("a", b'{"n":3}')  # replaces
        first = (await backend.get("a"), await backend.get("b"), await backend.get("missing"))
        await backend.delete("a")
        await backend.delete("missing")  # silently nothing
        second = (await backend.get("a"), await backend.get("b"))
        await backend.delete_all()
        return first, second, await backend.get("b")

    first, second, after_all = run(backend, work)
    assert first == (b'{"n":3}', b'{"n":2}', None)
    assert second == (None, b'{"n":2}')
    assert after_all is None
    assert rows(db) == []


def test_row_shape_and_expiry_by_database_clock(db: TestDatabase) -> None:
    backend = make_backend(db, False)
    before = db_now(db)
    run(backend, lambda: backend.set("sid", b"{}"))
    after = db_now(db)
    [row] = rows(db)
    assert row.id.version == 7
    assert row.expires_at.tzinfo is not None and row.created_at.tzinfo is not None
    window = datetime.timedelta(seconds=MAX_AGE)
    assert before + window <= row.expires_at <= after + window


def test_expiry_follows_the_database_clock_not_the_app_servers(mariadb_db: TestDatabase) -> None:
    """An app server whose clock is a year ahead of the database (MariaDB's per-connection ``SET timestamp``
    moves the server's clock for the backend's connections) still stores, reads and renews sessions by the
    database's time: a session it just stored is live, although by the app's clock it expired long ago."""
    from sqlalchemy import event

    backend = make_backend(mariadb_db, False)
    skew = 365 * 86400

    @event.listens_for(backend.alchemy_config.get_engine(), "connect")
    def database_clock_a_year_behind(dbapi_connection: Any, _record: Any) -> None:
        with dbapi_connection.cursor() as cursor:
            cursor.execute(f"SET timestamp = UNIX_TIMESTAMP() - {skew}")

    run(backend, lambda: backend.set("sid", b'{"n":1}'))
    [row] = rows(mariadb_db)
    app_now = datetime.datetime.now(datetime.timezone.utc)
    assert row.expires_at < app_now  # expired by the app's clock, and by the unskewed database clock ...
    database_now = app_now - datetime.timedelta(seconds=skew)
    assert abs(row.expires_at - (database_now + datetime.timedelta(seconds=MAX_AGE))) < datetime.timedelta(minutes=5)
    assert run(backend, lambda: backend.get("sid")) == b'{"n":1}'  # ... yet live by the backend's database clock
    assert abs(row.created_at - database_now) < datetime.timedelta(minutes=5)


def test_expired_rows_are_never_returned(db: TestDatabase, is_async: bool) -> None:
    backend = make_backend(db, is_async)
    run(backend, lambda: backend.set("old", b'{"x":1}'))
    shift_expiry(db, "old", -1)
    assert run(backend, lambda: backend.get("old")) is None
    assert len(rows(db)) == 1  # still there for the cleanup; never renewed back to life


def test_get_renews_only_when_less_than_half_remains(db: TestDatabase, is_async: bool) -> None:
    backend = make_backend(db, is_async)
    run(backend, lambda: backend.set("sid", b"{}"))
    plenty = shift_expiry(db, "sid", MAX_AGE * 0.6)
    [before] = rows(db)
    assert run(backend, lambda: backend.get("sid")) == b"{}"
    [unchanged] = rows(db)
    assert (unchanged.expires_at, unchanged.updated_at) == (plenty, before.updated_at)  # no write

    short = shift_expiry(db, "sid", MAX_AGE * 0.4)
    assert run(backend, lambda: backend.get("sid")) == b"{}"
    [renewed] = rows(db)
    assert renewed.expires_at > short + datetime.timedelta(seconds=MAX_AGE * 0.5)


def test_renew_fraction_is_configurable(sqlite_db: TestDatabase) -> None:
    never = make_backend(sqlite_db, False, renew_fraction=0.0)
    run(never, lambda: never.set("sid", b"{}"))
    short = shift_expiry(sqlite_db, "sid", 5)
    assert run(never, lambda: never.get("sid")) == b"{}"
    assert rows(sqlite_db)[0].expires_at == short
    always = make_backend(sqlite_db, False, renew_fraction=1.0)
    shift_expiry(sqlite_db, "sid", MAX_AGE - 60)
    assert run(always, lambda: always.get("sid")) == b"{}"
    assert rows(sqlite_db)[0].expires_at > db_now(sqlite_db) + datetime.timedelta(seconds=MAX_AGE - 30)
    with pytest.raises(ValueError, match="renew_fraction"):
        make_backend(sqlite_db, False, renew_fraction=1.5)


def test_renew_on_access_renews_on_every_read(db: TestDatabase) -> None:
    """Litestar's own switch is honoured, not silently ignored: it means renew_fraction=1."""
    assert make_backend(db, False).renew_fraction == 0.5
    backend = make_backend(db, False, renew_on_access=True)
    assert backend.renew_fraction == 1.0
    assert make_backend(db, False, renew_on_access=True, renew_fraction=0.25).renew_fraction == 0.25
    run(backend, lambda: backend.set("sid", b"{}"))
    shift_expiry(db, "sid", MAX_AGE - 600)  # a default backend would leave this alone
    assert run(backend, lambda: backend.get("sid")) == b"{}"
    assert rows(db)[0].expires_at > db_now(db) + datetime.timedelta(seconds=MAX_AGE - 300)


def test_concurrent_first_writes_of_one_session(db: TestDatabase, is_async: bool) -> None:
    backend = make_backend(db, is_async)
    payloads = [f'{{"n":{index}}}'.encode() for index in range(12)]

    async def work() -> bytes | None:
        await asyncio.gather(*(backend.set("fresh", payload) for payload in payloads))
        return await backend.get("fresh")

    assert run(backend, work) in payloads
    assert [row.session_id for row in rows(db)] == ["fresh"]


def test_long_ids_sharing_a_prefix_stay_two_sessions(db: TestDatabase, is_async: bool) -> None:
    backend = make_backend(db, is_async)
    prefix = "x" * 255
    first, second = prefix + "-one", prefix + "-two"

    async def work() -> tuple[bytes | None, bytes | None]:
        await backend.set(first, b'{"who":1}')
        await backend.set(second, b'{"who":2}')
        return await backend.get(first), await backend.get(second)

    assert run(backend, work) == (b'{"who":1}', b'{"who":2}')
    stored = [row.session_id for row in rows(db)]
    assert len(stored) == 2 and all(key.startswith("sha256:") and len(key) <= 255 for key in stored)
    run(backend, lambda: backend.delete(first))
    assert run(backend, lambda: backend.get(second)) == b'{"who":2}'


def test_delete_expired(db: TestDatabase, is_async: bool) -> None:
    backend = make_backend(db, is_async)

    async def fill() -> None:
        for name in ("a", "b", "c"):
            await backend.set(name, b"{}")

    run(backend, fill)
    shift_expiry(db, "a", -10)
    shift_expiry(db, "b", -10)
    assert run(backend, backend.delete_expired) == 2
    assert [row.session_id for row in rows(db)] == ["c"]


def test_sync_backend_does_not_block_the_event_loop(pg_db: TestDatabase) -> None:
    """While a sync `set` waits on a row lock, the event loop keeps running other tasks."""
    import psycopg

    backend = make_backend(pg_db, False)
    run(backend, lambda: backend.set("busy", b"{}"))
    holder = psycopg.connect(pg_db.sync_url.replace("postgresql+psycopg", "postgresql"))
    holder.execute("SELECT 1 FROM user_sessions WHERE session_id = 'busy' FOR UPDATE")
    release = threading.Timer(2.0, holder.commit)

    async def work() -> int:
        ticks = 0
        task = asyncio.ensure_future(backend.set("busy", b'{"new":1}'))
        release.start()
        while not task.done():
            await asyncio.sleep(0.01)
            ticks += 1
        await task
        return ticks

    try:
        ticks = run(backend, work)
    finally:
        release.cancel()
        holder.close()
    assert ticks >= 3
    assert run(backend, lambda: backend.get("busy")) == b'{"new":1}'
