"""first_line: the one rule for turning an error into the one line a report shows."""

from __future__ import annotations

import sqlite3

import pytest
import sqlalchemy as sa

from dbops.errors import first_line


def test_a_driver_error_gives_the_drivers_first_line_without_sqlalchemys_wrapping() -> None:
    engine = sa.create_engine("sqlite://")
    with engine.connect() as connection, pytest.raises(sa.exc.OperationalError) as caught:
        connection.execute(sa.text("SELECT * FROM nowhere"))
    engine.dispose()
    assert "[SQL:" in str(caught.value)  # what first_line leaves out
    assert first_line(caught.value) == "no such table: nowhere"


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (ValueError("first\nsecond"), "first"),
        (ValueError("\n  padded  \nnext"), "padded"),
        (ValueError(""), "ValueError"),
        (sqlite3.OperationalError(), "OperationalError"),
        ("text\nmore", "text"),
        ("", ""),
    ],
)
def test_first_line(error: BaseException | str, expected: str) -> None:
    assert first_line(error) == expected
