"""Passwords are never printed: every command, with and without --verbose, sync and async drivers, against
servers that can't be reached and servers that refuse the password (real PostgreSQL and MariaDB users whose
passwords are the corpus' strings), with each password raw and percent-encoded in the URL.

The oracle is the password itself: no run of six of its characters (nor of its encoded spellings) may appear
in stdout or stderr. Configs name the URL in their source, so a traceback showing that line is covered too.
"""

from __future__ import annotations

import itertools
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, unquote

import pytest

from tests.cli_runner import CliResult, invoke
from tests.hostile.corpus import PASSWORDS, leaked
from tests.hostile.servers import HostileUser, PasswordServer, hostile_user

COMMANDS = [
    ["configs"],
    ["configs", "--format", "json"],
    ["upgrade"],
    ["current"],
    ["check"],
    ["dump-data", "--dir", "out"],
    ["load-data", "--dir", "fixtures"],
    ["drop-all", "--yes"],
    ["sessions", "cleanup"],
    ["sessions", "stats"],
    ["storage", "check"],
]
SCHEMES = {
    ("postgresql", False): "postgresql+psycopg",
    ("postgresql", True): "postgresql+asyncpg",
    ("mariadb", False): "mysql+pymysql",
    ("mariadb", True): "mysql+asyncmy",
}
# (percent-encoded in the URL, async driver, --verbose): against each kind of server, each password goes
# through every switch both ways (not every combination: the suite runs on two cores).
VARIANTS = {
    "wrong-password": [(False, False, False), (True, True, True)],
    "unreachable": [(True, False, True), (False, True, False)],
}
CLOSED_PORT = 1


@dataclass
class Project:
    """A folder with a migrations directory, a fixture, and one config module per URL (modules are cached)."""

    folder: Path
    count: itertools.count[int]

    def config(self, url: str, *, is_async: bool) -> str:
        kind = "Async" if is_async else "Sync"
        name = f"hostile_cfg_{next(self.count)}"
        (self.folder / f"{name}.py").write_text(
            "import tests.hostile.models\n"
            f"from dbops import SQLAlchemy{kind}Config, Alembic{kind}Config\n"
            f"db = SQLAlchemy{kind}Config(\n"
            f"    connection_string={url!r},\n"
            "    bind_key='hostile_tests',\n"
            f"    alembic_config=Alembic{kind}Config(script_location='migrations'),\n"
            ")\n"
        )
        return f"{name}.py:db"

    def run(self, reference: str, command: list[str], *, verbose: bool) -> CliResult:
        return invoke(["--config", reference, *(["--verbose"] if verbose else []), *command], cwd=self.folder)


@pytest.fixture
def project(tmp_path: Path) -> Project:
    made = Project(tmp_path, itertools.count())
    (tmp_path / "fixtures").mkdir()
    (tmp_path / "fixtures" / "hostile_document.json").write_text('[{"id": 1, "name": "x"}]')
    result = made.run(made.config("sqlite:///unused.sqlite", is_async=False), ["init"], verbose=False)
    assert result.exit_code == 0, result.output
    return made


@pytest.fixture(params=["postgresql", "mariadb"])
def server(
    request: pytest.FixtureRequest,
) -> PasswordServer:
    fixture = "postgres_password_server" if request.param == "postgresql" else "mariadb_password_server"
    found: PasswordServer = request.getfixturevalue(fixture)
    return found


@pytest.fixture(params=range(len(PASSWORDS)), ids=[repr(p)[1:-1][:12] for p in PASSWORDS])
def user(request: pytest.FixtureRequest, server: PasswordServer) -> Iterator[HostileUser]:
    with hostile_user(server, PASSWORDS[request.param]) as made:
        yield made


def url_for(user: HostileUser, password_in_url: str, *, is_async: bool, port: int | None = None) -> str:
    scheme = SCHEMES[(user.server.dialect, is_async)]
    query = "?charset=utf8mb4" if user.server.dialect == "mariadb" else ""
    port = user.server.port if port is None else port
    return f"{scheme}://{user.name}:{password_in_url}@{user.server.host}:{port}/{user.database}{query}"


def expected_refusal(user: HostileUser, password_in_url: str, *, encoded: bool) -> tuple[tuple[str, ...], str]:
    """How the one error line every connecting command ends with starts, and what it must say."""
    if not encoded and "@" in password_in_url:
        # Refused before any driver sees it: SQLAlchemy would read the password's tail as the host (or port).
        return ("Error: the database URL ", "Error: cannot parse the database URL "), "://***@"
    try:
        unquote(password_in_url).encode("latin-1")
    except UnicodeEncodeError:
        if user.server.dialect == "mariadb":  # PyMySQL and asyncmy send passwords as latin-1
            return ("Error: cannot connect to hostile_tests (",), "the driver can't send this password"
    return ("Error: cannot connect to hostile_tests (",), f"{user.name}:***@"


def assert_secret_kept(result: CliResult, *secrets: str) -> None:
    for secret in secrets:
        assert leaked(secret, result.output) == [], result.output


def assert_contract(
    result: CliResult, command: list[str], *, verbose: bool, refusal: tuple[tuple[str, ...], str]
) -> None:
    lines = result.stderr.splitlines()
    if command[0] == "configs":
        assert result.exit_code == 0, result.output
        shown = result.stdout if command[-1] != "json" else json.loads(result.stdout)[0]["url"]
        assert ":***@" in shown or "://***@" in shown, shown
        return
    assert result.exit_code == 2, result.output
    starts, says = refusal
    assert lines and lines[-1].startswith(starts) and says in lines[-1], result.output
    assert result.stdout == ""
    if verbose:
        assert "Traceback" in result.stderr
    else:
        assert len(lines) == 1 and "Traceback" not in result.output, result.output


@pytest.mark.parametrize("target", list(VARIANTS))
def test_every_command_keeps_the_password(project: Project, user: HostileUser, target: str) -> None:
    reachable = target == "wrong-password"
    for encoded, is_async, verbose in VARIANTS[target]:
        spelled = quote(user.password, safe="") if encoded else user.password
        # Reachable: the server refuses a password one character off (it holds every hostile character).
        password_in_url = spelled + "!" if reachable else spelled
        port = None if reachable else CLOSED_PORT
        url = url_for(user, password_in_url, is_async=is_async, port=port)
        reference = project.config(url, is_async=is_async)
        refusal = expected_refusal(user, password_in_url, encoded=encoded)
        for command in COMMANDS:
            result = project.run(reference, command, verbose=verbose)
            assert_secret_kept(result, user.password, password_in_url)
            assert_contract(result, command, verbose=verbose, refusal=refusal)
        # The ops-box form: the URL on the command line, no config.
        from_url = invoke([*(["--verbose"] if verbose else []), "sessions", "stats", "--url", url], cwd=project.folder)
        assert_secret_kept(from_url, user.password, password_in_url)
        assert from_url.exit_code == 2 and refusal[1] in from_url.stderr.splitlines()[-1], from_url.output
        out = project.folder / "out"
        assert not out.exists() or not any(out.iterdir())  # nothing dumped


def test_the_right_password_is_not_printed_either(project: Project, user: HostileUser) -> None:
    """Commands that get in (or stop at the empty database) print the URL masked too."""
    for is_async in (False, True):
        reference = project.config(url_for(user, quote(user.password, safe=""), is_async=is_async), is_async=is_async)
        for command in COMMANDS if is_async else COMMANDS[:3]:
            result = project.run(reference, command, verbose=False)
            assert_secret_kept(result, user.password)
            assert "Traceback" not in result.output and "unexpected" not in result.output, result.output
            assert result.exit_code in (0, 1, 2), result.output


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.mark.parametrize("target", list(VARIANTS))
def test_litestar_startup_keeps_the_password(user: HostileUser, target: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The plugin's start-up error line (and whatever Litestar logs around it, and the error a server would
    print) masks the password.

    (Not capsys: Litestar's logging config binds a handler to the sys.stderr of the moment, which capsys closes
    after the test, and every later log line would then fail.)"""
    from litestar import Litestar
    from litestar.testing import TestClient
    from litestar_dbops import SQLAlchemyAsyncConfig, SQLAlchemyPlugin, SQLAlchemySyncConfig

    from dbops.errors import DbopsError
    from tests.hostile.models import BIND_KEY

    records = _Records()
    for name in ("litestar_dbops", "litestar"):
        logging.getLogger(name).addHandler(records)
    try:
        for encoded, is_async, keep_chain in VARIANTS[target]:  # DBOPS_TRACEBACK=1 keeps the driver's errors
            spelled = quote(user.password, safe="") if encoded else user.password
            password_in_url = spelled + "!" if target == "wrong-password" else spelled
            port = None if target == "wrong-password" else CLOSED_PORT
            config_class = SQLAlchemyAsyncConfig if is_async else SQLAlchemySyncConfig
            config = config_class(
                connection_string=url_for(user, password_in_url, is_async=is_async, port=port),
                bind_key=BIND_KEY,
                create_all=True,
            )
            monkeypatch.setenv("DBOPS_TRACEBACK", "1" if keep_chain else "0")
            with pytest.raises(BaseException) as info, TestClient(Litestar(plugins=[SQLAlchemyPlugin(config)])):
                pass
            error: BaseException = info.value
            while len(getattr(error, "exceptions", ())) == 1:  # an exception group holding one error
                error = error.exceptions[0]  # type: ignore[attr-defined]
            assert isinstance(error, DbopsError), repr(error)
            starts, says = expected_refusal(user, password_in_url, encoded=encoded)
            assert str(error).startswith(tuple(s.removeprefix("Error: ") for s in starts)) and says in str(error)
            assert "\n" not in str(error)
            assert f"the app cannot start: {error}" in records.lines
            shown = "\n".join([*records.lines, *_chain(error)])
            for secret in (user.password, password_in_url):
                assert leaked(secret, shown) == [], shown
    finally:
        for name in ("litestar_dbops", "litestar"):
            logging.getLogger(name).removeHandler(records)


def _chain(error: BaseException) -> list[str]:
    """What a server prints for the error that stopped the app: its traceback and every error behind it (not
    redacted: uvicorn and friends print them as they are)."""
    import traceback

    return traceback.format_exception(error)
