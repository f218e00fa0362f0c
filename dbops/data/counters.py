"""Sequence and auto-increment state: recorded by a dump, restored exactly by a load.

- PostgreSQL: every sequence in the dumped tables' schemas, owned or not: ``last_value`` and ``is_called``
  (so ``nextval`` continues exactly where it would have), the column that owns it (``OWNED BY`` or an
  identity) and the columns whose ``DEFAULT nextval(...)`` use it. A load restores each with ``setval``,
  finding an owned sequence by its column (its name may differ in the target) and the others by name.
- MariaDB/MySQL: each dumped table's ``AUTO_INCREMENT``, restored with ``ALTER TABLE`` after the load's
  commit (DDL commits implicitly there; InnoDB never sets it at or below the largest id).
- SQLite: ``sqlite_sequence`` rows of ``AUTOINCREMENT`` tables, restored in the load's transaction.

A load restores the counters of the tables it loaded (and, when it loads a whole dump, the sequences no
table uses). When a table holds rows besides the dump's (``--mode insert``/``upsert`` into a table that was
not empty) and they already use the restored value, the sequence goes on after them instead, so the next
insert can't collide. Without a manifest (fixture files) sequences
are moved past the largest loaded value, as before.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy import Connection, Table

Column = tuple[str, str]
"""A column as (table label, column name)."""

__all__ = ["Counter", "advance_past_loaded", "read_counters", "restore_after_commit", "restore_counters"]


@dataclass
class Counter:
    """One sequence (PostgreSQL) or one table's auto-increment counter, as a manifest records it."""

    kind: str
    """``sequence``, ``auto_increment`` or ``sqlite_sequence``."""
    name: str
    """The sequence's label (``schema.name`` outside the default schema), or the table's."""
    value: int
    """PostgreSQL ``last_value``; MariaDB the next ``AUTO_INCREMENT``; SQLite ``seq``."""
    is_called: bool = True
    owned_by: list[str] | None = None
    """``[table, column]`` owning the sequence (``OWNED BY`` or an identity), if any."""
    used_by: list[list[str]] = field(default_factory=list)
    """``[table, column]`` of each column whose default is ``nextval`` of it."""

    def columns(self) -> list[Column]:
        pairs = [*self.used_by, *([self.owned_by] if self.owned_by else [])]
        return [(str(pair[0]), str(pair[1])) for pair in pairs]


_PG_SEQUENCES = """
SELECT s.oid, n.nspname, s.relname, q.seqincrement,
       (SELECT json_build_array(tn.nspname, t.relname, a.attname)
          FROM pg_depend d
          JOIN pg_class t ON t.oid = d.refobjid JOIN pg_namespace tn ON tn.oid = t.relnamespace
          JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
         WHERE d.classid = 'pg_class'::regclass AND d.objid = s.oid AND d.refclassid = 'pg_class'::regclass
           AND d.deptype IN ('a', 'i') AND d.refobjsubid > 0
         LIMIT 1)::text AS owner,
       (SELECT json_agg(json_build_array(tn.nspname, t.relname, a.attname))
          FROM pg_depend d
          JOIN pg_attrdef ad ON d.classid = 'pg_attrdef'::regclass AND ad.oid = d.objid
          JOIN pg_class t ON t.oid = ad.adrelid JOIN pg_namespace tn ON tn.oid = t.relnamespace
          JOIN pg_attribute a ON a.attrelid = ad.adrelid AND a.attnum = ad.adnum
         WHERE d.refclassid = 'pg_class'::regclass AND d.refobjid = s.oid)::text AS users
FROM pg_class s
JOIN pg_namespace n ON n.oid = s.relnamespace
JOIN pg_sequence q ON q.seqrelid = s.oid
WHERE s.relkind = 'S'
ORDER BY n.nspname, s.relname
"""
"""Each sequence, its increment, the column owning it and the columns defaulting to it (JSON: any name)."""


_Sequence = tuple[int, str, str, str, int, "Column | None", "list[Column]"]


def _pg_sequences(connection: Connection, unit: Any) -> list[_Sequence]:
    """(oid, schema, name, label, increment, owner, users) per sequence; columns as (table label, column)."""
    import orjson

    default = str(connection.exec_driver_sql("SELECT current_schema()").scalar_one())

    def label(schema: str, name: str) -> str:
        return name if schema == default else f"{schema}.{name}"

    def column(item: list[str]) -> Column:
        schema, table, name = item
        return (unit(label(schema, table)), name)

    found = []
    for oid, schema, name, increment, owner, users in connection.exec_driver_sql(_PG_SEQUENCES):
        owned = column(orjson.loads(owner)) if owner else None
        used = sorted({column(item) for item in orjson.loads(users)}) if users else []
        found.append((int(oid), str(schema), str(name), label(schema, name), int(increment), owned, used))
    return found


def _quote_pair(preparer: Any, schema: str | None, name: str) -> str:
    return str((preparer.quote_schema(schema) + "." if schema else "") + preparer.quote(name))


def read_counters(connection: Connection, dialect: str, tables: Sequence[Table], unit: Any, warn: Any) -> list[Counter]:
    """The counters of ``tables`` (and on PostgreSQL every sequence in their schemas), in a stable order.

    ``unit(label)`` maps a partition's label to its root's (``Catalog.unit``); a sequence the role may not
    read is left out with ``warn(message)``.
    """
    from dbops.data.tables import table_label

    labels = {table_label(table) for table in tables}
    if dialect == "postgresql":
        default = str(connection.exec_driver_sql("SELECT current_schema()").scalar_one())
        schemas = {table.schema or default for table in tables} or {default}
        preparer = connection.dialect.identifier_preparer
        counters = []
        from sqlalchemy.exc import DBAPIError

        for _oid, schema, name, label, _increment, owner, users in _pg_sequences(connection, unit):
            if schema not in schemas:
                continue
            savepoint = connection.begin_nested()
            try:
                last_value, is_called = connection.exec_driver_sql(
                    f"SELECT last_value, is_called FROM {_quote_pair(preparer, schema, name)}"
                ).one()
            except DBAPIError as error:
                savepoint.rollback()
                reason = str(error.orig).strip().splitlines()[0] if error.orig is not None else type(error).__name__
                warn(f"sequence {label}: {reason}; its state is not in the dump")
                continue
            savepoint.commit()
            counters.append(
                Counter(
                    "sequence",
                    label,
                    int(last_value),
                    bool(is_called),
                    owned_by=list(owner) if owner else None,
                    used_by=[list(user) for user in users],
                )
            )
        return counters
    if dialect in ("mysql", "mariadb"):
        from sqlalchemy import text

        rows = connection.execute(
            text(
                "SELECT TABLE_NAME, AUTO_INCREMENT FROM information_schema.TABLES "
                "WHERE TABLE_SCHEMA = DATABASE() AND AUTO_INCREMENT IS NOT NULL"
            )
        )
        return [
            Counter("auto_increment", str(name), int(value))
            for name, value in sorted(rows, key=lambda row: str(row[0]))
            if str(name) in labels
        ]
    if dialect == "sqlite":
        if not _has_sqlite_sequence(connection):
            return []
        rows = connection.exec_driver_sql("SELECT name, seq FROM sqlite_sequence")
        return [
            Counter("sqlite_sequence", str(name), int(seq))
            for name, seq in sorted(rows, key=lambda row: str(row[0]))
            if str(name) in labels and seq is not None
        ]
    return []


def _has_sqlite_sequence(connection: Connection) -> bool:
    found = connection.exec_driver_sql("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'sqlite_sequence'")
    return found.first() is not None


@dataclass
class _TargetSequence:
    oid: int
    increment: int
    columns: list[Column]
    """The columns that own it or default to it in the target."""


def _pg_target_sequences(connection: Connection) -> dict[Any, _TargetSequence]:
    """The target's sequences by label, and by (table label, column) for the column owning each."""
    found: dict[Any, _TargetSequence] = {}
    for oid, _schema, _name, label, increment, owner, users in _pg_sequences(connection, lambda label: label):
        sequence = _TargetSequence(oid, increment, sorted({*users, *([owner] if owner else [])}))
        found[label] = sequence
        if owner:
            found[owner] = sequence
    return found


def restore_counters(
    connection: Connection,
    dialect: str,
    counters: Sequence[Counter],
    tables: Iterable[Table],
    *,
    loaded: dict[str, int],
    whole_dump: bool,
    warn: Any,
) -> list[Counter]:
    """Restore ``counters`` for the loaded ``tables`` in the load's transaction (PostgreSQL, SQLite).

    Returns what must wait for the commit (MariaDB's ``AUTO_INCREMENT``: see ``restore_after_commit``).
    """
    from dbops.data.tables import table_label

    by_label = {table_label(table): table for table in tables}

    def concerns(counter: Counter) -> bool:
        if counter.kind != "sequence":
            return counter.name in by_label
        columns = counter.columns()
        return any(table in by_label for table, _ in columns) if columns else whole_dump

    chosen = [counter for counter in counters if concerns(counter)]
    if dialect == "postgresql":
        _restore_pg(connection, [c for c in chosen if c.kind == "sequence"], by_label, loaded, warn)
        return []
    if dialect == "sqlite":
        rows = [c for c in chosen if c.kind == "sqlite_sequence"]
        if rows and _has_sqlite_sequence(connection):
            for counter in rows:
                changed = connection.exec_driver_sql(
                    "UPDATE sqlite_sequence SET seq = ? WHERE name = ?", (counter.value, counter.name)
                ).rowcount
                if not changed:
                    connection.exec_driver_sql(
                        "INSERT INTO sqlite_sequence (name, seq) VALUES (?, ?)", (counter.name, counter.value)
                    )
        return []
    if dialect in ("mysql", "mariadb"):
        return [c for c in chosen if c.kind == "auto_increment"]
    return []


def _restore_pg(
    connection: Connection, counters: list[Counter], tables: dict[str, Table], loaded: dict[str, int], warn: Any
) -> None:
    if not counters:
        return
    targets = _pg_target_sequences(connection)
    for counter in counters:
        owner = (str(counter.owned_by[0]), str(counter.owned_by[1])) if counter.owned_by else None
        target = targets.get(owner) if owner else None
        target = target or targets.get(counter.name)
        if target is None:
            warn(f"sequence {counter.name} from the dump is not in the database; its state was not restored")
            continue
        value, is_called = counter.value, counter.is_called
        if target.increment > 0 and _holds_other_rows(connection, target.columns, tables, loaded):
            used = _largest_loaded(connection, target.columns, tables)
            if used is not None and used >= value + (target.increment if is_called else 0):
                value, is_called = used, True  # rows besides the dump's use it already: go on after them
        _setval(connection, target.oid, value, is_called)


def _setval(connection: Connection, oid: int, value: int, is_called: bool) -> None:
    from sqlalchemy import text

    connection.execute(
        text("SELECT setval(CAST(CAST(:oid AS oid) AS regclass), :value, :called)"),
        {"oid": oid, "value": value, "called": is_called},
    )


def _holds_other_rows(
    connection: Connection, columns: list[Column], tables: dict[str, Table], loaded: dict[str, int]
) -> bool:
    """Whether a loaded table using the sequence holds more rows than the load wrote into it."""
    from sqlalchemy import func, select

    for label in {table for table, _ in columns if table in tables}:
        if connection.execute(select(func.count()).select_from(tables[label])).scalar_one() > loaded.get(label, 0):
            return True
    return False


def _largest_loaded(connection: Connection, columns: list[Column], tables: dict[str, Table]) -> int | None:
    from sqlalchemy import Integer, func, select

    largest: int | None = None
    for table_name, column_name in columns:
        table = tables.get(table_name)
        if table is None:
            continue
        column = next((column for column in table.columns if column.name == column_name), None)
        if column is None or not isinstance(column.type, Integer):
            continue
        found = connection.execute(select(func.max(column))).scalar()
        if found is not None and (largest is None or found > largest):
            largest = int(found)
    return largest


def restore_after_commit(connection: Connection, counters: Sequence[Counter]) -> None:
    """MariaDB/MySQL: set each loaded table's ``AUTO_INCREMENT`` to the dumped value (InnoDB keeps it above the
    table's largest id by itself)."""
    from sqlalchemy import text

    preparer = connection.dialect.identifier_preparer
    for counter in counters:
        current = connection.execute(
            text(
                "SELECT AUTO_INCREMENT FROM information_schema.TABLES "
                "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = :name"
            ),
            {"name": counter.name},
        ).scalar()
        if current is not None and int(current) != counter.value:
            table = preparer.quote(counter.name)
            connection.exec_driver_sql(f"ALTER TABLE {table} AUTO_INCREMENT = {int(counter.value)}")
    if connection.in_transaction():
        connection.commit()


def advance_past_loaded(connection: Connection, tables: Sequence[Table]) -> None:
    """PostgreSQL, fixture loads: move each sequence a loaded column owns or defaults to past its largest value."""

    from dbops.data.tables import table_label

    by_label = {table_label(table): table for table in tables}
    seen: set[int] = set()
    for sequence in _pg_target_sequences(connection).values():
        if sequence.oid in seen:
            continue
        seen.add(sequence.oid)
        if not any(table in by_label for table, _ in sequence.columns):
            continue
        used = _largest_loaded(connection, sequence.columns, by_label)
        if used is not None:
            _setval(connection, sequence.oid, max(used, 1), used >= 1)
