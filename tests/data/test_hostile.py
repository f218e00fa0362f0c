"""Hostile input to dump-data and load-data: table names, file names and manifest entries made to escape the
dump directory, the Alembic version table, values too large or meaningless for their column.

The contract, on every dialect: exit 0 with the right data, or exit 2 with one line and nothing changed:
no traceback, no file written or read outside the dump directory.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dbops.data.files import check_file_name, data_file_name
from tests.cli_runner import CliResult, invoke
from tests.data.models import chain_metadata, chain_rows, create_and_fill, create_tables, snapshot, sync_engine
from tests.databases import TestDatabase

NASTY = [
    "../../x",
    "..",
    ".",
    "a/b",
    "a\\b",
    "/etc/passwd",
    "C:\\evil",
    "CON",
    "nul.txt",
    "manifest",
    "manifest.json",
    ".hidden",
    " ",
    "tab\there",
    "new\nline",
    "quote'\"`",
    "%2e%2e%2f",
    "a%b",
    "ünï 🎉",
    "L" * 300,
    "Mixed",
    "mixed",
    "$json",
    "-rf",
    "x; DROP TABLE authors",
    "\u202eevil",
    "e\u0301",
    "alembic_versions",
]


def test_file_names_from_table_names_are_plain_unique_and_bounded() -> None:
    taken: set[str] = set()
    names = [data_file_name(name, "json", compress=False, taken=taken) for name in NASTY]
    for table, name in zip(NASTY, names, strict=True):
        assert check_file_name(name) is None, (table, name)
        assert not any(char in name for char in "/\\\x00\n\t") and not name.startswith("."), name
        assert len(name.encode()) <= 120, name
    assert len({name.lower() for name in names}) == len(names)  # unique, even on case-insensitive file systems
    assert data_file_name("authors", "json", compress=True) == "authors.json.gz"  # plain names stay readable


# -- the CLI, on a project of the chain tables -----------------------------------------------------------

SETTINGS = """
import sqlalchemy as sa
from dbops import SQLAlchemySyncConfig
from tests.data.models import chain_metadata

db = SQLAlchemySyncConfig(connection_string={url!r}, metadata=chain_metadata())
everything = SQLAlchemySyncConfig(connection_string={url!r}, metadata=sa.MetaData())
"""


@pytest.fixture
def project(db: TestDatabase, tmp_path: Path) -> Path:
    """tmp/work/settings.py and a dump of the chain tables in tmp/work/dump; tmp/outside.json beside them."""
    work = tmp_path / "work"
    work.mkdir()
    (work / "settings.py").write_text(SETTINGS.format(url=db.sync_url))
    create_and_fill(db, chain_metadata(), chain_rows())
    result = invoke(["-q", "dump-data", "--dir", "dump", "-c", "settings.py:db"], cwd=work)
    assert result.exit_code == 0, result.stderr
    (tmp_path / "outside.json").write_bytes(orjson.dumps([{"id": 666, "name": "from outside"}]))
    return work


def files_of(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` except the SQLite database (the load writes it)."""
    return {
        str(path.relative_to(folder)): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file() and not path.is_symlink() and not path.name.startswith("test.sqlite")
    }


def assert_refused(result: CliResult, *fragments: str) -> None:
    assert result.exit_code == 2, (result.exit_code, result.stderr)
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("Error: "), result.stderr
    assert "Traceback" not in result.stderr and "unexpected" not in result.stderr, result.stderr
    for fragment in fragments:
        assert fragment in result.stderr, result.stderr


def edit_manifest(work: Path, table: str, **changes: Any) -> None:
    path = work / "dump" / "manifest.json"
    manifest = orjson.loads(path.read_bytes())
    for entry in manifest["tables"]:
        if entry["name"] == table:
            entry.update(changes)
    path.write_bytes(orjson.dumps(manifest))


def emptied(db: TestDatabase) -> dict[str, list[str]]:
    engine = sync_engine(db)
    with engine.begin() as connection:
        connection.exec_driver_sql("UPDATE categories SET parent_id = NULL")  # InnoDB checks row by row
        for table in reversed(chain_metadata().sorted_tables):
            connection.execute(table.delete())
    engine.dispose()
    return snapshot(db, chain_metadata())


@pytest.mark.parametrize(
    "file_name",
    ["../outside.json", "../../outside.json", "/etc/passwd", "sub/authors.json", "..", ".authors.json",
     "authors.txt", "a\x00.json", "C:\\outside.json", "authors.json\n"],
)  # fmt: skip
def test_a_manifest_naming_a_file_outside_its_directory_is_refused(
    db: TestDatabase, project: Path, file_name: str
) -> None:
    before_db = emptied(db)
    before_files = files_of(project.parent)
    edit_manifest(project, "authors", file=file_name)
    edited = files_of(project.parent)
    result = invoke(["load-data", "--dir", "dump", "-c", "settings.py:db"], cwd=project)
    assert_refused(result, "manifest.json: malformed manifest (table 'authors': file")
    assert snapshot(db, chain_metadata()) == before_db
    assert files_of(project.parent) == edited and len(edited) == len(before_files)


def test_symbolic_links_in_a_dump_directory_are_refused(db: TestDatabase, project: Path) -> None:
    before_db = emptied(db)
    authors = project / "dump" / "authors.json"
    data = authors.read_bytes()
    outside = project.parent / "outside.json"
    outside.write_bytes(data)  # the same bytes: only the link itself is wrong
    authors.unlink()
    authors.symlink_to(outside)
    result = invoke(["load-data", "--dir", "dump", "-c", "settings.py:db"], cwd=project)
    assert_refused(result, "authors.json: is a symbolic link")
    authors.unlink()
    authors.write_bytes(data)
    manifest = project / "dump" / "manifest.json"
    (project.parent / "manifest.json").write_bytes(manifest.read_bytes())
    manifest.unlink()
    manifest.symlink_to(project.parent / "manifest.json")
    assert_refused(invoke(["load-data", "--dir", "dump", "-c", "settings.py:db"], cwd=project), "symbolic link")
    fixtures = project / "fixtures"
    fixtures.mkdir()
    (fixtures / "authors.json").symlink_to(outside)
    assert_refused(invoke(["load-data", "--dir", "fixtures", "-c", "settings.py:db"], cwd=project), "symbolic link")
    assert snapshot(db, chain_metadata()) == before_db
    named = invoke(["load-data", str(fixtures / "authors.json"), "-c", "settings.py:db"], cwd=project)
    assert named.exit_code == 0, named.stderr  # a file the user names is theirs to link


def version_rows(db: TestDatabase) -> list[Any]:
    engine = sync_engine(db)
    with engine.connect() as connection:
        rows = [row[0] for row in connection.exec_driver_sql("SELECT version_num FROM alembic_versions")]
    engine.dispose()
    return rows


def create_version_table(db: TestDatabase, revision: str) -> None:
    engine = sync_engine(db)
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE alembic_versions (version_num VARCHAR(32) PRIMARY KEY)")
        connection.exec_driver_sql(f"INSERT INTO alembic_versions VALUES ('{revision}')")
    engine.dispose()


def test_the_alembic_version_table_is_never_loaded(db: TestDatabase, project: Path) -> None:
    create_version_table(db, "real")
    fixtures = project / "fixtures"
    fixtures.mkdir()
    (fixtures / "alembic_versions.json").write_bytes(orjson.dumps([{"version_num": "bogus"}]))
    (fixtures / "categories.json").write_bytes(orjson.dumps([{"id": 50, "name": "Fifty", "parent_id": None}]))
    for mode in ("insert", "truncate", "upsert"):
        result = invoke(["load-data", "--dir", "fixtures", "--mode", mode, "-c", "settings.py:db"], cwd=project)
        assert result.exit_code == 0, result.stderr
        assert "the Alembic version table is never loaded; skipped" in result.stderr
        assert version_rows(db) == ["real"]
    assert_refused(
        invoke(["load-data", "--dir", "fixtures", "-t", "alembic_versions", "-c", "settings.py:db"], cwd=project),
        "'alembic_versions' is the Alembic version table",
    )
    # a manifest entry named after it is skipped the same way
    (project / "dump" / "alembic_versions.json").write_bytes((fixtures / "alembic_versions.json").read_bytes())
    manifest = orjson.loads((project / "dump" / "manifest.json").read_bytes())
    data = (fixtures / "alembic_versions.json").read_bytes()
    manifest["tables"].append(
        {**manifest["tables"][0], "name": "alembic_versions", "file": "alembic_versions.json", "rows": 1,
         "sha256": hashlib.sha256(data).hexdigest(), "columns": []}
    )  # fmt: skip
    (project / "dump" / "manifest.json").write_bytes(orjson.dumps(manifest))
    result = invoke(["load-data", "--dir", "dump", "--mode", "truncate", "-c", "settings.py:db"], cwd=project)
    assert result.exit_code == 0, result.stderr
    assert version_rows(db) == ["real"]


def test_a_dump_of_another_revision_warns_or_is_refused(db: TestDatabase, project: Path) -> None:
    create_version_table(db, "bbb222")
    manifest_path = project / "dump" / "manifest.json"
    manifest = orjson.loads(manifest_path.read_bytes())
    manifest["alembic_revision"] = "aaa111"
    manifest_path.write_bytes(orjson.dumps(manifest))
    before = emptied(db)
    strict = ["load-data", "--dir", "dump", "--require-same-revision", "-c", "settings.py:db"]
    assert_refused(invoke(strict, cwd=project), "taken at Alembic revision aaa111, the database is at bbb222")
    assert snapshot(db, chain_metadata()) == before
    result = invoke(["load-data", "--dir", "dump", "-c", "settings.py:db"], cwd=project)
    assert result.exit_code == 0 and "revision aaa111, the database is at bbb222; loading anyway" in result.stderr
    manifest["alembic_revision"] = "bbb222"
    manifest_path.write_bytes(orjson.dumps(manifest))
    same = invoke([*strict[:-2], "--mode", "truncate", "-c", "settings.py:db"], cwd=project)
    assert same.exit_code == 0 and "revision" not in same.stderr, same.stderr


# -- values that can't be what the column means, or are too large to read -------------------------------


def test_nan_into_a_numeric_column_is_refused_from_fixtures(db: TestDatabase, tmp_path: Path) -> None:
    create_tables(db, chain_metadata())
    before = snapshot(db, chain_metadata())
    (tmp_path / "authors.json").write_bytes(orjson.dumps([{"id": 1, "name": "A"}]))
    for value in ("NaN", "Infinity", "-Infinity", "sNaN"):
        (tmp_path / "books.json").write_bytes(
            orjson.dumps([{"id": "00000000-0000-0000-0000-000000000001", "author_id": 1, "title": "t", "price": value}])
        )
        from dbops.data.load import load_data
        from dbops.errors import DataError
        from tests.data.models import make_config

        with pytest.raises(DataError, match=r"books.json row 1, column 'price': .* not a number a decimal"):
            load_data(make_config(db, chain_metadata()), files=[tmp_path / "authors.json", tmp_path / "books.json"])
    assert snapshot(db, chain_metadata()) == before


@pytest.mark.parametrize("db", ["postgresql"], indirect=True)
def test_nan_in_a_postgresql_numeric_column_round_trips(db: TestDatabase, tmp_path: Path) -> None:
    """A value PostgreSQL held comes back from its dump (the refusal is for fixtures)."""
    from dbops.data.dump import dump_data
    from dbops.data.load import load_data
    from tests.data.models import dispose, make_config

    metadata = chain_metadata()
    create_and_fill(db, metadata, chain_rows())
    engine = sync_engine(db)
    with engine.begin() as connection:
        connection.exec_driver_sql("UPDATE books SET price = 'NaN' WHERE title = 'First'")
    engine.dispose()
    before = snapshot(db, metadata)
    config = make_config(db, metadata)
    dump_data(config, directory=tmp_path / "dump")
    load_data(config, directory=tmp_path / "dump", mode="truncate")
    assert snapshot(db, metadata) == before
    dispose(config)


@pytest.fixture(scope="module")
def huge_fixture(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """authors.json: one row on one 200 MB line."""
    folder = tmp_path_factory.mktemp("huge")
    path = folder / "authors.json"
    with path.open("wb") as out:
        out.write(b'[\n{"id": 1, "name": "')
        block = b"x" * (1 << 20)
        for _ in range(200):
            out.write(block)
        out.write(b'"}\n]\n')
    yield path
    path.unlink()


def test_a_200_mb_row_is_refused_in_bounded_memory(db: TestDatabase, huge_fixture: Path, tmp_path: Path) -> None:
    create_tables(db, chain_metadata())
    (tmp_path / "settings.py").write_text(SETTINGS.format(url=db.sync_url))
    with (tmp_path / "stderr").open("wb") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "dbops", "load-data", str(huge_fixture), "-c", "settings.py:db"],
            cwd=tmp_path,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
        )
        _, status, usage = os.wait4(process.pid, 0)  # this child's own peak memory, not all children's
    process.returncode = os.waitstatus_to_exitcode(status)
    result = CliResult(process.returncode, "", (tmp_path / "stderr").read_text())
    assert_refused(result, "authors.json row 1: longer than 64 MB; a row may hold at most that (--max-row-size)")
    assert snapshot(db, chain_metadata())["authors"] == []
    assert usage.ru_maxrss < 400 * 1024, f"peak RSS {usage.ru_maxrss // 1024} MB"  # the line is never read whole


@pytest.mark.parametrize("db", ["mariadb", "postgresql"], indirect=True)
@pytest.mark.parametrize("megabytes", [1, 20])
def test_a_huge_value_into_a_short_column_is_one_line(
    db: TestDatabase, tmp_path: Path, megabytes: int, is_async: bool
) -> None:
    """1 MB and 20 MB (beyond MariaDB's 16 MB max_allowed_packet) into VARCHAR(100): named, exit 2, no change."""
    create_and_fill(db, chain_metadata(), chain_rows())
    before = snapshot(db, chain_metadata())
    (tmp_path / "settings.py").write_text(
        SETTINGS.format(url=db.url(is_async=is_async)).replace("SQLAlchemySyncConfig", "SQLAlchemyAsyncConfig")
        if is_async
        else SETTINGS.format(url=db.sync_url)
    )
    (tmp_path / "authors.json").write_bytes(
        orjson.dumps([{"id": 10, "name": "fine"}, {"id": 11, "name": "y" * (megabytes << 20)}])
    )
    result = invoke(["load-data", "authors.json", "-c", "settings.py:db"], cwd=tmp_path)
    assert_refused(result, "authors.json row 2, column 'name'")
    assert snapshot(db, chain_metadata()) == before


# -- generated hostile input -----------------------------------------------------------------------------

PIECES = st.sampled_from(NASTY) | st.text(
    st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), min_size=1, max_size=12
)
HYPOTHESIS = settings(
    max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture], derandomize=True
)


def quoted(db: TestDatabase, name: str) -> str:
    return sa.create_engine(
        db.sync_url.split("?")[0] if db.dialect != "sqlite" else "sqlite://"
    ).dialect.identifier_preparer.quote(name)


def assert_contract(result: CliResult) -> None:
    assert "Traceback" not in result.stderr and "unexpected" not in result.stderr, result.stderr
    if result.exit_code != 0:
        assert_refused(result)


@HYPOTHESIS
@given(name=PIECES)
def test_any_table_name_dumps_inside_the_directory_and_loads_back(
    db: TestDatabase, tmp_path_factory: pytest.TempPathFactory, name: str
) -> None:
    tmp_path = tmp_path_factory.mktemp("names")
    work = tmp_path / "work"
    work.mkdir()
    (work / "settings.py").write_text(SETTINGS.format(url=db.sync_url))
    engine = sync_engine(db)
    table = quoted(db, name)
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql(f"DROP TABLE IF EXISTS {table}")
            connection.exec_driver_sql(f"CREATE TABLE {table} (id INTEGER PRIMARY KEY, v VARCHAR(20))")
            connection.exec_driver_sql(f"INSERT INTO {table} VALUES (7, 'seven')")
            real = next(
                found for found in sa.inspect(connection).get_table_names() if found not in {"authors", "books"}
            )
    except sa.exc.DBAPIError:
        engine.dispose()
        return  # the database itself refuses the name
    finally:
        engine.dispose()
    try:
        dumped = invoke(["-q", "dump-data", "--all-tables", "--dir", "dump", "-c", "settings.py:everything"], cwd=work)
        assert_contract(dumped)
        outside = [path for path in tmp_path.rglob("*") if path.is_file() and work / "dump" not in path.parents]
        assert sorted(path.name for path in outside if not path.name.startswith("test.sqlite")) == ["settings.py"]
        if dumped.exit_code:
            return
        manifest = orjson.loads((work / "dump" / "manifest.json").read_bytes())
        assert [entry["name"] for entry in manifest["tables"]] == [real]
        assert check_file_name(manifest["tables"][0]["file"]) is None
        loaded = invoke(
            ["-q", "load-data", "--dir", "dump", "--mode", "truncate", "-c", "settings.py:everything"], cwd=work
        )
        assert_contract(loaded)
        assert loaded.exit_code == 0
        engine = sync_engine(db)
        with engine.connect() as connection:
            assert [tuple(row) for row in connection.exec_driver_sql(f"SELECT id, v FROM {quoted(db, real)}")] == [
                (7, "seven")
            ]
        engine.dispose()
    finally:
        engine = sync_engine(db)
        with engine.begin() as connection:
            connection.exec_driver_sql(f"DROP TABLE IF EXISTS {quoted(db, real)}")
        engine.dispose()


MANIFEST_VALUES = st.sampled_from(NASTY) | st.one_of(
    st.none(), st.booleans(), st.integers(-(2**63), 2**63 - 1), st.floats(), st.lists(st.text(max_size=3), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(-(2**63), 2**63 - 1), max_size=2),
)  # fmt: skip
FIELDS = st.sampled_from(["name", "file", "rows", "sha256", "primary_key", "depends_on", "columns"])


@HYPOTHESIS
@given(field=FIELDS, value=MANIFEST_VALUES, table=st.sampled_from(["authors", "books", "reviews"]))
def test_any_manifest_entry_loads_correctly_or_is_refused(
    db: TestDatabase, tmp_path_factory: pytest.TempPathFactory, field: str, value: Any, table: str
) -> None:
    tmp_path = tmp_path_factory.mktemp("manifest")
    work = tmp_path / "work"
    work.mkdir()
    (work / "settings.py").write_text(SETTINGS.format(url=db.sync_url))
    db.reset()
    create_and_fill(db, chain_metadata(), chain_rows())
    expected = snapshot(db, chain_metadata())
    assert invoke(["-q", "dump-data", "--dir", "dump", "-c", "settings.py:db"], cwd=work).exit_code == 0
    emptied_db = emptied(db)
    edit_manifest(work, table, **{field: value})
    before = files_of(tmp_path)
    result = invoke(["-q", "load-data", "--dir", "dump", "-c", "settings.py:db"], cwd=work)
    assert_contract(result)
    assert files_of(tmp_path) == before  # a load writes no file
    assert snapshot(db, chain_metadata()) == (expected if result.exit_code == 0 else emptied_db)


@HYPOTHESIS
@given(name=PIECES)
def test_any_fixture_file_name_loads_or_is_refused(
    db: TestDatabase, tmp_path_factory: pytest.TempPathFactory, name: str
) -> None:
    tmp_path = tmp_path_factory.mktemp("fixtures")
    (tmp_path / "settings.py").write_text(SETTINGS.format(url=db.sync_url))
    if "/" in name or name in (".", ".."):
        return  # not a file name on this file system
    fixtures = tmp_path / "fixtures"
    fixtures.mkdir()
    try:
        (fixtures / f"{name}.json").write_bytes(orjson.dumps([{"id": 1, "name": "x"}]))
    except OSError:
        return  # too long for the file system
    db.reset()
    create_tables(db, chain_metadata())
    before = snapshot(db, chain_metadata())
    result = invoke(["-q", "load-data", "--dir", "fixtures", "-c", "settings.py:db"], cwd=tmp_path)
    assert_contract(result)
    if result.exit_code:
        assert snapshot(db, chain_metadata()) == before
