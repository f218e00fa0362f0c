"""The checked-in completion scripts are what the CLI generates today, and completion itself works."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT

sys.path.insert(0, str(REPO_ROOT / "completions"))
from generate import FILES, generate  # type: ignore[import-not-found]  # noqa: E402


@pytest.mark.parametrize("shell", sorted(FILES))
def test_checked_in_completions_are_current(shell: str) -> None:
    path = REPO_ROOT / "completions" / FILES[shell]
    assert path.read_text() == generate(shell), f"{path} is stale: run `uv run python completions/generate.py`"


def test_zsh_script_starts_with_compdef() -> None:
    assert (REPO_ROOT / "completions" / "dbops.zsh").read_text().startswith("#compdef dbops\n")


def test_bash_completion_lists_migration_commands(tmp_path: Path) -> None:
    env = {**os.environ, "_DBOPS_COMPLETE": "complete_bash", "COMP_WORDS": "dbops down", "COMP_CWORD": "1"}
    completed = subprocess.run([sys.executable, "-m", "dbops"], env=env, capture_output=True, text=True, cwd=tmp_path)
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.split() == ["downgrade"]
