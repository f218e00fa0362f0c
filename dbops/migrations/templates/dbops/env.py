"""Alembic environment written by `dbops init`.

dbops hands Alembic the connection and every option of the config's `alembic_config` (metadata, version
table, compare_type, render_as_batch, include_object, ...). It works for sync and async configs and for any
bind key. Pass keyword arguments to `run_migrations()` to override or add `context.configure` options.
"""

from dbops.migrations.environment import run_migrations

run_migrations()
