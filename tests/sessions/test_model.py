"""SessionModelMixin: the columns the seed documents, both ways of extending __table_args__, the hybrid."""

from __future__ import annotations

import datetime
from typing import Any

from sqlalchemy import DateTime, Index, LargeBinary, String, create_engine, inspect, select
from sqlalchemy.orm import Session, declared_attr

from dbops.sessions import SessionModelMixin, storage_key
from dbops.types import uuid7
from tests.databases import TestDatabase
from tests.sessions.models import BIND_KEY


class CustomArgsSession(SessionModelMixin):
    """The seed's "Custom Table Arguments" form."""

    __tablename__ = "custom_args_sessions"
    __bind_key__ = BIND_KEY

    @declared_attr.directive
    @classmethod
    def __table_args__(cls) -> Any:
        base_args = super().__table_args__()
        return base_args + (Index("ix_user_sessions_custom", cls.session_id, cls.created_at),)  # noqa: RUF005 - as in the seed


class IndexedSession(SessionModelMixin):
    """The seed's "Indexing Strategy" form."""

    __tablename__ = "indexed_sessions"
    __bind_key__ = BIND_KEY
    __table_args__ = SessionModelMixin.__table_args__ + (  # noqa: RUF005 - as in the seed
        Index("ix_user_sessions_created_user", "created_at", "session_id"),
    )


def test_columns_constraints_and_indexes(db: TestDatabase) -> None:
    engine = create_engine(db.sync_url)
    try:
        for model in (CustomArgsSession, IndexedSession):
            model.__table__.create(engine)  # type: ignore[attr-defined]
        inspector = inspect(engine)
        columns = {column["name"]: column for column in inspector.get_columns("custom_args_sessions")}
        assert set(columns) == {"id", "session_id", "data", "expires_at", "created_at", "updated_at"}
        assert not any(column["nullable"] for column in columns.values())
        assert isinstance(columns["session_id"]["type"], String) and columns["session_id"]["type"].length == 255
        assert isinstance(columns["data"]["type"], LargeBinary)  # BYTEA / BLOB: bytes of any length
        if db.dialect == "postgresql":  # the only one of the three with a zoned timestamp type
            stamps = [columns[name]["type"] for name in ("expires_at", "created_at", "updated_at")]
            assert all(isinstance(stamp, DateTime) and stamp.timezone for stamp in stamps)
        assert inspector.get_pk_constraint("custom_args_sessions")["constrained_columns"] == ["id"]
        for table in ("custom_args_sessions", "indexed_sessions"):
            unique = [c["column_names"] for c in inspector.get_unique_constraints(table)]
            index_columns = [index["column_names"] for index in inspector.get_indexes(table)]
            assert ["session_id"] in unique or ["session_id"] in index_columns
            assert ["expires_at"] in index_columns
        custom = {index["name"] for index in inspector.get_indexes("custom_args_sessions")}
        assert "ix_user_sessions_custom" in custom
        indexed = {index["name"] for index in inspector.get_indexes("indexed_sessions")}
        assert "ix_user_sessions_created_user" in indexed
    finally:
        engine.dispose()


def test_is_expired_on_instances_and_in_queries(db: TestDatabase) -> None:
    now = datetime.datetime.now(datetime.timezone.utc)
    engine = create_engine(db.sync_url)
    try:
        CustomArgsSession.__table__.create(engine)  # type: ignore[attr-defined]
        with Session(engine) as session:
            session.add_all(
                [
                    CustomArgsSession(session_id="old", data=b"{}", expires_at=now - datetime.timedelta(minutes=5)),
                    CustomArgsSession(session_id="new", data=b"{}", expires_at=now + datetime.timedelta(minutes=5)),
                ]
            )
            session.commit()
            expired = session.scalars(select(CustomArgsSession.session_id).where(CustomArgsSession.is_expired)).all()
            assert expired == ["old"]
            rows = {row.session_id: row for row in session.scalars(select(CustomArgsSession))}
            assert rows["old"].is_expired and not rows["new"].is_expired
            assert rows["new"].id.version == 7
            assert rows["new"].expires_at.tzinfo is not None
    finally:
        engine.dispose()


def test_storage_key() -> None:
    assert storage_key("abc") == "abc"
    assert storage_key("x" * 255) == "x" * 255
    long_a, long_b = "x" * 255 + "a", "x" * 255 + "b"
    assert storage_key(long_a) != storage_key(long_b)
    assert storage_key(long_a).startswith("sha256:") and len(storage_key(long_a)) == 71
    # An id that merely looks like a digest is hashed too, so it can never collide with a hashed long id.
    assert storage_key(storage_key(long_a)) != storage_key(long_a)
    assert uuid7().version == 7


def test_importable_without_litestar_and_re_exported_where_the_seed_imports_it() -> None:
    """An ops box has dbops without Litestar: the mixin must not pull it in; the seed imports it from the plugin."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from dbops.sessions import SessionModelMixin, cleanup\n"
        "print(sorted(name for name in sys.modules if name.split('.')[0] in ('litestar', 'litestar_dbops')))\n"
    )
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert completed.stdout.strip() == "[]"
    import litestar_dbops.session

    assert litestar_dbops.session.SessionModelMixin is SessionModelMixin
