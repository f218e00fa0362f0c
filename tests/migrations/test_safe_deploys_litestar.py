"""The safe-deploy commands through ``litestar database``: lint, verify, check --lint, upgrade --ddl-lock-timeout.

The app is a Litestar app whose plugin carries the config (sync or async), run through Litestar's own CLI;
the same commands through ``dbops`` are tested in ``lint/``, ``test_verify.py`` and ``test_ddl_timeout.py``.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from click.testing import Result

from tests.databases import TestDatabase
from tests.migrations.conftest import versions
from tests.migrations.lint.helpers import BASE, OFFLINE_URLS, make_project, write_revision
from tests.migrations.test_ddl_timeout import FIRST, SECOND, Blocker
from tests.plugin.helpers import run_litestar, write_module

APP = """
from pathlib import Path

from litestar import Litestar
from litestar_dbops import {alembic}, SQLAlchemyPlugin, {cls}

config = {cls}(
    connection_string={url!r},
    alembic_config={alembic}(script_location=str(Path(__file__).parent / "migrations"){extra}),
)
app = Litestar(plugins=[SQLAlchemyPlugin(config=config)])
"""


def litestar_app(folder: Path, url: str, *, is_async: bool = False, extra: str = "") -> list[str]:
    """A Litestar app module in ``folder`` for ``url``; returns the ``--app ... database`` argv prefix."""
    cls, alembic = (
        ("SQLAlchemyAsyncConfig", "AlembicAsyncConfig") if is_async else ("SQLAlchemySyncConfig", "AlembicSyncConfig")
    )
    name = write_module(folder, APP.format(cls=cls, alembic=alembic, url=url, extra=extra), prefix="deploys_app")
    return ["--app", f"{name}:app", "database"]


def run(folder: Path, app: list[str], *args: str) -> Result:
    return run_litestar([*app, *args], app_dir=folder)


def test_lint_formats_and_exit_codes(tmp_path: Path) -> None:
    url = OFFLINE_URLS["postgresql"]
    make_project(
        tmp_path,
        url,
        [("r1", None, BASE), ("r2", "r1", 'op.drop_table("author")'), ("r3", "r2", 'op.execute("SELECT 1")')],
    )
    # The config's lock timeout reaches lint through the plugin: no lock-timeout-missing finding.
    app = litestar_app(tmp_path, url, extra=", ddl_lock_timeout='500ms'")
    clean = run(tmp_path, app, "lint", "r3")
    assert clean.exit_code == 0, clean.output
    assert "0 finding(s) in 0 of 1 revision(s) (postgresql)." in clean.output
    as_json = run(tmp_path, app, "lint", "r2", "--format", "json")
    assert as_json.exit_code == 1
    findings = [f for revision in json.loads(as_json.stdout)["revisions"] for f in revision["findings"]]
    assert [(f["rule"], f["revision"]) for f in findings] == [("drop-table", "r2")]
    sarif = run(tmp_path, app, "lint", "r2", "--format", "sarif")
    assert sarif.exit_code == 1
    results = json.loads(sarif.stdout)["runs"][0]["results"]
    assert [r["ruleId"] for r in results] == ["drop-table"]
    assert results[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].endswith("r2.py")
    unknown = run(tmp_path, app, "lint", "nosuchrev")
    assert unknown.exit_code == 2 and "nosuchrev" in unknown.output and "Traceback" not in unknown.output
    rules = run(tmp_path, app, "lint", "--list-rules")
    assert rules.exit_code == 0 and "create-index-non-concurrently  [postgresql]" in rules.stdout


def _git(folder: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@e", *args], cwd=folder, check=True, capture_output=True
    )


def test_lint_and_verify_since_a_git_ref(tmp_path: Path) -> None:
    url = OFFLINE_URLS["mysql"]
    make_project(tmp_path, url, [("r1", None, BASE), ("r2", "r1", 'op.drop_column("book", "price")')])
    app = litestar_app(tmp_path, url)
    _git(tmp_path, "init", "-q", "-b", "main")
    _git(tmp_path, "add", ".")
    _git(tmp_path, "commit", "-qm", "release")
    migrations = tmp_path / "migrations"
    write_revision(migrations, "r3", "r2", 'op.rename_table("book", "books")', message="rename books")
    linted = run(tmp_path, app, "lint", "--since", "main", "--format", "json")
    assert linted.exit_code == 1, linted.output
    report = json.loads(linted.stdout)
    flagged = {f["revision"] for revision in report["revisions"] for f in revision["findings"]}
    assert flagged == {"r3"}  # r2's drop-column was released already: not linted again
    verified = run(tmp_path, app, "verify", "--since", "main", "--format", "json")
    assert verified.exit_code == 0, verified.output
    assert json.loads(verified.stdout)["new"] == ["r3"]
    # A branch written against an older main (before r2 landed): out of order.
    write_revision(migrations, "r4", "r1", "pass", message="written on an old branch")
    late = run(tmp_path, app, "verify", "--since", "main")
    assert late.exit_code == 1
    assert "out-of-order: new revision r4 builds on r1, which is not the head at main (r2)" in late.output
    assert "heads: 2 heads (r3, r4)" in late.output


def test_verify_exit_codes(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'never.sqlite'}"
    make_project(tmp_path, url, [("a1", None, "pass"), ("b1", "a1", "pass")])
    app = litestar_app(tmp_path, url)
    ok = run(tmp_path, app, "verify")
    assert ok.exit_code == 0 and "2 revision(s), head b1: history is sound." in ok.output
    write_revision(tmp_path / "migrations", "c1", "zz", "pass", message="points nowhere")
    bad = run(tmp_path, app, "verify", "--format", "json")
    assert bad.exit_code == 1
    assert sorted(p["kind"] for p in json.loads(bad.stdout)["problems"]) == ["dangling", "heads"]  # b1 and c1
    assert not (tmp_path / "never.sqlite").exists()  # verify touched no database
    elsewhere = tmp_path / "other"
    elsewhere.mkdir()
    missing = run(elsewhere, litestar_app(elsewhere, url), "verify")
    assert missing.exit_code == 2 and "no migrations directory" in missing.output
    assert "Traceback" not in missing.output


def test_check_lint_on_every_dialect(db: TestDatabase, is_async: bool, tmp_path: Path) -> None:
    first = 'op.create_table("book", sa.Column("id", sa.BigInteger, primary_key=True), sa.Column("price", sa.Integer))'
    make_project(tmp_path, db.sync_url, [("r1", None, first), ("r2", "r1", 'op.drop_column("book", "price")')])
    # No models: check compares nothing, so it reports the unapplied revision and its lint.
    app = litestar_app(
        tmp_path, db.url(is_async=is_async), is_async=is_async, extra=", include_object=lambda *a: False"
    )
    assert run(tmp_path, app, "upgrade", "r1").exit_code == 0
    checked = run(tmp_path, app, "check", "--lint")
    assert checked.exit_code == 1
    assert "drop-column: DROP COLUMN book.price (revision r2)" in checked.output
    assert run(tmp_path, app, "upgrade").exit_code == 0
    done = run(tmp_path, app, "check", "--lint")
    assert done.exit_code == 0, done.output


def test_upgrade_ddl_lock_timeout_with_an_async_config(db: TestDatabase, tmp_path: Path) -> None:
    """asyncpg / asyncmy, through Litestar's CLI: a blocker that stays makes the upgrade give up (exit 4)."""
    if db.dialect == "sqlite":
        pytest.skip("no DDL lock timeouts on SQLite")
    make_project(tmp_path, db.sync_url, [("r1", None, FIRST), ("r2", "r1", SECOND)])
    app = litestar_app(tmp_path, db.async_url, is_async=True)
    assert run(tmp_path, app, "upgrade", "r1").exit_code == 0
    with Blocker(db, seconds=5):
        failed = run(tmp_path, app, "upgrade", "--ddl-lock-timeout", "1s", "--retries", "1")
    assert failed.exit_code == 4, failed.output
    assert "revision r2 could not lock table book within 1 s on 2 attempt(s)" in failed.output
    assert versions(db) == {"r1"}
    assert run(tmp_path, app, "upgrade", "--ddl-lock-timeout", "1s").exit_code == 0
    assert versions(db) == {"r2"}
