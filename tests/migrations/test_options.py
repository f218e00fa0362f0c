"""Every ``alembic_config`` option is honoured; transactions per migration; Advanced Alchemy env.py files."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from dbops.errors import MigrationError
from dbops.migrations import commands
from tests.databases import TestDatabase
from tests.migrations.conftest import ConfigFactory, add_author, make_config, table_names, versions, write_revision


class Shout(sa.types.TypeDecorator[str]):
    """A user type, rendered in migrations with ``user_module_prefix``."""

    impl = sa.String(20)
    cache_ok = True


@pytest.fixture
def sqlite_factory(sqlite_db: TestDatabase, tmp_path: Path, metadata: sa.MetaData) -> ConfigFactory:
    def factory(**alembic: Any) -> Any:
        alembic.setdefault("script_location", str(tmp_path / "migrations"))
        return make_config(sqlite_db.sync_url, is_async=False, metadata=metadata, **alembic)

    return factory


def test_version_table_name(db: TestDatabase, config_factory: ConfigFactory, metadata: sa.MetaData) -> None:
    config = config_factory(version_table_name="schema_history")
    commands.init(config)
    add_author(metadata)
    written = commands.make_migrations(config, "author")
    commands.upgrade(config)
    assert "alembic_versions" not in table_names(db)
    assert versions(db, "schema_history") == {written.revision}
    assert commands.current(config).at_head
    assert commands.check(config).ok


def test_version_table_schema_postgres(pg_db: TestDatabase, tmp_path: Path, metadata: sa.MetaData) -> None:
    engine = sa.create_engine(pg_db.sync_url)
    with engine.begin() as connection:
        connection.execute(sa.text("CREATE SCHEMA meta"))
    config = make_config(
        pg_db.sync_url,
        is_async=False,
        metadata=metadata,
        script_location=str(tmp_path / "migrations"),
        version_table_schema="meta",
    )
    commands.init(config)
    add_author(metadata)
    written = commands.make_migrations(config, "author")
    commands.upgrade(config)
    assert sa.inspect(engine).get_table_names(schema="meta") == ["alembic_versions"]
    assert "alembic_versions" not in table_names(pg_db)
    assert commands.current(config).current[0].revision == written.revision
    assert commands.check(config).ok
    engine.dispose()


def test_script_config_read_only_if_it_exists(
    sqlite_factory: ConfigFactory, metadata: sa.MetaData, tmp_path: Path
) -> None:
    missing = sqlite_factory(script_config=str(tmp_path / "absent.ini"))
    commands.init(missing)
    add_author(metadata)
    first = commands.make_migrations(missing, "first")
    assert Path(first.path).name == f"{first.revision}_first.py"

    ini = tmp_path / "alembic.ini"
    ini.write_text("[alembic]\nfile_template = custom_%%(rev)s\n")
    present = sqlite_factory(script_config=str(ini))
    commands.upgrade(present)
    metadata.tables["author"].append_column(sa.Column("born", sa.Integer))
    second = commands.make_migrations(present, "second")
    assert Path(second.path).name == f"custom_{second.revision}.py"


def test_template_path(sqlite_factory: ConfigFactory, tmp_path: Path, metadata: sa.MetaData) -> None:
    templates = tmp_path / "templates" / "house"
    templates.mkdir(parents=True)
    (templates / "README").write_text("Our house style\n")
    (templates / "env.py").write_text("from dbops.migrations.environment import run_migrations\n\nrun_migrations()\n")
    (templates / "script.py.mako").write_text(
        '"""${message}"""\n# house style\nfrom alembic import op\nimport sqlalchemy as sa\n'
        '${imports if imports else ""}\n'
        "revision = ${repr(up_revision)}\ndown_revision = ${repr(down_revision)}\nbranch_labels = None\n"
        'depends_on = None\n\ndef upgrade():\n    ${upgrades if upgrades else "pass"}\n\n'
        'def downgrade():\n    ${downgrades if downgrades else "pass"}\n'
    )
    config = sqlite_factory(template_path=str(tmp_path / "templates"))
    assert [(t.name, t.description) for t in commands.list_templates(config)] == [("house", "Our house style")]
    with pytest.raises(MigrationError, match="no template 'dbops'"):
        commands.init(config)
    commands.init(config, template="house")
    add_author(metadata)
    written = commands.make_migrations(config, "author")
    assert "# house style" in Path(written.path).read_text()


@pytest.mark.parametrize(("batch", "marker"), [(True, "batch_alter_table"), (False, "op.add_column")])
def test_render_as_batch(sqlite_factory: ConfigFactory, metadata: sa.MetaData, batch: bool, marker: str) -> None:
    config = sqlite_factory(render_as_batch=batch)
    commands.init(config)
    author = add_author(metadata)
    commands.make_migrations(config, "author")
    commands.upgrade(config)
    author.append_column(sa.Column("born", sa.Integer))
    written = commands.make_migrations(config, "born")
    text = Path(written.path).read_text()
    assert marker in text
    assert ("batch_alter_table" in text) is batch


def test_user_module_prefix(sqlite_factory: ConfigFactory, metadata: sa.MetaData) -> None:
    config = sqlite_factory(user_module_prefix="app_types.")
    commands.init(config)
    sa.Table("shouting", metadata, sa.Column("id", sa.Integer, primary_key=True), sa.Column("word", Shout()))
    written = commands.make_migrations(config, "shouting")
    assert "app_types.Shout(" in Path(written.path).read_text()


COMPARED: dict[str, tuple[str, dict[str, Any], dict[str, Any]]] = {
    # option: (difference kind, the column in the database, the column the model has now)
    "compare_type": ("modify_type", {"type_": sa.String(50)}, {"type_": sa.String(200)}),
    "compare_server_default": ("modify_default", {"server_default": "plain"}, {"server_default": "fancy"}),
}


@pytest.mark.parametrize("enabled", [False, True], ids=["off", "on"])
@pytest.mark.parametrize("option", sorted(COMPARED))
def test_compare_options(
    db: TestDatabase, config_factory: ConfigFactory, metadata: sa.MetaData, option: str, enabled: bool
) -> None:
    kind, before, after = COMPARED[option]
    config = config_factory(**{option: enabled})
    commands.init(config)

    def note(column: dict[str, Any]) -> sa.Table:
        column = {"type_": sa.String(50), **column}
        return sa.Table("note", metadata, sa.Column("id", sa.Integer, primary_key=True), sa.Column("body", **column))

    table = note(before)
    commands.make_migrations(config, "note")
    commands.upgrade(config)
    assert commands.check(config).ok
    metadata.remove(table)
    note(after)
    assert [d.kind for d in commands.check(config).differences] == ([kind] if enabled else [])


def test_include_object(db: TestDatabase, config_factory: ConfigFactory, metadata: sa.MetaData) -> None:
    def include(obj: Any, name: str | None, kind: str, reflected: bool, compare_to: Any) -> bool:
        return not (kind == "table" and name == "scratch")

    config = config_factory(include_object=include)
    commands.init(config)
    add_author(metadata)
    sa.Table("scratch", metadata, sa.Column("id", sa.Integer, primary_key=True))
    written = commands.make_migrations(config, "author only")
    assert [str(op) for op in written.operations] == ["add table author"]
    commands.upgrade(config)
    assert "scratch" not in table_names(db)
    assert commands.check(config).ok


FAILING = (
    'op.create_table("t2", sa.Column("id", sa.Integer, primary_key=True)); op.execute("SELECT * FROM no_such_table")'
)


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
def test_failing_migration_rolls_back_postgres(
    pg_db: TestDatabase, is_async: bool, tmp_path: Path, metadata: sa.MetaData
) -> None:
    config = make_config(
        pg_db.url(is_async=is_async), is_async=is_async, metadata=metadata, script_location=str(tmp_path / "m")
    )
    commands.init(config)
    write_revision(tmp_path / "m", "r1", None, 'op.create_table("t1", sa.Column("id", sa.Integer, primary_key=True))')
    write_revision(tmp_path / "m", "r2", "r1", FAILING)
    with pytest.raises(MigrationError, match="no_such_table"):
        commands.upgrade(config)
    # Each migration is its own transaction: r1 stays applied, r2 left nothing behind.
    assert table_names(pg_db) == {"alembic_versions", "t1"}
    assert versions(pg_db) == {"r1"}


def test_failing_migration_rolls_back_sqlite(sqlite_db: TestDatabase, tmp_path: Path, metadata: sa.MetaData) -> None:
    config = make_config(sqlite_db.sync_url, is_async=False, metadata=metadata, script_location=str(tmp_path / "m"))
    commands.init(config)
    write_revision(tmp_path / "m", "r1", None, 'op.create_table("t1", sa.Column("id", sa.Integer, primary_key=True))')
    write_revision(tmp_path / "m", "r2", "r1", FAILING)
    with pytest.raises(MigrationError, match="no_such_table"):
        commands.upgrade(config)
    # On SQLite the run is one transaction (it holds the migration lock): nothing was applied.
    assert table_names(sqlite_db) == set()


ADVANCED_ALCHEMY_ENV = """
import asyncio

from alembic import context
from sqlalchemy import pool
from sqlalchemy.ext.asyncio import async_engine_from_config

from dbops.metadata import metadata_registry

config = context.config


def options():
    return dict(
        target_metadata=metadata_registry.get(config.bind_key),
        compare_type=config.compare_type,
        version_table=config.version_table_name,
        version_table_schema=config.version_table_schema,
        version_table_pk=config.version_table_pk,
        user_module_prefix=config.user_module_prefix,
        render_as_batch=config.render_as_batch,
    )


def run_migrations_offline():
    context.configure(url=config.db_url, literal_binds=True, dialect_opts={"paramstyle": "named"}, **options())
    with context.begin_transaction():
        context.run_migrations()


def do_run_migrations(connection):
    context.configure(connection=connection, **options())
    with context.begin_transaction():
        context.run_migrations()


async def run_async():
    configuration = config.get_section(config.config_ini_section) or {}
    configuration["sqlalchemy.url"] = config.db_url
    connectable = config.engine or async_engine_from_config(
        configuration, prefix="sqlalchemy.", poolclass=pool.NullPool
    )
    async with connectable.connect() as connection:
        await connection.run_sync(do_run_migrations)
    await connectable.dispose()


def run_sync():
    with config.engine.connect() as connection:
        do_run_migrations(connection)


if context.is_offline_mode():
    run_migrations_offline()
elif IS_ASYNC:
    asyncio.run(run_async())
else:
    run_sync()
"""


def test_advanced_alchemy_env_py(db: TestDatabase, is_async: bool, tmp_path: Path) -> None:
    """An env.py in Advanced Alchemy's style reads its settings off the Config and may call asyncio.run."""
    from dbops.metadata import metadata_registry

    bind_key = f"aa_{uuid.uuid4().hex[:8]}"
    metadata = metadata_registry.get(bind_key)
    add_author(metadata)
    config = make_config(
        db.url(is_async=is_async),
        is_async=is_async,
        metadata=None,  # type: ignore[arg-type]
        script_location=str(tmp_path / "aa"),
        version_table_name="aa_versions",
    )
    config.bind_key = bind_key
    folder = tmp_path / "aa"
    (folder / "versions").mkdir(parents=True)
    (folder / "env.py").write_text(ADVANCED_ALCHEMY_ENV.replace("IS_ASYNC", str(is_async)))
    (folder / "script.py.mako").write_text(
        (Path(commands.__file__).parent / "templates/dbops/script.py.mako").read_text()
    )
    written = commands.make_migrations(config, "author")
    assert [str(op) for op in written.operations] == ["add table author"]
    result = commands.upgrade(config)
    assert [step.to_revisions for step in result.steps] == [(written.revision,)]
    assert versions(db, "aa_versions") == {written.revision}
    assert commands.current(config).at_head
    assert "CREATE TABLE author" in (commands.upgrade(config, f"base:{written.revision}", sql=True).sql or "")
    commands.downgrade(config, "base")
    assert "author" not in table_names(db)


@pytest.mark.parametrize("with_pk", [True, False])
def test_version_table_pk(db: TestDatabase, config_factory: ConfigFactory, with_pk: bool) -> None:
    config = config_factory(version_table_pk=with_pk)
    commands.init(config)
    commands.ensure_version(config)
    engine = sa.create_engine(db.sync_url)
    try:
        primary_key = sa.inspect(engine).get_pk_constraint("alembic_versions")["constrained_columns"]
    finally:
        engine.dispose()
    assert primary_key == (["version_num"] if with_pk else [])


def test_every_command_uses_the_configured_version_table(
    db: TestDatabase, is_async: bool, config_factory: ConfigFactory, metadata: sa.MetaData, tmp_path: Path
) -> None:
    """version_table_name (and on PostgreSQL version_table_schema) reach every command, the cheap no-op
    upgrade path included; no ``alembic_versions`` table ever appears."""
    from dbops.migrations.fast import current_revisions, current_revisions_direct

    schema = f"meta_{uuid.uuid4().hex[:8]}" if db.dialect == "postgresql" else None
    engine = sa.create_engine(db.sync_url)
    if schema:
        with engine.begin() as connection:
            connection.execute(sa.text(f"CREATE SCHEMA {schema}"))

    def version_rows() -> set[str]:
        qualified = f"{schema}.dbops_history" if schema else "dbops_history"
        with engine.connect() as connection:
            return set(connection.execute(sa.text(f"SELECT version_num FROM {qualified}")).scalars())

    try:
        config = config_factory(version_table_name="dbops_history", version_table_schema=schema)
        commands.init(config)
        ddl = commands.ensure_version(config, sql=True) or ""
        assert "dbops_history" in ddl and (schema or "") in ddl
        commands.ensure_version(config)
        assert version_rows() == set()
        add_author(metadata)
        first = commands.make_migrations(config, "author")
        sa.Table("shelf", metadata, sa.Column("id", sa.Integer, primary_key=True))
        offline = commands.upgrade(config, sql=True).sql or ""
        assert f"INSERT INTO {schema + '.' if schema else ''}dbops_history" in offline
        commands.upgrade(config)
        second = commands.make_migrations(config, "shelf")
        assert commands.check(config).unapplied[0].revision == second.revision
        assert commands.upgrade(config, "+1").steps[0].to_revisions == (second.revision,)
        assert version_rows() == {second.revision}
        # The cheap readers behind a no-op upgrade look in the same table. The bare-driver one answers for
        # plain sync SQLite/psycopg URLs on a config that has no engine yet (None means "ask SQLAlchemy").
        fresh = config_factory(version_table_name="dbops_history", version_table_schema=schema)
        direct = current_revisions_direct(fresh)
        assert (
            direct == frozenset({second.revision})
            if not is_async and db.dialect != "mariadb"
            else direct in (None, {second.revision})
        )
        assert current_revisions(config) == frozenset({second.revision})
        assert commands.upgrade(config).already_current
        assert [info.revision for info in commands.current(config).current] == [second.revision]
        assert commands.check(config).ok
        assert commands.downgrade(config, "-1", dry_run=True).steps[0].from_revisions == (second.revision,)
        commands.downgrade(config, "-1")
        assert version_rows() == {first.revision}
        commands.stamp(config, "base")
        assert version_rows() == set()
        commands.stamp(config, "heads", purge=True)
        assert version_rows() == {second.revision}
        inspector = sa.inspect(engine)
        assert "alembic_versions" not in inspector.get_table_names()
        if schema:
            assert inspector.get_table_names(schema=schema) == ["dbops_history"]
            assert "dbops_history" not in inspector.get_table_names()
    finally:
        if schema:
            with engine.begin() as connection:
                connection.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
        engine.dispose()
