"""Every command documents itself: help text with an imperative first line and an example."""

from __future__ import annotations

import re
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


CHOICES = re.compile(r"[<\[{][\w-]+(\|[\w-]+)+[>\]}]")  # a fixed set of values: <text|json> or [text|json]


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=[" ".join(path) for path, _ in COMMANDS])
def test_help_placeholders_are_one_style(path: tuple[str, ...], command: Any) -> None:
    """Every value a user types shows as an UPPERCASE placeholder (REV, DIR, N, DURATION), never as a Python
    type (``<list[str]>``, ``<path>``); a fixed set of values shows as that set. Read off the help as printed."""
    text = invoke([*path, "--help"]).stdout
    section = ""
    for line in text.splitlines():
        if line.endswith(":") and not line.startswith(" "):
            section = line
            continue
        if not line.startswith("  ") or line.startswith("   ") or section not in ("Arguments:", "Options:"):
            continue
        head = re.split(r"\s{2,}", line.strip())[0].split()
        if section == "Arguments:":
            placeholders = head[:1]  # typer may print the value's type after it; the name is the placeholder
        else:
            placeholders = [word for word in head if not word.startswith("-") and word != "/"]
        for word in placeholders:
            assert re.fullmatch(r"[A-Z][A-Z_]*(\.\.\.)?", word) or CHOICES.fullmatch(word), (
                f"dbops {' '.join(path)}: placeholder {word!r} in {line.strip()!r}"
            )
