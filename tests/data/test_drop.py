"""drop-all engine: reverse FK order, version table, PostgreSQL enums, unknown tables left alone."""

from __future__ import annotations

import sqlalchemy as sa

from dbops.data.drop import DropPlan, drop_all
from tests.data.models import chain_metadata, create_and_fill, make_config, sync_engine
from tests.databases import TestDatabase


def metadata_with_enum() -> sa.MetaData:
    metadata = chain_metadata()
    sa.Table(
        "moods",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("author_id", sa.Integer, sa.ForeignKey("authors.id")),
        sa.Column("mood", sa.Enum("happy", "sad", name="mood")),
    )
    return metadata


def prepare(db: TestDatabase) -> sa.MetaData:
    metadata = metadata_with_enum()
    create_and_fill(db, metadata, {"authors": [{"id": 1, "name": "A"}]})
    engine = sync_engine(db)
    with engine.begin() as connection:
        connection.execute(sa.text("CREATE TABLE legacy (id INTEGER PRIMARY KEY)"))
        connection.execute(sa.text("CREATE TABLE alembic_versions (version_num VARCHAR(32) PRIMARY KEY)"))
    engine.dispose()
    return metadata


def state(db: TestDatabase) -> tuple[set[str], set[str]]:
    engine = sync_engine(db)
    with engine.connect() as connection:
        inspector = sa.inspect(connection)
        tables = set(inspector.get_table_names())
        enums = {item["name"] for item in inspector.get_enums()} if db.dialect == "postgresql" else set()  # type: ignore[attr-defined]
    engine.dispose()
    return tables, enums


def test_dry_run_lists_and_changes_nothing(db: TestDatabase, is_async: bool) -> None:
    metadata = prepare(db)
    before = state(db)
    plan = drop_all(make_config(db, metadata, is_async=is_async), dry_run=True)
    assert plan.tables.index("reviews") < plan.tables.index("books") < plan.tables.index("authors")
    assert plan.tables.index("moods") < plan.tables.index("authors")
    assert plan.tables[-1] == plan.version_table == "alembic_versions"
    assert plan.unknown == ["legacy"]
    assert plan.enum_types == (["mood"] if db.dialect == "postgresql" else [])
    assert not plan.dropped
    assert state(db) == before


def test_drop_leaves_unknown_tables_unless_asked(db: TestDatabase, is_async: bool) -> None:
    metadata = prepare(db)
    plan = drop_all(make_config(db, metadata, is_async=is_async))
    assert plan.dropped
    assert state(db) == ({"legacy"}, set())
    plan = drop_all(make_config(db, metadata, is_async=is_async), include_unknown=True)
    assert plan.tables == ["legacy"]
    assert state(db) == (set(), set())


def test_declined_confirmation_drops_nothing(db: TestDatabase) -> None:
    metadata = prepare(db)
    before = state(db)
    seen: list[DropPlan] = []

    def decline(plan: DropPlan) -> bool:
        seen.append(plan)
        return False

    plan = drop_all(make_config(db, metadata), confirm=decline)
    assert seen and not plan.dropped
    assert state(db) == before


def test_version_table_name_comes_from_the_alembic_config(sqlite_db: TestDatabase) -> None:
    metadata = chain_metadata()
    create_and_fill(sqlite_db, metadata, {})
    engine = sync_engine(sqlite_db)
    with engine.begin() as connection:
        connection.execute(sa.text("CREATE TABLE schema_history (version_num VARCHAR(32) PRIMARY KEY)"))
        connection.execute(sa.text("CREATE TABLE alembic_versions (version_num VARCHAR(32) PRIMARY KEY)"))
    engine.dispose()
    config = make_config(sqlite_db, metadata)
    config.alembic_config.version_table_name = "schema_history"
    plan = drop_all(config)
    assert plan.version_table == "schema_history" and plan.unknown == ["alembic_versions"]
    assert state(sqlite_db) == ({"alembic_versions"}, set())
