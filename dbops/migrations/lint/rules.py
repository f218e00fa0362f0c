"""The lint rules: a name, the dialects it applies to, one line on why it hurts, and the safe alternative.

The checkers (``postgres.py``, ``generic.py``) report findings by rule name; everything a user reads about a
rule (``dbops lint --list-rules``, the README table, SARIF rule metadata) comes from this one table.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["DIALECTS", "RULES", "Rule", "rules_for"]

POSTGRESQL, MYSQL, SQLITE = "postgresql", "mysql", "sqlite"
DIALECTS = (POSTGRESQL, MYSQL, SQLITE)
_ALL = (POSTGRESQL, MYSQL, SQLITE)


@dataclass(frozen=True)
class Rule:
    name: str
    dialects: tuple[str, ...]
    summary: str
    """Why the operation is unsafe on a live database, in one line."""
    safe: str
    """What to do instead."""
    squawk: tuple[str, ...] = ()
    """squawk's rules for the same problem (PostgreSQL), compared in the agreement test."""

    def to_dict(self) -> dict[str, object]:
        return {"name": self.name, "dialects": list(self.dialects), "summary": self.summary, "safe": self.safe}


_AUTOCOMMIT = "inside `with op.get_context().autocommit_block():`"

_RULE_LIST = (
    Rule(
        "create-index-non-concurrently",
        (POSTGRESQL,),
        "CREATE INDEX without CONCURRENTLY blocks every write to the table (SHARE lock) while the index builds.",
        f"op.create_index(..., postgresql_concurrently=True) {_AUTOCOMMIT}",
        ("require-concurrent-index-creation",),
    ),
    Rule(
        "drop-index-non-concurrently",
        (POSTGRESQL,),
        "DROP INDEX without CONCURRENTLY takes an ACCESS EXCLUSIVE lock on the table: reads and writes wait.",
        f"op.drop_index(..., postgresql_concurrently=True) {_AUTOCOMMIT}",
        ("require-concurrent-index-deletion",),
    ),
    Rule(
        "concurrently-in-transaction",
        (POSTGRESQL,),
        "CREATE/DROP INDEX CONCURRENTLY cannot run inside a transaction block: the migration fails.",
        f"run it {_AUTOCOMMIT}",
        ("ban-concurrent-index-creation-in-transaction",),
    ),
    Rule(
        "foreign-key-not-valid",
        (POSTGRESQL,),
        "ADD FOREIGN KEY checks every row while holding SHARE ROW EXCLUSIVE locks on both tables: writes wait.",
        "add it NOT VALID (op.create_foreign_key(..., postgresql_not_valid=True)), then "
        "ALTER TABLE ... VALIDATE CONSTRAINT in a later revision (reads and writes continue)",
        ("adding-foreign-key-constraint", "constraint-missing-not-valid"),
    ),
    Rule(
        "check-constraint-not-valid",
        (POSTGRESQL,),
        "ADD CHECK scans the whole table under an ACCESS EXCLUSIVE lock: reads and writes wait.",
        "add it NOT VALID (op.create_check_constraint(..., postgresql_not_valid=True)), then "
        "ALTER TABLE ... VALIDATE CONSTRAINT in a later revision",
        ("constraint-missing-not-valid",),
    ),
    Rule(
        "unique-constraint",
        (POSTGRESQL,),
        "ADD UNIQUE / PRIMARY KEY builds its index under an ACCESS EXCLUSIVE lock: reads and writes wait.",
        "CREATE UNIQUE INDEX CONCURRENTLY first, then ALTER TABLE ... ADD CONSTRAINT name UNIQUE USING INDEX idx",
        ("disallowed-unique-constraint",),
    ),
    Rule(
        "column-type-rewrite",
        (POSTGRESQL, MYSQL),
        "Changing a column's type rewrites the table and its indexes under an exclusive lock "
        "(MySQL/MariaDB: ALGORITHM=COPY).",
        "expand/contract: add a new column, backfill it in batches, switch the code, drop the old one "
        "(widening a varchar, or varchar to text on PostgreSQL, does not rewrite)",
        ("changing-column-type",),
    ),
    Rule(
        "varchar-length-reduction",
        (POSTGRESQL, MYSQL),
        "Shortening a varchar rewrites and checks every row under an exclusive lock, and fails on longer values.",
        "keep the column type and add CHECK (char_length(col) <= n) NOT VALID, then VALIDATE CONSTRAINT",
        ("changing-column-type",),
    ),
    Rule(
        "set-not-null",
        (POSTGRESQL,),
        "SET NOT NULL on an existing column scans the whole table under an ACCESS EXCLUSIVE lock.",
        "add CHECK (col IS NOT NULL) NOT VALID, VALIDATE CONSTRAINT, then SET NOT NULL "
        "(PostgreSQL 12+ skips the scan) and drop the check",
        ("adding-not-nullable-field",),
    ),
    Rule(
        "add-column-volatile-default",
        (POSTGRESQL,),
        "ADD COLUMN with a volatile default (random(), gen_random_uuid(), clock_timestamp(), a sequence, an "
        "identity or a stored generated column) rewrites the table under an ACCESS EXCLUSIVE lock.",
        "add the column without a default (or a constant one), backfill in batches, then SET DEFAULT",
        ("adding-field-with-default",),
    ),
    Rule(
        "add-column-required",
        (POSTGRESQL, SQLITE),
        "ADD COLUMN ... NOT NULL without a default fails on every table that has rows (SQLite: always).",
        "add it nullable or with a constant server_default, backfill, then make it NOT NULL",
        ("adding-required-field",),
    ),
    Rule(
        "drop-column",
        _ALL,
        "The running release still reads and writes this column: it breaks between the migration and the deploy.",
        "stop using the column in one release (remove it from the model), drop it in a later one",
        ("ban-drop-column",),
    ),
    Rule(
        "drop-table",
        _ALL,
        "The running release may still use this table: it breaks between the migration and the deploy.",
        "stop using the table in one release, drop it in a later one",
        ("ban-drop-table",),
    ),
    Rule(
        "rename-column",
        _ALL,
        "The running release still uses the old column name: its queries fail once the rename commits.",
        "add the new column, write both, backfill, switch readers, then drop the old one",
        ("renaming-column",),
    ),
    Rule(
        "rename-table",
        _ALL,
        "The running release still uses the old table name: its queries fail once the rename commits.",
        "create the new table (or a view with the new name), move the code over, then drop the old one",
        ("renaming-table",),
    ),
    Rule(
        "lock-timeout-missing",
        (POSTGRESQL, MYSQL),
        "Without a lock timeout, DDL waits behind any long transaction and every query on the table queues behind it.",
        "set alembic_config.ddl_lock_timeout (or run upgrade --ddl-lock-timeout 500ms --retries 5), or "
        "SET lock_timeout (PostgreSQL) / lock_wait_timeout (MySQL/MariaDB) before the statement",
        ("require-lock-timeout",),
    ),
    Rule(
        "vacuum-full-cluster",
        (POSTGRESQL,),
        "VACUUM FULL and CLUSTER rewrite the whole table under an ACCESS EXCLUSIVE lock.",
        "pg_repack or pg_squeeze outside the migration; plain VACUUM needs no exclusive lock",
    ),
    Rule(
        "int-primary-key",
        (POSTGRESQL, MYSQL),
        "A new serial/integer primary key runs out at 2,147,483,647; widening it later rewrites the table.",
        "sa.BigInteger with sa.Identity() (a bigint identity) for new primary keys",
        ("prefer-bigint-over-int",),
    ),
    Rule(
        "enum-value-removal",
        (POSTGRESQL, MYSQL),
        "Removing an enum value rewrites every column of that type and fails on rows holding it; the running "
        "release may still write it.",
        "keep the value and stop writing it in code; if it must go, move the rows off it first, in batches",
    ),
    Rule(
        "mysql-foreign-key-copy",
        (MYSQL,),
        "ADD FOREIGN KEY with foreign_key_checks=1 cannot run ALGORITHM=INPLACE: the table is copied, writes wait.",
        "SET foreign_key_checks = 0 around the statement once the data is known to be consistent (INPLACE, "
        "LOCK=NONE), or create the key with the table",
    ),
    Rule(
        "mysql-drop-primary-key",
        (MYSQL,),
        "DROP PRIMARY KEY without adding another in the same statement runs ALGORITHM=COPY.",
        "DROP PRIMARY KEY, ADD PRIMARY KEY (...) in one ALTER TABLE (INPLACE, LOCK=NONE)",
    ),
    Rule(
        "mysql-convert-charset",
        (MYSQL,),
        "CONVERT TO CHARACTER SET copies the table (ALGORITHM=COPY): writes wait for the whole copy.",
        "an online schema-change tool (gh-ost, pt-online-schema-change), or a quiet window",
    ),
    Rule(
        "mysql-fulltext-spatial-index",
        (MYSQL,),
        "A FULLTEXT or SPATIAL index cannot be built with LOCK=NONE: writes wait while it builds.",
        "an online schema-change tool (gh-ost, pt-online-schema-change), or create it with the table",
    ),
    Rule(
        "mysql-auto-increment-column",
        (MYSQL,),
        "Adding an AUTO_INCREMENT column rebuilds the table with LOCK=SHARED: writes wait.",
        "create the column with the table, or use an online schema-change tool",
    ),
    Rule(
        "mysql-stored-generated-column",
        (MYSQL,),
        "Adding a STORED generated column runs ALGORITHM=COPY.",
        "a VIRTUAL generated column (ALGORITHM=INSTANT), indexed if it must be searched",
    ),
    Rule(
        "sqlite-table-rebuild",
        (SQLITE,),
        "Batch mode recreates the table (copies every row, drops, renames) while holding the database's write lock.",
        "plain op.add_column / op.alter_column(new_column_name=...) / op.drop_column where SQLite supports them "
        "(ADD COLUMN always, RENAME COLUMN 3.25+, DROP COLUMN 3.35+), outside batch_alter_table",
    ),
    Rule(
        "invalid-suppression",
        _ALL,
        "A `# dbops-lint: allow <rule> -- <reason>` comment must name a known rule and give a reason.",
        "write the rule's name and, after `--`, why the finding is safe here",
    ),
)

RULES: dict[str, Rule] = {rule.name: rule for rule in _RULE_LIST}


def rules_for(dialect: str) -> list[Rule]:
    """The rules that apply to ``dialect`` (``postgresql``, ``mysql`` for MySQL and MariaDB, ``sqlite``)."""
    return [rule for rule in _RULE_LIST if dialect in rule.dialects]
