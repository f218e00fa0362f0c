"""Every command documents itself: help text with an imperative first line and an example."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from typer.main import get_command

from dbops.cli.app import create_app
from tests.cli_runner import invoke


# Typer builds click commands (on click itself or, in newer versions, its vendored copy): typed as Any here.
def _walk(command: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    commands = getattr(command, "commands", None)
    if isinstance(commands, dict):
        for name, sub in commands.items():
            yield from _walk(sub, (*path, name))
    else:
        yield path, command


COMMANDS = sorted(_walk(get_command(create_app())), key=lambda item: item[0])


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=[" ".join(path) for path, _ in COMMANDS])
def test_command_has_help_and_example(path: tuple[str, ...], command: Any) -> None:
    assert command.help, f"dbops {' '.join(path)} has no help text"
    first_line = command.help.strip().splitlines()[0]
    assert first_line[0].isupper() and not first_line.split()[0].endswith("s"), (
        f"first help line should be imperative: {first_line!r}"
    )
    assert "Example" in command.help, f"dbops {' '.join(path)} has no example in its help"
    result = invoke([*path, "--help"])
    assert result.exit_code == 0
    assert "Example" in result.stdout
