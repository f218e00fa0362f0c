"""Config fields are typed: mypy accepts their types and refuses others (tests/core/typing_config.py)."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import REPO_ROOT


def test_config_fields_refuse_wrong_types_under_mypy() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--warn-unused-ignores", "tests/core/typing_config.py"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_an_unset_field_is_left_to_sqlalchemy() -> None:
    from dbops.config import Empty, EngineConfig

    config = EngineConfig(pool_size=5)
    assert config.echo is Empty and not Empty and repr(Empty) == "Empty"
    assert "echo" not in config.to_kwargs() and config.to_kwargs()["pool_size"] == 5
