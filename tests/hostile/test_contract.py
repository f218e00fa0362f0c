"""The one-line, exit-code contract where hostile data broke it: file metadata that is not file metadata, a
6,000-character storage path, a unique violation on a column other than the key, a missing index in `check`.

Every case runs on every dialect it applies to and checks the exit code, the message, and that nothing else
changed (the rows' raw values read back with plain SQL, the files on disk).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from dbops.errors import StorageError
from dbops.storage import LocalBackend, storages
from dbops.types import FileObject
from tests.cli_runner import CliResult, invoke
from tests.databases import TestDatabase

CONFIG = """
from dbops.config import {kind}
from dbops.storage import LocalBackend, storages
from tests.hostile.models import FILES_METADATA

for key in ("hostile_src", "hostile_dst"):
    if not storages.is_registered(key):
        storages.register_backend(LocalBackend(key, {root!r} + "/" + key, secret="s"))
config = {kind}(connection_string={url!r}, metadata=FILES_METADATA)
"""


def _sql(db: TestDatabase, *statements: str, params: list[dict[str, object]] | None = None) -> list[tuple[object, ...]]:
    engine = create_engine(db.sync_url, poolclass=NullPool)
    try:
        with engine.begin() as connection:
            found: list[tuple[object, ...]] = []
            for statement in statements:
                result = connection.execute(text(statement), params or [{}])
                if result.returns_rows:
                    found = [tuple(row) for row in result]
            return found
    finally:
        engine.dispose()


@dataclass
class Project:
    folder: Path
    db: TestDatabase

    def cli(self, *argv: str) -> CliResult:
        return invoke(["--config", "hostile_app.py:config", *argv], cwd=self.folder)

    def files(self, key: str) -> list[str]:
        root = self.folder / "files" / key
        return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())

    def raw_rows(self) -> list[tuple[object, ...]]:
        return _sql(self.db, "SELECT id, file FROM hostile_files ORDER BY id")


@pytest.fixture
def project(db: TestDatabase, is_async: bool, tmp_path: Path) -> Iterator[Project]:
    """hostile_files made by SQL with a TEXT column: rows 1 (not JSON) and 2 ({"backend": 1}) are not file
    metadata; row 3 references a stored file, row 4 a missing one."""
    kind = "SQLAlchemyAsyncConfig" if is_async else "SQLAlchemySyncConfig"
    url = db.url(is_async=is_async)
    (tmp_path / "hostile_app.py").write_text(CONFIG.format(kind=kind, root=str(tmp_path / "files"), url=url))
    source = LocalBackend("hostile_src", tmp_path / "files" / "hostile_src", secret="s")
    LocalBackend("hostile_dst", tmp_path / "files" / "hostile_dst", secret="s")
    good = FileObject(source, "a.txt", to_filename="good/a.txt", content=b"hello")
    good.save()
    missing = FileObject("hostile_src", "b.txt", path="gone/b.txt", size=3, checksum="0" * 64)
    _sql(db, "CREATE TABLE hostile_files (id INTEGER PRIMARY KEY, file TEXT)")
    _sql(
        db,
        "INSERT INTO hostile_files (id, file) VALUES (:id, :file)",
        params=[
            {"id": 1, "file": "not json {"},
            {"id": 2, "file": '{"backend": 1}'},
            {"id": 3, "file": json.dumps(good.to_dict())},
            {"id": 4, "file": json.dumps(missing.to_dict())},
        ],
    )
    yield Project(tmp_path, db)
    for key in ("hostile_src", "hostile_dst"):
        if storages.is_registered(key):
            storages.unregister_backend(key)


def test_storage_check_names_rows_that_hold_no_file_metadata(project: Project) -> None:
    before = project.raw_rows()
    result = project.cli("storage", "check")
    assert result.exit_code == 1, result.output  # a problem found, like a missing file
    lines = result.stdout.splitlines()
    assert lines[0].startswith("bad metadata\thostile_files.file\trow 1\t- (not JSON (JSONDecodeError: ")
    assert lines[1].startswith("bad metadata\thostile_files.file\trow 2\t- (stored file metadata is malformed")
    assert lines[2] == "missing\thostile_files.file\trow 4\thostile_src:gone/b.txt"
    assert lines[3] == "2 files in 4 rows checked: 1 missing, 0 mismatched, 2 rows with bad metadata"
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.output
    assert result.stderr.startswith("Error: 1 missing and 0 mismatched file(s) and 2 row(s) with bad metadata in ")
    report = json.loads(project.cli("storage", "check", "--format", "json").stdout)
    assert [(row["row"], row["problem"]) for row in report["bad_rows"]] == [("1", "bad metadata")] * 1 + [
        ("2", "bad metadata")
    ]
    assert [row["row"] for row in report["missing"]] == ["4"] and report["files"] == 2
    assert project.raw_rows() == before and project.files("hostile_src") == ["good/a.txt"]


def test_storage_sync_names_bad_rows_and_syncs_the_others(project: Project) -> None:
    before = project.raw_rows()
    result = project.cli("storage", "sync", "--from", "hostile_src", "--to", "hostile_dst", "--update-rows")
    assert result.exit_code == 2, result.output
    assert (
        result.stdout
        == "2 files in 4 rows: copied 1 (5 bytes), 0 already in hostile_dst, 1 rows now point at hostile_dst\n"
    )
    last = result.stderr.splitlines()[-1]
    assert last.startswith(
        "Error: 3 file(s) could not be synced (first: hostile_files.file row 1: bad metadata, not JSON"
    )
    assert "row 2: bad metadata" in result.stderr and "Traceback" not in result.output
    assert project.files("hostile_dst") == ["good/a.txt"]
    after = project.raw_rows()
    assert [row for row in after if row[0] != 3] == [row for row in before if row[0] != 3]  # only row 3 moved
    assert json.loads(str(after[2][1]))["backend"] == "hostile_dst"


def test_prune_refuses_when_a_row_holds_no_file_metadata(project: Project) -> None:
    orphan = project.folder / "files" / "hostile_src" / "orphan.bin"
    orphan.write_bytes(b"x")
    result = project.cli("storage", "prune-orphans", "--backend", "hostile_src", "--older-than", "0", "--yes")
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("Error: hostile_files.file row 1 holds bad metadata (not JSON")
    assert result.stderr.endswith("fix or clear it before pruning (nothing was deleted)\n")
    assert result.stderr.count("\n") == 1
    assert project.files("hostile_src") == ["good/a.txt", "orphan.bin"]


@pytest.mark.parametrize(
    "path",
    ["a" * 6000, "a/" * 3000 + "f", ("d" * 200 + "/") * 30 + "f", "x/y/" + "a" * 300],
    ids=["one-name", "deep", "long-names", "one-long-name"],
)
def test_a_path_the_filesystem_cannot_hold_is_a_one_line_storage_error(tmp_path: Path, path: str) -> None:
    backend = LocalBackend("hostile_long", tmp_path / "root", secret="s")
    for operation in (
        lambda: backend.put(path, b"x"),
        lambda: FileObject(backend, "f", to_filename=path, content=b"x").save(),
        lambda: backend.stat(path),
        lambda: list(backend.iter_chunks(path)),
        lambda: backend.delete(path),
    ):
        with pytest.raises(StorageError) as info:
            operation()
        message = str(info.value)
        assert message.startswith("backend 'hostile_long': file path '") and "\n" not in message
        assert len(message) < 250 + len(str(tmp_path)) and f"({len(path)} characters)" in message
    assert list((tmp_path / "root").iterdir()) == []  # no directory made on the way


def test_a_long_non_ascii_name_that_fits_is_stored(tmp_path: Path) -> None:
    """254 bytes of 'é' fit a file name; the temporary file written next to it must fit too."""
    backend = LocalBackend("hostile_long", tmp_path / "root", secret="s")
    name = "dir/" + "é" * 127
    assert backend.put(name, b"xyz").size == 3
    assert b"".join(backend.iter_chunks(name)) == b"xyz"
    assert [p.name for p in (tmp_path / "root" / "dir").iterdir()] == ["é" * 127]


def test_a_unique_violation_names_the_unique_column(project: Project) -> None:
    """uq_author_name, not the primary key: the row is refused and named, and nothing is loaded."""
    _sql(
        project.db,
        "CREATE TABLE author (id INTEGER PRIMARY KEY, name VARCHAR(100) NOT NULL, "
        "CONSTRAINT uq_author_name UNIQUE (name))",
    )
    fixtures = project.folder / "fixtures"
    fixtures.mkdir()
    (fixtures / "author.json").write_text('[{"id": 1, "name": "Ann"}, {"id": 2, "name": "Ann"}]')
    result = project.cli("load-data", "--dir", str(fixtures), "--table", "author")
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith(f"Error: {fixtures / 'author.json'} row 2, column 'name': "), result.stderr
    assert "uq_author_name" in result.stderr or "author.name" in result.stderr  # the database's own words
    assert result.stderr.count("\n") == 1
    assert _sql(project.db, "SELECT count(*) FROM author") == [(0,)]


def test_check_with_a_missing_index_lists_it(sqlite_db: TestDatabase, tmp_path: Path) -> None:
    """`check` used to crash (TypeError: Boolean value of this clause) on an index the database lacks."""
    (tmp_path / "index_app.py").write_text(
        "from sqlalchemy import Column, Integer, MetaData, Table\n"
        "from dbops import SQLAlchemySyncConfig, AlembicSyncConfig\n"
        "md = MetaData()\n"
        "Table('t', md, Column('id', Integer, primary_key=True), Column('n', Integer, index=True))\n"
        f"config = SQLAlchemySyncConfig(connection_string={sqlite_db.sync_url!r}, metadata=md,\n"
        "    alembic_config=AlembicSyncConfig(script_location='migrations'))\n"
    )
    assert invoke(["--config", "index_app.py:config", "init"], cwd=tmp_path).exit_code == 0
    _sql(sqlite_db, "CREATE TABLE t (id INTEGER NOT NULL PRIMARY KEY, n INTEGER)")
    stamp = invoke(["--config", "index_app.py:config", "stamp", "head", "--yes"], cwd=tmp_path)
    assert stamp.exit_code == 0, stamp.output
    result = invoke(["--config", "index_app.py:config", "check"], cwd=tmp_path)
    assert result.exit_code == 1, result.output
    assert result.stdout == "Differences between the models and the database:\n  add_index: add index ix_t_n on t (n)\n"
    assert result.stderr.startswith("Error: 1 difference(s) between the models and the database")
