"""Options several commands share, declared once so they parse, validate and read the same everywhere."""

from __future__ import annotations

import datetime
from enum import Enum
from typing import Annotated

import typer

__all__ = ["FormatOption", "OutputFormat", "YesOption", "duration"]


class OutputFormat(str, Enum):
    """``--format``: text for people, json for scripts. Anything else is a usage error (exit 2)."""

    text = "text"
    json = "json"


FormatOption = Annotated[
    OutputFormat, typer.Option("--format", help="Output: text, or json for scripts.", case_sensitive=False)
]
YesOption = Annotated[
    bool, typer.Option("--yes", "--no-prompt", "-y", help="Don't ask for confirmation (for scripts and CI).")
]


def duration(text: str) -> datetime.timedelta:
    """Parse a ``DURATION`` option value (``typer.Option(parser=duration)``); a bad one is a usage error."""
    from dbops.durations import parse_duration

    try:
        return parse_duration(text)
    except ValueError as error:
        raise typer.BadParameter(str(error)) from None
