"""The seed's migration workflow through ``litestar database``: init, make-migrations, upgrade, current."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.databases import TestDatabase
from tests.migrations.conftest import table_names
from tests.plugin.helpers import run_litestar, write_module

APP = """
from pathlib import Path

from litestar import Litestar
from sqlalchemy import MetaData, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from litestar_dbops import AlembicAsyncConfig, AlembicSyncConfig, SQLAlchemyPlugin
from litestar_dbops import SQLAlchemyAsyncConfig, SQLAlchemySyncConfig

HERE = Path(__file__).resolve().parent


class Base(DeclarativeBase):
    metadata = MetaData()


class Widget(Base):
    __tablename__ = "widget"
    id: Mapped[int] = mapped_column(primary_key=True)
    label: Mapped[str] = mapped_column(String(50))


IS_ASYNC = {is_async}
Config = SQLAlchemyAsyncConfig if IS_ASYNC else SQLAlchemySyncConfig
Alembic = AlembicAsyncConfig if IS_ASYNC else AlembicSyncConfig
config = Config(
    connection_string="{url}",
    metadata=Base.metadata,
    alembic_config=Alembic(script_location=str(HERE / "migrations")),
)
app = Litestar(plugins=[SQLAlchemyPlugin(config=config)])
"""

SEED_COMMANDS = [
    "downgrade",
    "init",
    "make-migrations",
    "merge-migrations",
    "show-current-revision",
    "stamp-migration",
    "upgrade",
]


def init_make_upgrade(
    app: list[str],
    app_dir: Path,
    folder: Path,
    db: TestDatabase,
    table: str,
    *,
    init_args: tuple[str, ...] | list[str] = (),
    group: str = "database",
) -> None:
    """``init`` (into ``folder``), ``make-migrations``, ``upgrade`` through Litestar's CLI; ``table`` then exists."""
    init = run_litestar([*app, "database", "init", *init_args], app_dir=app_dir)
    assert init.exit_code == 0, init.output
    assert (folder / "env.py").is_file()
    made = run_litestar([*app, "database", "make-migrations", "-m", f"add {table}"], app_dir=app_dir)
    assert made.exit_code == 0, made.output
    assert len(list((folder / "versions").glob("*.py"))) == 1
    upgraded = run_litestar([*app, group, "upgrade"], app_dir=app_dir)
    assert upgraded.exit_code == 0, upgraded.output
    engine = sa.create_engine(db.sync_url)
    assert table in sa.inspect(engine).get_table_names()
    engine.dispose()


def test_init_make_migrations_upgrade_through_litestar(db: TestDatabase, is_async: bool, tmp_path: Path) -> None:
    name = write_module(tmp_path, APP.format(is_async=is_async, url=db.url(is_async=is_async)))
    app = ["--app", f"{name}:app"]

    for listing_args in (["database", "--help"], ["database"]):  # the seed lists commands with a bare group
        listing = run_litestar([*app, *listing_args], app_dir=tmp_path)
        assert listing.exit_code == 0, listing.output
        assert all(command in listing.stdout for command in SEED_COMMANDS)

    init_make_upgrade(app, tmp_path, tmp_path / "migrations", db, "widget", group="db")

    current = run_litestar([*app, "database", "show-current-revision"], app_dir=tmp_path)
    assert current.exit_code == 0, current.output
    revision = next((tmp_path / "migrations" / "versions").glob("*.py")).read_text()
    assert any(
        line.split("=")[1].strip().strip("'\"") in current.stdout
        for line in revision.splitlines()
        if line.startswith("revision")
    )

    # As typed in scripts written for Advanced Alchemy: relative revision, --no-prompt, no "--".
    down = run_litestar([*app, "database", "downgrade", "-1", "--no-prompt"], app_dir=tmp_path)
    assert down.exit_code == 0, down.output
    assert "widget" not in table_names(db)
    up = run_litestar([*app, "database", "upgrade", "--no-prompt"], app_dir=tmp_path)
    assert up.exit_code == 0, up.output
    assert "widget" in table_names(db)
    stamped = run_litestar([*app, "database", "stamp-migration", "base", "--no-prompt"], app_dir=tmp_path)
    assert stamped.exit_code == 0, stamped.output
    assert "widget" in table_names(db)
    assert "(head, current)" not in run_litestar([*app, "db", "show-current-revision"], app_dir=tmp_path).stdout


def test_unknown_revision_is_one_line_exit_2(sqlite_db: TestDatabase, tmp_path: Path) -> None:
    name = write_module(tmp_path, APP.format(is_async=False, url=sqlite_db.sync_url))
    run_litestar(["--app", f"{name}:app", "database", "init"], app_dir=tmp_path)
    result = run_litestar(["--app", f"{name}:app", "database", "upgrade", "nosuchrev"], app_dir=tmp_path)
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: ") and result.stderr.count("\n") == 1
    assert "Traceback" not in result.output


def test_a_real_litestar_process_upgrades_the_example_quietly(tmp_path: Path) -> None:
    """``litestar --app examples.app:create_app database upgrade`` as a user runs it, in its own process."""
    import os
    import shutil
    import subprocess
    import sys

    from tests.conftest import REPO_ROOT

    shutil.copytree(
        REPO_ROOT / "examples", tmp_path / "examples", ignore=shutil.ignore_patterns("*.sqlite", "__pycache__")
    )
    done = subprocess.run(
        [sys.executable, "-m", "litestar", "--app", "examples.app:create_app", "database", "upgrade"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        env={key: value for key, value in os.environ.items() if key != "DATABASE_URL"},
    )
    assert done.returncode == 0, done.stderr
    assert "Running upgrade  -> 0001, authors and books" in done.stderr
    # Loading the app runs Litestar's logging setup; Alembic's INFO chatter must not come through it.
    assert "INFO" not in done.stderr and "alembic.runtime" not in done.stderr
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'examples' / 'app.sqlite'}")
    assert {"author", "book"} <= set(sa.inspect(engine).get_table_names())
    engine.dispose()


SEED_ALEMBIC_APP = """
from litestar import Litestar
from sqlalchemy import MetaData, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from litestar_dbops import AlembicAsyncConfig, SQLAlchemyAsyncConfig, SQLAlchemyPlugin


class Base(DeclarativeBase):
    metadata = MetaData()


class Gadget(Base):
    __tablename__ = "gadget"
    id: Mapped[int] = mapped_column(primary_key=True)
    label: Mapped[str] = mapped_column(String(50))


config = SQLAlchemyAsyncConfig(
    connection_string="{url}",
    metadata=Base.metadata,
    alembic_config=AlembicAsyncConfig(
        script_location="./alembic/",
    ),
)
app = Litestar(plugins=[SQLAlchemyPlugin(config=config)])
"""


def test_seed_migration_commands_with_an_alembic_directory(
    db: TestDatabase, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The seed's "Database Migrations" steps: ``litestar database``, ``init ./migrations`` for the default
    location, ``init ./alembic`` for a config whose script_location is ./alembic/, make-migrations, upgrade."""
    monkeypatch.chdir(tmp_path)  # the seed's paths are relative to where the user runs litestar
    default_app = write_module(
        tmp_path, APP.format(is_async=True, url=db.async_url).replace('str(HERE / "migrations")', '"./migrations"')
    )
    listing = run_litestar(["--app", f"{default_app}:app", "database"], app_dir=tmp_path)
    assert all(command in listing.output for command in SEED_COMMANDS), listing.output
    init = run_litestar(["--app", f"{default_app}:app", "database", "init", "./migrations"], app_dir=tmp_path)
    assert init.exit_code == 0, init.output
    assert (tmp_path / "migrations" / "env.py").is_file()

    name = write_module(tmp_path, SEED_ALEMBIC_APP.replace("{url}", db.async_url))
    init_make_upgrade(["--app", f"{name}:app"], tmp_path, tmp_path / "alembic", db, "gadget", init_args=["./alembic"])
