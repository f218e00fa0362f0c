"""Which tables a data command acts on, in foreign-key dependency order, and per-dialect transaction setup."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from dbops.data.catalog import Catalog, read_catalog
from dbops.errors import DataError

if TYPE_CHECKING:
    from sqlalchemy import Connection, MetaData, Table

    from dbops.config import AnyConfig

__all__ = [
    "TableSet",
    "alembic_revision",
    "begin_write",
    "dependency_order",
    "dependency_waves",
    "export_snapshot",
    "find_tables",
    "ledger_table_name",
    "psycopg_connection",
    "read_transaction",
    "references",
    "restart_transaction",
    "table_label",
    "version_table_name",
    "write_transaction",
]


def table_label(table: Table) -> str:
    return f"{table.schema}.{table.name}" if table.schema else table.name


def version_table_name(config: AnyConfig) -> str:
    alembic = getattr(config, "alembic_config", None)
    return str(getattr(alembic, "version_table_name", None) or "alembic_versions")


def ledger_table_name(config: AnyConfig) -> str:
    """dbops' migration ledger (``alembic_config.migration_log_table``): like the version table, it records
    the migrations, not the app's data, so dumps leave it out, loads never write it and drop-all drops it."""
    alembic = getattr(config, "alembic_config", None)
    return str(getattr(alembic, "migration_log_table", None) or "dbops_migration_log")


def references(table: Table, catalog: Catalog | None = None) -> set[str]:
    """Labels of the tables ``table`` references: its own foreign keys, and (PostgreSQL) its partitions'."""
    label = table_label(table)
    found = {fk.target_fullname.rsplit(".", 1)[0] for fk in table.foreign_keys}
    if catalog is not None:
        found = {catalog.unit(target) for target in found} | catalog.dependencies.get(label, set())
    return found - {label}


def dependency_order(tables: Iterable[Table], catalog: Catalog | None = None) -> list[Table]:
    """``tables`` with every table after the tables it references (ties and cycles broken by name).

    Works on tables from different MetaData objects (models and reflection) by matching names; with a
    ``catalog``, foreign keys declared on partitions count as their root table's.
    """
    return [table for wave in dependency_waves(tables, catalog) for table in wave]


def dependency_waves(tables: Iterable[Table], catalog: Catalog | None = None) -> list[list[Table]]:
    """``dependency_order`` in waves: each wave's tables reference only tables of earlier waves (or none).

    The tables of one wave can be loaded side by side (``load-data --jobs``). A cycle is broken by taking its
    alphabetically first table alone as a wave.
    """
    by_label = {table_label(table): table for table in tables}
    depends = {label: references(table, catalog) & by_label.keys() for label, table in by_label.items()}
    waves: list[list[Table]] = []
    remaining = dict(depends)
    while remaining:
        ready = sorted(label for label, parents in remaining.items() if not parents & remaining.keys())
        if not ready:  # a cycle: take the alphabetically first table and carry on
            ready = [min(remaining)]
        for label in ready:
            del remaining[label]
        waves.append([by_label[label] for label in ready])
    return waves


@dataclass
class TableSet:
    """The tables chosen for a command, and what the database holds beyond them."""

    tables: list[Table]
    unknown: list[str] = field(default_factory=list)
    """Tables in the database the models don't know (not chosen unless reflection was asked for)."""
    missing: list[str] = field(default_factory=list)
    """Model tables that the database doesn't have."""
    version_table: str | None = None
    """The Alembic version table, when it exists in the database."""
    catalog: Catalog = field(default_factory=lambda: Catalog(""))
    reflected: set[str] = field(default_factory=set)
    """Chosen tables without a model (reflected from the database)."""


def find_tables(
    connection: Connection,
    metadata: MetaData,
    *,
    version_table: str,
    ledger_table: str = "dbops_migration_log",
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
    reflect_unknown: bool = False,
) -> TableSet:
    """Model tables present in the database (+ reflected tables without a model when ``reflect_unknown``)."""
    from sqlalchemy import MetaData, inspect

    inspector = inspect(connection)
    catalog = read_catalog(connection, connection.dialect.name)
    present = set(inspector.get_table_names()) - catalog.partitions
    model_tables = {
        table_label(table): table
        for table in metadata.sorted_tables
        if table_label(table) not in {version_table, ledger_table}
    }
    missing = sorted(label for label, table in model_tables.items() if not _exists(inspector, table, present))
    chosen = {label: table for label, table in model_tables.items() if label not in missing}
    unknown = sorted(present - chosen.keys() - {version_table, ledger_table})
    if reflect_unknown and unknown:
        reflected = MetaData()
        reflected.reflect(connection, only=unknown)
        chosen.update({name: reflected.tables[name] for name in unknown})
    wanted = set(include)
    names = set(chosen) | set(missing)
    for name in sorted((wanted | set(exclude)) - names - set(unknown)):
        if name == version_table:
            raise DataError(f"{name!r} is the Alembic version table: dumps record its revision, not its rows")
        if name == ledger_table:
            raise DataError(f"{name!r} is dbops' migration ledger: it records migrations, not data, and is not dumped")
        if name in catalog.partitions:
            raise DataError(f"{name!r} is a partition: its rows are dumped with {catalog.unit(name)!r}")
        raise DataError(f"no table {name!r} in the models or the database")
    if wanted:
        not_chosen = sorted(wanted - chosen.keys())
        if not_chosen:
            hint = " (it has no model: add --all-tables)" if set(not_chosen) & set(unknown) else ""
            raise DataError(f"table {not_chosen[0]!r} is not available{hint}")
        chosen = {label: table for label, table in chosen.items() if label in wanted}
    chosen = {label: table for label, table in chosen.items() if label not in set(exclude)}
    return TableSet(
        tables=dependency_order(chosen.values(), catalog),
        unknown=[] if reflect_unknown else unknown,
        missing=missing,
        version_table=version_table if version_table in present else None,
        catalog=catalog,
        reflected=set(unknown) if reflect_unknown else set(),
    )


def alembic_revision(connection: Connection, version_table: str | None) -> str | None:
    """The revision(s) in the Alembic version table (space-separated when branched), or None."""
    if version_table is None:
        return None
    from sqlalchemy import column, select, table

    rows: list[Any] = list(
        connection.execute(select(column("version_num")).select_from(table(version_table))).scalars().all()
    )
    return " ".join(sorted(str(row) for row in rows)) or None


def psycopg_connection(connection: Connection) -> Any:
    """The psycopg 3 connection under a sync SQLAlchemy connection, for COPY (None for other drivers)."""
    if connection.dialect.driver != "psycopg":  # don't import psycopg (~0.1-1 s) for a MariaDB or SQLite dump
        return None
    try:
        import psycopg
    except ImportError:
        return None
    raw = connection.connection.dbapi_connection
    return raw if isinstance(raw, psycopg.Connection) else None


def _exists(inspector: Any, table: Table, present: set[str]) -> bool:
    if table.schema is None:
        return table.name in present
    return bool(inspector.has_table(table.name, schema=table.schema))


@contextlib.contextmanager
def read_transaction(connection: Connection, dialect: str, *, snapshot: str | None = None) -> Iterator[None]:
    """One consistent snapshot for everything read inside: REPEATABLE READ, or one SQLite transaction.

    ``snapshot``: PostgreSQL, a snapshot another open transaction exported (``export_snapshot``), which this
    one then reads: the workers of ``dump-data --jobs`` all see exactly what the coordinator sees.
    """
    if connection.in_transaction():
        connection.rollback()
    if dialect in ("postgresql", "mysql", "mariadb"):
        connection.execution_options(isolation_level="REPEATABLE READ")
    transaction = connection.begin()
    try:
        if dialect == "sqlite":
            connection.exec_driver_sql("BEGIN")  # pysqlite only begins before writes
        elif dialect == "postgresql":
            if snapshot is not None:  # before any query of the transaction, as PostgreSQL requires
                connection.exec_driver_sql(f"SET TRANSACTION SNAPSHOT '{_snapshot_id(snapshot)}'")
            connection.exec_driver_sql("SET TRANSACTION READ ONLY")
            # timestamptz values then come back in UTC, the form dumps write them in
            connection.exec_driver_sql("SET LOCAL TIME ZONE 'UTC'")
        elif dialect in ("mysql", "mariadb"):
            connection.exec_driver_sql("START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY")
        yield
    finally:
        transaction.rollback()


def export_snapshot(connection: Connection) -> str:
    """PostgreSQL: the id of the open transaction's snapshot, for ``read_transaction(snapshot=...)`` elsewhere.

    Importable for as long as this transaction stays open.
    """
    return str(connection.exec_driver_sql("SELECT pg_export_snapshot()").scalar_one())


def _snapshot_id(snapshot: str) -> str:
    """A snapshot id as ``pg_export_snapshot`` makes them (``00000003-0000001B-1``), checked before it is quoted."""
    if not snapshot or not all(char in "0123456789ABCDEFabcdef-" for char in snapshot):
        raise DataError(f"not a PostgreSQL snapshot id: {snapshot!r}")
    return snapshot


@contextlib.contextmanager
def write_transaction(connection: Connection, dialect: str) -> Iterator[None]:
    """A transaction that commits on success and rolls back on any error (savepoints work inside).

    Code inside may ``restart_transaction`` (per-batch commits); the open transaction is the one finished.
    """
    if connection.in_transaction():
        connection.rollback()
    begin_write(connection, dialect)
    try:
        yield
    except BaseException:
        with contextlib.suppress(Exception):  # a connection the server closed: the error inside says why
            if connection.in_transaction():
                connection.rollback()
        raise
    if connection.in_transaction():
        connection.commit()


def begin_write(connection: Connection, dialect: str) -> None:
    connection.begin()
    if dialect == "sqlite":
        connection.exec_driver_sql("BEGIN IMMEDIATE")  # explicit, so SAVEPOINTs nest inside it


def restart_transaction(connection: Connection, dialect: str) -> None:
    """Commit what was written so far and go on in a new transaction (``--batch-commit``)."""
    connection.commit()
    begin_write(connection, dialect)
