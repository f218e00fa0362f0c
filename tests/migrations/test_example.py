"""The README's first command: migrate the example app (async SQLite) with the migrations our init wrote."""

from __future__ import annotations

import shutil
from pathlib import Path

import sqlalchemy as sa

from tests.cli_runner import invoke_process
from tests.conftest import REPO_ROOT


def test_example_app_upgrades_and_checks(tmp_path: Path) -> None:
    shutil.copytree(
        REPO_ROOT / "examples", tmp_path / "examples", ignore=shutil.ignore_patterns("*.sqlite", "__pycache__")
    )
    result = invoke_process(["--config", "examples/app.py:db", "upgrade"], cwd=tmp_path)
    assert result.exit_code == 0, result.stderr
    assert "Running upgrade  -> 0001, authors and books" in result.stderr
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'examples' / 'app.sqlite'}")
    assert {"author", "book", "alembic_versions"} <= set(sa.inspect(engine).get_table_names())
    engine.dispose()
    checked = invoke_process(["--config", "examples/app.py:db", "check"], cwd=tmp_path)
    assert checked.exit_code == 0, checked.stdout + checked.stderr
