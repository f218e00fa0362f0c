"""Readable one-line descriptions of Alembic's autogenerate diffs, for ``check`` and ``make-migrations``."""

from __future__ import annotations

from typing import Any

from dbops.migrations.results import Difference

__all__ = ["describe_diff"]


def _table_name(table: Any) -> str:
    schema = getattr(table, "schema", None)
    return f"{schema}.{table.name}" if schema else str(table.name)


def _qualified(schema: str | None, table: str | None) -> str:
    return f"{schema}.{table}" if schema else str(table)


def _object(kind: str, obj: Any) -> tuple[str | None, str | None]:
    """(table, name) of a table, index or constraint object."""
    if kind == "table":
        return _table_name(obj), _table_name(obj)
    # Not ``a or b``: a Table is a SQL expression, and asking one for its truth value raises TypeError.
    table = getattr(obj, "table", None)
    if table is None:
        table = getattr(obj, "parent", None)
    table_name = _table_name(table) if table is not None and hasattr(table, "name") else None
    name = getattr(obj, "name", None)
    if not name and hasattr(obj, "columns"):
        name = "(" + ", ".join(str(c.name) for c in obj.columns) + ")"
    return table_name, str(name) if name is not None else None


_NOUNS = {
    "table": "table",
    "column": "column",
    "index": "index",
    "constraint": "constraint",
    "fk": "foreign key",
    "uq": "unique constraint",
    "ck": "check constraint",
    "table_comment": "table comment",
}


def describe_diff(diff: Any) -> Difference:
    """One ``Difference`` for an autogenerate diff tuple (or a list of ``modify_*`` tuples on one column)."""
    if isinstance(diff, list):
        parts = [describe_diff(item) for item in diff]
        first = parts[0]
        return Difference(first.kind, first.table, first.name, "; ".join(p.detail for p in parts))
    kind = str(diff[0])
    verb, _, noun = kind.partition("_")
    if verb == "modify":
        # ("modify_type", schema, table, column, existing_kw, old, new)
        _, schema, table, column, _existing, old, new = diff
        table_name = _qualified(schema, table)
        return Difference(
            kind, table_name, column, f"change {noun} of column {table_name}.{column}: {old!r} -> {new!r}"
        )
    if noun == "column":
        _, schema, table, column = diff
        table_name = _qualified(schema, table)
        return Difference(kind, table_name, column.name, f"{verb} column {table_name}.{column.name} ({column.type})")
    if noun == "table_comment":
        table = diff[1]
        return Difference(kind, _table_name(table), None, f"{verb} comment on table {_table_name(table)}")
    if noun in _NOUNS:
        owner, name = _object(noun, diff[1])
        where = f" on {owner}" if owner and noun != "table" else ""
        return Difference(kind, owner, name, f"{verb} {_NOUNS[noun]} {name}{where}")
    return Difference(kind, None, None, f"{kind}: {diff[1:]!r}")
