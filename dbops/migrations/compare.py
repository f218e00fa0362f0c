"""What the app's migration environment sees: its target metadata, and autogenerate's differences.

``check`` and model discovery must see the models the way ``make-migrations`` and ``upgrade`` do, and those
run the app's own env.py, whatever registry its ``target_metadata`` lives on and whatever ``include_object``,
``compare_type`` or ``process_revision_directives`` it passes to ``context.configure``. So, as Alembic's own
``check`` does, these functions run env.py with a function that captures instead of migrating:

- ``compare_models`` online, with ``dont_mutate`` (nothing is written, not even the version table);
- ``environment_metadata`` offline (no connection), only to read ``target_metadata``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from dbops.migrations.results import Difference

if TYPE_CHECKING:
    from alembic.script import ScriptDirectory
    from sqlalchemy import MetaData

    from dbops.migrations.alembic_config import DbopsAlembicConfig

__all__ = ["Comparison", "compare_models", "environment_metadata", "metadata_tables"]

_REVISION_ARGS: dict[str, Any] = {
    "message": None,
    "autogenerate": True,
    "sql": False,
    "head": "head",
    "splice": False,
    "branch_label": None,
    "version_path": None,
    "rev_id": None,
    "depends_on": None,
}


@dataclass
class Comparison:
    """What one env.py run saw: the database's revisions and, when it is at head, the differences."""

    current: tuple[str, ...] = ()
    up_to_date: bool = False
    differences: list[Difference] = field(default_factory=list)
    model_tables: int = 0
    """Tables in the environment's target metadata."""
    database_tables: list[str] = field(default_factory=list)
    """Tables in the database besides the version table (read only when the metadata has none)."""


def metadata_tables(target: Any) -> int:
    """How many tables ``target_metadata`` (a MetaData, a sequence of them, or None) holds."""
    if target is None:
        return 0
    items = target if isinstance(target, (list, tuple)) else [target]
    return sum(len(item.tables) for item in items)


def compare_models(alembic_config: DbopsAlembicConfig, script: ScriptDirectory) -> Comparison:
    """Run env.py online; when the database is at head, autogenerate's differences as ``Difference``s.

    Like ``alembic check`` (Alembic refuses to compare a database that is not up to date: the unapplied
    revisions would show as differences), except that "not at head" is an answer here, not an error.
    """
    from alembic.autogenerate.api import RevisionContext
    from alembic.runtime.environment import EnvironmentContext
    from sqlalchemy import inspect

    from dbops.migrations import pg_enums
    from dbops.migrations.diffs import differences_of
    from dbops.migrations.ledger import strip_ledger_operations

    pg_enums.register()
    db_config = alembic_config.dbops_config
    ledger_name = db_config.alembic_config.migration_log_table
    result = Comparison()
    revision_context = RevisionContext(alembic_config, script, dict(_REVISION_ARGS))
    heads = set(script.get_revisions("heads"))

    def capture(rev: Any, context: Any) -> list[Any]:
        result.current = tuple(context.get_current_heads())
        result.up_to_date = set(script.get_revisions(rev)) == heads
        target = context.opts.get("target_metadata")
        result.model_tables = metadata_tables(target)
        if result.model_tables == 0 and context.connection is not None:
            ours = {context.opts.get("version_table") or "alembic_version", ledger_name}
            names = inspect(context.connection).get_table_names()
            result.database_tables = sorted(name for name in names if name not in ours)
        if result.up_to_date:
            revision_context.run_autogenerate(rev, context)
        return []

    with EnvironmentContext(
        alembic_config,
        script,
        fn=capture,
        as_sql=False,
        template_args=revision_context.template_args,
        revision_context=revision_context,
        dont_mutate=True,
    ):
        script.run_env()
    if result.up_to_date:
        strip_ledger_operations(db_config, revision_context.generated_revisions)
        # A process_revision_directives hook may empty the list when there is nothing to write.
        for migration_script in revision_context.generated_revisions:
            result.differences.extend(differences_of(migration_script.upgrade_ops_list))
    return result


def environment_metadata(alembic_config: DbopsAlembicConfig, script: ScriptDirectory) -> MetaData | None:
    """The ``target_metadata`` env.py passes to ``context.configure``, read by running it offline.

    ``alembic_config`` should have an ``output_buffer``: offline, env.py opens no connection (its
    ``asyncio.run`` isn't reached) and the SQL it would emit goes to that buffer, which nobody reads. A
    sequence of MetaData comes back as one MetaData holding copies of their tables.
    """
    from alembic.runtime.environment import EnvironmentContext

    captured: list[Any] = []

    def capture(rev: Any, context: Any) -> list[Any]:
        captured.append(context.opts.get("target_metadata"))
        return []

    with EnvironmentContext(alembic_config, script, fn=capture, as_sql=True, dont_mutate=True):
        script.run_env()
    targets = [
        item
        for target in captured
        if target is not None
        for item in (target if isinstance(target, (list, tuple)) else [target])
    ]
    return merge_metadata(targets)


def merge_metadata(items: list[MetaData]) -> MetaData | None:
    """One MetaData for several (the first itself when there is only one; None for none)."""
    unique = list({id(item): item for item in items}.values())
    if not unique:
        return None
    if len(unique) == 1:
        return unique[0]
    from sqlalchemy import MetaData

    merged = MetaData()
    for item in unique:
        for table in item.sorted_tables:
            if table.key not in merged.tables:
                table.to_metadata(merged)
    return merged
