"""``litestar database`` / ``litestar db``: dbops' CLI on the app's configs, through Litestar's own CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli_runner import invoke
from tests.plugin.helpers import run_litestar, write_module

APP = """
from litestar import Litestar
from litestar_dbops import SQLAlchemyAsyncConfig, SQLAlchemyPlugin, SQLAlchemySyncConfig

db = SQLAlchemyAsyncConfig(connection_string="sqlite+aiosqlite:///app.sqlite", before_send_handler="autocommit")
analytics = SQLAlchemySyncConfig(
    connection_string="postgresql+psycopg://reporter:s3cret@localhost/analytics",
    bind_key="analytics",
    session_dependency_key="analytics_session",
    engine_dependency_key="analytics_engine",
)
app = Litestar(plugins=[SQLAlchemyPlugin(config=[db, analytics])])
"""


@pytest.fixture
def app_ref(tmp_path: Path) -> str:
    return f"{write_module(tmp_path, APP)}:app"


def test_database_configs_lists_the_apps_configs(tmp_path: Path, app_ref: str) -> None:
    result = run_litestar(["--app", app_ref, "database", "configs", "--format", "json"], app_dir=tmp_path)
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert [(row["bind_key"], row["kind"]) for row in rows] == [(None, "async"), ("analytics", "sync")]
    assert rows[1]["url"] == "postgresql+psycopg://reporter:***@localhost/analytics"
    assert "s3cret" not in result.output


def test_db_alias_and_root_options_are_forwarded(tmp_path: Path, app_ref: str) -> None:
    result = run_litestar(["--app", app_ref, "db", "configs"], app_dir=tmp_path)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0] == "default\tasync\tsqlite+aiosqlite:///app.sqlite"


def test_litestar_app_env_var_works_too(tmp_path: Path, app_ref: str) -> None:
    result = run_litestar(["database", "configs"], app_dir=tmp_path, env={"LITESTAR_APP": app_ref})
    assert result.exit_code == 0, result.output
    assert "analytics\tsync" in result.stdout


@pytest.mark.parametrize("name", ["database", "db"])
def test_help_lists_dbops_commands_under_the_litestar_name(tmp_path: Path, app_ref: str, name: str) -> None:
    """Litestar's own help of the group: every dbops command and group, and dbops' root options."""
    from typer.main import get_command

    from dbops.cli.app import create_app

    result = run_litestar(["--app", app_ref, name, "--help"], app_dir=tmp_path)
    assert result.exit_code == 0, result.output
    assert f"Usage: litestar {name} [OPTIONS] [COMMAND] [ARGS]..." in result.stdout
    listed = {line.split()[0] for line in result.stdout.split("Commands:")[1].splitlines() if line[:3].strip()}
    assert listed == set(get_command(create_app()).commands)  # type: ignore[attr-defined]
    assert "--bind-key" in result.stdout and "--install-completion" not in result.stdout


def test_subcommand_groups_and_commands_are_real_click_commands(tmp_path: Path, app_ref: str) -> None:
    group = run_litestar(["--app", app_ref, "database", "sessions", "--help"], app_dir=tmp_path)
    assert group.exit_code == 0, group.output
    assert "Usage: litestar database sessions" in group.stdout and "cleanup" in group.stdout
    command = run_litestar(["--app", app_ref, "db", "upgrade", "--help"], app_dir=tmp_path)
    assert command.exit_code == 0, command.output
    # A command's own help is dbops' (its options and example), under the name the user typed.
    assert command.stdout.startswith("Usage: litestar db upgrade [OPTIONS] [REV]")
    assert "--ddl-lock-timeout" in command.stdout and "Example:" in command.stdout


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        ("litestar database up", ["upgrade"]),
        ("litestar database sessions ", ["cleanup", "stats"]),
        ("litestar db storage pr", ["prune-orphans"]),
        ("litestar database upgrade --f", ["--format"]),
        ("litestar database dump-data --gz", ["--gzip"]),
        ("litestar database load-data --jo", ["--jobs"]),
    ],
)
def test_litestar_completion_sees_commands_and_options(
    tmp_path: Path, app_ref: str, words: str, expected: list[str]
) -> None:
    """Litestar's shell completion (bash protocol), in a real `litestar` process."""
    import os
    import subprocess
    import sys

    litestar = Path(sys.executable).parent / "litestar"
    cword = len(words.split()) - (0 if words.endswith(" ") else 1)
    env = {
        **os.environ,
        "LITESTAR_APP": app_ref,
        "_LITESTAR_COMPLETE": "bash_complete",
        "COMP_WORDS": words,
        "COMP_CWORD": str(cword),
    }
    completed = subprocess.run([str(litestar)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert completed.returncode == 0, completed.stderr
    assert [line.split(",", 1)[1] for line in completed.stdout.splitlines()] == expected


def test_litestar_help_shows_the_database_group(tmp_path: Path, app_ref: str) -> None:
    result = run_litestar(["--app", app_ref, "--help"], app_dir=tmp_path)
    assert result.exit_code == 0, result.output
    assert "database" in result.stdout
    assert "Manage the app's database" in result.stdout


def test_bad_input_is_one_line_and_the_dbops_exit_code(tmp_path: Path, app_ref: str) -> None:
    unknown = run_litestar(["--app", app_ref, "database", "no-such-command"], app_dir=tmp_path)
    assert unknown.exit_code == 2
    assert "No such command 'no-such-command'" in unknown.stderr
    assert "Traceback" not in unknown.output

    bad_config = run_litestar(["--app", app_ref, "database", "--config", "nowhere_xyz:db", "configs"], app_dir=tmp_path)
    assert bad_config.exit_code == 2
    assert bad_config.stderr == f"Error: nowhere_xyz:db: no module named 'nowhere_xyz' (looked in {Path.cwd()})\n"
    assert bad_config.stdout == ""


def test_dbops_reads_the_same_configs_from_the_app(tmp_path: Path, app_ref: str) -> None:
    result = invoke(["--app", app_ref, "configs"], cwd=tmp_path)
    assert result.exit_code == 0, result.stderr
    assert [line.split("\t")[0] for line in result.stdout.splitlines()] == ["default", "analytics"]
