"""The Alembic ``Config`` dbops builds in memory from a database config.

Every ``alembic_config`` field is carried on it, so dbops' own env.py and env.py files written by Advanced
Alchemy's ``init`` (which read ``db_url``, ``engine``, ``version_table_pk``, ``bind_key``, ... off the config
they receive) both work. An alembic.ini is read only when ``script_config`` names a file that exists.
"""

from __future__ import annotations

import sys
from argparse import Namespace
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from alembic.config import Config

if TYPE_CHECKING:
    from dbops.config import AnyConfig, IncludeObject

__all__ = ["TEMPLATES_DIR", "DbopsAlembicConfig"]

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"


class DbopsAlembicConfig(Config):
    """An Alembic config for one dbops database config (the ``context.config`` env.py files see)."""

    def __init__(
        self,
        db_config: AnyConfig,
        *,
        stdout: TextIO | None = None,
        output_buffer: TextIO | None = None,
        attributes: dict[str, Any] | None = None,
    ) -> None:
        settings = db_config.alembic_config
        ini = Path(settings.script_config) if settings.script_config else None
        super().__init__(
            file_=str(ini) if ini is not None and ini.is_file() else None,
            ini_section="alembic",
            output_buffer=output_buffer,
            stdout=stdout or sys.stdout,
            cmd_opts=Namespace(quiet=True),  # dbops reports through its Reporter; Alembic prints nothing
            attributes=attributes,
        )
        self.dbops_config = db_config
        self.bind_key: str | None = db_config.bind_key
        self.db_url: str = str(db_config.connection_string)
        self.version_table_name: str = settings.version_table_name
        self.version_table_schema: str | None = settings.version_table_schema
        self.version_table_pk: bool = settings.version_table_pk
        self.render_as_batch: bool = settings.render_as_batch
        self.user_module_prefix: str | None = settings.user_module_prefix
        self.compare_type: bool = settings.compare_type
        self.compare_server_default: bool = settings.compare_server_default
        self.include_object: IncludeObject | None = settings.include_object
        self.template_directory: str = str(settings.template_path or TEMPLATES_DIR)
        self.set_main_option("script_location", str(settings.script_location))
        self.set_main_option("sqlalchemy.url", self.db_url.replace("%", "%%"))

    @property
    def engine(self) -> Any:
        """The config's own engine (``Engine`` or ``AsyncEngine``), created on first use."""
        return self.dbops_config.get_engine()

    @property
    def target_metadata(self) -> Any:
        from dbops.models import model_metadata

        return model_metadata(self.dbops_config, environment=False)

    def get_template_directory(self) -> str:
        return self.template_directory
