"""The migration engine on real databases (SQLite, PostgreSQL, MariaDB), sync and async configs."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import sqlalchemy as sa

from dbops.errors import MigrationError
from dbops.migrations import commands
from tests.databases import TestDatabase
from tests.migrations.conftest import ConfigFactory, add_author, add_book, table_names, versions, write_revision
from tests.reporter import RecordingReporter


def test_full_cycle(db: TestDatabase, config_factory: ConfigFactory, metadata: sa.MetaData, tmp_path: Path) -> None:
    config = config_factory()
    init = commands.init(config)
    assert init.matches_config and (tmp_path / "migrations" / "env.py").is_file()
    assert (tmp_path / "migrations" / "versions").is_dir()

    add_author(metadata)
    first = commands.make_migrations(config, "add author")
    assert [str(op) for op in first.operations] == ["add table author"]
    assert Path(first.path).is_file()

    reporter = RecordingReporter()
    result = commands.upgrade(config, reporter=reporter)
    assert [str(step) for step in result.steps] == [f"upgrade <base> -> {first.revision}, add author"]
    assert any(line.startswith(f"Running upgrade  -> {first.revision}, add author") for line in reporter.infos)
    assert "author" in table_names(db)
    assert versions(db) == {first.revision}

    add_book(metadata)
    second = commands.make_migrations(config, "add book")
    assert second.down_revisions == (first.revision,)
    assert commands.check(config).unapplied[0].revision == second.revision

    assert commands.upgrade(config, "+1").steps[0].to_revisions == (second.revision,)
    now = commands.current(config)
    assert [info.revision for info in now.current] == [second.revision] and now.at_head
    assert commands.check(config).ok

    again = commands.upgrade(config)
    assert again.already_current and not again.steps

    down = commands.downgrade(config, "-1")
    assert [step.from_revisions for step in down.steps] == [(second.revision,)]
    assert "book" not in table_names(db)
    commands.downgrade(config, "base")
    assert not {"author", "book"} & table_names(db)
    assert versions(db) == set()


def test_refuses_empty_revision(config_factory: ConfigFactory, metadata: sa.MetaData, tmp_path: Path) -> None:
    config = config_factory()
    commands.init(config)
    with pytest.raises(MigrationError, match="--empty"):
        commands.make_migrations(config, "nothing")
    with pytest.raises(MigrationError, match="--empty"):
        commands.make_migrations(config, "by hand", autogenerate=False)
    assert list((tmp_path / "migrations" / "versions").glob("*.py")) == []
    written = commands.make_migrations(config, "by hand", empty=True)
    assert written.operations == [] and Path(written.path).is_file()


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
def test_offline_sql_changes_nothing(
    db: TestDatabase, config_factory: ConfigFactory, metadata: sa.MetaData, tmp_path: Path
) -> None:
    config = config_factory()
    commands.init(config)
    write_revision(
        tmp_path / "migrations",
        "a1",
        None,
        'op.create_table("thing", sa.Column("id", sa.Integer, primary_key=True))',
        'op.drop_table("thing")',
    )
    result = commands.upgrade(config, sql=True)
    assert result.sql is not None and "CREATE TABLE thing" in result.sql
    assert "alembic_versions" in result.sql
    assert table_names(db) == set()
    down = commands.downgrade(config, "a1:base", sql=True)
    assert down.sql is not None and "DROP TABLE thing" in down.sql
    with pytest.raises(MigrationError, match="FROM:TO"):
        commands.downgrade(config, "base", sql=True)


def test_stamp_purge_and_dry_run(db: TestDatabase, config_factory: ConfigFactory, tmp_path: Path) -> None:
    config = config_factory()
    commands.init(config)
    write_revision(
        tmp_path / "migrations",
        "a1",
        None,
        'op.create_table("t1", sa.Column("id", sa.Integer, primary_key=True))',
        'op.drop_table("t1")',
    )
    write_revision(
        tmp_path / "migrations",
        "b2",
        "a1",
        'op.create_table("t2", sa.Column("id", sa.Integer, primary_key=True))',
        'op.drop_table("t2")',
    )
    stamped = commands.stamp(config, "a1")
    assert [step.to_revisions for step in stamped.steps] == [("a1",)]
    assert versions(db) == {"a1"} and "t1" not in table_names(db)
    commands.upgrade(config)
    assert versions(db) == {"b2"} and "t2" in table_names(db) and "t1" not in table_names(db)

    plan = commands.downgrade(config, "-1", dry_run=True)
    assert plan.dry_run and [step.from_revisions for step in plan.steps] == [("b2",)]
    assert versions(db) == {"b2"} and "t2" in table_names(db)

    commands.stamp(config, "base")
    assert versions(db) == set()
    commands.stamp(config, "b2")
    commands.stamp(config, "a1", purge=True)
    assert versions(db) == {"a1"}


def test_branches_merge_history_show(config_factory: ConfigFactory, tmp_path: Path) -> None:
    config = config_factory()
    commands.init(config)
    folder = tmp_path / "migrations"
    write_revision(folder, "root", None, "pass")
    write_revision(folder, "left", "root", "pass", message="left side")
    write_revision(folder, "right", "root", "pass", message="right side")
    assert sorted(info.revision for info in commands.heads(config)) == ["left", "right"]
    assert [info.revision for info in commands.branches(config)] == ["root"]
    with pytest.raises(MigrationError, match="Multiple head"):
        commands.upgrade(config, "head")
    merged = commands.merge(config, message="join")
    assert sorted(merged.down_revisions) == ["left", "right"]
    assert [info.revision for info in commands.heads(config)] == [merged.revision]
    with pytest.raises(MigrationError, match="only one head"):
        commands.merge(config)
    listed = commands.history(config)
    assert listed[0].revision == merged.revision and listed[-1].revision == "root"
    assert listed[0].is_merge_point and listed[-1].is_branch_point
    assert [info.revision for info in commands.history(config, "root:left")] == ["left", "root"]
    shown = commands.show(config, "left")
    assert shown[0].message == "left side" and shown[0].down_revisions == ("root",)
    commands.upgrade(config)
    assert commands.current(config).at_head


def test_unknown_revision_is_migration_error(db: TestDatabase, config_factory: ConfigFactory, tmp_path: Path) -> None:
    """Reported before anything touches the database: Alembic creates the version table before it plans, dbops
    only once the target resolved (MariaDB can't roll DDL back)."""
    config = config_factory()
    commands.init(config)
    write_revision(tmp_path / "migrations", "a1", None, "pass")
    for call in (
        lambda: commands.upgrade(config, "nope"),
        lambda: commands.downgrade(config, "nope"),
        lambda: commands.stamp(config, "nope"),
        lambda: commands.show(config, "nope"),
    ):
        with pytest.raises(MigrationError, match="nope"):
            call()
    with pytest.raises(MigrationError, match="Relative revision -1"):
        commands.downgrade(config, "-1")
    assert table_names(db) == set()
    commands.upgrade(config)
    assert versions(db) == {"a1"}


def test_no_migrations_directory(config_factory: ConfigFactory) -> None:
    config = config_factory()
    for call in (
        lambda: commands.upgrade(config),
        lambda: commands.current(config),
        lambda: commands.check(config),
        lambda: commands.history(config),
        lambda: commands.make_migrations(config, "x"),
    ):
        with pytest.raises(MigrationError, match="no migrations directory"):
            call()


def test_check_lists_differences(db: TestDatabase, config_factory: ConfigFactory, metadata: sa.MetaData) -> None:
    config = config_factory()
    commands.init(config)
    author = add_author(metadata)
    commands.make_migrations(config, "author")
    commands.upgrade(config)
    assert commands.check(config).ok
    author.append_column(sa.Column("born", sa.Integer, nullable=True))
    add_book(metadata)
    result = commands.check(config)
    assert not result.ok and not result.unapplied
    details = sorted(str(d) for d in result.differences)
    assert "add table book" in details
    assert "add column author.born (INTEGER)" in details


def test_commands_run_inside_a_running_event_loop(config_factory: ConfigFactory, metadata: sa.MetaData) -> None:
    config = config_factory()
    commands.init(config)
    add_author(metadata)
    commands.make_migrations(config, "author")

    async def from_async_code() -> bool:
        commands.upgrade(config)
        return commands.current(config).at_head

    assert asyncio.run(from_async_code())


def test_ensure_version_and_list_templates(db: TestDatabase, config_factory: ConfigFactory) -> None:
    config = config_factory(version_table_name="my_versions")
    commands.init(config)
    assert "my_versions" not in table_names(db)
    sql = commands.ensure_version(config, sql=True)
    assert sql is not None and "my_versions" in sql and "my_versions" not in table_names(db)
    commands.ensure_version(config)
    assert "my_versions" in table_names(db)
    assert [t.name for t in commands.list_templates(config)] == ["dbops"]


def test_cheap_heads_agree_with_alembic(sqlite_db: TestDatabase, tmp_path: Path, metadata: sa.MetaData) -> None:
    from dbops.migrations.fast import script_heads
    from tests.migrations.conftest import make_config

    config = make_config(sqlite_db.sync_url, is_async=False, metadata=metadata, script_location=str(tmp_path / "m"))
    commands.init(config, package=True)
    folder = tmp_path / "m"
    assert script_heads(config) is None  # no revisions yet: let Alembic answer
    write_revision(folder, "root", None, "pass")
    for revision, down in (("left", "root"), ("right", "root"), ("merged", ("left", "right"))):
        assert script_heads(config) == frozenset(info.revision for info in commands.heads(config))
        write_revision(folder, revision, down, "pass")
    assert script_heads(config) == frozenset({"merged"}) == {info.revision for info in commands.heads(config)}
    (folder / "versions" / "broken.py").write_text("revision = compute()\n")
    assert script_heads(config) is None


def test_stamp_purge_empties_the_version_table_first(
    db: TestDatabase, config_factory: ConfigFactory, tmp_path: Path
) -> None:
    """--purge is what gets a database out of a revision the migrations no longer have."""
    config = config_factory()
    commands.init(config)
    write_revision(tmp_path / "migrations", "a1", None, "pass")
    commands.ensure_version(config)
    engine = sa.create_engine(db.sync_url)
    with engine.begin() as connection:
        connection.execute(sa.text("INSERT INTO alembic_versions (version_num) VALUES ('gone')"))
    engine.dispose()
    with pytest.raises(MigrationError, match="gone"):
        commands.stamp(config, "a1")
    with pytest.raises(MigrationError, match="nope"):
        commands.stamp(config, "nope", purge=True)
    assert versions(db) == {"gone"}  # a bad target changes nothing, even with --purge
    commands.stamp(config, "a1", purge=True)
    assert versions(db) == {"a1"}
