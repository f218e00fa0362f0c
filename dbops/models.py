"""Which MetaData holds a config's models, wherever the app registered them.

Every command that needs the models (``drop-all``, ``dump-data``, ``load-data``, ``sessions``, ``storage``,
dbops' own env.py) asks ``model_metadata``, so one app gives one answer everywhere. In order:

1. the config's ``metadata=``;
2. the ``target_metadata`` the app's env.py gives Alembic (its own base, Advanced Alchemy's registry, a list
   of MetaData): the models ``make-migrations`` and ``upgrade`` see, read by running env.py offline;
3. dbops' shared MetaData for the config's bind key, when dbops models are registered on it;
4. the one MetaData (besides dbops') that SQLAlchemy's mappers for that bind key use, when there is exactly
   one: an app whose models sit on another library's bases and that has no env.py yet.

Otherwise dbops' (empty) MetaData: the commands then say that the config has no models.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterable

    from sqlalchemy import MetaData

    from dbops.config import AnyConfig

__all__ = ["mappers_of", "model_metadata", "no_models_message", "tables_without_models"]


def model_metadata(config: AnyConfig, *, environment: bool = True) -> MetaData:
    """The MetaData holding ``config``'s models (``environment=False`` skips reading env.py)."""
    if config.metadata is not None:
        return config.metadata
    if environment:
        found = _environment_metadata(config)
        if found is not None:
            return found
    own = config.get_metadata()
    if own.tables:
        return own
    known = _known_metadata(config.bind_key, own)
    return known if known is not None else own


def _environment_metadata(config: AnyConfig) -> MetaData | None:
    env = Path(config.alembic_config.script_location) / "env.py"
    try:
        text = env.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    if "dbops.migrations.environment" in text and "target_metadata" not in text:
        return None  # dbops' own env.py without an override: its target is steps 3-4 below
    import io

    from dbops.migrations.alembic_config import DbopsAlembicConfig
    from dbops.migrations.compare import environment_metadata

    try:
        from alembic.script import ScriptDirectory

        alembic_config = DbopsAlembicConfig(config, output_buffer=io.StringIO(), stdout=io.StringIO())
        return environment_metadata(alembic_config, ScriptDirectory.from_config(alembic_config))
    except Exception:
        # An env.py that cannot run offline: the mappers SQLAlchemy knows (steps 3-4) are the next best
        # witness, and a config that still has no models is reported as such by the command.
        return None


def _known_metadata(bind_key: str | None, own: MetaData) -> MetaData | None:
    from sqlalchemy.orm import mapperlib

    found: dict[int, MetaData] = {}
    for registry in list(mapperlib._mapper_registries):
        for mapper in list(registry.mappers):
            if getattr(mapper.class_, "__bind_key__", None) != bind_key:
                continue
            metadata = getattr(mapper.local_table, "metadata", None)
            if metadata is not None and metadata is not own:
                found[id(metadata)] = metadata
    return next(iter(found.values())) if len(found) == 1 else None


def mappers_of(metadata: MetaData) -> list[Any]:
    """The mappers (of any registry) whose table is in ``metadata``."""
    from sqlalchemy.orm import mapperlib

    return [
        mapper
        for registry in list(mapperlib._mapper_registries)
        for mapper in list(registry.mappers)
        if getattr(mapper.local_table, "metadata", None) is metadata
    ]


def tables_without_models(config: AnyConfig, metadata: MetaData, present: Iterable[str]) -> list[str]:
    """The database's tables (``present``, dbops' version table and ledger aside) when ``metadata`` has no
    tables: the case ``no_models_message`` describes; ``[]`` when the config has models or the database none."""
    if metadata.tables:
        return []
    settings = config.alembic_config
    ours = {settings.version_table_name, settings.migration_log_table}
    return sorted(name for name in present if name not in ours)


def no_models_message(config: AnyConfig, database_tables: list[str]) -> str:
    """The one line saying a config resolved to no model tables while its database holds tables."""
    shown = ", ".join(database_tables[:3]) + (", ..." if len(database_tables) > 3 else "")
    return (
        f"the config {config.describe()} has no model tables, but its database holds {len(database_tables)} "
        f"table(s) ({shown}): import your models in the config module or env.py, or pass metadata= to the config"
    )
