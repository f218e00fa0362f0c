"""``dbops configs``: show which database configs dbops found and where from."""

from __future__ import annotations

import typer

from dbops.cli.options import FormatOption, OutputFormat
from dbops.cli.state import get_state

app = typer.Typer()


@app.command("configs")
def configs_command(
    ctx: typer.Context,
    output_format: FormatOption = OutputFormat.text,
) -> None:
    """List the database configs dbops found (bind key, kind, URL with the password masked).

    Example: dbops --config examples/app.py:db configs
    """
    import sys

    from dbops.cli.render import print_json

    state = get_state(ctx)
    rows = [
        {"bind_key": config.bind_key, "kind": "async" if config.is_async else "sync", "url": config.url}
        for config in state.configs()
    ]
    if output_format == "json":
        print_json(rows)
        return
    for row in rows:
        sys.stdout.write(f"{row['bind_key'] or 'default'}\t{row['kind']}\t{row['url']}\n")
