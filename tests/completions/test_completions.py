"""The checked-in completion scripts are what the CLI generates today, and completion itself works."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT

_spec = importlib.util.spec_from_file_location("dbops_completions_generate", REPO_ROOT / "completions" / "generate.py")
assert _spec is not None and _spec.loader is not None
_generator = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_generator)
FILES: dict[str, str] = _generator.FILES
generate = _generator.generate


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
