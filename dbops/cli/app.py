"""The Typer tree and the process entry point.

``--config``, ``--app`` and ``--bind-key`` are root options, but users type them after the subcommand too
(``dbops upgrade --config app:db``); ``main`` moves them in front before click parses, so both orders work in
every command without each command redeclaring them.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from dbops.cli.state import CliState, get_state

__all__ = ["ROOT_VALUE_OPTIONS", "create_app", "main", "run", "show_help_without_command"]

ROOT_VALUE_OPTIONS = ("--config", "-c", "--app", "--bind-key", "-k")
# Root flags; hoisted from after the subcommand unless that subcommand has an option of the same name.
ROOT_FLAGS = ("--quiet", "-q", "--verbose", "-v")

HELP = """Database operations for SQLAlchemy apps: migrations, data, sessions and storage.

Configs are found from --config module:attr (or path/to/file.py:attr), --app module:app, the DBOPS_CONFIG
environment variable, or [tool.dbops] config = "module:attr" in pyproject.toml, in that order.

Example: dbops --config examples/app.py:db upgrade
"""


def _root(
    ctx: typer.Context,
    config: Annotated[
        str | None,
        typer.Option("--config", "-c", help="Configs to use: module:attr or path/to/file.py:attr.", metavar="REF"),
    ] = None,
    app: Annotated[
        str | None,
        typer.Option("--app", help="A Litestar app whose dbops plugin holds the configs.", metavar="REF"),
    ] = None,
    bind_key: Annotated[
        str | None,
        typer.Option("--bind-key", "-k", help="Act on the config with this bind key.", metavar="KEY"),
    ] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Show tracebacks and more detail.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print only results and errors.")] = False,
) -> None:
    state = get_state(ctx)
    state.config_ref = config or state.config_ref
    state.app_ref = app or state.app_ref
    state.bind_key = bind_key or state.bind_key
    state.verbose = verbose or state.verbose
    state.quiet = quiet or state.quiet
    show_help_without_command(ctx)


class _RootGroup(TyperGroup):
    """Lets Ctrl-C reach dbops' error edge ("Interrupted.", exit 130) under every typer version.

    typer's main loop turns ``KeyboardInterrupt`` into a silent exit (or, on older versions, ``Aborted!`` and 1);
    raised from here as an ordinary exception, it passes through untouched.
    """

    def invoke(self, ctx: typer.Context) -> Any:  # type: ignore[override]
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt as error:
            raise _Interrupted from error


class _Interrupted(Exception):
    """A KeyboardInterrupt on its way out of click (see ``_RootGroup``)."""


def create_app() -> typer.Typer:
    """Build the command tree. Command modules import their engines lazily, so this stays cheap."""
    app = typer.Typer(
        name="dbops",
        cls=_RootGroup,
        help=HELP,
        invoke_without_command=True,
        rich_markup_mode=None,
        pretty_exceptions_enable=False,
        context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110},
        add_completion=True,
    )
    app.callback()(_root)
    from dbops.cli import commands

    commands.register(app)
    return app


def hoist_root_options(argv: Sequence[str], command: Any = None) -> list[str]:
    """Move root options given after the subcommand (``--config X``, ``--bind-key=K``, ``-q``, ``-v``) to the front.

    An option the subcommand declares itself stays with it (``history --verbose`` is history's own flag).
    """
    own = _subcommand_options(argv, command if command is not None else _click_app())
    hoisted: list[str] = []
    rest: list[str] = []
    args = list(argv)
    index = 0
    while index < len(args):
        arg = args[index]
        if arg == "--":
            rest.extend(args[index:])
            break
        name = arg.split("=", 1)[0]
        if arg in ROOT_FLAGS and arg not in own:
            hoisted.append(arg)
            index += 1
            continue
        if name in ROOT_VALUE_OPTIONS and name not in own:
            if "=" in arg:
                hoisted.append(arg)
            elif index + 1 < len(args):
                hoisted.extend((arg, args[index + 1]))
                index += 1
            else:
                rest.append(arg)  # let click report the missing value
            index += 1
            continue
        rest.append(arg)
        index += 1
    return hoisted + rest


def _click_app() -> Any:
    from typer.main import get_command

    return get_command(create_app())


def _subcommand_options(argv: Sequence[str], group: Any) -> set[str]:
    """The option names the (sub)subcommand named in ``argv`` declares, found by walking the command tree."""
    command = group
    args = list(argv)
    index = 0
    while index < len(args):
        arg = args[index]
        if arg == "--":
            break
        if arg in ROOT_VALUE_OPTIONS:
            index += 2
            continue
        if arg.startswith("-"):
            index += 1
            continue
        commands = getattr(command, "commands", None)
        if not isinstance(commands, dict) or arg not in commands:
            break
        command = commands[arg]
        index += 1
    if command is group:
        return set()
    return {opt for param in command.params for opt in (*param.opts, *param.secondary_opts)}


def run(argv: Sequence[str], *, prog_name: str = "dbops", state: CliState | None = None) -> int:
    """Run the CLI on ``argv`` and return the exit code (no ``sys.exit``), for tests and host CLIs.

    Click's standalone mode reports its own errors (usage errors, exit 2; ``Aborted!``, exit 1) and ends with
    ``SystemExit``, which carries the code; everything else is dbops' to report. Only public typer/click API is
    used, so this works whether typer runs on click itself or on its vendored copy.
    """
    state = state or CliState()
    command = _click_app()
    try:
        command.main(args=hoist_root_options(argv, command), prog_name=prog_name, standalone_mode=True, obj=state)
    except SystemExit as exit_:
        code = exit_.code
        return code if isinstance(code, int) else (0 if code is None else 1)
    except BaseException as error:
        from dbops.cli.errors import report_exception

        interrupted = isinstance(error, _Interrupted)
        return report_exception(KeyboardInterrupt() if interrupted else error, verbose=state.verbose)
    return 0


def show_help_without_command(ctx: typer.Context) -> None:
    """A bare ``dbops`` (or ``dbops sessions``, ``litestar database``) is how people ask for the command list.

    Groups use this as their callback (``invoke_without_command=True``) instead of ``no_args_is_help``, whose
    error exits 2 and prints to stderr: the list goes to stdout with exit 0.
    """
    if ctx.invoked_subcommand is None:
        sys.stdout.write(ctx.get_help() + "\n")
        raise typer.Exit(0)


def main() -> None:
    """Console-script entry point."""
    sys.exit(run(sys.argv[1:]))
