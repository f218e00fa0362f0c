"""The fast paths of current / heads / history / check-behind-head agree with Alembic's, and import no Alembic.

The oracle is Alembic itself: the same command with the fast path switched off (``linear_history`` answering
``None``, as it does for any history it is unsure of) runs through Alembic's ScriptDirectory and
MigrationContext.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pytest

from dbops.migrations import commands, fast
from tests.databases import TestDatabase
from tests.migrations.conftest import write_revision
from tests.migrations.realapp.config import make_config

REALAPP = Path(__file__).resolve().parent / "realapp" / "migrations"


def answers(config: Any) -> dict[str, Any]:
    current = commands.current(config)
    checked = commands.check(config)
    return {
        "history": [asdict(info) for info in commands.history(config)],
        "heads": [asdict(info) for info in commands.heads(config)],
        "current": (current.config, [asdict(i) for i in current.current], current.unknown, current.heads),
        "check": checked.to_dict() if not checked.compared else None,
    }


def alembic_answers(config: Any, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    with monkeypatch.context() as patch:
        patch.setattr(fast, "linear_history", lambda *args, **kwargs: None)
        return answers(config)


@pytest.mark.parametrize("is_async", [False], ids=["sync"])
def test_fast_answers_are_alembics(
    db: TestDatabase, is_async: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    migrations = tmp_path / "migrations"
    shutil.copytree(REALAPP, migrations, ignore=shutil.ignore_patterns("__pycache__"))
    # A third revision with a multi-paragraph docstring and no Create Date.
    write_revision(migrations, "0003", "0002", "pass", message="tidy up\n\nA longer story.\nOn two lines.")
    config = make_config(db.sync_url, migrations)
    commands.ensure_version(config)
    for target in ("0001", "0002", "0003"):
        if target != "0001":
            commands.upgrade(config, target)
        else:
            commands.stamp(config, "base")  # an empty version table: at base
        assert fast.linear_history(config) is not None
        ours, theirs = answers(config), alembic_answers(config, monkeypatch)
        assert ours == theirs, target
        if target == "0001":
            commands.upgrade(config, "0001")
            assert answers(config) == alembic_answers(config, monkeypatch)


def test_branched_history_is_alembics(sqlite_db: TestDatabase, tmp_path: Path) -> None:
    migrations = tmp_path / "migrations"
    shutil.copytree(REALAPP, migrations, ignore=shutil.ignore_patterns("__pycache__"))
    config = make_config(sqlite_db.sync_url, migrations)
    assert fast.linear_history(config) is not None
    write_revision(migrations, "0003", "0001", "pass", message="a branch")
    assert fast.linear_history(config) is None  # two children of 0001: Alembic orders them
    assert {info.revision for info in commands.heads(config)} == {"0002", "0003"}
    (migrations / "versions" / "0003.py").write_text(
        (migrations / "versions" / "0003.py").read_text().replace("branch_labels = None", "branch_labels = ('x',)")
    )
    write_revision(migrations, "0004", ("0002", "0003"), "pass", message="merge")
    assert fast.linear_history(config) is None


def test_current_heads_history_check_import_no_alembic(sqlite_db: TestDatabase, tmp_path: Path) -> None:
    migrations = tmp_path / "migrations"
    shutil.copytree(REALAPP, migrations, ignore=shutil.ignore_patterns("__pycache__"))
    config = make_config(sqlite_db.sync_url, migrations)
    commands.upgrade(config, "0001")
    (tmp_path / "settings.py").write_text(
        "from tests.migrations.realapp.config import make_config\n"
        f"db = make_config({sqlite_db.sync_url!r}, __import__('pathlib').Path({str(migrations)!r}))\n"
    )
    code = (
        "import sys, contextlib, io\n"
        "sys.path.insert(0, {repo!r})\n"
        "from dbops.cli.app import run\n"
        "with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):\n"
        "    status = run(['--config', 'settings.py:db', {command!r}])\n"
        "print(status, 'alembic' in sys.modules)\n"
    )
    repo = str(Path(__file__).resolve().parents[2])
    for command, status in (("show-current-revision", 0), ("heads", 0), ("history", 0), ("check", 1)):
        completed = subprocess.run(
            [sys.executable, "-c", code.format(repo=repo, command=command)],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            check=True,
        )
        assert completed.stdout.split() == [str(status), "False"], (command, completed.stdout, completed.stderr)
