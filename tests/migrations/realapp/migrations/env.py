"""The app's Alembic environment: Alembic's stock template (sync or async by URL), nothing from dbops.

It reads target_metadata from the app's own base and filters out the table another service owns.
"""

import asyncio

from alembic import context
from sqlalchemy import engine_from_config, pool
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import async_engine_from_config

from tests.migrations.realapp.models import Base

config = context.config
target_metadata = Base.metadata
VERSION_TABLE = "app_schema_version"


def include_object(obj, name, type_, reflected, compare_to):
    # external_* tables belong to the reporting service: never diff or drop them.
    return not (type_ == "table" and name.startswith("external_"))


# How SQLite and MariaDB spell the defaults the models give (PostgreSQL: Alembic's own comparison).
SAME_DEFAULT = {"current_timestamp()": "now()", "current_timestamp": "now()", "1": "true", "0": "false"}


def compare_server_default(context, inspected_column, metadata_column, inspected, metadata, rendered):
    if context.dialect.name == "postgresql":
        return None

    def normal(text):
        text = (text or "").strip().lower()
        while text.startswith("(") and text.endswith(")"):
            text = text[1:-1].strip()
        return SAME_DEFAULT.get(text.strip("'"), text.strip("'"))

    return normal(inspected) != normal(rendered)


def process_revision_directives(context, revision, directives):
    # The usual recipe: no empty revision files from autogenerate.
    if getattr(config.cmd_opts, "autogenerate", False) and directives[0].upgrade_ops.is_empty():
        directives[:] = []


def options(url):
    return dict(
        target_metadata=target_metadata,
        version_table=VERSION_TABLE,
        include_object=include_object,
        compare_type=True,
        compare_server_default=compare_server_default,
        render_as_batch=make_url(url).get_backend_name() == "sqlite",
        process_revision_directives=process_revision_directives,
        autogenerate_plugins=["alembic.autogenerate.*", "alembic.ext.checkconstraint_byname"],
    )


def run_migrations_offline() -> None:
    url = config.get_main_option("sqlalchemy.url")
    context.configure(url=url, literal_binds=True, dialect_opts={"paramstyle": "named"}, **options(url))
    with context.begin_transaction():
        context.run_migrations()


def do_run_migrations(connection: Connection) -> None:
    context.configure(connection=connection, **options(str(connection.engine.url)))
    with context.begin_transaction():
        context.run_migrations()


async def run_async_migrations() -> None:
    connectable = async_engine_from_config(
        config.get_section(config.config_ini_section, {}), prefix="sqlalchemy.", poolclass=pool.NullPool
    )
    async with connectable.connect() as connection:
        await connection.run_sync(do_run_migrations)
    await connectable.dispose()


def run_migrations_online() -> None:
    url = config.get_main_option("sqlalchemy.url") or ""
    if make_url(url).get_dialect().is_async:
        asyncio.run(run_async_migrations())
        return
    connectable = engine_from_config(
        config.get_section(config.config_ini_section, {}), prefix="sqlalchemy.", poolclass=pool.NullPool
    )
    with connectable.connect() as connection:
        do_run_migrations(connection)


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
