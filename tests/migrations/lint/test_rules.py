"""Every rule, on every dialect it applies to: a revision that trips it and a near miss that doesn't."""

from __future__ import annotations

from pathlib import Path

import pytest

from dbops.migrations.lint.engine import lint, lint_sql
from dbops.migrations.lint.rules import RULES, rules_for
from tests.migrations.lint.cases import CASES, Case
from tests.migrations.lint.helpers import BASE, OFFLINE_URLS, make_project


def _lint_case(tmp_path: Path, case: Case, body: str) -> list[str]:
    url = OFFLINE_URLS.get(case.dialect, f"sqlite:///{tmp_path / 'app.sqlite'}")
    config = make_project(tmp_path, url, [("r1", None, BASE), ("r2", "r1", body)])
    result = lint(config, "r2")
    assert [revision.revision for revision in result.revisions] == ["r2"]
    return [finding.rule for finding in result.findings]


def test_at_least_fifteen_rules_each_with_explanation_and_alternative() -> None:
    assert len(RULES) >= 15
    for rule in RULES.values():
        assert rule.summary.endswith(".") and "\n" not in rule.summary, rule.name
        assert rule.safe and rule.dialects, rule.name


def test_every_rule_has_a_case_on_every_dialect_it_applies_to() -> None:
    wanted = {(rule.name, dialect) for rule in RULES.values() for dialect in rule.dialects}
    assert {(case.rule, case.dialect) for case in CASES} == wanted


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_rule_trips(tmp_path: Path, case: Case) -> None:
    assert case.rule in _lint_case(tmp_path, case, case.trips)


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_rule_near_miss_is_clean(tmp_path: Path, case: Case) -> None:
    assert case.rule not in _lint_case(tmp_path, case, case.clean)


def test_rules_of_other_dialects_never_report(tmp_path: Path) -> None:
    mysql_only = {rule.name for rule in rules_for("mysql")} - {rule.name for rule in rules_for("postgresql")}
    hits = lint_sql("ALTER TABLE book CONVERT TO CHARACTER SET utf8mb4", "mysql")
    assert [hit.rule for hit in hits] == ["mysql-convert-charset", "lock-timeout-missing"]
    assert "mysql-convert-charset" in mysql_only
    assert not {hit.rule for hit in lint_sql("VACUUM FULL book", "postgresql")} & mysql_only


def test_findings_point_at_the_operation_in_the_revision_file(tmp_path: Path) -> None:
    config = make_project(
        tmp_path,
        OFFLINE_URLS["postgresql"],
        [
            ("r1", None, BASE),
            (
                "r2",
                "r1",
                """
                op.add_column("book", sa.Column("note", sa.Text))
                op.create_index(
                    "ix_book_title",
                    "book",
                    ["title"],
                )
                """,
            ),
        ],
    )
    result = lint(config, "r2")
    source = Path(result.revisions[0].path).read_text().splitlines()
    by_rule = {finding.rule: finding for finding in result.findings}
    index = by_rule["create-index-non-concurrently"]
    assert index.line is not None and source[index.line - 1].strip() == "op.create_index("
    assert index.statement == "CREATE INDEX ix_book_title ON book (title)"
    timeout = by_rule["lock-timeout-missing"]  # one per revision, at its first statement
    assert timeout.line is not None and "op.add_column" in source[timeout.line - 1]
    assert "1 more statement" in timeout.detail


def test_the_configs_ddl_lock_timeout_counts_as_a_lock_timeout(tmp_path: Path) -> None:
    revisions = [("r1", None, BASE), ("r2", "r1", 'op.add_column("book", sa.Column("note", sa.Text))')]
    plain = make_project(tmp_path / "plain", OFFLINE_URLS["postgresql"], revisions)
    guarded = make_project(tmp_path / "guarded", OFFLINE_URLS["postgresql"], revisions, ddl_lock_timeout="500ms")
    assert [f.rule for f in lint(plain, "r2").findings] == ["lock-timeout-missing"]
    assert lint(guarded, "r2").ok


def test_mysql_alter_that_demands_inplace_lock_none_is_safe_by_construction() -> None:
    sql = "CREATE TABLE book (id BIGINT PRIMARY KEY, price DECIMAL(10, 2)); SET lock_wait_timeout = 3;"
    copy = lint_sql(sql + "ALTER TABLE book MODIFY price DOUBLE", "mysql")
    assert [hit.rule for hit in copy] == []  # the table was created in the same "revision"
    existing = "SET lock_wait_timeout = 3; ALTER TABLE book MODIFY price DOUBLE"
    assert [hit.rule for hit in lint_sql(existing, "mysql")] == ["column-type-rewrite"]
    guarded = existing + ", ALGORITHM=INPLACE, LOCK=NONE"
    assert lint_sql(guarded, "mysql") == []


def test_a_lock_timeout_set_local_ends_with_its_transaction() -> None:
    sql = (
        "BEGIN; SET LOCAL lock_timeout = '1s'; ALTER TABLE book ADD COLUMN a text; COMMIT; "
        "ALTER TABLE book ADD COLUMN b text"
    )
    hits = lint_sql(sql, "postgresql")
    assert [(hit.rule, hit.detail) for hit in hits] == [
        ("lock-timeout-missing", "ALTER TABLE book without a lock_timeout in force")
    ]
