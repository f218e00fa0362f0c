"""Servers that check passwords, and users whose passwords are hostile strings.

The shared PostgreSQL server trusts every local connection (any password logs in), so a wrong password can
only be refused by a server that asks for one: ``password_postgres`` runs a private, throwaway cluster with
``scram-sha-256`` authentication (initdb + pg_ctl from the installed PostgreSQL, ~1 s), on a free port, for
the test session. MariaDB checks passwords already; users are created there and dropped afterwards.
Every name made here starts with ``hostile_``.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.databases import MYSQL_HOST, MYSQL_PORT, require_server

HOST = "127.0.0.1"
SUPERUSER_PASSWORD = "hostile_superuser_pw"


@dataclass(frozen=True)
class PasswordServer:
    dialect: str  # "postgresql" or "mariadb"
    host: str
    port: int

    def admin(self) -> contextlib.AbstractContextManager[object]:
        """An autocommit admin connection (``execute(sql, params)``) to create and drop users."""
        return _admin(self)


@contextlib.contextmanager
def _admin(server: PasswordServer) -> Iterator[object]:
    if server.dialect == "postgresql":
        import psycopg

        with psycopg.connect(
            host=server.host, port=server.port, user="postgres", password=SUPERUSER_PASSWORD, autocommit=True
        ) as connection:
            yield connection
        return
    import pymysql  # type: ignore[import-untyped]

    connection = pymysql.connect(host=server.host, port=server.port, user="root", password="", autocommit=True)
    try:
        with connection.cursor() as cursor:
            yield cursor
    finally:
        connection.close()


@dataclass(frozen=True)
class HostileUser:
    """A real user (and its own database) whose password is ``password``."""

    server: PasswordServer
    name: str
    password: str
    database: str


def _bindir() -> Path | None:
    found = shutil.which("pg_config")
    if found:
        completed = subprocess.run([found, "--bindir"], capture_output=True, text=True, check=False)
        candidate = Path(completed.stdout.strip())
        if (candidate / "initdb").is_file():
            return candidate
    for initdb in sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True):
        return Path(initdb).parent
    return None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def _unavailable(message: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI=true: {message}")
    pytest.skip(message)


@contextlib.contextmanager
def password_postgres() -> Iterator[PasswordServer]:
    """A private PostgreSQL cluster that checks passwords, stopped and deleted on exit."""
    bindir = _bindir()
    if bindir is None:
        _unavailable("no PostgreSQL server binaries (initdb) to run a password-checking cluster")
    assert bindir is not None
    # initdb refuses to run as root: run the cluster as the postgres account then.
    run_as = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    folder = Path(tempfile.mkdtemp(prefix="hostile_pg_"))
    data = folder / "data"
    (folder / "pw").write_text(SUPERUSER_PASSWORD + "\n")
    if run_as:
        shutil.chown(folder, "postgres")
        shutil.chown(folder / "pw", "postgres")
    port = _free_port()
    pg_ctl = [*run_as, str(bindir / "pg_ctl"), "-D", str(data)]
    try:
        subprocess.run(
            [*run_as, str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=scram-sha-256",
             f"--pwfile={folder / 'pw'}", "-E", "UTF8", "--no-sync"],
            check=True, capture_output=True,
        )  # fmt: skip
        options = f"-p {port} -k {folder} -c listen_addresses={HOST} -c fsync=off -c shared_buffers=16MB"
        subprocess.run(
            [*pg_ctl, "-o", options, "-l", str(folder / "log"), "-w", "start"], check=True, capture_output=True
        )
    except (OSError, subprocess.CalledProcessError) as error:
        shutil.rmtree(folder, ignore_errors=True)
        _unavailable(f"cannot start a password-checking PostgreSQL cluster: {error}")
    try:
        yield PasswordServer("postgresql", HOST, port)
    finally:
        subprocess.run([*pg_ctl, "-m", "immediate", "stop"], capture_output=True, check=False)
        shutil.rmtree(folder, ignore_errors=True)


@contextlib.contextmanager
def password_mariadb() -> Iterator[PasswordServer]:
    require_server("MariaDB", MYSQL_HOST, MYSQL_PORT)
    yield PasswordServer("mariadb", MYSQL_HOST, MYSQL_PORT)


@contextlib.contextmanager
def hostile_user(server: PasswordServer, password: str) -> Iterator[HostileUser]:
    """A user with ``password`` owning a fresh database on ``server``; both dropped on exit."""
    name = f"hostile_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}_{uuid.uuid4().hex[:8]}"
    with server.admin() as admin:
        execute = admin.execute  # type: ignore[attr-defined]
        if server.dialect == "postgresql":
            from psycopg import sql

            execute(sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(sql.Identifier(name), sql.Literal(password)))
            execute(sql.SQL("CREATE DATABASE {} OWNER {}").format(sql.Identifier(name), sql.Identifier(name)))
        else:
            execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
            execute(f"CREATE USER '{name}'@'%%' IDENTIFIED BY %s", (password,))
            execute(f"GRANT ALL ON `{name}`.* TO '{name}'@'%'")
    try:
        yield HostileUser(server, name, password, name)
    finally:
        with server.admin() as admin:
            execute = admin.execute  # type: ignore[attr-defined]
            if server.dialect == "postgresql":
                execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                execute(f'DROP ROLE IF EXISTS "{name}"')
            else:
                execute(f"DROP DATABASE IF EXISTS `{name}`")
                execute(f"DROP USER IF EXISTS '{name}'@'%'")
