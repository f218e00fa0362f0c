"""The README's first command, and its migration cycle, on the example app (async SQLite)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.cli_runner import CliResult, invoke_process
from tests.conftest import REPO_ROOT


@pytest.fixture
def example(tmp_path: Path) -> Path:
    shutil.copytree(
        REPO_ROOT / "examples", tmp_path / "examples", ignore=shutil.ignore_patterns("*.sqlite", "__pycache__")
    )
    return tmp_path


def dbops(folder: Path, *argv: str, app: bool = False) -> CliResult:
    where = ["--app", "examples.app:create_app"] if app else ["--config", "examples/app.py:db"]
    return invoke_process([*where, *argv], cwd=folder)


def test_example_app_upgrades_and_checks(example: Path) -> None:
    result = dbops(example, "upgrade")
    assert result.exit_code == 0, result.stderr
    assert "Running upgrade  -> 0001, authors and books" in result.stderr
    engine = sa.create_engine(f"sqlite:///{example / 'examples' / 'app.sqlite'}")
    assert {"author", "book", "alembic_versions"} <= set(sa.inspect(engine).get_table_names())
    engine.dispose()
    checked = dbops(example, "check")
    assert checked.exit_code == 0, checked.stdout + checked.stderr


def test_add_an_index_cycle(example: Path) -> None:
    """The README's cycle: add index=True to a model, check, make-migrations, upgrade, check."""
    assert dbops(example, "upgrade").exit_code == 0
    app = example / "examples" / "app.py"
    before = "    title: Mapped[str] = mapped_column(String(200))\n"
    assert before in app.read_text()
    app.write_text(app.read_text().replace(before, before.replace("String(200))", "String(200), index=True)")))

    drift = dbops(example, "check")
    assert drift.exit_code == 1, drift.output
    assert drift.stdout.splitlines() == [
        "Differences between the models and the database:",
        "  add_index: add index ix_book_title on book (title)",
    ]
    assert drift.stderr.startswith("Error: 1 difference(s) between the models and the database")
    made = dbops(example, "make-migrations", "-m", "index book titles")
    assert made.exit_code == 0, made.stderr
    assert made.stdout.splitlines()[1:] == ["  add_index: add index ix_book_title on book (title)"]
    revision = Path(made.stdout.split()[1])
    assert "batch_op.create_index(batch_op.f('ix_book_title'), ['title'], unique=False)" in revision.read_text()
    upgraded = dbops(example, "upgrade")
    assert upgraded.exit_code == 0 and "index book titles" in upgraded.stderr
    clean = dbops(example, "check")
    assert clean.exit_code == 0, clean.output
    assert clean.stdout == ""


def test_app_option_prints_no_alembic_plugin_lines(example: Path) -> None:
    """Litestar configures the root logger; Alembic's import-time INFO lines must not reach it."""
    for argv in (["upgrade"], ["check"], ["show-current-revision"]):
        result = dbops(example, *argv, app=True)
        assert result.exit_code == 0, result.output
        assert "alembic.runtime.plugins" not in result.output and "INFO" not in result.output
