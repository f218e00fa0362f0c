"""The root options every command shares, and turning them into the config a command acts on."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import typer

if TYPE_CHECKING:
    from dbops.config import SQLAlchemyAsyncConfig, SQLAlchemySyncConfig

    AnyConfig = SQLAlchemySyncConfig | SQLAlchemyAsyncConfig

__all__ = ["CliState", "get_state"]


@dataclass
class CliState:
    """Root options; ``preset_configs`` is set when a host (the Litestar plugin) already knows the configs."""

    config_ref: str | None = None
    app_ref: str | None = None
    bind_key: str | None = None
    verbose: bool = False
    quiet: bool = False
    preset_configs: list[Any] | None = None
    _configs: list[Any] | None = field(default=None, repr=False)
    _announced: bool = field(default=False, repr=False)

    def configs(self) -> list[AnyConfig]:
        """Every config found (``--config`` > ``--app`` > ``DBOPS_CONFIG`` > ``[tool.dbops]``)."""
        if self._configs is None:
            if self.preset_configs is not None and not (self.config_ref or self.app_ref):
                self._configs = list(self.preset_configs)
            else:
                from dbops.discovery import find_configs

                self._configs, _ = find_configs(config_ref=self.config_ref, app_ref=self.app_ref)
        return self._configs

    def config(self) -> AnyConfig:
        """The one config a command acts on; says which on stderr when dbops chose it among several."""
        from dbops.discovery import select_config

        configs = self.configs()
        chosen = select_config(configs, self.bind_key)
        if len(configs) > 1 and self.bind_key is None and not self._announced and not self.quiet:
            from dbops.cli.render import stderr

            stderr().print(f"Using database config [bold]{chosen.describe()}[/]", highlight=False)
            self._announced = True
        return chosen


def get_state(ctx: typer.Context) -> CliState:
    state = ctx.find_root().obj
    if not isinstance(state, CliState):
        state = CliState()
        ctx.find_root().obj = state
    return state
