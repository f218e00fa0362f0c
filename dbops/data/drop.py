"""``drop_all``: drop the config's tables, its Alembic version table and (PostgreSQL) enum types.

Unlike dropping from metadata alone, the plan is made from the database: tables the models don't know are
listed (and dropped only with ``include_unknown``); tables go in reverse foreign-key order (cycles are broken
by dropping their constraints first); on PostgreSQL everything happens in one transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from dbops.data.tables import dependency_order, ledger_table_name, table_label, version_table_name, write_transaction
from dbops.errors import DataError, first_line
from dbops.progress import NullReporter, Reporter

if TYPE_CHECKING:
    from sqlalchemy import Connection, MetaData

    from dbops.config import AnyConfig

__all__ = ["DropPlan", "drop_all"]


@dataclass
class DropPlan:
    """What ``drop_all`` drops (or would drop) and what it leaves."""

    database: str
    tables: list[str] = field(default_factory=list)
    """In the order they are dropped (children first); includes the version table and dbops' migration ledger
    when present (they describe the migrations of the tables being dropped)."""
    version_table: str | None = None
    enum_types: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    """Tables in the database the models don't know; left alone unless ``include_unknown``."""
    include_unknown: bool = False
    dropped: bool = False

    @property
    def empty(self) -> bool:
        return not self.tables and not self.enum_types


def drop_all(
    config: AnyConfig,
    *,
    dry_run: bool = False,
    include_unknown: bool = False,
    confirm: Callable[[DropPlan], bool] | None = None,
    reporter: Reporter | None = None,
) -> DropPlan:
    """Drop what the plan lists; ``confirm(plan)`` is asked first (``False`` leaves everything as it is)."""
    from dbops.connect import dialect_name, run_sync

    reporter = reporter or NullReporter()
    dialect = dialect_name(config)
    from dbops.models import model_metadata

    metadata = model_metadata(config)
    migration_tables = (version_table_name(config), ledger_table_name(config))

    def work(connection: Connection) -> DropPlan:
        from sqlalchemy import MetaData

        plan = _plan(connection, metadata, migration_tables, dialect, include_unknown, config.describe())
        if not metadata.tables and plan.unknown and not include_unknown:
            from dbops.models import no_models_message

            # Acting on "no models" would drop only the version table and call it done.
            raise DataError(no_models_message(config, plan.unknown) + " (or pass --include-unknown)")
        if dry_run or plan.empty:
            return plan
        if confirm is not None and not confirm(plan):
            return plan
        reflected = MetaData()
        reflected.reflect(connection, only=plan.tables)
        from sqlalchemy.exc import DBAPIError

        try:
            with write_transaction(connection, dialect):
                with reporter.progress("drop tables", len(plan.tables)) as task:
                    reflected.drop_all(connection, tables=[reflected.tables[name] for name in plan.tables])
                    task.advance(len(plan.tables))
                preparer = connection.dialect.identifier_preparer
                for name in plan.enum_types:
                    connection.exec_driver_sql(f"DROP TYPE IF EXISTS {preparer.quote(name)}")
        except DBAPIError as error:
            detail = first_line(error)
            hint = "" if include_unknown or not plan.unknown else " (tables outside the models depend on them?)"
            raise DataError(f"cannot drop the tables of {config.describe()}: {detail}{hint}") from error
        plan.dropped = True
        return plan

    return run_sync(config, work)


def _plan(
    connection: Connection,
    metadata: MetaData,
    migration_tables: tuple[str, str],
    dialect: str,
    include_unknown: bool,
    database: str,
) -> DropPlan:
    from sqlalchemy import Enum, MetaData, inspect

    inspector = inspect(connection)
    present = set(inspector.get_table_names())
    models = [table for table in metadata.sorted_tables if table.schema is None and table.name in present]
    model_names = {table.name for table in models}
    version_table, ledger_table = migration_tables
    unknown = sorted(present - model_names - {version_table, ledger_table})
    chosen = model_names | (set(unknown) if include_unknown else set())
    reflected = MetaData()
    if chosen:
        reflected.reflect(connection, only=sorted(chosen))
    ordered = [table_label(table) for table in reversed(dependency_order(reflected.tables[n] for n in chosen))]
    plan = DropPlan(database=database, unknown=unknown, include_unknown=include_unknown)
    plan.tables = ordered
    if ledger_table in present:
        plan.tables.append(ledger_table)
    if version_table in present:
        plan.version_table = version_table
        plan.tables.append(version_table)
    if dialect == "postgresql":
        existing = {str(item["name"]) for item in inspector.get_enums()}  # type: ignore[attr-defined]
        wanted = {
            str(column.type.name)
            for table in [*models, *reflected.tables.values()]
            if table.name in chosen
            for column in table.columns
            if isinstance(column.type, Enum) and column.type.name
        }
        wanted |= {
            str(column.type.name)
            for table in metadata.sorted_tables
            for column in table.columns
            if isinstance(column.type, Enum) and column.type.name and column.type.native_enum
        }
        plan.enum_types = sorted(wanted & existing)
    return plan
