"""Bases (metadata, table names, audit timestamps, to_dict) and the portable column types on every dialect."""

from __future__ import annotations

import datetime
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.exc import StatementError
from sqlalchemy.orm import Mapped, Session

from dbops import base
from dbops.base import table_name_for
from dbops.errors import ConfigError, RepositoryError
from dbops.metadata import metadata_registry
from dbops.types import EncryptedString, uuid7
from dbops.types.uuid import uuid7_time_ms
from tests.models.harness import Context, run
from tests.models.models import TABLES, RtAuthorModel, RtCounterModel, RtSecretModel

UTC = datetime.timezone.utc
ROOT = Path(__file__).resolve().parents[2]


class AutoNamedThing(base.BigIntBase):
    label: Mapped[str]


class AnalyticsEvent(base.UUIDv7AuditBase):
    __bind_key__ = "models_analytics"

    kind: Mapped[str]


def test_uuid7_is_time_ordered_and_valid():
    before = datetime.datetime.now(UTC).timestamp() * 1000
    values = [uuid7() for _ in range(20_000)]
    after = datetime.datetime.now(UTC).timestamp() * 1000
    assert values == sorted(values) and len(set(values)) == len(values)
    assert {v.version for v in values} == {7} and {v.variant for v in values} == {uuid.RFC_4122}
    assert before - 1 <= uuid7_time_ms(values[0]) <= uuid7_time_ms(values[-1]) <= after + 1


@pytest.mark.parametrize(
    ("name", "table"),
    [
        ("AuthorModel", "author_model"),
        ("HTTPLogEntry", "http_log_entry"),
        ("Book", "book"),
        ("OAuth2Token", "o_auth2_token"),
    ],
)
def test_table_names(name, table):
    assert table_name_for(name) == table


def test_bases_share_the_registry_metadata():
    default = metadata_registry.get(None)
    assert base.DefaultBase.metadata is default and base.orm_registry.metadata is default
    assert AutoNamedThing.__table__.name == "auto_named_thing"
    assert default.tables["auto_named_thing"] is AutoNamedThing.__table__
    analytics = metadata_registry.get("models_analytics")
    assert analytics.tables["analytics_event"] is AnalyticsEvent.__table__
    assert "analytics_event" not in default.tables
    names = {c.name for c in RtAuthorModel.__table__.constraints} | {i.name for i in RtAuthorModel.__table__.indexes}
    assert {"pk_rt_author", "uq_rt_author_name"} <= names
    assert RtCounterModel.__table__.c.id.autoincrement is True
    assert [c.name for c in AnalyticsEvent.__table__.columns] == ["id", "kind", "created_at", "updated_at"]


def test_to_dict():
    author = RtAuthorModel(id=uuid.UUID(int=1), name="Ann")
    assert author.to_dict() == {
        "id": uuid.UUID(int=1),
        "name": "Ann",
        "dob": None,
        "bio": None,
        "created_at": None,
        "updated_at": None,
    }
    assert set(author.to_dict(exclude={"created_at", "updated_at"})) == {"id", "name", "dob", "bio"}


def test_column_types_round_trip(db, is_async):
    async def body(ctx: Context) -> None:
        secrets = ctx.repo(RtSecretModel)
        seen = datetime.datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=datetime.timezone(datetime.timedelta(hours=2)))
        secret = await secrets.add(RtSecretModel(label="a", token="hunter2", seen_at=seen))
        await ctx.session.commit()
        ctx.raw_session.expunge_all()
        loaded = await secrets.get(secret.id)
        assert loaded.token == "hunter2"
        assert loaded.seen_at == seen and loaded.seen_at.tzinfo == UTC  # same instant, returned in UTC
        assert loaded.seen_at.hour == 5 and loaded.seen_at.microsecond == 123456
        assert isinstance(loaded.id, uuid.UUID) and loaded.id == secret.id
        found = await secrets.list(seen_at=seen)  # aware values compare correctly in SQL too
        assert [s.id for s in found] == [secret.id]

        raw = await ctx.session.execute(text("SELECT token FROM rt_secret"))
        stored = raw.scalar_one()
        assert "hunter2" not in stored and stored.startswith("gAAAA")  # Fernet ciphertext, not the secret

        counters = ctx.repo(RtCounterModel)
        counter = await counters.add(RtCounterModel(kind="k", slot=1, extra={"a": [1, 2], "b": {"c": None}}))
        await ctx.session.commit()
        ctx.raw_session.expunge_all()
        assert (await counters.get(counter.id)).extra == {"a": [1, 2], "b": {"c": None}}

        with pytest.raises(RepositoryError, match=r"RtSecretModel: DateTimeUTC column got the naive datetime"):
            await secrets.add(RtSecretModel(label="b", seen_at=datetime.datetime(2024, 1, 1)))

    run(db, is_async, TABLES, body)


def test_encrypted_values_of_the_declared_length_fit(db, is_async):
    """``EncryptedString(length=64)`` stores any 64-character value, multi-byte characters included (the
    column holds the ciphertext: PostgreSQL and MariaDB reject or cut a longer one)."""
    column_type = RtSecretModel.__table__.c.token.type
    assert isinstance(column_type, EncryptedString)  # typed TypeEngine[Any] by the Column
    backend = column_type.backend
    for size in range(0, 70):
        for char in ("a", "é", "€", "😀"):
            assert len(backend.encrypt(char * size)) <= EncryptedString(key="k", length=size).length

    async def body(ctx: Context) -> None:
        secrets = ctx.repo(RtSecretModel)
        tokens = ["a" * 64, "é" * 64, "😀" * 64, "€" * 63 + "a", ""]
        added = [await secrets.add(RtSecretModel(label=str(i), token=token)) for i, token in enumerate(tokens)]
        await ctx.session.commit()
        ctx.raw_session.expunge_all()
        assert [(await secrets.get(item.id)).token for item in added] == tokens
        raw = await ctx.session.execute(text("SELECT token FROM rt_secret"))
        assert max(len(value) for value in raw.scalars()) <= column_type.length

    run(db, is_async, TABLES, body)


def test_native_storage_per_dialect(db):
    from tests.models.harness import create_tables

    create_tables(db, TABLES)
    engine = create_engine(db.sync_url)
    try:
        with Session(engine) as session:
            author = RtAuthorModel(name="Ann")
            session.add(author)
            session.commit()
            raw = session.execute(text("SELECT id FROM rt_author")).scalar_one()
            expected = uuid.UUID if db.dialect == "postgresql" else bytes
            assert (
                isinstance(raw, expected) and uuid.UUID(bytes=raw) == author.id
                if expected is bytes
                else raw == author.id
            )
    finally:
        engine.dispose()


def test_wrong_encryption_key_is_an_error(sqlite_db):
    from sqlalchemy import Column, MetaData, Table

    from dbops.types import EncryptedString

    create_engine_ = create_engine(sqlite_db.sync_url)
    metadata = MetaData()
    writer = Table("enc", metadata, Column("v", EncryptedString(key=lambda: "right")))
    reader = Table("enc", MetaData(), Column("v", EncryptedString(key=lambda: "wrong")))
    empty = Table("enc2", metadata, Column("v", EncryptedString(key="")))
    metadata.create_all(create_engine_)
    with create_engine_.begin() as connection:
        connection.execute(writer.insert().values(v="secret"))
        assert connection.execute(select(writer.c.v)).scalar_one() == "secret"
        with pytest.raises(Exception, match="could not be decrypted: wrong key or corrupt value"):
            connection.execute(select(reader.c.v)).scalar_one()
        # SQLAlchemy wraps an error raised while binding a parameter in StatementError; .orig is ours
        with pytest.raises(StatementError, match="the encryption key of an encrypted column is empty") as info:
            connection.execute(empty.insert().values(v="x"))
        assert isinstance(info.value.orig, ConfigError)
    create_engine_.dispose()


def test_updated_at_is_touched_on_every_change(sqlite_db):
    from tests.models.harness import create_tables

    create_tables(sqlite_db, TABLES)
    engine = create_engine(sqlite_db.sync_url)
    with Session(engine) as session:
        author = RtAuthorModel(name="Ann")
        session.add(author)
        session.flush()
        first = author.updated_at
        assert author.created_at == first
        session.flush()  # nothing changed: untouched
        assert author.updated_at == first
        author.bio = "x"
        session.flush()
        assert author.updated_at > first and author.created_at == first
        chosen = datetime.datetime(2030, 1, 1, tzinfo=UTC)
        author.bio, author.updated_at = "y", chosen  # a value the code sets itself is kept
        session.flush()
        assert author.updated_at == chosen
        session.commit()
    with Session(engine, info={base.TOUCH_UPDATED_TIMESTAMP_KEY: False}) as session:
        author = session.scalars(select(RtAuthorModel)).one()
        author.bio = "z"
        session.flush()
        assert author.updated_at == chosen  # the session opted out
    engine.dispose()


def test_config_can_turn_the_updated_at_listener_off(sqlite_db):
    from dbops.config import SQLAlchemySyncConfig
    from tests.models.harness import create_tables

    create_tables(sqlite_db, TABLES)
    chosen = datetime.datetime(2031, 1, 1, tzinfo=UTC)
    for enabled, expect_chosen in ((False, True), (True, False)):
        config = SQLAlchemySyncConfig(
            connection_string=sqlite_db.sync_url, enable_touch_updated_timestamp_listener=enabled
        )
        with config.get_session() as session:
            author = RtAuthorModel(name=f"listener-{enabled}")
            session.add(author)
            session.flush()
            author.updated_at = chosen
            session.commit()
            author.bio = "changed"  # without the listener, updated_at stays what the code set
            session.commit()
            assert (author.updated_at == chosen) is expect_chosen
        config.dispose()


def test_generated_files_are_current():
    result = subprocess.run(
        [sys.executable, "tools/generate.py", "--check"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_user_code_is_typed_with_the_user_model():
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "tests/models/typing_check.py"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Success" in result.stdout
