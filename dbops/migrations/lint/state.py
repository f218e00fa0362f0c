"""What the checkers know while they walk the revisions: the schema so far, and the state of one revision.

The catalog is built from the rendered SQL of every earlier revision (tables, column types, enum values),
so a rule can tell a varchar that shrinks from one that grows, an index on a table created in the same
revision (harmless) from one on a table that already holds rows, and an enum that loses values.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["Catalog", "Column", "Hit", "RevisionState"]


@dataclass
class Column:
    type: str
    """Normalised type name: ``varchar``, ``int4``, ``text``, an enum type's name, ``enum`` (MySQL)."""
    args: tuple[Any, ...] = ()
    """Type modifiers: lengths, precision/scale, or a MySQL enum's values."""


@dataclass
class Catalog:
    tables: dict[str, dict[str, Column]] = field(default_factory=dict)
    enums: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """PostgreSQL enum types and their values."""
    indexes: dict[str, str] = field(default_factory=dict)
    """Index name -> table name."""

    def column(self, table: str, column: str) -> Column | None:
        return self.tables.get(table, {}).get(column)


@dataclass(frozen=True)
class Hit:
    """A rule a statement tripped, with the specifics."""

    rule: str
    detail: str


@dataclass
class RevisionState:
    """What one revision has done so far (checkers read and update it statement by statement)."""

    catalog: Catalog
    lock_timeout: bool = False
    """A lock timeout is in force (SET lock_timeout / lock_wait_timeout, or the config's ddl_lock_timeout)."""
    in_transaction: bool = False
    created: set[str] = field(default_factory=set)
    """Tables created by this revision: nobody reads them yet, so locking them costs nothing."""
    created_indexes: set[str] = field(default_factory=set)
    replaced_enums: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Enum types renamed away or dropped in this revision, by their old name, with their values."""
    not_null_checks: dict[str, tuple[str, str]] = field(default_factory=dict)
    """``CHECK (col IS NOT NULL)`` constraints by name -> (table, column)."""
    proven_not_null: set[tuple[str, str]] = field(default_factory=set)
    """Columns a validated ``IS NOT NULL`` check covers (PostgreSQL 12+ then sets NOT NULL without a scan)."""
    local_lock_timeout: bool = False
    foreign_key_checks: bool = True
    rebuilt: set[str] = field(default_factory=set)
    """Tables a SQLite batch operation is recreating in this revision."""

    def existing(self, table: str) -> bool:
        """Whether ``table`` existed before this revision (so it may hold rows and have readers)."""
        return table not in self.created
