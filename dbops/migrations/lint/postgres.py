"""PostgreSQL rules, on the parse tree of PostgreSQL's own parser (libpg_query, through pglast).

``pglast`` is an optional dependency (``pip install 'dbops[lint]'``): it is imported only when a PostgreSQL
config is linted, and its absence is a one-line "could not lint" error saying how to install it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from dbops.errors import MigrationError
from dbops.migrations.lint.state import Column, Hit, RevisionState

__all__ = ["check", "statements"]

# Defaults PostgreSQL must evaluate per row, so ADD COLUMN rewrites the table (constants and STABLE functions
# such as now() are evaluated once, PostgreSQL 11+).
_VOLATILE_FUNCTIONS = frozenset(
    {
        "random",
        "gen_random_uuid",
        "uuid_generate_v1",
        "uuid_generate_v1mc",
        "uuid_generate_v4",
        "uuidv4",
        "uuidv7",
        "clock_timestamp",
        "timeofday",
        "nextval",
        "txid_current",
        "setseed",
    }
)
_SERIAL_TYPES = frozenset({"serial", "serial4", "smallserial", "serial2", "bigserial", "serial8"})
_NARROW_INTEGERS = frozenset({"int2", "int4", "serial", "serial4", "smallserial", "serial2"})
_STRING_TYPES = frozenset({"varchar", "text"})


def _pglast() -> Any:
    try:
        import pglast
    except ImportError as error:  # pragma: no cover - exercised when the extra is missing
        raise MigrationError(
            "linting PostgreSQL migrations needs pglast: pip install 'dbops[lint]' (or uv add 'dbops[lint]')"
        ) from error
    return pglast


def statements(sql: str) -> list[tuple[str, Any]]:
    """``(text, node)`` for each statement in ``sql``; raises ``ValueError`` naming the parse error."""
    pglast = _pglast()
    try:
        raw = pglast.parse_sql(sql)
    except pglast.parser.ParseError as error:
        raise ValueError(str(error)) from error
    encoded = sql.encode()
    found = []
    for item in raw:
        start = item.stmt_location or 0
        end = start + item.stmt_len if item.stmt_len else len(encoded)
        found.append((encoded[start:end].decode(errors="replace").strip(), item.stmt))
    return found


def _name(range_var: Any) -> str:
    return str(range_var.relname)


def _type(type_name: Any) -> Column:
    if type_name is None:
        return Column("unknown")
    names = [str(part.sval) for part in type_name.names]
    args: list[Any] = []
    for mod in type_name.typmods or ():
        value = getattr(getattr(mod, "val", None), "ival", None)
        args.append(value)
    return Column(names[-1].lower(), tuple(args))


def _constraints(column_def: Any) -> list[Any]:
    return list(column_def.constraints or ())


def _contype(constraint: Any) -> str:
    return str(constraint.contype.name)


def _is_volatile(expr: Any) -> bool:
    """Whether ``expr`` calls a volatile function anywhere (``gen_random_uuid()``, ``nextval(...)``)."""
    from pglast import ast
    from pglast.visitors import Visitor

    class Finder(Visitor):
        found = False

        def visit_FuncCall(self, ancestors: Any, node: Any) -> None:
            if str(node.funcname[-1].sval).lower() in _VOLATILE_FUNCTIONS:
                self.found = True

    finder = Finder()
    finder(ast.SelectStmt(targetList=(ast.ResTarget(val=expr),)))
    return finder.found


def _column_hits(table: str, column_def: Any, state: RevisionState, *, new_table: bool) -> Iterator[Hit]:
    column = _type(column_def.typeName)
    name = str(column_def.colname)
    kinds = {_contype(c) for c in _constraints(column_def)}
    if "CONSTR_PRIMARY" in kinds and column.type in _NARROW_INTEGERS:
        yield Hit("int-primary-key", f"{table}.{name} is a {column.type} primary key")
    if new_table:
        return
    defaults = [c.raw_expr for c in _constraints(column_def) if _contype(c) == "CONSTR_DEFAULT"]
    volatile = (
        column.type in _SERIAL_TYPES
        or "CONSTR_IDENTITY" in kinds
        or any(c.generated_when and _contype(c) == "CONSTR_GENERATED" for c in _constraints(column_def))
        or any(_is_volatile(expr) for expr in defaults)
    )
    if volatile:
        yield Hit("add-column-volatile-default", f"ADD COLUMN {table}.{name} with a per-row default")
    elif "CONSTR_NOTNULL" in kinds and not defaults:
        yield Hit("add-column-required", f"ADD COLUMN {table}.{name} NOT NULL without a default")


def _create_table(node: Any, state: RevisionState) -> Iterator[Hit]:
    table = _name(node.relation)
    state.created.add(table)
    columns: dict[str, Column] = {}
    state.catalog.tables[table] = columns
    for element in node.tableElts or ():
        kind = type(element).__name__
        if kind == "ColumnDef":
            columns[str(element.colname)] = _type(element.typeName)
            yield from _column_hits(table, element, state, new_table=True)
        elif kind == "Constraint" and _contype(element) == "CONSTR_PRIMARY":
            for key in element.keys or ():
                column = columns.get(str(key.sval))
                if column is not None and column.type in _NARROW_INTEGERS:
                    yield Hit("int-primary-key", f"{table}.{key.sval} is a {column.type} primary key")


def _type_change(table: str, name: str, old: Column | None, new: Column, state: RevisionState) -> Iterator[Hit]:
    if old is None:
        yield Hit("column-type-rewrite", f"ALTER COLUMN {table}.{name} TYPE {new.type} (previous type unknown)")
        return
    if old.type == "varchar" and new.type == "varchar" and old.args and new.args:
        if new.args[0] < old.args[0]:
            yield Hit("varchar-length-reduction", f"{table}.{name} varchar({old.args[0]}) -> varchar({new.args[0]})")
        return
    widening = (
        old == new
        or (old.type in _STRING_TYPES and new.type in _STRING_TYPES and not new.args)
        or (old.type == "numeric" and new.type == "numeric" and _numeric_widens(old.args, new.args))
    )
    if not widening:
        before = f"{old.type}({', '.join(map(str, old.args))})" if old.args else old.type
        after = f"{new.type}({', '.join(map(str, new.args))})" if new.args else new.type
        yield Hit("column-type-rewrite", f"ALTER COLUMN {table}.{name} TYPE {before} -> {after}")


def _numeric_widens(old: tuple[Any, ...], new: tuple[Any, ...]) -> bool:
    if not new:
        return True
    if not old or len(old) != len(new):
        return False
    scale_same = len(old) < 2 or old[1] == new[1]
    return bool(new[0] >= old[0] and scale_same)


def _not_null_check(constraint: Any) -> str | None:
    """The column of a ``CHECK (col IS NOT NULL)`` constraint, else None."""
    expr: Any = getattr(constraint, "raw_expr", None)
    if type(expr).__name__ != "NullTest" or str(expr.nulltesttype.name) != "IS_NOT_NULL":
        return None
    fields = getattr(expr.arg, "fields", None)
    return str(fields[-1].sval) if fields else None


def _alter_table(node: Any, state: RevisionState) -> Iterator[Hit]:
    table = _name(node.relation)
    existing = state.existing(table)
    columns = state.catalog.tables.setdefault(table, {})
    for command in node.cmds or ():
        subtype = str(command.subtype.name)
        if subtype == "AT_AddColumn":
            column_def = command.def_
            columns[str(column_def.colname)] = _type(column_def.typeName)
            yield from _column_hits(table, column_def, state, new_table=not existing)
        elif subtype == "AT_AlterColumnType":
            name = str(command.name)
            new = _type(command.def_.typeName)
            if existing:
                yield from _type_change(table, name, columns.get(name), new, state)
            columns[name] = new
        elif subtype == "AT_SetNotNull" and existing and (table, str(command.name)) not in state.proven_not_null:
            yield Hit("set-not-null", f"ALTER COLUMN {table}.{command.name} SET NOT NULL")
        elif subtype == "AT_DropColumn":
            columns.pop(str(command.name), None)
            if existing:
                yield Hit("drop-column", f"DROP COLUMN {table}.{command.name}")
        elif subtype == "AT_AddConstraint":
            yield from _add_constraint(table, command.def_, state, existing=existing)
        elif subtype == "AT_ValidateConstraint":
            covered = state.not_null_checks.get(str(command.name))
            if covered is not None:
                state.proven_not_null.add(covered)
    if existing:
        yield from _needs_lock_timeout(f"ALTER TABLE {table}", state)


def _add_constraint(table: str, constraint: Any, state: RevisionState, *, existing: bool) -> Iterator[Hit]:
    kind = _contype(constraint)
    label = f"{table}.{constraint.conname}" if constraint.conname else table
    if kind == "CONSTR_CHECK":
        column = _not_null_check(constraint)
        if column is not None and constraint.conname:
            state.not_null_checks[str(constraint.conname)] = (table, column)
            if not constraint.skip_validation:
                state.proven_not_null.add((table, column))
    if not existing:
        return
    if kind == "CONSTR_FOREIGN" and not constraint.skip_validation:
        yield Hit("foreign-key-not-valid", f"ADD FOREIGN KEY {label} without NOT VALID")
    elif kind == "CONSTR_CHECK" and not constraint.skip_validation:
        yield Hit("check-constraint-not-valid", f"ADD CHECK {label} without NOT VALID")
    elif kind in ("CONSTR_UNIQUE", "CONSTR_PRIMARY") and not constraint.indexname:
        what = "UNIQUE" if kind == "CONSTR_UNIQUE" else "PRIMARY KEY"
        yield Hit("unique-constraint", f"ADD {what} {label} builds its index under ACCESS EXCLUSIVE")


def _needs_lock_timeout(what: str, state: RevisionState) -> Iterator[Hit]:
    if not state.lock_timeout:
        yield Hit("lock-timeout-missing", f"{what} without a lock_timeout in force")


def _index(node: Any, state: RevisionState) -> Iterator[Hit]:
    table = _name(node.relation)
    if node.idxname:
        state.catalog.indexes[str(node.idxname)] = table
        state.created_indexes.add(str(node.idxname))
    if node.concurrent:
        if state.in_transaction:
            yield Hit("concurrently-in-transaction", f"CREATE INDEX CONCURRENTLY {node.idxname or ''} ON {table}")
        return
    if state.existing(table):
        yield Hit("create-index-non-concurrently", f"CREATE INDEX {node.idxname or ''} ON {table}".replace("  ", " "))
        yield from _needs_lock_timeout(f"CREATE INDEX ON {table}", state)


def _drop(node: Any, state: RevisionState) -> Iterator[Hit]:
    kind = str(node.removeType.name)
    names = [[str(part.sval) for part in _parts(obj)] for obj in node.objects or ()]
    if kind == "OBJECT_TABLE":
        for parts in names:
            table = parts[-1]
            state.catalog.tables.pop(table, None)
            if state.existing(table):
                yield Hit("drop-table", f"DROP TABLE {table}")
                yield from _needs_lock_timeout(f"DROP TABLE {table}", state)
    elif kind == "OBJECT_INDEX":
        for parts in names:
            index = parts[-1]
            owner = state.catalog.indexes.pop(index, None)
            if node.concurrent:
                if state.in_transaction:
                    yield Hit("concurrently-in-transaction", f"DROP INDEX CONCURRENTLY {index}")
            elif index not in state.created_indexes and (owner is None or state.existing(owner)):
                yield Hit("drop-index-non-concurrently", f"DROP INDEX {index}")
                yield from _needs_lock_timeout(f"DROP INDEX {index}", state)
    elif kind == "OBJECT_TYPE":
        for parts in names:
            values = state.catalog.enums.pop(parts[-1], None)
            if values is not None:
                state.replaced_enums[parts[-1]] = values


def _parts(obj: Any) -> Any:
    if type(obj).__name__ == "TypeName":
        return obj.names
    return obj if isinstance(obj, tuple) else (obj,)


def _rename(node: Any, state: RevisionState) -> Iterator[Hit]:
    kind = str(node.renameType.name)
    if kind == "OBJECT_COLUMN" and node.relation is not None:
        table = _name(node.relation)
        columns = state.catalog.tables.get(table, {})
        if str(node.subname) in columns:
            columns[str(node.newname)] = columns.pop(str(node.subname))
        if state.existing(table):
            yield Hit("rename-column", f"RENAME COLUMN {table}.{node.subname} TO {node.newname}")
            yield from _needs_lock_timeout(f"ALTER TABLE {table} RENAME COLUMN", state)
    elif kind == "OBJECT_TABLE" and node.relation is not None:
        table = _name(node.relation)
        if table in state.catalog.tables:
            state.catalog.tables[str(node.newname)] = state.catalog.tables.pop(table)
        existing = state.existing(table)
        if not existing:
            state.created.add(str(node.newname))
        if existing:
            yield Hit("rename-table", f"RENAME TABLE {table} TO {node.newname}")
            yield from _needs_lock_timeout(f"ALTER TABLE {table} RENAME", state)
    elif kind == "OBJECT_TYPE":
        old = str(node.object[-1].sval)
        values = state.catalog.enums.pop(old, None)
        if values is not None:
            state.catalog.enums[str(node.newname)] = values
            state.replaced_enums[old] = values
            for columns in state.catalog.tables.values():  # the columns keep their (renamed) type
                for name, column in columns.items():
                    if column.type == old:
                        columns[name] = Column(str(node.newname), column.args)


def _create_enum(node: Any, state: RevisionState) -> Iterator[Hit]:
    name = str(node.typeName[-1].sval)
    values = tuple(str(value.sval) for value in node.vals or ())
    before = state.replaced_enums.pop(name, None)
    state.catalog.enums[name] = values
    if before is not None:
        lost = [value for value in before if value not in values]
        if lost:
            yield Hit("enum-value-removal", f"enum {name} loses {', '.join(map(repr, lost))}")


def _alter_enum(node: Any, state: RevisionState) -> Iterator[Hit]:
    name = str(node.typeName[-1].sval)
    values = state.catalog.enums.get(name)
    if values is None:
        return
    if node.oldVal:
        state.catalog.enums[name] = tuple(str(node.newVal) if v == node.oldVal else v for v in values)
    elif node.newVal:
        state.catalog.enums[name] = (*values, str(node.newVal))
    return
    yield


def _set(node: Any, state: RevisionState) -> Iterator[Hit]:
    if str(node.name).lower() != "lock_timeout":
        return
    values = [getattr(arg.val, "ival", getattr(arg.val, "sval", None)) for arg in node.args or ()]
    on = bool(values) and str(values[0]).strip() not in ("0", "0ms", "0s", "")
    state.lock_timeout = on
    state.local_lock_timeout = on and bool(node.is_local)
    return
    yield


def _transaction(node: Any, state: RevisionState) -> Iterator[Hit]:
    kind = str(node.kind.name)
    if kind in ("TRANS_STMT_BEGIN", "TRANS_STMT_START"):
        state.in_transaction = True
    elif kind in ("TRANS_STMT_COMMIT", "TRANS_STMT_ROLLBACK"):
        state.in_transaction = False
        if state.local_lock_timeout:
            state.lock_timeout = state.local_lock_timeout = False
    return
    yield


def _maintenance(node: Any, state: RevisionState) -> Iterator[Hit]:
    if type(node).__name__ == "VacuumStmt":
        full = any(str(option.defname).lower() == "full" for option in node.options or ())
        if not (full and node.is_vacuumcmd):
            return
        tables = [_name(rel.relation) for rel in node.rels or () if rel.relation is not None] or ["every table"]
        for table in tables:
            yield Hit("vacuum-full-cluster", f"VACUUM FULL {table}")
    else:
        table = _name(node.relation) if node.relation is not None else "every clustered table"
        yield Hit("vacuum-full-cluster", f"CLUSTER {table}")
    yield from _needs_lock_timeout("VACUUM FULL / CLUSTER", state)


_CHECKS = {
    "CreateStmt": _create_table,
    "AlterTableStmt": _alter_table,
    "IndexStmt": _index,
    "DropStmt": _drop,
    "RenameStmt": _rename,
    "CreateEnumStmt": _create_enum,
    "AlterEnumStmt": _alter_enum,
    "VariableSetStmt": _set,
    "TransactionStmt": _transaction,
    "VacuumStmt": _maintenance,
    "ClusterStmt": _maintenance,
}


def check(node: Any, state: RevisionState) -> list[Hit]:
    """The rules ``node`` trips, updating ``state`` (catalog, transaction, lock timeout) as it runs."""
    checker = _CHECKS.get(type(node).__name__)
    return list(checker(node, state)) if checker is not None else []
