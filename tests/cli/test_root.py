"""The CLI edge: option placement, one-line errors and exit codes, lazy imports on --help."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from dbops.cli.app import hoist_root_options
from tests.cli_runner import invoke, invoke_process

CONFIG = """
from dbops import SQLAlchemySyncConfig
db = SQLAlchemySyncConfig(connection_string="sqlite:///app.sqlite")
other = SQLAlchemySyncConfig(connection_string="postgresql://me:topsecret@localhost/x", bind_key="other")
both = [db, other]
number = 42
def needs_arguments(url):
    return SQLAlchemySyncConfig(connection_string=url)
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "settings.py").write_text(CONFIG)
    return tmp_path


def test_config_before_or_after_subcommand(project: Path) -> None:
    before = invoke(["--config", "settings.py:both", "configs", "--format", "json"], cwd=project)
    after = invoke(["configs", "--format", "json", "--config=settings.py:both"], cwd=project)
    assert before.exit_code == after.exit_code == 0
    assert json.loads(before.stdout) == json.loads(after.stdout)
    assert [row["bind_key"] for row in json.loads(before.stdout)] == [None, "other"]
    assert "topsecret" not in before.stdout


def test_quiet_and_verbose_flags_work_after_the_subcommand() -> None:
    assert hoist_root_options(["dump-data", "-q", "--dir", "x"]) == ["-q", "dump-data", "--dir", "x"]
    assert hoist_root_options(["upgrade", "--verbose"]) == ["--verbose", "upgrade"]
    assert hoist_root_options(["sessions", "cleanup", "-v"]) == ["-v", "sessions", "cleanup"]
    # history has a --verbose of its own (more detail), which stays with it.
    assert hoist_root_options(["history", "--verbose"]) == ["history", "--verbose"]
    assert hoist_root_options(["-c", "a:b", "history", "-v"]) == ["-c", "a:b", "history", "-v"]


def test_verbose_after_the_subcommand_shows_the_traceback(project: Path) -> None:
    result = invoke(["configs", "--config", "settings.py:nope", "--verbose"], cwd=project)
    assert result.exit_code == 2
    assert "Traceback" in result.stderr and result.stderr.endswith(
        "has no attribute 'nope' (configs there: both, db, other)\n"
    )


def test_bare_command_lists_the_commands() -> None:
    """``dbops`` alone (and so ``litestar database`` alone) is how people ask for the list: stdout, exit 0."""
    result = invoke([])
    assert result.exit_code == 0 and result.stderr == ""
    assert "Commands:" in result.stdout and "show-current-revision" in result.stdout


def test_hoisting_stops_at_double_dash() -> None:
    assert hoist_root_options(["downgrade", "-c", "a:b", "--", "--config"]) == [
        "-c",
        "a:b",
        "downgrade",
        "--",
        "--config",
    ]


@pytest.mark.parametrize(
    ("reference", "fragment"),
    [
        ("settings.py:nope", "has no attribute 'nope'"),
        ("nosuchmodule:db", "no module named 'nosuchmodule'"),
        ("missing/file.py:db", "not found"),
        ("settings.py:number", "got int"),
        ("settings.py:needs_arguments", "calling it failed"),
    ],
)
def test_bad_config_is_one_line_exit_2(project: Path, reference: str, fragment: str) -> None:
    result = invoke(["configs", "--config", reference], cwd=project)
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("Error: ") and fragment in result.stderr
    assert "Traceback" not in result.stderr


def test_a_missing_attribute_names_the_file_given(project: Path) -> None:
    """The file as typed (not the module name dbops imported it under), and the configs it does define."""
    (project / "conf").mkdir()
    (project / "conf" / "app.py").write_text(CONFIG)
    result = invoke(["--config", "conf/app.py:dbx", "upgrade"], cwd=project)
    assert result.exit_code == 2
    assert result.stderr == (
        "Error: conf/app.py:dbx: conf/app.py has no attribute 'dbx' (configs there: both, db, other)\n"
    )
    nested = invoke(["--config", "conf/app.py:db.nope", "upgrade"], cwd=project)
    assert nested.exit_code == 2
    assert nested.stderr == "Error: conf/app.py:db.nope: 'db' has no attribute 'nope'\n"


def test_verbose_shows_traceback(project: Path) -> None:
    result = invoke(["--verbose", "configs", "--config", "settings.py:nope"], cwd=project)
    assert result.exit_code == 2
    assert "Traceback" in result.stderr


def test_usage_error_exit_2(project: Path) -> None:
    result = invoke(["no-such-command"], cwd=project)
    assert result.exit_code == 2
    assert "No such command" in result.stderr


def test_console_script_and_module_agree(project: Path) -> None:
    result = invoke_process(["--config", "settings.py:db", "configs"], cwd=project)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("default\tsync\tsqlite:///app.sqlite")


def test_help_imports_nothing_heavy() -> None:
    code = (
        "import sys\n"
        "from dbops.cli.app import run\n"
        "import contextlib, io\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    run(['--help'])\n"
        "heavy = sorted(m for m in ('sqlalchemy', 'alembic', 'litestar', 'rich', 'pydantic') if m in sys.modules)\n"
        "print(','.join(heavy))\n"
    )
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert completed.stdout.strip() == ""


def test_no_dbops_module_imports_litestar() -> None:
    """litestar is a dependency of the plugin distribution only."""
    code = (
        "import importlib, pkgutil, sys\n"
        "import dbops\n"
        "names = [m.name for m in pkgutil.walk_packages(dbops.__path__, 'dbops.') if m.name != 'dbops.__main__']\n"
        "for name in names:\n"
        "    importlib.import_module(name)\n"
        "print(len(names), sorted(m for m in sys.modules if m.split('.')[0] in ('litestar', 'litestar_dbops')))\n"
    )
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    count, imported = completed.stdout.split(" ", 1)
    assert int(count) > 50 and imported.strip() == "[]"


def test_ctrl_c_is_one_line_and_exit_130(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Whatever typer version runs the CLI, an interrupt ends the same way (typer alone would exit silently)."""
    from dbops.cli.state import CliState

    def interrupted(self: CliState) -> list[object]:
        raise KeyboardInterrupt

    monkeypatch.setattr(CliState, "configs", interrupted)
    result = invoke(["--config", "settings.py:db", "configs"], cwd=project)
    assert (result.exit_code, result.stdout, result.stderr) == (130, "", "Interrupted.\n")


def _commands_with_format() -> list[tuple[str, ...]]:
    from typer.main import get_command

    from dbops.cli.app import create_app

    found: list[tuple[str, ...]] = []

    def walk(command: Any, path: tuple[str, ...]) -> None:
        for name, sub in getattr(command, "commands", {}).items():
            walk(sub, (*path, name))
        if any("--format" in param.opts for param in getattr(command, "params", [])):
            found.append(path)

    walk(get_command(create_app()), ())
    return sorted(found)


@pytest.mark.parametrize("path", _commands_with_format(), ids=" ".join)
def test_every_format_option_refuses_an_unknown_format(path: tuple[str, ...]) -> None:
    """Checked while parsing, the same way everywhere: exit 2 before any config is read (none is given)."""
    result = invoke([*path, "--format", "xml"])
    assert result.exit_code == 2, result.output
    assert "Invalid value for '--format'" in result.stderr and "'xml'" in result.stderr


def test_answering_no_at_a_prompt_exits_1_and_changes_nothing(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The exit-code table's "you answered no": `Aborted!`, exit 1, the table still there."""
    import io
    import sqlite3

    with sqlite3.connect(project / "app.sqlite") as connection:
        connection.execute("CREATE TABLE keepme (id INTEGER PRIMARY KEY)")

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.setattr(sys, "stdin", Terminal("n\n"))
    result = invoke(["--config", "settings.py:db", "drop-all", "--include-unknown"], cwd=project)
    assert result.exit_code == 1, result.output
    assert "Drop 1 table from" in result.stderr and result.stderr.endswith("Aborted!\n")
    with sqlite3.connect(project / "app.sqlite") as connection:
        assert connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall() == [("keepme",)]
