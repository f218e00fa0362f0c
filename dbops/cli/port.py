"""``dbops port``: rewrite an Advanced Alchemy app's imports to dbops' (engine: ``dbops.porting``)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from dbops.cli.options import YesOption

app = typer.Typer()


@app.command("port")
def port_command(
    path: Annotated[Path, typer.Argument(help="A .py file or a directory (searched recursively).", metavar="PATH")],
    write: Annotated[bool, typer.Option("--write", help="Rewrite the files (default: show the diff only).")] = False,
    yes: YesOption = False,
) -> None:
    """Rewrite Advanced Alchemy imports (advanced_alchemy.*, litestar.plugins.sqlalchemy) to dbops' modules.

    Shows the change as a unified diff on stdout; --write applies it (asks first unless --yes). Imports dbops
    has no counterpart for are listed on stderr and the exit code is 1 (the README's "Porting from Advanced
    Alchemy" section says what to do instead). Only import statements and dotted module references change.

    Example: dbops port src/ --write --yes
    """
    from dbops.cli.render import confirm_or_refuse
    from dbops.porting import port_path

    result = port_path(path)
    for item in result.changed:
        sys.stdout.write(item.diff())
    sys.stdout.flush()
    for entry in result.unresolved:
        sys.stderr.write(f"warning: {entry} has no dbops counterpart\n")
    changed = len(result.changed)
    if write and changed:
        question = f"Rewrite the imports of {changed} file(s)?"
        if not confirm_or_refuse(question, yes=yes, refusal=f"port --write rewrites {changed} file(s)"):
            raise typer.Abort()
        result.write()
    verb = "rewrote" if write else "would rewrite"
    sys.stderr.write(f"{verb} {changed} of {len(result.files)} file(s); {len(result.unresolved)} import(s) left\n")
    if result.unresolved:
        raise typer.Exit(1)
