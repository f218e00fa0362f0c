"""Passwords are masked in every message dbops prints, whatever shape the driver gave them."""

from __future__ import annotations

import pytest

from dbops.errors import DbopsError, redact


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("postgresql+psycopg://me:hunter2@db:5432/app", "postgresql+psycopg://me:***@db:5432/app"),
        ("mysql+asyncmy://root:p%40ss@127.0.0.1/x?charset=utf8", "mysql+asyncmy://root:***@127.0.0.1/x?charset=utf8"),
        ("host=db password=hunter2 dbname=app", "host=db password=*** dbname=app"),
        ("password='two words' host=db", "password='***' host=db"),
        ("{'user': 'me', 'password': 'hunter2'}", "{'user': 'me', 'password': '***'}"),
        ("PWD: hunter2)", "PWD: ***)"),
        # MySQL says whether a password was sent; that word is not a secret.
        ("(1045, \"Access denied for user 'root'@'localhost' (using password: YES)\")", None),
        ("sqlite:///app.sqlite", None),
    ],
)
def test_redact(text: str, expected: str | None) -> None:
    assert redact(text) == (text if expected is None else expected)


def test_errors_redact_their_message() -> None:
    error = DbopsError("cannot connect to postgresql://me:hunter2@db/app: password=hunter2 rejected")
    assert "hunter2" not in error.message
    assert error.message == "cannot connect to postgresql://me:***@db/app: password=*** rejected"
