"""Readable one-line descriptions of Alembic's autogenerate differences, for ``check`` and ``make-migrations``.

Each ``Difference`` keeps Alembic's own kind name (``add_index``, ``modify_nullable``, ...), the one in
Alembic's diff tuples, so scripts written against Alembic's output keep working; ``detail`` is for people.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from dbops.migrations.results import Difference

__all__ = ["describe_diff", "differences_of"]


def _qualified(schema: str | None, table: str | None) -> str:
    return f"{schema}.{table}" if schema else str(table)


def _table_label(table: Any) -> str | None:
    if table is None or getattr(table, "name", None) is None:
        return None
    return _qualified(getattr(table, "schema", None), table.name)


def _columns(obj: Any) -> str:
    names = []
    for expression in getattr(obj, "expressions", None) or list(getattr(obj, "columns", ())):
        name = getattr(expression, "name", None)
        names.append(str(name) if name is not None else str(expression))
    return "(" + ", ".join(names) + ")"


def _type(value: Any) -> str:
    if value is None:
        return "None"
    enums = getattr(value, "enums", None)
    if enums:  # the default dialect would compile a non-native Enum as VARCHAR(n)
        return "ENUM(" + ", ".join(repr(item) for item in enums) + ")"
    try:
        return str(value.compile()) if hasattr(value, "compile") else repr(value)
    except Exception:  # a dialect-only type (JSONB, ENUM) that the default dialect can't compile
        return repr(value)


def _default(value: Any) -> str:
    if value is None or value is False:
        return "none"
    arg = getattr(value, "arg", value)
    text = getattr(arg, "text", arg)
    return repr(str(text)) if not isinstance(text, str) else repr(text)


def _index(verb: str, kind: str, index: Any) -> Difference:
    table = _table_label(index.table)
    noun = "unique index" if index.unique else "index"
    return Difference(kind, table, str(index.name), f"{verb} {noun} {index.name} on {table} {_columns(index)}")


def _constraint(verb: str, kind: str, constraint: Any) -> Difference:
    from sqlalchemy import CheckConstraint, ForeignKeyConstraint, UniqueConstraint

    table = _table_label(getattr(constraint, "table", None))
    name = str(constraint.name) if constraint.name else None
    label = f" {name}" if name else ""
    if isinstance(constraint, ForeignKeyConstraint):
        target = _table_label(constraint.referred_table) if constraint.elements else None
        refs = "(" + ", ".join(element.column.name for element in constraint.elements) + ")"
        detail = f"{verb} foreign key{label} on {table} {_columns(constraint)} -> {target} {refs}"
    elif isinstance(constraint, UniqueConstraint):
        detail = f"{verb} unique constraint{label} on {table} {_columns(constraint)}"
    elif isinstance(constraint, CheckConstraint):
        detail = f"{verb} check constraint{label} on {table} ({constraint.sqltext})"
    else:
        detail = f"{verb} constraint{label} on {table}"
    return Difference(kind, table, name, detail)


def _modify(diff: tuple[Any, ...]) -> Difference:
    # ("modify_type", schema, table, column, existing_kw, old, new); same shape for nullable/default/comment.
    kind, schema, table, column, _existing, old, new = diff
    where = f"{_qualified(schema, table)}.{column}"
    if kind == "modify_type":
        detail = f"change type of column {where}: {_type(old)} -> {_type(new)}"
    elif kind == "modify_nullable":
        detail = f"make column {where} {'nullable' if new else 'NOT NULL'}"
    elif kind == "modify_default":
        detail = f"change server default of column {where}: {_default(old)} -> {_default(new)}"
    elif kind == "modify_comment":
        detail = f"change comment of column {where}: {old!r} -> {new!r}"
    else:
        detail = f"{kind.replace('_', ' ')} of column {where}: {old!r} -> {new!r}"
    return Difference(kind, _qualified(schema, table), str(column), detail)


def describe_diff(diff: Any) -> Difference:
    """One ``Difference`` for an autogenerate diff tuple."""
    kind = str(diff[0])
    verb = kind.split("_", 1)[0]
    if kind == "modify_enum":  # dbops' own (dbops.migrations.pg_enums): (kind, schema, name, old, new)
        _, schema, name, old, new = diff
        return Difference(
            kind, None, _qualified(schema, name), f"change values of enum {_qualified(schema, name)}: {old} -> {new}"
        )
    if kind.startswith("modify_"):
        return _modify(diff)
    if kind in ("add_table", "remove_table"):
        table = _table_label(diff[1])
        return Difference(kind, table, table, f"{verb} table {table}")
    if kind in ("add_column", "remove_column"):
        _, schema, table, column = diff
        where = _qualified(schema, table)
        return Difference(kind, where, column.name, f"{verb} column {where}.{column.name} ({_type(column.type)})")
    if kind in ("add_index", "remove_index"):
        return _index(verb, kind, diff[1])
    if kind in ("add_constraint", "remove_constraint", "add_fk", "remove_fk"):
        return _constraint(verb, kind, diff[1])
    if kind == "add_table_comment":
        table, existing = _table_label(diff[1]), diff[2]
        comment = diff[1].comment
        if existing:
            return Difference(kind, table, None, f"change comment on table {table}: {existing!r} -> {comment!r}")
        return Difference(kind, table, None, f"add comment on table {table}: {comment!r}")
    if kind == "remove_table_comment":
        table = _table_label(diff[1])
        return Difference(kind, table, None, f"remove comment on table {table}")
    return Difference(kind, None, None, f"{kind}: {diff[1:]!r}")


def _op_diffs(ops: Iterable[Any]) -> Iterator[Any]:
    """The diff tuples of autogenerate's operations; an operation a hook added that has none is named."""
    for op in ops:
        nested = getattr(op, "ops", None)
        if nested is not None:
            yield from _op_diffs(nested)
            continue
        try:
            diff = op.to_diff_tuple()
        except (NotImplementedError, AttributeError):
            yield ("operation", type(op).__name__)
            continue
        # An altered column is a list of modify_* tuples, one per attribute changed: one line each.
        yield from diff if isinstance(diff, list) else [diff]


def differences_of(upgrade_ops_list: Iterable[Any]) -> list[Difference]:
    """Every difference in a migration script's ``upgrade_ops_list``, in Alembic's order."""
    found: list[Difference] = []
    for upgrade_ops in upgrade_ops_list:
        for diff in _op_diffs(upgrade_ops.ops):
            if diff and diff[0] == "operation":
                found.append(Difference("operation", None, None, f"operation {diff[1]}"))
            else:
                found.append(describe_diff(diff))
    return found
