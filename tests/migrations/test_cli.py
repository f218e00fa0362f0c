"""Migration commands through the CLI: argv → exit code → stdout / stderr."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from dbops.cli.app import create_app, run
from dbops.cli.state import CliState
from dbops.errors import redact
from tests.cli_runner import invoke
from tests.databases import MYSQL_HOST, MYSQL_PORT, PG_HOST, PG_PORT, TestDatabase, require_server
from tests.migrations.conftest import make_config, table_names, versions

SETTINGS = """
import sqlalchemy as sa
from dbops import {cls}, {alembic}

metadata = sa.MetaData()
author = sa.Table("author", metadata, sa.Column("id", sa.Integer, primary_key=True), sa.Column("name", sa.String(50)))
db = {cls}(connection_string={url!r}, metadata=metadata, alembic_config={alembic}(script_location="migrations"))
"""

MIGRATION_COMMANDS = [
    "init",
    "make-migrations",
    "upgrade",
    "downgrade",
    "merge-migrations",
    "stamp-migration",
    "stamp",
    "show-current-revision",
    "current",
    "history",
    "heads",
    "branches",
    "show",
    "edit",
    "ensure-version",
    "list-templates",
    "check",
]


def project(folder: Path, url: str, *, is_async: bool = False) -> Path:
    kind = (
        ("SQLAlchemyAsyncConfig", "AlembicAsyncConfig") if is_async else ("SQLAlchemySyncConfig", "AlembicSyncConfig")
    )
    (folder / "settings.py").write_text(SETTINGS.format(cls=kind[0], alembic=kind[1], url=url))
    return folder


def dbops(folder: Path, *argv: str) -> tuple[int, str, str]:
    result = invoke(["--config", "settings.py:db", *argv], cwd=folder)
    return result.exit_code, result.stdout, result.stderr


def one_line_error(stderr: str, fragment: str) -> None:
    assert stderr.startswith("Error: "), stderr
    assert stderr.count("\n") == 1, stderr
    assert fragment in stderr, stderr
    assert "Traceback" not in stderr


@pytest.fixture
def migrated(db: TestDatabase, is_async: bool, tmp_path: Path) -> Path:
    folder = project(tmp_path, db.url(is_async=is_async), is_async=is_async)
    assert dbops(folder, "init")[0] == 0
    code, _, err = dbops(folder, "make-migrations", "-m", "add author")
    assert code == 0, err
    return folder


@pytest.fixture
def sqlite_migrated(sqlite_db: TestDatabase, tmp_path: Path) -> Path:
    """``migrated`` on SQLite only, for tests of argument handling."""
    folder = project(tmp_path, sqlite_db.sync_url)
    assert dbops(folder, "init")[0] == 0
    code, _, err = dbops(folder, "make-migrations", "-m", "add author")
    assert code == 0, err
    return folder


def test_every_command_has_help_with_example() -> None:
    from typer.main import get_command

    group = get_command(create_app())
    for name in MIGRATION_COMMANDS:
        command = group.commands[name]  # type: ignore[attr-defined]
        assert command.help and "Example: " in command.help, name
    for name in MIGRATION_COMMANDS:
        result = invoke([name, "--help"])
        assert result.exit_code == 0 and "Example:" in result.stdout, name


def test_cycle_through_the_cli(db: TestDatabase, migrated: Path) -> None:
    code, out, err = dbops(migrated, "upgrade")
    assert code == 0, err
    assert "Running upgrade  -> " in err and ", add author" in err
    assert out == ""
    assert "author" in table_names(db)

    code, out, err = dbops(migrated, "upgrade")
    assert (code, out, err) == (0, "", "Already at head.\n")

    code, out, err = dbops(migrated, "current", "--format", "json")
    data = json.loads(out)
    assert code == 0 and data["at_head"] and data["current"][0]["message"] == "add author"
    code, out, _ = dbops(migrated, "show-current-revision")
    assert code == 0 and "(head, current), add author" in out

    code, out, err = dbops(migrated, "check")
    assert code == 0 and "agree" in err

    code, out, err = dbops(migrated, "downgrade", "-1", "--yes")
    assert code == 0, err
    assert "Running downgrade" in err and "author" not in table_names(db)
    code, out, err = dbops(migrated, "upgrade", "+1")
    assert code == 0 and "author" in table_names(db)


def test_make_migrations_output(migrated: Path) -> None:
    written = list((migrated / "migrations" / "versions").glob("*_add_author.py"))
    assert len(written) == 1
    code, out, err = dbops(migrated, "make-migrations", "-m", "again")
    # The database is not at head yet, so autogenerate refuses.
    assert code == 2
    one_line_error(err, "not up to date")
    dbops(migrated, "upgrade")
    code, out, err = dbops(migrated, "make-migrations", "-m", "nothing new")
    assert code == 2
    one_line_error(err, "pass --empty")
    code, out, err = dbops(migrated, "make-migrations", "-m", "by hand", "--empty")
    assert code == 0 and out.startswith("Wrote ") and "by_hand.py" in out
    assert "upgrade" not in (out + err).lower()  # no misleading "Starting database upgrade" banner


def test_make_migrations_lists_operations(sqlite_db: TestDatabase, tmp_path: Path) -> None:
    folder = project(tmp_path, sqlite_db.sync_url)
    dbops(folder, "init")
    code, out, err = dbops(folder, "make-migrations", "-m", "first")
    assert code == 0, err
    assert out.splitlines()[1:] == ["  add_table: add table author"]
    assert err == ""


def test_destructive_commands_need_yes_without_a_terminal(db: TestDatabase, migrated: Path) -> None:
    dbops(migrated, "upgrade")
    before = versions(db)
    for argv in (["downgrade", "-1"], ["stamp", "base"], ["stamp-migration", "base"]):
        code, out, err = dbops(migrated, *argv)
        assert code == 2
        one_line_error(err, "pass --yes")
    assert versions(db) == before and "author" in table_names(db)
    code, out, err = dbops(migrated, "downgrade", "base", "--dry-run")
    assert code == 0 and out.startswith("would downgrade ")
    assert versions(db) == before
    code, out, err = dbops(migrated, "stamp", "base", "--no-prompt")
    assert code == 0 and versions(db) == set()


@pytest.mark.parametrize("is_async", [False], ids=["sync"])
def test_check_exit_1_readable_and_json(db: TestDatabase, migrated: Path) -> None:
    code, out, err = dbops(migrated, "check")
    assert code == 1
    assert "Unapplied revisions:" in out and "add author" in out
    assert "Differences" not in out  # not at head: not compared (the unapplied revision would be a difference)
    one_line_error(err, "is not up to date: 1 unapplied revision(s) (run `dbops upgrade` first")
    code, out, err = dbops(migrated, "check", "--format", "json")
    assert code == 1
    data = json.loads(out)
    assert data["ok"] is False and data["compared"] is False and data["differences"] == []
    assert [r["message"] for r in data["unapplied"]] == ["add author"]
    assert "Traceback" not in err

    assert dbops(migrated, "upgrade")[0] == 0
    # A new module (this process has imported settings.py already) with one more model.
    book = 'sa.Table("book", metadata, sa.Column("id", sa.Integer, primary_key=True))\n'
    (migrated / "settings_book.py").write_text((migrated / "settings.py").read_text() + book)
    result = invoke(["--config", "settings_book.py:db", "check"], cwd=migrated)
    code, out, err = result.exit_code, result.stdout, result.stderr
    assert code == 1
    assert out.splitlines() == ["Differences between the models and the database:", "  add_table: add table book"]
    one_line_error(err, "1 difference(s) between the models and the database of default")
    data = json.loads(invoke(["--config", "settings_book.py:db", "check", "--format", "json"], cwd=migrated).stdout)
    assert data["compared"] is True and data["unapplied"] == []
    assert data["differences"] == [{"kind": "add_table", "table": "book", "name": "book", "detail": "add table book"}]


def test_sql_mode_prints_sql_and_changes_nothing(db: TestDatabase, migrated: Path) -> None:
    code, out, err = dbops(migrated, "upgrade", "--sql")
    assert code == 0, err
    assert "CREATE TABLE author" in out
    assert "author" not in table_names(db)


def test_bad_input_one_line_exit_2(db: TestDatabase, tmp_path: Path) -> None:
    folder = project(tmp_path, db.sync_url)
    for argv in (["upgrade"], ["downgrade", "-1", "--yes"], ["stamp", "head", "--yes"], ["current"], ["check"]):
        code, _, err = dbops(folder, *argv)
        assert code == 2, argv
        one_line_error(err, "no migrations directory at migrations")
    dbops(folder, "init")
    for argv in (["upgrade", "nope"], ["downgrade", "nope", "--yes"], ["show", "nope"], ["stamp", "nope", "--yes"]):
        code, _, err = dbops(folder, *argv)
        assert code == 2, argv
        one_line_error(err, "nope")
    code, _, err = dbops(folder, "init")
    assert code == 2
    one_line_error(err, "already exists")
    code, _, err = dbops(folder, "current", "--format", "yaml")
    assert code == 2 and "Invalid value for '--format'" in err and "'yaml' is not one of 'text', 'json'" in err
    assert table_names(db) == set()


def test_unknown_revision_leaves_an_applied_database_as_it_was(db: TestDatabase, migrated: Path) -> None:
    assert dbops(migrated, "upgrade")[0] == 0
    before = (versions(db), table_names(db))
    for argv in (["upgrade", "nope"], ["downgrade", "nope", "--yes"], ["stamp", "nope", "--yes"]):
        code, _, err = dbops(migrated, *argv)
        assert code == 2, argv
        one_line_error(err, "Can't locate revision identified by 'nope'")
    assert (versions(db), table_names(db)) == before


@pytest.mark.parametrize(
    "argv",
    [
        ["downgrade", "-1", "--yes"],
        ["downgrade", "--yes", "-1"],
        ["downgrade", "--lock-timeout", "30", "-1", "-y"],
        ["downgrade", "--no-prompt", "--", "-1"],
    ],
    ids=["rev-first", "rev-last", "after-a-value-option", "double-dash"],
)
def test_relative_revisions_work_as_typed(sqlite_db: TestDatabase, sqlite_migrated: Path, argv: list[str]) -> None:
    assert dbops(sqlite_migrated, "upgrade")[0] == 0
    code, _, err = dbops(sqlite_migrated, *argv)
    assert code == 0, err
    assert "author" not in table_names(sqlite_db) and versions(sqlite_db) == set()
    code, _, err = dbops(sqlite_migrated, "upgrade", "+1", "--lock-timeout", "30")
    assert code == 0, err
    assert "author" in table_names(sqlite_db)


@pytest.mark.parametrize(
    "argv",
    [["upgrade", "--sqll"], ["upgrade", "head", "--sqll"], ["downgrade", "--yess", "-1"], ["stamp", "--prge", "head"]],
)
def test_a_mistyped_option_is_not_taken_for_a_revision(
    sqlite_db: TestDatabase, sqlite_migrated: Path, argv: list[str]
) -> None:
    assert table_names(sqlite_db) == set()  # make-migrations only read the database
    code, out, err = dbops(sqlite_migrated, *argv)
    assert code == 2 and out == ""
    assert f"No such option: {argv[-1] if argv[-1].startswith('--') else argv[1]}" in err
    assert "revision" not in err.lower() and "Traceback" not in err
    assert table_names(sqlite_db) == set()


def test_root_options_after_the_subcommand(db: TestDatabase, migrated: Path) -> None:
    result = invoke(["upgrade", "+1", "--config", "settings.py:db", "--verbose"], cwd=migrated)
    assert result.exit_code == 0, result.stderr
    assert "author" in table_names(db)
    result = invoke(["current", "--format", "json", "-c", "settings.py:db", "--bind-key", "default"], cwd=migrated)
    assert result.exit_code == 0 and json.loads(result.stdout)["at_head"]


def test_no_prompt_is_accepted_where_advanced_alchemy_asks(db: TestDatabase, tmp_path: Path) -> None:
    """Deploy scripts written for Advanced Alchemy pass --no-prompt to upgrade, init, make-migrations, merge."""
    folder = project(tmp_path, db.sync_url)
    assert dbops(folder, "init", "--no-prompt")[0] == 0
    code, _, err = dbops(folder, "make-migrations", "-m", "add author", "--no-prompt")
    assert code == 0, err
    code, _, err = dbops(folder, "upgrade", "--no-prompt")
    assert code == 0, err
    assert "author" in table_names(db)
    code, _, err = dbops(folder, "merge-migrations", "--no-prompt", "-m", "join")
    assert code == 2
    one_line_error(err, "nothing to merge")


SEVERAL = """
import sqlalchemy as sa
from dbops import AlembicSyncConfig, SQLAlchemySyncConfig

metadata = sa.MetaData()
author = sa.Table("author", metadata, sa.Column("id", sa.Integer, primary_key=True))
main = SQLAlchemySyncConfig(connection_string={url!r}, metadata=metadata, bind_key={key!r})
side = SQLAlchemySyncConfig(
    connection_string={side!r}, bind_key="side", alembic_config=AlembicSyncConfig(script_location="side_migrations")
)
configs = [main, side]
"""


def test_several_configs_say_which_one_they_use(db: TestDatabase, tmp_path: Path) -> None:
    side = f"sqlite:///{tmp_path / 'side.sqlite'}"
    (tmp_path / "settings.py").write_text(SEVERAL.format(url=db.sync_url, key=None, side=side))
    result = invoke(["--config", "settings.py:configs", "init"], cwd=tmp_path)
    assert result.exit_code == 0, result.stderr
    assert result.stderr.startswith("Using database config default (")
    result = invoke(["--config", "settings.py:configs", "make-migrations", "-m", "author"], cwd=tmp_path)
    assert result.exit_code == 0, result.stderr
    result = invoke(["--config", "settings.py:configs", "upgrade"], cwd=tmp_path)
    assert result.exit_code == 0, result.stderr
    assert result.stderr.splitlines()[0] == f"Using database config default ({redact(db.sync_url)})"
    assert "author" in table_names(db)
    quiet = invoke(["--config", "settings.py:configs", "-q", "upgrade"], cwd=tmp_path)
    assert (quiet.exit_code, quiet.stderr) == (0, "")
    picked = invoke(["--config", "settings.py:configs", "init", "--bind-key", "side"], cwd=tmp_path)
    assert picked.exit_code == 0 and (tmp_path / "side_migrations" / "env.py").is_file()
    assert "Using database config" not in picked.stderr  # named on the command line: nothing to announce


def test_several_configs_without_a_default_refuse_to_guess(db: TestDatabase, tmp_path: Path) -> None:
    side = f"sqlite:///{tmp_path / 'side.sqlite'}"
    (tmp_path / "settings.py").write_text(SEVERAL.format(url=db.sync_url, key="main", side=side))
    (tmp_path / "migrations" / "versions").mkdir(parents=True)
    (tmp_path / "migrations" / "env.py").write_text(
        "from dbops.migrations.environment import run_migrations\nrun_migrations()\n"
    )
    for argv in (["upgrade"], ["stamp", "head", "--yes"], ["make-migrations", "-m", "x"]):
        result = invoke(["--config", "settings.py:configs", *argv], cwd=tmp_path)
        assert result.exit_code == 2, argv
        one_line_error(result.stderr, "2 database configs (main, side): choose one with --bind-key")
    assert table_names(db) == set() and not list((tmp_path / "migrations" / "versions").iterdir())


CONNECT_FAILURES = pytest.mark.parametrize(
    ("url", "server"),
    [
        (f"postgresql+psycopg://nosuchrole:s3cretpw@{PG_HOST}:{PG_PORT}/postgres", (PG_HOST, PG_PORT)),
        (f"postgresql+asyncpg://nosuchrole:s3cretpw@{PG_HOST}:{PG_PORT}/postgres", (PG_HOST, PG_PORT)),
        (f"mysql+pymysql://root:s3cretpw@{MYSQL_HOST}:{MYSQL_PORT}/mysql", (MYSQL_HOST, MYSQL_PORT)),
        (f"mysql+asyncmy://root:s3cretpw@{MYSQL_HOST}:{MYSQL_PORT}/mysql", (MYSQL_HOST, MYSQL_PORT)),
        ("postgresql+psycopg://me:s3cretpw@127.0.0.1:1/nowhere", None),
        ("mysql+pymysql://me:s3cretpw@127.0.0.1:1/nowhere", None),
    ],
    ids=[
        "pg-credentials",
        "pg-async-credentials",
        "mariadb-credentials",
        "mariadb-async-credentials",
        "pg-down",
        "mariadb-down",
    ],
)


def unreachable_project(tmp_path: Path, url: str, server: tuple[str, int] | None) -> Path:
    if server is not None:
        require_server("database", *server)
    folder = project(tmp_path, url, is_async="async" in url)
    (folder / "migrations" / "versions").mkdir(parents=True)
    (folder / "migrations" / "env.py").write_text(
        "from dbops.migrations.environment import run_migrations\nrun_migrations()\n"
    )
    (folder / "migrations" / "versions" / "a1.py").write_text("revision = 'a1'\ndown_revision = None\n")
    return folder


@CONNECT_FAILURES
@pytest.mark.parametrize(
    "argv",
    [
        ["upgrade"],
        ["current"],
        ["check"],
        ["downgrade", "-1", "--yes"],
        ["stamp", "head", "--yes"],
        ["make-migrations", "-m", "x"],
        ["ensure-version"],
    ],
    ids=lambda a: a[0],
)
def test_unreachable_or_refused_database(
    tmp_path: Path, url: str, server: tuple[str, int] | None, argv: list[str]
) -> None:
    folder = unreachable_project(tmp_path, url, server)
    code, _, err = dbops(folder, *argv)
    assert code == 2, err
    one_line_error(err, "cannot connect to default (")
    assert "s3cretpw" not in err and ":***@" in err
    assert not list((folder / "migrations" / "versions").glob("*_x.py"))


@CONNECT_FAILURES
def test_verbose_traceback_masks_the_password_too(tmp_path: Path, url: str, server: tuple[str, int] | None) -> None:
    folder = unreachable_project(tmp_path, url, server)
    code, _, err = dbops(folder, "--verbose", "upgrade")
    assert code == 2
    assert "Traceback" in err and err.splitlines()[-1].startswith("Error: cannot connect to default (")
    assert "s3cretpw" not in err


def test_edit_uses_editor(migrated: Path, tmp_path: Path) -> None:
    editor = tmp_path / "editor.py"
    editor.write_text("import sys\nwith open(sys.argv[1], 'a') as f:\n    f.write('# edited\\n')\n")
    result = invoke(
        ["--config", "settings.py:db", "edit", "head"], cwd=migrated, env={"EDITOR": f"{sys.executable} {editor}"}
    )
    assert result.exit_code == 0, result.stderr
    written = next((migrated / "migrations" / "versions").glob("*_add_author.py"))
    assert written.read_text().endswith("# edited\n")


def test_history_heads_branches_list_templates(db: TestDatabase, migrated: Path) -> None:
    code, out, _ = dbops(migrated, "history", "--verbose")
    assert code == 0 and "(head), add author" in out and "path: " in out
    code, out, _ = dbops(migrated, "heads", "--format", "json")
    assert code == 0 and json.loads(out)[0]["message"] == "add author"
    code, out, _ = dbops(migrated, "branches")
    assert (code, out) == (0, "")
    code, out, _ = dbops(migrated, "list-templates")
    assert code == 0 and out.startswith("dbops\t")
    code, out, _ = dbops(migrated, "ensure-version")
    assert code == 0 and "alembic_versions" in table_names(db)


def test_multidb_init(sqlite_db: TestDatabase, tmp_path: Path) -> None:
    (tmp_path / "settings.py").write_text(
        "from dbops import SQLAlchemySyncConfig, AlembicSyncConfig\n"
        f"a = SQLAlchemySyncConfig(connection_string={sqlite_db.sync_url!r})\n"
        "b = SQLAlchemySyncConfig(connection_string='sqlite:///other.sqlite', bind_key='other',"
        " alembic_config=AlembicSyncConfig(script_location='migrations_other'))\n"
        "both = [a, b]\n"
    )
    result = invoke(["--config", "settings.py:both", "init", "--multidb"], cwd=tmp_path)
    assert result.exit_code == 0, result.stderr
    assert (tmp_path / "migrations" / "env.py").is_file() and (tmp_path / "migrations_other" / "env.py").is_file()
    result = invoke(["--config", "settings.py:both", "--bind-key", "other", "upgrade"], cwd=tmp_path)
    assert result.exit_code == 0, result.stderr


def test_driven_by_a_host_cli(sqlite_db: TestDatabase, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The Litestar plugin drives the same Typer app with preset configs."""
    import sqlalchemy as sa

    metadata = sa.MetaData()
    sa.Table("thing", metadata, sa.Column("id", sa.Integer, primary_key=True))
    config = make_config(sqlite_db.sync_url, is_async=False, metadata=metadata, script_location=str(tmp_path / "m"))
    state = CliState(preset_configs=[config])
    assert run(["init"], prog_name="litestar database", state=state) == 0
    assert (
        run(["make-migrations", "-m", "thing"], prog_name="litestar database", state=CliState(preset_configs=[config]))
        == 0
    )
    assert run(["upgrade"], prog_name="litestar database", state=CliState(preset_configs=[config])) == 0
    assert "thing" in table_names(sqlite_db)
    assert run(["downgrade", "-1"], prog_name="litestar database", state=CliState(preset_configs=[config])) == 2
    captured = capsys.readouterr()
    assert "pass --yes" in captured.err


@pytest.mark.parametrize("answer", ["y", "n"])
def test_downgrade_prompts_on_a_terminal(sqlite_db: TestDatabase, tmp_path: Path, answer: str) -> None:
    """On a terminal, downgrade asks; "y" goes ahead, "n" aborts with exit 1 and changes nothing."""
    import contextlib
    import os
    import pty
    import subprocess

    folder = project(tmp_path, sqlite_db.sync_url)
    dbops(folder, "init")
    dbops(folder, "make-migrations", "-m", "add author")
    assert dbops(folder, "upgrade")[0] == 0
    primary, secondary = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "dbops", "--config", "settings.py:db", "downgrade", "-1"],
        cwd=folder,
        stdin=secondary,
        stdout=subprocess.PIPE,
        stderr=secondary,
        env={**os.environ, "TERM": "dumb", "COLUMNS": "200"},
    )
    os.close(secondary)
    seen = b""
    while b"Downgrade default" not in seen or b"?" not in seen.split(b"Downgrade default", 1)[1]:
        seen += os.read(primary, 1024)
    os.write(primary, f"{answer}\n".encode())
    process.wait(timeout=60)
    with contextlib.suppress(OSError):  # the terminal closes with the process
        while os.read(primary, 1024):
            pass
    os.close(primary)
    if answer == "y":
        assert process.returncode == 0
        assert "author" not in table_names(sqlite_db)
    else:
        assert process.returncode == 1
        assert "author" in table_names(sqlite_db)


def test_init_elsewhere_says_how_to_point_the_config(sqlite_db: TestDatabase, tmp_path: Path) -> None:
    folder = project(tmp_path, sqlite_db.sync_url)
    code, _, err = dbops(folder, "init", "alembic")
    assert code == 0 and (folder / "alembic" / "env.py").is_file()
    assert "script_location" in err and 'script_location="alembic"' in err


def test_quiet_keeps_only_results_and_errors(sqlite_db: TestDatabase, tmp_path: Path) -> None:
    folder = project(tmp_path, sqlite_db.sync_url)
    dbops(folder, "init")
    dbops(folder, "make-migrations", "-m", "add author")
    code, out, err = dbops(folder, "--quiet", "upgrade")
    assert (code, out, err) == (0, "", "")
    assert "author" in table_names(sqlite_db)


def test_database_at_an_unknown_revision(sqlite_db: TestDatabase, tmp_path: Path) -> None:
    folder = project(tmp_path, sqlite_db.sync_url)
    dbops(folder, "init")
    dbops(folder, "make-migrations", "-m", "add author")
    dbops(folder, "upgrade")
    for path in (folder / "migrations" / "versions").glob("*.py"):
        path.unlink()
    revision = versions(sqlite_db).pop()
    (folder / "migrations" / "versions" / "x1.py").write_text("revision = 'x1'\ndown_revision = None\n")
    for argv in (["check"], ["upgrade"]):
        code, _, err = dbops(folder, *argv)
        assert code == 2, argv
        one_line_error(err, revision)
    code, out, err = dbops(folder, "current")
    assert code == 0 and out.endswith("(not in the migrations directory)\n")
    assert "Not at head: heads are x1." in err


def test_migration_help_and_completion_import_nothing_heavy(tmp_path: Path) -> None:
    import os
    import subprocess

    code = (
        "import sys, contextlib, io\n"
        "from dbops.cli.app import run\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    for argv in (['upgrade', '--help'], ['downgrade', '--help'], ['check', '--help']):\n"
        "        run(argv)\n"
        "print(sorted(m for m in ('sqlalchemy', 'alembic', 'rich', 'dbops.migrations.commands') if m in sys.modules))\n"
    )
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=tmp_path)
    assert completed.stdout.strip() == "[]"
    env = {**os.environ, "_DBOPS_COMPLETE": "complete_bash", "COMP_WORDS": "dbops downgrade --", "COMP_CWORD": "2"}
    completed = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "dbops"], env=env, capture_output=True, text=True, cwd=tmp_path
    )
    assert "--lock-timeout" in completed.stdout.split()
    imported = {line.rsplit("|", 1)[-1].strip() for line in completed.stderr.splitlines() if "|" in line}
    assert not {"sqlalchemy", "alembic", "rich"} & imported


def test_run_results_as_json(sqlite_db: TestDatabase, tmp_path: Path) -> None:
    folder = project(tmp_path, sqlite_db.sync_url)
    dbops(folder, "init")
    dbops(folder, "make-migrations", "-m", "add author", "--rev-id", "a1")
    code, out, err = dbops(folder, "upgrade", "--format", "json")
    assert code == 0, err
    data = json.loads(out)
    assert data["steps"] == [
        {"direction": "upgrade", "from_revisions": [], "to_revisions": ["a1"], "message": "add author"}
    ]
    assert json.loads(dbops(folder, "upgrade", "--format", "json")[1])["already_current"] is True
    code, out, _ = dbops(folder, "stamp", "base", "--yes", "--format", "json")
    assert code == 0 and json.loads(out)["steps"][0]["direction"] == "stamp"
    assert versions(sqlite_db) == set()


MULTIDB = """
import sqlalchemy as sa
from dbops import AlembicAsyncConfig, AlembicSyncConfig, SQLAlchemyAsyncConfig, SQLAlchemySyncConfig

app_metadata = sa.MetaData()
sa.Table("author", app_metadata, sa.Column("id", sa.Integer, primary_key=True))
report_metadata = sa.MetaData()
sa.Table("report", report_metadata, sa.Column("id", sa.Integer, primary_key=True))
configs = [
    SQLAlchemyAsyncConfig(connection_string={app_url!r}, metadata=app_metadata),
    SQLAlchemySyncConfig(
        connection_string={report_url!r},
        metadata=report_metadata,
        bind_key="reports",
        alembic_config=AlembicSyncConfig(script_location="migrations_reports", version_table_name="report_versions"),
    ),
]
"""


def test_multidb_init_for_an_async_and_a_sync_bind(
    pg_db: TestDatabase, mariadb_db: TestDatabase, tmp_path: Path
) -> None:
    """``init --multidb`` writes one env.py per bind; each migrates its own database (async PG, sync MariaDB)."""
    (tmp_path / "settings.py").write_text(MULTIDB.format(app_url=pg_db.async_url, report_url=mariadb_db.sync_url))

    def run_all(*argv: str) -> None:
        for bind in ("default", "reports"):
            result = invoke(["--config", "settings.py:configs", "--bind-key", bind, *argv], cwd=tmp_path)
            assert result.exit_code == 0, (bind, argv, result.stderr)

    assert invoke(["--config", "settings.py:configs", "init", "--multidb"], cwd=tmp_path).exit_code == 0
    run_all("make-migrations", "-m", "first")
    run_all("upgrade")
    run_all("check")
    assert table_names(pg_db) == {"author", "alembic_versions"}
    assert table_names(mariadb_db) == {"report", "report_versions"}
    run_all("downgrade", "base", "--yes")
    assert table_names(pg_db) == {"alembic_versions"} and table_names(mariadb_db) == {"report_versions"}


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
def test_a_failing_migration_on_postgres_is_one_line_and_rolled_back(
    pg_db: TestDatabase, is_async: bool, tmp_path: Path
) -> None:
    from tests.migrations.conftest import write_revision

    folder = project(tmp_path, pg_db.url(is_async=is_async), is_async=is_async)
    dbops(folder, "init")
    create = 'op.create_table("{}", sa.Column("id", sa.Integer, primary_key=True))'
    write_revision(folder / "migrations", "r1", None, create.format("t1"))
    write_revision(folder / "migrations", "r2", "r1", create.format("t2") + '; op.execute("SELECT * FROM nowhere")')
    code, _, err = dbops(folder, "upgrade")
    assert code == 2
    assert err.splitlines()[-1].startswith("Error: upgrade failed for default (") and '"nowhere"' in err
    assert "Traceback" not in err
    assert table_names(pg_db) == {"alembic_versions", "t1"} and versions(pg_db) == {"r1"}
