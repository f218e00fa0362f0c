"""One duration syntax for every --older-than: the parser, and both commands agreeing on it."""

from __future__ import annotations

from datetime import timedelta

import pytest

from dbops.durations import parse_duration
from tests.cli_runner import invoke


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("90s", 90),
        ("15m", 900),
        ("2h", 7200),
        ("1.5h", 5400),
        ("7d", 604800),
        ("1w", 604800),
        ("1h30m", 5400),
        ("1H 30M", 5400),
        ("0", 0),
        ("500ms", 0.5),
        ("1m30s", 90),
    ],
)
def test_parse_duration(text: str, seconds: float) -> None:
    assert parse_duration(text) == timedelta(seconds=seconds)


@pytest.mark.parametrize("text", ["", "soon", "90", "1h30", "-1h", "1y", "h", "1.h"])
def test_parse_duration_rejects(text: str) -> None:
    with pytest.raises(ValueError, match="is not a duration"):
        parse_duration(text)


@pytest.mark.parametrize("command", [["sessions", "cleanup"], ["storage", "prune-orphans", "--backend", "x"]])
@pytest.mark.parametrize("text", ["90", "1h30", "soon"])
def test_both_commands_refuse_the_same_text_before_any_work(command: list[str], text: str) -> None:
    """No config is given: the option is refused while parsing, exit 2, naming the option and the forms."""
    result = invoke([*command, "--older-than", text])
    assert result.exit_code == 2, result.output
    assert "'--older-than'" in result.stderr and "1h30m" in result.stderr
