"""What the database says about its tables beyond SQLAlchemy's reflection: partitions, inheritance,
generated and identity columns.

PostgreSQL partitions are dumped and loaded through their partitioned (root) table: the root's rows are every
partition's rows, each exactly once, and a load into the root routes each row to its partition, whatever the
target's partition layout. The partitions themselves are never dumped, and a foreign key declared on a
partition counts as the root's for the load order. A table with inheritance children (``INHERITS``) is read
and emptied with ``ONLY``, so each row belongs to the one table that holds it. MariaDB/MySQL partitions are
one table to SQL and need nothing. Views and materialized views are not tables to ``get_table_names`` and are
never dumped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy import Connection, Table

__all__ = ["Catalog", "ColumnFacts", "read_catalog"]


@dataclass(frozen=True)
class ColumnFacts:
    """Columns of one table the database fills itself."""

    generated: frozenset[str] = frozenset()
    """Generated (computed) columns: never dumped, never written; the database recomputes them."""
    identity_always: frozenset[str] = frozenset()
    """``GENERATED ALWAYS AS IDENTITY`` columns (PostgreSQL): written with ``OVERRIDING SYSTEM VALUE``."""


@dataclass
class Catalog:
    """Facts about the tables of one database (labels as ``tables.table_label`` makes them)."""

    dialect: str
    partitions: set[str] = field(default_factory=set)
    """PostgreSQL partitions (at any depth): their rows are dumped and loaded through their root."""
    roots: dict[str, str] = field(default_factory=dict)
    """Partition label → its partitioned root's label."""
    inheritance_parents: set[str] = field(default_factory=set)
    """Tables with ``INHERITS`` children (not partitioned): read and emptied with ``ONLY``."""
    dependencies: dict[str, set[str]] = field(default_factory=dict)
    """Table → tables its foreign keys reference, partitions' keys counted as their root's (PostgreSQL)."""

    def unit(self, label: str) -> str:
        """The table a label's rows are dumped and loaded through (a partition's root, else itself)."""
        return self.roots.get(label, label)

    def only(self, label: str) -> bool:
        return label in self.inheritance_parents

    def column_facts(self, connection: Connection, table: Table) -> ColumnFacts:
        """Generated and identity columns as the database has them (a model may not declare them)."""
        from sqlalchemy import inspect

        columns: list[Any]
        try:
            columns = list(inspect(connection).get_columns(table.name, schema=table.schema))
        except Exception:  # a table the dialect can't reflect: what the model declares
            columns = [
                {"name": column.name, "computed": column.computed, "identity": column.identity}
                for column in table.columns
            ]
        generated = {str(column["name"]) for column in columns if column.get("computed")}
        identity = set()
        for column in columns:
            spec: Any = column.get("identity")
            always = spec.get("always") if isinstance(spec, dict) else getattr(spec, "always", False)
            if always:
                identity.add(str(column["name"]))
        keys = {column.name: column.key for column in table.columns}
        return ColumnFacts(
            frozenset(keys.get(name, name) for name in generated),
            frozenset(keys.get(name, name) for name in identity),
        )


_PG_TABLES = """
SELECT n.nspname, c.relname, c.relkind::text, c.relispartition,
       rn.nspname AS root_schema, r.relname AS root_name,
       EXISTS (SELECT 1 FROM pg_inherits i WHERE i.inhparent = c.oid) AS has_children
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_class r ON c.relispartition AND r.oid = pg_partition_root(c.oid)
LEFT JOIN pg_namespace rn ON rn.oid = r.relnamespace
WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND left(n.nspname, 8) <> 'pg_toast'
"""

_PG_FOREIGN_KEYS = """
SELECT sn.nspname, s.relname, tn.nspname, t.relname
FROM pg_constraint k
JOIN pg_class s ON s.oid = k.conrelid JOIN pg_namespace sn ON sn.oid = s.relnamespace
JOIN pg_class t ON t.oid = k.confrelid JOIN pg_namespace tn ON tn.oid = t.relnamespace
WHERE k.contype = 'f'
"""


def read_catalog(connection: Connection, dialect: str) -> Catalog:
    """The catalog of the connection's database (partitions and inheritance only exist on PostgreSQL)."""
    catalog = Catalog(dialect)
    if dialect != "postgresql":
        return catalog
    default = str(connection.exec_driver_sql("SELECT current_schema()").scalar_one())

    def label(schema: str, name: str) -> str:
        return name if schema == default else f"{schema}.{name}"

    for schema, name, kind, is_partition, root_schema, root_name, has_children in connection.exec_driver_sql(
        _PG_TABLES
    ):
        own = label(schema, name)
        if is_partition:
            catalog.partitions.add(own)
            catalog.roots[own] = label(root_schema, root_name)
        elif kind == "r" and has_children:
            catalog.inheritance_parents.add(own)
    for source_schema, source, target_schema, target in connection.exec_driver_sql(_PG_FOREIGN_KEYS):
        child = catalog.unit(label(source_schema, source))
        parent = catalog.unit(label(target_schema, target))
        if child != parent:
            catalog.dependencies.setdefault(child, set()).add(parent)
    return catalog
