"""``litestar database`` (alias ``litestar db``): dbops' whole CLI, on the configs of the app Litestar loaded.

Typer builds its commands on its own vendored copy of click, so they cannot be added to Litestar's (rich-)click
group. Instead one thin click command takes every argument unparsed and hands it to ``dbops.cli.app.run`` with
the app's configs preset; help, errors and exit codes are dbops' own. No command is re-implemented here.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from litestar import Litestar

__all__ = ["add_database_commands", "database_command"]

HELP = "Manage the app's database: migrations, data, sessions, storage (dbops; --help lists the commands)."
ALIASES = ("database", "db")


def _current_app(ctx: click.Context) -> Litestar:
    """The app Litestar's root group loaded (its context object is the env, or a function making it)."""
    from litestar.cli._utils import LitestarEnv

    root = ctx.find_root()
    if not isinstance(root.obj, LitestarEnv):
        root.obj = root.obj()
    env: LitestarEnv = root.obj
    return env.app


def _forward(ctx: click.Context, args: tuple[str, ...]) -> None:
    from dbops.cli.app import run
    from dbops.cli.state import CliState
    from dbops.discovery import configs_from_object

    configs = configs_from_object(_current_app(ctx), "the Litestar app")
    with _quiet_library_logging():
        code = run(list(args), prog_name=f"litestar {ctx.info_name}", state=CliState(preset_configs=configs))
    ctx.exit(code)


@contextlib.contextmanager
def _quiet_library_logging() -> Iterator[None]:
    """Show only warnings from libraries' loggers (Alembic's INFO chatter), as the standalone ``dbops`` does.

    Loading the app ran Litestar's logging setup, which sends INFO records of every logger to the console;
    dbops reports progress itself.
    """
    root = logging.getLogger()
    level = root.level
    root.setLevel(max(level, logging.WARNING))
    try:
        yield
    finally:
        root.setLevel(level)


def database_command(name: str = "database", *, hidden: bool = False) -> click.Command:
    """A click command named ``name`` that runs ``dbops <args>`` on the app's configs."""

    @click.command(
        name=name,
        help=HELP,
        short_help=HELP.split(" (", 1)[0],
        hidden=hidden,
        add_help_option=False,
        context_settings={"ignore_unknown_options": True, "allow_extra_args": True, "allow_interspersed_args": False},
    )
    @click.argument("args", nargs=-1, type=click.UNPROCESSED)
    def command(args: tuple[str, ...]) -> None:
        _forward(click.get_current_context(), args)

    return command


def add_database_commands(cli: Any) -> None:
    """Register ``database`` and its hidden alias ``db`` on Litestar's root group (once)."""
    for index, name in enumerate(ALIASES):
        if name not in cli.commands:
            cli.add_command(database_command(name, hidden=index > 0), name)
