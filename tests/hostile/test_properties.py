"""Hypothesis: passwords made of anything (the corpus' nasty characters and any other) are never printed.

The oracle is exact where it can be: a masked URL is the URL with ``***`` for the password, a scrubbed text
is the text with ``***`` for the password. Through the CLI (``configs``, and a command against a server that
can't be reached) no run of six of the password's characters may appear, and the exit code and the one error
line follow the contract. Cookies get the same treatment in test_cookies.py.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from dbops.config import SQLAlchemySyncConfig
from dbops.errors import ConfigError
from dbops.urls import MIN_SCRUBBED_LENGTH, mask_url, parse_url, redact
from tests.cli_runner import CliResult, invoke
from tests.hostile.corpus import NASTY_CHARACTERS, leaked

characters = st.sampled_from(NASTY_CHARACTERS) | st.characters(exclude_categories=["Cs"])
passwords = st.text(alphabet=characters, min_size=1, max_size=40)
URL = "postgresql+psycopg://u:{}@db.example:5432/app"
MASKED = "postgresql+psycopg://u:***@db.example:5432/app"
FULLY_MASKED = "postgresql+psycopg://***@db.example:5432/app"  # an unencoded "@": all before the last one


@settings(max_examples=200, deadline=None)
@given(passwords)
def test_an_encoded_password_is_masked_exactly(password: str) -> None:
    config = SQLAlchemySyncConfig(connection_string=URL.format(quote(password, safe="")))
    assert config.url == MASKED
    assert parse_url(str(config.connection_string)).password == password


@settings(max_examples=200, deadline=None)
@given(passwords)
def test_a_raw_password_is_masked_or_refused(password: str) -> None:
    url = URL.format(password)
    shown = mask_url(url)
    assert shown in (MASKED, FULLY_MASKED), shown
    try:
        parse_url(url)
    except ConfigError as error:  # what SQLAlchemy would misread is refused, and the refusal is masked too
        assert shown == FULLY_MASKED and FULLY_MASKED in str(error)


@settings(max_examples=200, deadline=None)
@given(passwords)
def test_a_live_configs_password_is_scrubbed_from_any_text(password: str) -> None:
    assume(len(password) >= MIN_SCRUBBED_LENGTH and password.strip() == password and "***" not in password)
    config = SQLAlchemySyncConfig(connection_string=URL.format(quote(password, safe="")))
    for spelled in (password, quote(password, safe=""), repr(password)[1:-1], json.dumps(password)[1:-1]):
        assert redact(f"<{spelled}>") == "<***>", (password, spelled)
    assert config.url == MASKED  # the config lives until here


def _run(folder: Path, url: str, argv: list[str]) -> CliResult:
    """``dbops --config hostile_prop.py:db ARGV`` with ``url`` (always the same module name: no path or name
    in the output depends on the example)."""
    sys.modules.pop("hostile_prop", None)  # discovery caches a config module by name and path
    (folder / "hostile_prop.py").write_text(
        f"from dbops import SQLAlchemySyncConfig\ndb = SQLAlchemySyncConfig(connection_string={url!r})\n"
    )
    return invoke(["--config", "hostile_prop.py:db", *argv], cwd=folder)


COMMANDS = [["configs"], ["dump-data", "--dir", "out"], ["--verbose", "dump-data", "--dir", "out"]]


@pytest.mark.parametrize("encoded", [True, False], ids=["encoded", "raw"])
def test_the_cli_never_prints_a_password(tmp_path: Path, encoded: bool) -> None:
    # What the commands print for a plain password: a run of the password's characters found there too (a
    # password "versio", and the word "version" in a traceback) was not put there by the password.
    baseline = "".join(
        _run(tmp_path, "postgresql+psycopg://u:QQQQQQ@127.0.0.1:1/app", argv).output for argv in COMMANDS
    )

    @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(passwords)
    def check(password: str) -> None:
        assume(len(password) >= 6)
        spelled = quote(password, safe="") if encoded else password
        url = f"postgresql+psycopg://u:{spelled}@127.0.0.1:1/app"
        listed, plain, verbose = (_run(tmp_path, url, argv) for argv in COMMANDS)
        assert listed.exit_code == 0 and listed.stdout.split("\t")[2].strip() in (
            "postgresql+psycopg://u:***@127.0.0.1:1/app",
            "postgresql+psycopg://***@127.0.0.1:1/app",
        ), listed.output
        for result in (plain, verbose):
            assert result.exit_code == 2, result.output
            assert result.stderr.splitlines()[-1].startswith(
                (
                    "Error: cannot connect to default (",
                    "Error: the database URL ",
                    "Error: cannot parse the database URL ",
                )
            ), result.output
        assert plain.stderr.count("\n") == 1 and "Traceback" not in plain.output
        for secret in (password, spelled):
            shown = listed.output + plain.output + verbose.output
            assert [piece for piece in leaked(secret, shown) if piece not in baseline] == [], shown

    check()
