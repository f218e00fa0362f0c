"""Passwords are masked in every message dbops prints, whatever shape the driver gave them.

URLs are masked from SQLAlchemy's own parse (``mask_url``); free text by the passwords of live configs (any
character) and by patterns for URLs dbops was never given (``redact``).
"""

from __future__ import annotations

import gc

import pytest
from sqlalchemy.engine import make_url

from dbops.config import SQLAlchemySyncConfig
from dbops.errors import ConfigError, DbopsError, redact
from dbops.urls import backend_name, mask_url, parse_url


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
        # A password with spaces (or an unencoded "@") in a URL dbops was never given: masked to the last "@".
        (
            'engine = create_engine("postgresql://u:Sp ace S3cr3t@db/app")',
            'engine = create_engine("postgresql://u:***@db/app")',
        ),
        ("see mysql://u:p@ss@db/app", "see mysql://u:***@db/app"),
        # An already masked URL, and a password-less one with a port, leave a later "'root'@'localhost'" alone.
        (
            "cannot connect to default (mysql+pymysql://root:***@127.0.0.1:1/test): "
            "(1045, \"Access denied for user 'root'@'localhost'\")",
            None,
        ),
        ("default (mysql+pymysql://127.0.0.1:3306/test): denied for 'root'@'localhost'", None),
    ],
)
def test_redact(text: str, expected: str | None) -> None:
    assert redact(text) == (text if expected is None else expected)


def test_errors_redact_their_message() -> None:
    error = DbopsError("cannot connect to postgresql://me:hunter2@db/app: password=hunter2 rejected")
    assert "hunter2" not in error.message
    assert error.message == "cannot connect to postgresql://me:***@db/app: password=*** rejected"


@pytest.mark.parametrize(
    "password",
    ["Sp ace S3cr3t", "tab\tand \"dq\" 'sq'", "at@sign:colon/slash", "per%cent", "ünïcødé ✓", "line\nbreak here"],
)
def test_a_live_configs_password_is_masked_in_any_text(password: str) -> None:
    from urllib.parse import quote

    config = SQLAlchemySyncConfig(connection_string=f"postgresql+psycopg://me:{quote(password, safe='')}@db/app")
    spellings = [password, quote(password, safe=""), repr(password)[1:-1], password.replace("'", "\\'")]
    for spelled in spellings:
        text = redact(f"driver said: {spelled}; and {spelled!r} in a repr")
        assert password not in text and quote(password, safe="") not in text, text
    first_line = redact(f"cut here: {password}").splitlines()[0]
    assert all(piece not in first_line for piece in password.splitlines() if len(piece) >= 4), first_line
    assert config.url == "postgresql+psycopg://me:***@db/app"


def test_a_forgotten_config_no_longer_masks_its_password() -> None:
    config = SQLAlchemySyncConfig(connection_string="postgresql+psycopg://me:Error@db/app")
    assert redact("Error: x") == "***: x"
    del config
    gc.collect()
    assert redact("Error: x") == "Error: x"  # the word of a dead config's password is free again


def test_short_and_embedded_passwords_do_not_blank_out_words() -> None:
    short = SQLAlchemySyncConfig(connection_string="postgresql+psycopg://me:abc@db/app")
    word = SQLAlchemySyncConfig(connection_string="postgresql+psycopg://postgres:postgres@db/app")
    assert redact("abc dialect postgresql+psycopg") == "abc dialect postgresql+psycopg"
    assert redact('user "postgres" failed') == 'user "***" failed'  # the user name is the password: masked
    assert (short.url, word.url) == ("postgresql+psycopg://me:***@db/app", "postgresql+psycopg://postgres:***@db/app")


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql+psycopg://u:Sp ace S3cr3t@host/db", "postgresql+psycopg://u:***@host/db"),
        ("mysql+pymysql://u:tab\there@h:3306/db?charset=utf8mb4", "mysql+pymysql://u:***@h:3306/db?charset=utf8mb4"),
        ("postgresql://u:line\nbreak@h/db", "postgresql://u:***@h/db"),
        ("postgresql://u:p%40ss%2Fw%3Ard@h/db", "postgresql://u:***@h/db"),
        # An unencoded "@": SQLAlchemy would take "ss" for the host; everything before the last "@" is hidden.
        ("postgresql://u:p@ss@host/db", "postgresql://***@host/db"),
        ("postgresql://u:p@ss/x@host/db", "postgresql://***@host/db"),
        ("postgresql://u:p@ss?x@host/db", "postgresql://***@host/db"),
        # Does not parse at all (the password's tail makes a port): still masked.
        ("mysql://u:mixed @:/%'\" ✓@h/db", "mysql://***@h/db"),
        ("sqlite:////tmp/a@b/app.sqlite", "sqlite:////tmp/a@b/app.sqlite"),
        ("postgresql://postgres@127.0.0.1:5432/x", "postgresql://postgres@127.0.0.1:5432/x"),
        ("sqlite:///app.sqlite", "sqlite:///app.sqlite"),
    ],
)
def test_mask_url(url: str, shown: str) -> None:
    assert mask_url(url) == shown


def test_mask_url_of_url_objects() -> None:
    assert mask_url(make_url("postgresql://u:Sp ace@h/db")) == "postgresql://u:***@h/db"
    assert mask_url(make_url("postgresql://u:p@ss@h/db")) == "postgresql://***@h/db"


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("postgresql://u:p@ss@host/db", "has an '@' after the one that ends its password"),
        ("postgresql://u:p@ss?x@host/db", "has an '@' after the one that ends its password"),
        ("mysql://u:mixed @:/x@h/db", "cannot parse the database URL mysql://***@h/db"),
    ],
)
def test_parse_url_refuses_what_sqlalchemy_would_misread(url: str, says: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_url(url)
    assert says in str(info.value)
    assert "ss" not in str(info.value).split("://", 1)[1].split("@")[0]
    assert info.value.__cause__ is None  # not the parser's exception: its words quote the password's tail
    assert info.value.__context__ is None or info.value.__suppress_context__


def test_backend_name() -> None:
    assert [backend_name(u) for u in ("sqlite:///x", "postgresql+asyncpg://h/d", "mysql+pymysql://u:p@h/d")] == [
        "sqlite",
        "postgresql",
        "mysql",
    ]
