"""Agreement with the anchor: the SQL files in ``squawk_corpus/`` linted by ``dbops lint`` and by squawk.

Each file becomes one revision (``op.execute`` of the file), linted offline for PostgreSQL by dbops, and the
file itself is linted by ``squawk --assume-in-transaction`` (Alembic runs each revision in a transaction,
which is what dbops sees too). For every squawk rule that has a dbops counterpart (``Rule.squawk``) the two
verdicts per file are compared; the files where they differ, and why, are listed in ``DIFFERENCES`` below.
The test fails when a new difference appears, and also when a listed one goes away.

Where both tools lack context they agree: a type change on a table the file doesn't create is flagged by both
(dbops says "previous type unknown"; inside a project it knows the earlier revisions' types and lets a widening
varchar pass, see ``test_rules.py``).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from dbops.migrations.lint.engine import lint
from dbops.migrations.lint.rules import RULES
from tests.migrations.lint.helpers import OFFLINE_URLS, make_project

CORPUS = Path(__file__).resolve().parent / "squawk_corpus"

# squawk rule -> the dbops rules that answer the same question.
SHARED: dict[str, set[str]] = {}
for _rule in RULES.values():
    for _theirs in _rule.squawk:
        SHARED.setdefault(_theirs, set()).add(_rule.name)

_NEW_TABLE = "the table is created in the same revision: nothing reads it yet, so dbops does not flag it"
_LOCK_FREE = "dbops asks for a lock timeout only before statements that take a lock readers queue behind"
DIFFERENCES: dict[tuple[str, str], str] = {
    ("03_create_index_new_table.sql", "require-lock-timeout"): _NEW_TABLE,
    ("46_drop_table_new.sql", "ban-drop-table"): _NEW_TABLE,
    ("46_drop_table_new.sql", "require-lock-timeout"): _NEW_TABLE,
    ("04_concurrently_in_transaction.sql", "ban-concurrent-index-creation-in-transaction"): (
        "squawk 2.x only sees an explicit BEGIN in the file (it agrees on 04b); dbops sees the transaction "
        "Alembic opens around every revision"
    ),
    ("04_concurrently_in_transaction.sql", "require-lock-timeout"): (
        _LOCK_FREE + " (CONCURRENTLY takes SHARE UPDATE EXCLUSIVE: reads and writes go on)"
    ),
    ("04b_concurrently_in_explicit_transaction.sql", "require-lock-timeout"): _LOCK_FREE,
    ("02_create_index_concurrently.sql", "require-lock-timeout"): _LOCK_FREE,
    ("06_drop_index_concurrently.sql", "require-lock-timeout"): _LOCK_FREE,
    ("45_create_unique_index_concurrently.sql", "require-lock-timeout"): _LOCK_FREE,
    ("38_add_enum_value.sql", "require-lock-timeout"): _LOCK_FREE + " (ADD VALUE locks the type, not a table)",
    ("41_create_view.sql", "require-lock-timeout"): _LOCK_FREE + " (a new view locks nothing readers use)",
    ("47_comment_on.sql", "require-lock-timeout"): _LOCK_FREE + " (COMMENT ON is a catalog update)",
    ("15_change_type_using.sql", "prefer-bigint-over-int"): (
        "dbops flags only new integer primary keys; squawk flags every int column"
    ),
    ("33_create_table_int_column.sql", "prefer-bigint-over-int"): (
        "dbops flags only new integer primary keys; squawk flags every int column"
    ),
    ("12_unique_constraint.sql", "constraint-missing-not-valid"): (
        "a UNIQUE constraint has no NOT VALID form; dbops reports it once, as unique-constraint"
    ),
    ("42_add_primary_key.sql", "constraint-missing-not-valid"): (
        "a PRIMARY KEY has no NOT VALID form; dbops reports it as unique-constraint (build the index "
        "concurrently, then ADD PRIMARY KEY USING INDEX)"
    ),
    ("42_add_primary_key.sql", "disallowed-unique-constraint"): (
        "ADD PRIMARY KEY builds a unique index under ACCESS EXCLUSIVE just like ADD UNIQUE; squawk files it "
        "under other rules"
    ),
    ("43_add_serial_column.sql", "adding-field-with-default"): (
        "a serial column's default is nextval(), evaluated per row: adding one rewrites the table (squawk only "
        "says prefer-identity)"
    ),
}


def _squawk() -> str:
    found = shutil.which("squawk") or shutil.which("squawk", path=str(Path(sys.executable).parent))
    if found is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("CI=true: squawk (squawk-cli, a dev dependency) is not installed")
        pytest.skip("squawk (squawk-cli, a dev dependency) is not installed")
    return found


def _squawk_verdicts(files: list[Path]) -> dict[str, set[str]]:
    completed = subprocess.run(
        [_squawk(), "--assume-in-transaction", "--reporter", "json", *map(str, files)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert completed.returncode in (0, 1), completed.stderr
    verdicts: dict[str, set[str]] = {file.name: set() for file in files}
    for violation in json.loads(completed.stdout):
        verdicts[Path(violation["file"]).name].add(violation["rule_name"])
    return verdicts


def _dbops_verdicts(files: list[Path], tmp_path: Path) -> dict[str, set[str]]:
    verdicts: dict[str, set[str]] = {}
    for file in files:
        body = f"op.execute(sa.text({file.read_text()!r}))"
        config = make_project(tmp_path / file.stem, OFFLINE_URLS["postgresql"], [("r1", None, body)])
        verdicts[file.name] = {finding.rule for finding in lint(config).findings}
    return verdicts


def test_corpus_verdicts_agree_with_squawk_on_every_shared_rule(tmp_path: Path) -> None:
    files = sorted(CORPUS.glob("*.sql"))
    assert len(files) >= 40
    theirs = _squawk_verdicts(files)
    ours = _dbops_verdicts(files, tmp_path)
    differences: dict[tuple[str, str], tuple[bool, bool]] = {}
    agreed = 0
    for file in files:
        for squawk_rule, dbops_rules in SHARED.items():
            squawk_says = squawk_rule in theirs[file.name]
            dbops_says = bool(dbops_rules & ours[file.name])
            if squawk_says == dbops_says:
                agreed += 1
            else:
                differences[(file.name, squawk_rule)] = (dbops_says, squawk_says)
    unexplained = {key: value for key, value in differences.items() if key not in DIFFERENCES}
    gone = sorted(set(DIFFERENCES) - set(differences))
    assert not unexplained, f"new differences (file, squawk rule): (dbops, squawk) = {unexplained}"
    assert not gone, f"listed differences that no longer differ: {gone}"
    # Most verdicts agree; every difference above is one of a few documented design choices.
    assert agreed >= 0.95 * (agreed + len(differences))
    # The corpus exercises every shared rule on both sides at least once.
    for squawk_rule, dbops_rules in SHARED.items():
        assert any(squawk_rule in found for found in theirs.values()), squawk_rule
        assert any(dbops_rules & found for found in ours.values()), squawk_rule
