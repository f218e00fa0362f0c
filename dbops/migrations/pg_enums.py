"""PostgreSQL native enum values: the one difference Alembic's autogenerate does not see.

A model's ``Enum("todo", "doing", "done", name="task_status")`` is a ``CREATE TYPE`` on PostgreSQL; adding a
value to the model changes nothing Alembic compares, so ``check`` said "agree" while inserts of the new value
failed. This comparator (registered on Alembic's comparator registry, which Alembic keeps for third-party
extensions) compares each native enum of the target metadata with ``pg_enum`` and emits one ``modify_enum``
operation per type whose values differ. It renders as ``ALTER TYPE ... ADD VALUE`` when the database's values
are a prefix-preserving subsequence of the model's, and otherwise as the rename / create / ``ALTER COLUMN ...
USING`` / drop sequence PostgreSQL needs to remove or reorder values.
"""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import comparators, renderers
from alembic.operations.ops import MigrateOperation

__all__ = ["ModifyEnumOp", "register"]


class ModifyEnumOp(MigrateOperation):
    """Change a PostgreSQL enum type's values from ``old`` to ``new`` (columns: the ones using the type)."""

    def __init__(
        self, schema: str | None, name: str, old: tuple[str, ...], new: tuple[str, ...], columns: list[tuple[str, str]]
    ) -> None:
        self.schema = schema
        self.name = name
        self.old = old
        self.new = new
        self.columns = columns

    def reverse(self) -> ModifyEnumOp:
        return ModifyEnumOp(self.schema, self.name, self.new, self.old, self.columns)

    def to_diff_tuple(self) -> tuple[Any, ...]:
        return ("modify_enum", self.schema, self.name, self.old, self.new)


def _is_extension(old: tuple[str, ...], new: tuple[str, ...]) -> bool:
    """Whether ``new`` is ``old`` with values inserted (nothing removed, nothing reordered)."""
    remaining = iter(new)
    return all(any(value == candidate for candidate in remaining) for value in old)


def _quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def render_modify_enum(autogen_context: Any, op: ModifyEnumOp) -> list[str]:
    preparer = autogen_context.dialect.identifier_preparer
    qualified = (
        preparer.quote(op.name)
        if op.schema is None
        else f"{preparer.quote_schema(op.schema)}.{preparer.quote(op.name)}"
    )
    statements: list[str] = []
    if op.old and _is_extension(op.old, op.new):
        for index, value in enumerate(op.new):
            if value in op.old:
                continue
            where = f" AFTER {_quote(op.new[index - 1])}" if index else f" BEFORE {_quote(op.old[0])}"
            statements.append(f"ALTER TYPE {qualified} ADD VALUE IF NOT EXISTS {_quote(value)}{where}")
    else:
        old_name = preparer.quote(f"{op.name}_old")
        statements.append(f"ALTER TYPE {qualified} RENAME TO {old_name}")
        statements.append(f"CREATE TYPE {qualified} AS ENUM ({', '.join(_quote(value) for value in op.new)})")
        for table, column in op.columns:
            quoted = preparer.quote(column)
            statements.append(
                f"ALTER TABLE {preparer.quote(table)} ALTER COLUMN {quoted} TYPE {qualified} "
                f"USING {quoted}::text::{qualified}"
            )
        old = old_name if op.schema is None else f"{preparer.quote_schema(op.schema)}.{old_name}"
        statements.append(f"DROP TYPE {old}")
    return [f"op.execute({statement!r})" for statement in statements]


def _model_enums(autogen_context: Any, schemas: set[str | None]) -> dict[tuple[str | None, str], Any]:
    from sqlalchemy import Enum

    found: dict[tuple[str | None, str], Any] = {}
    for table in autogen_context.sorted_tables:
        if table.schema not in schemas:
            continue
        if not autogen_context.run_object_filters(table, table.name, "table", False, None):
            continue
        for column in table.columns:
            kind = column.type
            if isinstance(kind, Enum) and kind.native_enum and kind.name:
                key = (kind.schema or table.schema, str(kind.name))
                entry = found.setdefault(key, {"values": tuple(kind.enums), "columns": []})
                entry["columns"].append((table.name, column.name))
    return found


def compare_enums(autogen_context: Any, upgrade_ops: Any, schemas: set[str | None]) -> None:
    if autogen_context.dialect is None or autogen_context.dialect.name != "postgresql":
        return
    from sqlalchemy import inspect

    models = _model_enums(autogen_context, schemas)
    if not models:
        return
    inspector = inspect(autogen_context.connection)
    default = autogen_context.connection.dialect.default_schema_name
    database: dict[tuple[str | None, str], tuple[str, ...]] = {}
    for schema in {schema for schema, _ in models}:
        for item in inspector.get_enums(schema=schema or default):
            database[(None if item["schema"] in (None, default) else item["schema"], item["name"])] = tuple(
                item["labels"]
            )
    for (schema, name), model in sorted(models.items(), key=lambda item: (item[0][0] or "", item[0][1])):
        existing = database.get((None if schema == default else schema, name))
        if existing is not None and existing != model["values"]:
            upgrade_ops.ops.append(ModifyEnumOp(schema, name, existing, model["values"], model["columns"]))


_registered: list[bool] = []


def register() -> None:
    """Add the comparator and renderer to Alembic's registries, once per process."""
    if _registered:
        return
    comparators.dispatch_for("schema")(compare_enums)
    renderers.dispatch_for(ModifyEnumOp)(render_modify_enum)
    _registered.append(True)
