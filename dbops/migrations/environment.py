"""What a dbops env.py runs: one function for sync and async configs, any bind, online and offline.

A migrations directory written by ``dbops init`` has a three-line env.py calling ``run_migrations()``. The
options come from the dbops config Alembic was given (``context.config``): target metadata, version table,
compare_type, render_as_batch, user_module_prefix, include_object. Keyword arguments override them, and
anything else ``context.configure`` accepts can be added the same way.

Online, each migration runs in its own transaction where the database has transactional DDL (PostgreSQL), so
a failing migration leaves the schema as it was. On SQLite the run holds ``BEGIN IMMEDIATE`` (the migration
lock) and commits once at the end.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from alembic.config import Config
    from sqlalchemy import Connection

    from dbops.config import AnyConfig

__all__ = ["compare_types", "configure_options", "options_for", "run_migrations"]


CHECK_CONSTRAINTS_PLUGIN = "alembic.ext.checkconstraint_byname"


@functools.cache
def _has_check_constraints_plugin() -> bool:
    """Alembic 1.20 ships the plugin; older versions (dbops supports 1.13+) compare no CHECK constraints."""
    import importlib.util

    return importlib.util.find_spec(CHECK_CONSTRAINTS_PLUGIN) is not None


def compare_types(
    context: Any, inspected_column: Any, metadata_column: Any, inspected_type: Any, metadata_type: Any
) -> bool | None:
    """``compare_type=True``, except that SQLite's reflection of ``BINARY(n)`` (``GUID``) is no difference.

    SQLite keeps a column's declared type only as an affinity, and SQLAlchemy reads an unknown name back by
    SQLite's rules: ``BINARY(16)`` comes back as ``NUMERIC(16)``, so every binary GUID column was reported as
    ``modify_type`` on every ``check``. ``None``: Alembic's own comparison decides.
    """
    if context.dialect.name != "sqlite":
        return None
    declared = context.dialect.type_compiler.process(metadata_type).upper()
    reflected = context.dialect.type_compiler.process(inspected_type).upper()
    if declared.startswith(("BINARY", "VARBINARY")) and reflected.replace("NUMERIC", "BINARY") == declared:
        return False
    return None


def options_for(db_config: AnyConfig) -> dict[str, Any]:
    """The Alembic context options a dbops config implies (metadata, version table, autogenerate settings)."""
    from dbops.migrations.render import render_item
    from dbops.models import model_metadata

    settings = db_config.alembic_config
    options: dict[str, Any] = {
        # environment=False: this *is* the environment (reading env.py's target_metadata would recurse).
        "target_metadata": model_metadata(db_config, environment=False),
        "version_table": settings.version_table_name,
        "version_table_schema": settings.version_table_schema,
        "version_table_pk": settings.version_table_pk,
        "compare_type": compare_types if settings.compare_type else False,
        "compare_server_default": settings.compare_server_default,
        "render_as_batch": settings.render_as_batch,
        "user_module_prefix": settings.user_module_prefix,
        # dbops' column types as ``dbops.types.X(...)`` with their import (``sa.GUID`` would not import).
        "render_item": render_item,
    }
    if _has_check_constraints_plugin():
        # Alembic compares CHECK constraints (by name; the naming convention names them) only when asked.
        options["autogenerate_plugins"] = ["alembic.autogenerate.*", CHECK_CONSTRAINTS_PLUGIN]
    if settings.include_object is not None:
        options["include_object"] = settings.include_object
    if settings.version_table_schema:
        options["include_schemas"] = True
    return options


def configure_options(config: Config) -> dict[str, Any]:
    """The ``context.configure`` options for the dbops config Alembic was given (also for hand-written env.py)."""
    db_config = getattr(config, "dbops_config", None)
    if db_config is None:
        from dbops.errors import MigrationError

        raise MigrationError("this env.py is run by dbops: use `dbops upgrade` (not `alembic upgrade`)")
    options = {**options_for(db_config), "transaction_per_migration": True}
    if config.attributes.get("dbops_read_only"):
        options["dont_mutate"] = True  # make-migrations only reads: don't create the version table
    return options


def run_migrations(**overrides: Any) -> None:
    """Run the migrations Alembic asked for (call this from env.py)."""
    from alembic import context

    from dbops.migrations.render import chain_render_item

    config = context.config
    options = configure_options(config)
    if "render_item" in overrides:
        overrides = {**overrides, "render_item": chain_render_item(overrides["render_item"])}
    options.update(overrides)
    if context.is_offline_mode():
        context.configure(url=config.db_url, literal_binds=True, dialect_opts={"paramstyle": "named"}, **options)  # type: ignore[attr-defined]
        with context.begin_transaction():
            context.run_migrations()
        return

    def work(connection: Connection) -> None:
        lock = config.attributes.get("dbops_lock")
        if lock is not None and connection.dialect.name == "sqlite":
            from dbops.migrations.lock import sqlite_lock

            config.attributes["dbops_lock_on_connection"] = True
            try:
                with sqlite_lock(connection, lock):
                    _run(connection)
            finally:
                config.attributes.pop("dbops_lock_on_connection", None)
        else:
            _run(connection)

    def _run(connection: Connection) -> None:
        context.configure(connection=connection, **options)
        with context.begin_transaction():
            context.run_migrations()
        if connection.in_transaction() and not config.attributes.get("dbops_lock_on_connection"):
            # Work done outside a migration step (ensure-version's CREATE TABLE) is still open: keep it.
            connection.commit()

    from dbops.connect import run_sync

    run_sync(config.dbops_config, work)  # type: ignore[attr-defined]
