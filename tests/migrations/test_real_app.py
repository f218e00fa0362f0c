"""The whole command set on an app not written for dbops (tests/migrations/realapp), on every dialect.

Its models live on its own registry (the config passes no metadata=), its env.py is Alembic's stock template,
its version table, template and file names are its own. Drift is made in the database with Alembic's own
operations (the anchor tool), then dbops must name it, write a revision for it, and agree after upgrading.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.operations import Operations
from alembic.runtime.migration import MigrationContext

from dbops.data.drop import drop_all
from dbops.errors import DataError, MigrationError
from dbops.migrations import commands
from dbops.models import model_metadata
from tests.cli_runner import invoke_process
from tests.conftest import REPO_ROOT
from tests.databases import TestDatabase
from tests.migrations.conftest import table_names, versions
from tests.migrations.realapp.config import make_config
from tests.migrations.realapp.models import Base
from tests.reporter import RecordingReporter

SHIPPED = Path(__file__).resolve().parent / "realapp" / "migrations"
APP_TABLES = set(Base.metadata.tables)
VERSION_TABLE = "app_schema_version"


@pytest.fixture
def migrations(tmp_path: Path) -> Path:
    target = tmp_path / "migrations"
    shutil.copytree(SHIPPED, target, ignore=shutil.ignore_patterns("__pycache__"))
    return target


@pytest.fixture
def app_config(db: TestDatabase, migrations: Path) -> Any:
    return make_config(db.sync_url, migrations)


def alter(db: TestDatabase, change: Callable[[Operations, sa.Connection], None]) -> None:
    """Change the database behind dbops' back, with Alembic's operations (batch mode on SQLite)."""
    engine = sa.create_engine(db.sync_url)
    try:
        with engine.begin() as connection:
            change(Operations(MigrationContext.configure(connection)), connection)
    finally:
        engine.dispose()


def batch(op: Operations, table: str, db: TestDatabase) -> Any:
    """Alembic's batch mode: plain ALTERs on servers, a table copy on SQLite (which can't ALTER most things)."""
    return op.batch_alter_table(table)


def test_upgrade_check_downgrade_stamp_drop_all(db: TestDatabase, app_config: Any, migrations: Path) -> None:
    reporter = RecordingReporter()
    result = commands.upgrade(app_config, reporter=reporter)
    assert [step.to_revisions for step in result.steps] == [("0001",), ("0002",)]
    assert APP_TABLES | {"external_metrics", VERSION_TABLE} == table_names(db)
    assert versions(db, VERSION_TABLE) == {"0002"}
    check = commands.check(app_config)
    assert check.ok and check.compared, check.differences  # include_object hides external_metrics
    assert commands.upgrade(app_config).already_current

    commands.downgrade(app_config, "-1")
    assert versions(db, VERSION_TABLE) == {"0001"} and "task" not in table_names(db)
    behind = commands.check(app_config)
    assert not behind.ok and not behind.compared and [r.revision for r in behind.unapplied] == ["0002"]
    commands.stamp(app_config, "0002")
    assert versions(db, VERSION_TABLE) == {"0002"}
    commands.stamp(app_config, "0001")
    commands.upgrade(app_config)
    assert commands.check(app_config).ok

    plan = drop_all(app_config)
    assert plan.dropped and set(plan.tables) == APP_TABLES | {VERSION_TABLE}
    assert plan.unknown == ["external_metrics"]  # not the app's: listed, left alone
    assert table_names(db) == {"external_metrics"}


def test_models_found_through_env_py(app_config: Any) -> None:
    """The config has no metadata=: every command sees the models env.py gives Alembic."""
    assert app_config.metadata is None
    assert model_metadata(app_config) is Base.metadata


# kind -> (the change made in the database, the differences dbops must report as (kind, detail fragment))
def _drop_table(op: Operations, connection: sa.Connection, db: TestDatabase) -> None:
    op.drop_table("api_key")


def _extra_table(op: Operations, connection: sa.Connection, db: TestDatabase) -> None:
    op.create_table("leftover", sa.Column("id", sa.Integer, primary_key=True))


def _drop_column(op: Operations, connection: sa.Connection, db: TestDatabase) -> None:
    with batch(op, "task", db) as table:
        table.drop_column("due_date")


def _extra_column(op: Operations, connection: sa.Connection, db: TestDatabase) -> None:
    with batch(op, "task", db) as table:
        table.add_column(sa.Column("legacy_code", sa.String(10), nullable=True))


def _drop_index(op: Operations, connection: sa.Connection, db: TestDatabase) -> None:
    op.drop_index("idx_audit_log_action", table_name="audit_log")


def _extra_index(op: Operations, connection: sa.Connection, db: TestDatabase) -> None:
    op.create_index("idx_task_title", "task", ["title"])


def _drop_unique(op: Operations, connection: sa.Connection, db: TestDatabase) -> None:
    with batch(op, "tag", db) as table:
        table.drop_constraint("uniq_tag_name", type_="unique")


def _extra_unique(op: Operations, connection: sa.Connection, db: TestDatabase) -> None:
    with batch(op, "attachment", db) as table:
        table.create_unique_constraint("uniq_attachment_filename", ["filename"])


def _drop_fk(op: Operations, connection: sa.Connection, db: TestDatabase) -> None:
    with batch(op, "task_comment", db) as table:
        table.drop_constraint("fkey_task_comment_author_id_user_account", type_="foreignkey")


def _extra_fk(op: Operations, connection: sa.Connection, db: TestDatabase) -> None:
    with batch(op, "audit_log", db) as table:
        table.create_foreign_key("fkey_audit_log_extra", "task", ["id"], ["id"])


def _nullable(op: Operations, connection: sa.Connection, db: TestDatabase) -> None:
    with batch(op, "user_account", db) as table:
        table.alter_column("display_name", existing_type=sa.String(100), nullable=False)


def _type(op: Operations, connection: sa.Connection, db: TestDatabase) -> None:
    with batch(op, "tag", db) as table:
        table.alter_column("name", existing_type=sa.String(50), type_=sa.String(80), existing_nullable=False)


def _default(op: Operations, connection: sa.Connection, db: TestDatabase) -> None:
    with batch(op, "task", db) as table:
        table.alter_column("priority", existing_type=sa.SmallInteger, server_default="5", existing_nullable=False)


def _column_comment(op: Operations, connection: sa.Connection, db: TestDatabase) -> None:
    op.alter_column(
        "user_account", "email", existing_type=sa.String(255), existing_nullable=False, comment="changed by hand"
    )


def _table_comment(op: Operations, connection: sa.Connection, db: TestDatabase) -> None:
    op.create_table_comment("organization", "an older comment")


def _extra_table_comment(op: Operations, connection: sa.Connection, db: TestDatabase) -> None:
    op.create_table_comment("tag", "nobody wrote this in the models")


def _drop_check(op: Operations, connection: sa.Connection, db: TestDatabase) -> None:
    with batch(op, "task", db) as table:
        table.drop_constraint("chk_task_priority_positive", type_="check")


def _extra_check(op: Operations, connection: sa.Connection, db: TestDatabase) -> None:
    with batch(op, "tag", db) as table:
        table.create_check_constraint("chk_tag_short", "length(name) < 40")


def _enum_values(op: Operations, connection: sa.Connection, db: TestDatabase) -> None:
    if db.dialect == "postgresql":
        connection.exec_driver_sql("ALTER TYPE task_status ADD VALUE 'blocked'")
    else:
        connection.exec_driver_sql("ALTER TABLE task MODIFY status ENUM('todo','doing','done','blocked') NOT NULL")


def _enum_fewer_values(op: Operations, connection: sa.Connection, db: TestDatabase) -> None:
    for statement in (
        "ALTER TYPE project_status RENAME TO project_status_was",
        "CREATE TYPE project_status AS ENUM ('active')",
        "ALTER TABLE project ALTER COLUMN status TYPE project_status USING status::text::project_status",
        "DROP TYPE project_status_was",
    ):
        connection.exec_driver_sql(statement)


DRIFT: dict[str, tuple[Callable[[Operations, sa.Connection, TestDatabase], None], list[tuple[str, str]]]] = {
    "add_table": (_drop_table, [("add_table", "add table api_key")]),
    "remove_table": (_extra_table, [("remove_table", "remove table leftover")]),
    "add_column": (_drop_column, [("add_column", "add column task.due_date (DATE)")]),
    "remove_column": (_extra_column, [("remove_column", "remove column task.legacy_code (VARCHAR(10))")]),
    "add_index": (_drop_index, [("add_index", "add index idx_audit_log_action on audit_log (action)")]),
    "remove_index": (_extra_index, [("remove_index", "remove index idx_task_title on task (title)")]),
    "add_constraint": (_drop_unique, [("add_constraint", "add unique constraint uniq_tag_name on tag (name)")]),
    "remove_constraint": (
        _extra_unique,
        [("remove_constraint", "remove unique constraint uniq_attachment_filename on attachment (filename)")],
    ),
    "add_fk": (
        _drop_fk,
        [
            (
                "add_fk",
                "add foreign key fkey_task_comment_author_id_user_account on task_comment (author_id) -> "
                "user_account (id)",
            )
        ],
    ),
    "remove_fk": (_extra_fk, [("remove_fk", "remove foreign key fkey_audit_log_extra on audit_log (id) -> task (id)")]),
    "modify_nullable": (_nullable, [("modify_nullable", "make column user_account.display_name nullable")]),
    "modify_type": (_type, [("modify_type", "change type of column tag.name: VARCHAR(80) -> VARCHAR(50)")]),
    "modify_default": (_default, [("modify_default", "change server default of column task.priority: ")]),
    "modify_comment": (
        _column_comment,
        [("modify_comment", "change comment of column user_account.email: 'changed by hand' -> 'Lower-cased")],
    ),
    "add_table_comment": (
        _table_comment,
        [("add_table_comment", "change comment on table organization: 'an older comment' -> 'A tenant")],
    ),
    "add_constraint(check)": (
        _drop_check,
        [("add_constraint", "add check constraint chk_task_priority_positive on task (priority >= 0)")],
    ),
    "remove_constraint(check)": (_extra_check, [("remove_constraint", "remove check constraint chk_tag_short on tag")]),
    "remove_table_comment": (_extra_table_comment, [("remove_table_comment", "remove comment on table tag")]),
    "modify_type(enum)": (
        _enum_values,
        [("modify_type", "change type of column task.status: ENUM('todo', 'doing', 'done', 'blocked') -> ENUM")],
    ),
    # PostgreSQL's native enums: dbops' own comparator (Alembic compares no enum values there).
    "modify_enum(remove value)": (
        _enum_values,
        [("modify_enum", "change values of enum task_status: ('todo', 'doing', 'done', 'blocked') -> ('todo',")],
    ),
    "modify_enum(add value)": (
        _enum_fewer_values,
        [("modify_enum", "change values of enum project_status: ('active',) -> ('active', 'archived')")],
    ),
}

# MariaDB/MySQL have no unique constraints apart from unique indexes, and keep the index an FK needed when the FK
# is dropped: Alembic reports what the server holds.
ON_MARIADB: dict[str, list[tuple[str, str]]] = {
    "remove_constraint": [("remove_index", "remove unique index uniq_attachment_filename on attachment (filename)")],
    "add_fk": [
        DRIFT["add_fk"][1][0],
        ("remove_index", "remove index fkey_task_comment_author_id_user_account on task_comment (author_id)"),
    ],
}

# SQLite keeps no comments and has no enum types; MariaDB's ENUM is a column type (modify_type), PostgreSQL's a
# type of its own (modify_enum).
NOT_ON = {
    "modify_comment": {"sqlite"},
    "add_table_comment": {"sqlite"},
    "remove_table_comment": {"sqlite"},
    "modify_type(enum)": {"sqlite", "postgresql"},
    "modify_enum(remove value)": {"sqlite", "mariadb"},
    "modify_enum(add value)": {"sqlite", "mariadb"},
}


@pytest.mark.parametrize("kind", list(DRIFT))
def test_each_difference_kind_checked_and_written(
    db: TestDatabase, app_config: Any, migrations: Path, kind: str
) -> None:
    if db.dialect in NOT_ON.get(kind, set()):
        pytest.skip(f"{db.dialect} has no {kind}")
    change, expected = DRIFT[kind]
    expected = ON_MARIADB.get(kind, expected) if db.dialect == "mariadb" else expected
    commands.upgrade(app_config)
    alter(db, lambda op, connection: change(op, connection, db))

    result = commands.check(app_config)
    found = [(d.kind, d.detail) for d in result.differences]
    assert len(found) == len(expected), found
    for (kind_found, detail), (kind_expected, fragment) in zip(sorted(found), sorted(expected), strict=True):
        assert kind_found == kind_expected and detail.startswith(fragment), found

    written = commands.make_migrations(app_config, f"fix {kind}")
    assert [(op.kind, op.detail) for op in written.operations] == found
    text = Path(written.path).read_text()
    assert "realapp migration (written from the app's own template)" in text
    assert Path(written.path).name.startswith(("20", "19")) and "_fix_" in Path(written.path).name  # file_template
    commands.upgrade(app_config)
    after = commands.check(app_config)
    assert after.ok, after.differences
    # The revision's downgrade puts the drift back as it was (stamped to head again, to be compared).
    commands.downgrade(app_config, "-1")
    commands.stamp(app_config, "head")
    assert [(d.kind, d.detail) for d in commands.check(app_config).differences] == found


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
def test_check_and_make_migrations_async(db: TestDatabase, is_async: bool, migrations: Path) -> None:
    config = make_config(db.url(is_async=is_async), migrations)
    commands.upgrade(config)
    alter(db, lambda op, connection: _drop_index(op, connection, db))
    assert [d.kind for d in commands.check(config).differences] == ["add_index"]
    written = commands.make_migrations(config, "index again")
    assert [op.kind for op in written.operations] == ["add_index"]
    commands.upgrade(config)
    assert commands.check(config).ok


def test_make_migrations_behind_head_says_upgrade_first(db: TestDatabase, app_config: Any) -> None:
    commands.upgrade(app_config, "0001")
    with pytest.raises(MigrationError, match=r"Target database is not up to date\. \(run `dbops upgrade` first\)"):
        commands.make_migrations(app_config, "too early")


def test_zero_models_said_in_one_line(db: TestDatabase, migrations: Path, app_config: Any) -> None:
    """An env.py whose target_metadata has no tables, on a database that has them."""
    commands.upgrade(app_config)
    env = migrations / "env.py"
    env.write_text(env.read_text().replace("target_metadata = Base.metadata", "target_metadata = sa.MetaData()"))
    env.write_text("import sqlalchemy as sa\n" + env.read_text())
    reporter = RecordingReporter()
    result = commands.check(app_config, reporter=reporter)
    assert {d.table for d in result.differences if d.kind == "remove_table"} == APP_TABLES
    assert {d.kind for d in result.differences} == {"remove_table", "remove_index"}  # indexes of those tables
    assert any("has no model tables, but its database holds" in line for line in reporter.warnings)
    with pytest.raises(MigrationError, match=r"has no model tables.*make-migrations would drop them all"):
        commands.make_migrations(app_config, "drop everything")
    with pytest.raises(DataError, match="has no model tables"):
        drop_all(app_config)
    assert table_names(db) >= APP_TABLES


def test_cli_command_set(db: TestDatabase, migrations: Path) -> None:
    """The same app through the CLI, as its deploy scripts would run it (config from the environment).

    Async drivers on the servers (asyncpg, asyncmy: the drivers whose logging and event loops the CLI must
    handle), sqlite's sync driver: the engine-level tests above run both kinds on every dialect, so the whole
    command set through subprocesses runs once per dialect (nine dbops processes each).
    """
    is_async = db.dialect != "sqlite"
    env = {"REALAPP_DATABASE_URL": db.url(is_async=is_async), "REALAPP_MIGRATIONS": str(migrations)}

    def dbops(*argv: str) -> Any:
        return invoke_process(["--config", "tests/migrations/realapp/config.py:db", *argv], cwd=REPO_ROOT, env=env)

    up = dbops("upgrade")
    assert up.exit_code == 0, up.stderr
    assert "Running upgrade 0001 -> 0002, projects, tasks and audit log" in up.stderr
    assert "ignored for PRIMARY key" not in up.output  # MariaDB's note on named primary keys (asyncmy logs it)
    checked = dbops("check")
    assert checked.exit_code == 0, checked.output
    assert "Warning" not in checked.stderr and "ignored for PRIMARY key" not in checked.output
    current = dbops("show-current-revision")
    assert current.exit_code == 0 and current.stdout.startswith("0001 -> 0002 (head, current)")
    alter(db, lambda op, connection: _drop_index(op, connection, db))
    drift = dbops("check")
    assert drift.exit_code == 1
    assert "  add_index: add index idx_audit_log_action on audit_log (action)" in drift.stdout.splitlines()
    assert drift.stderr.startswith("Error: 1 difference(s)")
    made = dbops("make-migrations", "-m", "restore index")
    assert made.exit_code == 0, made.stderr
    assert dbops("upgrade").exit_code == 0
    assert dbops("check").exit_code == 0
    down = dbops("downgrade", "base", "--yes")
    assert down.exit_code == 0, down.stderr
    assert table_names(db) == {VERSION_TABLE}


def test_alembic_errors_get_a_one_line_hint(sqlite_db: TestDatabase, migrations: Path, tmp_path: Path) -> None:
    from tests.migrations.conftest import write_revision

    config = make_config(sqlite_db.sync_url, migrations)
    commands.upgrade(config, "0001")
    with pytest.raises(MigrationError, match=r"didn't produce 3 migrations \(there are only 1 revision\(s\) below"):
        commands.downgrade(config, "-3")
    with pytest.raises(MigrationError, match=r"didn't produce 2 migrations \(there are only 1 revision\(s\) above"):
        commands.upgrade(config, "+2")
    write_revision(migrations, "0003", "0001", "pass", message="a second head")
    with pytest.raises(MigrationError, match=r"several heads: name one, or join them with `dbops merge-migrations`"):
        commands.upgrade(config, "+1")
    (migrations / "versions" / "0003.py").unlink()
    write_revision(
        migrations,
        "0003",
        "0002",
        'with op.batch_alter_table("tag") as batch_op:\n        batch_op.alter_column("name", nullable=True)',
    )
    with pytest.raises(MigrationError, match=r"cannot proceed in --sql mode.*\(SQLite batch operations reflect"):
        commands.upgrade(config, "0002:0003", sql=True)


def test_crash_inside_check_is_exit_2(sqlite_db: TestDatabase, migrations: Path) -> None:
    config = make_config(sqlite_db.sync_url, migrations)
    commands.upgrade(config)
    env = migrations / "env.py"
    env.write_text(
        env.read_text().replace("    # The usual recipe", "    raise ValueError('hook broke')\n    # The usual recipe")
    )
    with pytest.raises(MigrationError, match=r"could not check default .*: ValueError: hook broke") as raised:
        commands.check(config)
    assert raised.value.exit_code == 2


def test_data_and_sessions_commands_see_the_apps_models(db: TestDatabase, app_config: Any, tmp_path: Path) -> None:
    """dump-data and sessions find the models on the app's registry (through env.py), like check does."""
    from dbops.data.dump import dump_data
    from dbops.sessions.cleanup import model_session_tables

    commands.upgrade(app_config)
    assert [str(table) for table in model_session_tables(app_config)] == ["web_session"]
    result = dump_data(app_config, directory=tmp_path / "dump")
    assert {table.name for table in result.tables} == APP_TABLES
    assert result.skipped == ["external_metrics"]  # no model: not dumped without --all-tables


def test_models_found_through_the_registry_without_env_py(tmp_path: Path) -> None:
    """No env.py, no metadata=: the one MetaData SQLAlchemy's mappers use (a fresh process, as a CLI run is)."""
    code = (
        "import tests.migrations.realapp.models as models\n"
        "from dbops import SQLAlchemySyncConfig, AlembicSyncConfig\n"
        "from dbops.models import model_metadata\n"
        f"config = SQLAlchemySyncConfig(connection_string='sqlite://', alembic_config=AlembicSyncConfig("
        f"script_location={str(tmp_path / 'none')!r}))\n"
        "print(model_metadata(config) is models.Base.metadata, len(model_metadata(config).tables))\n"
    )
    completed = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, check=True)
    assert completed.stdout.split() == ["True", str(len(APP_TABLES))]
