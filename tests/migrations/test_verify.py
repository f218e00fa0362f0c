"""``dbops verify``: the history checks, without a database and without importing revision files."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from dbops.migrations.verify import verify
from tests.cli_runner import invoke, invoke_process
from tests.migrations.lint.helpers import make_project, write_revision

# A revision file that would fail if imported: verify must read it, not run it.
EXPLODES = 'raise RuntimeError("imported!")\n'


def _config(tmp_path: Path, revisions: list[tuple[str, object, str]]) -> object:
    config = make_project(tmp_path, f"sqlite:///{tmp_path / 'never.sqlite'}", [(r, d, "pass") for r, d, _ in revisions])
    for revision, _, message in revisions:
        path = tmp_path / "migrations" / "versions" / f"{revision}.py"
        path.write_text(path.read_text().replace(f'"""{revision}\n', f'"""{message}\n', 1) + EXPLODES)
    (tmp_path / "settings.py").write_text(
        "from dbops import SQLAlchemySyncConfig, AlembicSyncConfig\n"
        f"db = SQLAlchemySyncConfig(connection_string='sqlite:///{tmp_path / 'never.sqlite'}', "
        "alembic_config=AlembicSyncConfig(script_location='migrations'))\n"
    )
    return config


def _kinds(config: object) -> list[str]:
    return sorted(problem.kind for problem in verify(config).problems)  # type: ignore[arg-type]


def test_a_sound_linear_history_passes_without_importing_anything(tmp_path: Path) -> None:
    config = _config(tmp_path, [("a1", None, "create authors"), ("b2", "a1", "add books")])
    result = verify(config)  # type: ignore[arg-type]
    assert result.ok and result.heads == ["b2"] and result.revisions == 2
    assert not (tmp_path / "never.sqlite").exists()


def test_two_heads_are_a_problem_unless_each_is_a_declared_branch(tmp_path: Path) -> None:
    config = _config(tmp_path / "plain", [("a1", None, "base"), ("b1", "a1", "one"), ("c1", "a1", "two")])
    problems = verify(config).problems  # type: ignore[arg-type]
    assert [p.kind for p in problems] == ["heads"] and "2 heads (b1, c1)" in problems[0].message
    labelled = _config(tmp_path / "labels", [("a1", None, "base"), ("b1", "a1", "one"), ("c1", "a1", "two")])
    for revision, label in (("b1", "billing"), ("c1", "search")):
        path = tmp_path / "labels" / "migrations" / "versions" / f"{revision}.py"
        path.write_text(path.read_text().replace("branch_labels = None", f"branch_labels = ({label!r},)"))
    assert verify(labelled).ok  # type: ignore[arg-type]


def test_dangling_duplicate_unreadable_cycle_and_messages(tmp_path: Path) -> None:
    config = _config(
        tmp_path,
        [("a1", None, "base"), ("b1", "zz", "points nowhere"), ("c1", "a1", "base"), ("d1", "c1", "")],
    )
    versions = tmp_path / "migrations" / "versions"
    (versions / "copy.py").write_text((versions / "c1.py").read_text().replace('"""base', '"""copy', 1))
    (versions / "broken.py").write_text("revision = 'x'\ndown_revision = compute()\n")
    (versions / "loop1.py").write_text('"""l1"""\nrevision = "l1"\ndown_revision = "l2"\n')
    (versions / "loop2.py").write_text('"""l2"""\nrevision = "l2"\ndown_revision = "l1"\n')
    kinds = _kinds(config)
    assert kinds.count("dangling") == 1 and kinds.count("duplicate") == 1 and kinds.count("unreadable") == 1
    assert "cycle" in kinds
    messages = [p.message for p in verify(config).problems if p.kind == "message"]  # type: ignore[arg-type]
    assert any("d1" in m and "no message" in m for m in messages)
    assert any("same message as a1" in m for m in messages)


def _git(folder: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@e", *args], cwd=folder, check=True, capture_output=True
    )


def test_since_catches_out_of_order_and_deleted_revisions(tmp_path: Path) -> None:
    _config(tmp_path, [("a1", None, "base"), ("b1", "a1", "second")])
    _git(tmp_path, "init", "-q", "-b", "main")
    _git(tmp_path, "add", ".")
    _git(tmp_path, "commit", "-qm", "release")
    migrations = tmp_path / "migrations"
    write_revision(migrations, "c1", "b1", "pass", message="third")
    ok = invoke(["--config", "settings.py:db", "verify", "--since", "main", "--format", "json"], cwd=tmp_path)
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.stdout)["new"] == ["c1"]
    # A revision written against the old history (before b1 landed): builds on a1, not on main's head b1.
    (migrations / "versions" / "c1.py").unlink()
    write_revision(migrations, "c2", ("a1",), "pass", message="written on an old branch")
    (migrations / "versions" / "b1.py").unlink()
    bad = invoke(["--config", "settings.py:db", "verify", "--since", "main"], cwd=tmp_path)
    assert bad.exit_code == 1
    assert "deleted: revision b1" in bad.stdout
    assert "out-of-order: new revision c2 builds on a1, which is not the head at main (b1)" in bad.stdout


def test_cli_exit_codes_and_no_database_or_app_import(tmp_path: Path) -> None:
    _config(tmp_path, [("a1", None, "base"), ("b1", "a1", "one"), ("c1", "a1", "two")])
    result = invoke_process(
        ["--config", "settings.py:db", "verify"],
        cwd=tmp_path,
    )
    assert result.exit_code == 1 and "heads: 2 heads (b1, c1)" in result.stdout and "Traceback" not in result.stderr
    probe = tmp_path / "probe.py"
    probe.write_text(
        "import sys\nfrom dbops.cli.app import run\ncode = run(['--config', 'settings.py:db', 'verify'])\n"
        "print(sorted(m for m in ('sqlalchemy', 'alembic', 'litestar') if m in sys.modules), code)\n"
    )
    completed = subprocess.run(["python", str(probe)], cwd=tmp_path, capture_output=True, text=True, check=False)
    assert completed.stdout.strip().endswith("[] 1"), completed.stdout + completed.stderr
    missing = invoke(["--config", "settings.py:db", "verify"], cwd=tmp_path / "migrations")
    assert missing.exit_code == 2 and "Traceback" not in missing.stderr
