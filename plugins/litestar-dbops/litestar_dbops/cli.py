"""``litestar database`` (alias ``litestar db``): dbops' whole CLI, on the configs of the app Litestar loaded.

Typer may build its commands on its own vendored copy of click, so they cannot be added to Litestar's
(rich-)click group as they are. Instead this module mirrors dbops' command tree as real click groups and
commands, built from that tree: Litestar's help lists every command and group, and its shell completion offers
their names and each command's options. Each mirrored command parses nothing itself; it hands its arguments to
``dbops.cli.app.run`` with the app's configs preset, so help, errors, exit codes and every option are dbops'
own and no command is implemented twice.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

import click
from click.shell_completion import CompletionItem

if TYPE_CHECKING:
    from litestar import Litestar

__all__ = ["add_database_commands", "database_group"]

HELP = "Manage the app's database: migrations, data, sessions, storage (dbops; --help lists the commands)."
ALIASES = ("database", "db")
ROOT_ARGS = "dbops_root_args"
"""``ctx.meta`` key (shared by nested contexts): the root options given before the subcommand, as typed."""
TOP = "dbops_top"
"""``ctx.meta`` key: the alias the user typed (``database`` or ``db``), for dbops' usage lines."""

# typer's own --install-completion/--show-completion install `dbops` completion: not for `litestar database`,
# whose completion is Litestar's.
_TYPER_COMPLETION_OPTIONS = frozenset({"install_completion", "show_completion"})
_FORWARD_SETTINGS = {"ignore_unknown_options": True, "allow_extra_args": True, "allow_interspersed_args": False}


def _current_app(ctx: click.Context) -> Litestar:
    """The app Litestar's root group loaded (its context object is the env, or a function making it)."""
    from litestar.cli._utils import LitestarEnv

    root = ctx.find_root()
    if not isinstance(root.obj, LitestarEnv):
        root.obj = root.obj()
    env: LitestarEnv = root.obj
    return env.app


def _forward(ctx: click.Context, path: Sequence[str], args: Sequence[str]) -> None:
    """Run ``dbops <root options> <path> <args>`` on the app's configs and exit with its code."""
    from dbops.cli.app import run
    from dbops.cli.state import CliState
    from dbops.discovery import configs_from_object

    configs = configs_from_object(_current_app(ctx), "the Litestar app")
    argv = [*ctx.meta.get(ROOT_ARGS, []), *path, *args]
    prog_name = f"litestar {ctx.meta.get(TOP, ALIASES[0])}"
    with _quiet_library_logging():
        code = run(argv, prog_name=prog_name, state=CliState(preset_configs=configs))
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


class _ForwardingCommand(click.Command):
    """A dbops command under Litestar: its arguments go to dbops unparsed; completion offers dbops' options."""

    def __init__(self, name: str, source: Any, path: tuple[str, ...]) -> None:
        self.path = path
        self.option_help = {
            opt: param.help or ""
            for param in source.params
            if getattr(param, "param_type_name", "") == "option" and not getattr(param, "hidden", False)
            for opt in (*param.opts, *param.secondary_opts)
            if opt.startswith("--")
        }
        super().__init__(
            name,
            help=source.help,
            short_help=_short_help(source),
            hidden=source.hidden,
            add_help_option=False,  # dbops prints the command's help (its options, placeholders, example)
            context_settings=_FORWARD_SETTINGS,
            params=[click.Argument(["args"], nargs=-1, type=click.UNPROCESSED)],
            callback=self._run,
        )

    def _run(self, args: tuple[str, ...]) -> None:
        _forward(click.get_current_context(), self.path, args)

    def shell_complete(self, ctx: click.Context, incomplete: str) -> list[CompletionItem]:
        if not incomplete.startswith("-"):
            return []
        return [CompletionItem(opt, help=text) for opt, text in self.option_help.items() if opt.startswith(incomplete)]


def _short_help(source: Any) -> str | None:
    short: str | None = getattr(source, "short_help", None)
    if short:
        return short
    text: str = source.help or ""
    return text.strip().splitlines()[0] if text.strip() else None


def _mirror(name: str, source: Any, path: tuple[str, ...]) -> click.Command:
    subcommands = getattr(source, "commands", None)
    if not isinstance(subcommands, dict):
        return _ForwardingCommand(name, source, path)

    def group_callback() -> None:
        ctx = click.get_current_context()
        if ctx.invoked_subcommand is None:
            _forward(ctx, path, [])  # dbops lists the group's commands

    group = click.Group(
        name,
        help=source.help,
        short_help=_short_help(source),
        hidden=source.hidden,
        invoke_without_command=True,
        callback=group_callback,
    )
    for sub_name, sub in subcommands.items():
        group.add_command(_mirror(sub_name, sub, (*path, sub_name)), sub_name)
    return group


class _DatabaseGroup(click.Group):
    """The ``database`` group; dbops' command tree is mirrored on first use, so other Litestar commands
    (``litestar run``, ``litestar --help``) don't pay for building it."""

    def __init__(self, name: str, *, hidden: bool) -> None:
        super().__init__(
            name,
            help=HELP,
            short_help=HELP.split(" (", 1)[0],
            hidden=hidden,
            invoke_without_command=True,
            callback=self._run,
            context_settings={"help_option_names": ["-h", "--help"]},
        )
        self._loaded = False

    def _load(self) -> None:
        if self._loaded:
            return
        self._loaded = True
        from typer.main import get_command

        from dbops.cli.app import create_app

        source = get_command(create_app())
        self.params.extend(
            click.Option(
                list(param.opts),
                is_flag=bool(getattr(param, "is_flag", False)),
                help=getattr(param, "help", None),
                metavar=param.metavar,
                default=None,
                expose_value=False,
                callback=_remember_root_option,
            )
            for param in source.params
            if getattr(param, "param_type_name", "") == "option" and param.name not in _TYPER_COMPLETION_OPTIONS
        )
        for sub_name, sub in source.commands.items():  # type: ignore[attr-defined]
            self.add_command(_mirror(sub_name, sub, (sub_name,)), sub_name)

    def get_params(self, ctx: click.Context) -> list[click.Parameter]:
        self._load()
        return super().get_params(ctx)

    def list_commands(self, ctx: click.Context) -> list[str]:
        self._load()
        return super().list_commands(ctx)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        self._load()
        return super().get_command(ctx, cmd_name)

    # No `ctx` parameter: Litestar wraps command callbacks and passes `ctx` to those that declare one.
    def _run(self) -> None:
        ctx = click.get_current_context()
        ctx.meta[TOP] = self.name
        if ctx.invoked_subcommand is None:
            _forward(ctx, [], [])  # a bare `litestar database` lists the commands, as a bare `dbops` does


def database_group(name: str = "database", *, hidden: bool = False) -> click.Group:
    """A click group named ``name`` holding every dbops command, each running ``dbops ...`` on the app's configs.

    dbops' root options (``--config``, ``--app``, ``--bind-key``, ``--verbose``, ``--quiet``) are declared on the
    group, as dbops declares them on its root; after a subcommand they reach dbops with its arguments.
    """
    return _DatabaseGroup(name, hidden=hidden)


def _remember_root_option(ctx: click.Context, param: click.Parameter, value: Any) -> None:
    if value is None or value is False:
        return
    option = param.opts[0]
    ctx.meta.setdefault(ROOT_ARGS, []).extend([option] if value is True else [option, str(value)])


def add_database_commands(cli: Any) -> None:
    """Register ``database`` and its hidden alias ``db`` on Litestar's root group (once)."""
    for index, name in enumerate(ALIASES):
        if name not in cli.commands:
            cli.add_command(database_group(name, hidden=index > 0), name)
