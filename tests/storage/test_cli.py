"""``dbops storage check | sync | prune-orphans`` on every dialect: argv → exit code → stdout/stderr → state."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from dbops.storage import LocalBackend, ObstoreBackend, storages
from dbops.types import FileObject
from tests.cli_runner import CliResult, invoke
from tests.databases import TestDatabase
from tests.storage.conftest import ACCESS_KEY, SECRET_KEY, S3Server
from tests.storage.models import Base, Document, Gallery

REPO_ROOT = Path(__file__).resolve().parents[2]

CONFIG_TEMPLATE = """
from dbops.config import {config_class}
from dbops.storage import LocalBackend, ObstoreBackend, storages
from tests.storage.models import Base

storages.register_backend(LocalBackend("local", {root!r}, secret="s"))
storages.register_backend(
    ObstoreBackend(
        "s3",
        fs="s3://{bucket}/",
        aws_endpoint={endpoint!r},
        aws_access_key_id={access!r},
        aws_secret_access_key={secret!r},
    )
)
config = {config_class}(connection_string={url!r}, metadata=Base.metadata)
"""


@dataclass
class App:
    """A project directory whose config module registers a local and an S3 backend, plus seeded rows."""

    path: Path
    db: TestDatabase
    local: LocalBackend
    s3: ObstoreBackend

    def cli(self, *argv: str) -> CliResult:
        return invoke(["--config", "storage_app.py:config", "storage", *argv], cwd=self.path)

    def _all(self, model: type[Any]) -> list[Any]:
        engine = create_engine(self.db.sync_url, poolclass=NullPool)
        try:
            with Session(engine) as session:
                return list(session.scalars(select(model).order_by(model.id)))
        finally:
            engine.dispose()

    def documents(self) -> list[Document]:
        return self._all(Document)

    def galleries(self) -> list[Gallery]:
        return self._all(Gallery)


def make_app(tmp_path: Path, db: TestDatabase, s3_server: S3Server, *, is_async: bool = False) -> App:
    bucket = s3_server.create_bucket()
    root = tmp_path / "files"
    (tmp_path / "storage_app.py").write_text(
        CONFIG_TEMPLATE.format(
            config_class="SQLAlchemyAsyncConfig" if is_async else "SQLAlchemySyncConfig",
            root=str(root),
            bucket=bucket,
            endpoint=s3_server.endpoint,
            access=ACCESS_KEY,
            secret=SECRET_KEY,
            url=db.url(is_async=is_async),
        )
    )
    local = LocalBackend("local", root, secret="s")
    storages.register_backend(local)
    s3 = s3_server.backend("s3", bucket)
    storages.register_backend(s3)
    engine = create_engine(db.sync_url, poolclass=NullPool)
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        for index in range(5):
            session.add(
                Document(name=f"doc{index}", file=FileObject("local", f"d{index}.txt", content=f"content {index}"))
            )
        session.add(Document(name="empty", file=None))
        session.add(
            Gallery(
                title="g",
                images=[FileObject("local", "1.png", content=b"one"), FileObject("local", "2.png", content=b"2")],
            )
        )
        session.commit()
    engine.dispose()
    return App(tmp_path, db, local, s3)


@pytest.fixture
def app(tmp_path: Path, db: TestDatabase, s3_server: S3Server) -> Iterator[App]:
    yield make_app(tmp_path, db, s3_server)


def referenced(app: App) -> list[FileObject]:
    files = [doc.file for doc in app.documents() if doc.file is not None]
    for gallery in app.galleries():
        files.extend(gallery.images or [])
    return files


# -- check ---------------------------------------------------------------------------------------------------------


def test_check_passes(app: App) -> None:
    result = app.cli("check")
    assert result.exit_code == 0, result.output
    assert "7 files in 6 rows checked: 0 missing, 0 mismatched" in result.stdout
    result = app.cli("check", "--format", "json")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["ok"] is True and data["files"] == 7
    assert data["columns"] == ["storage_document.file", "storage_gallery.images"]


def test_check_reports_missing_and_mismatched(app: App) -> None:
    docs = app.documents()
    assert docs[0].file and docs[1].file and docs[2].file
    app.local.delete(docs[0].file.path)
    app.local.put(docs[1].file.path, b"different length")
    app.local.put(docs[2].file.path, b"CONTENT 2")  # same size, other bytes
    result = app.cli("check")
    assert result.exit_code == 1
    assert f"missing\tstorage_document.file\trow {docs[0].id}\tlocal:{docs[0].file.path}" in result.stdout
    assert "size mismatch" in result.stdout and "checksum mismatch" in result.stdout
    assert result.stderr.startswith("Error: 1 missing and 2 mismatched file(s) in default (")
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    data = json.loads(app.cli("check", "--format", "json").stdout)
    assert [item["path"] for item in data["missing"]] == [docs[0].file.path]
    assert {item["problem"] for item in data["mismatched"]} == {"size mismatch", "checksum mismatch"}


def test_check_one_model(app: App) -> None:
    docs = app.documents()
    assert docs[0].file
    app.local.delete(docs[0].file.path)
    assert app.cli("check", "--model", "Gallery").exit_code == 0
    assert app.cli("check", "--model", "storage_gallery").exit_code == 0
    assert app.cli("check", "--model", "tests.storage.models:Gallery").exit_code == 0
    assert app.cli("check", "--model", "tests.storage.models:Document").exit_code == 1


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["check", "--model", "Nope"], "--model Nope: no such model or table"),
        (["check", "--model", "tests.storage.models:Nope"], "has no attribute 'Nope'"),
        (["sync", "--from", "local", "--to", "local"], "--from and --to are the same backend ('local')"),
        (["sync", "--from", "local", "--to", "ghost"], "no storage backend registered under key 'ghost'"),
        (["sync", "--from", "ghost", "--to", "s3"], "no storage backend registered under key 'ghost'"),
        (["prune-orphans", "--backend", "ghost", "--yes"], "no storage backend registered under key 'ghost'"),
        (["sync", "--from", "local", "--to", "s3", "--model", "Nope"], "--model Nope: no such model or table"),
    ],
)
def test_bad_input_is_one_line_and_changes_nothing(app: App, argv: list[str], message: str) -> None:
    before = [(f.backend, f.path) for f in referenced(app)]
    stored = sorted(info.path for info in app.local.list())
    result = app.cli(*argv)
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert result.stderr.startswith("Error: ") and result.stderr.count("\n") == 1
    assert [(f.backend, f.path) for f in referenced(app)] == before
    assert sorted(info.path for info in app.local.list()) == stored
    assert list(app.s3.list()) == []


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["sync", "--from", "local", "--to", "s3", "--jobs", "0"], "Invalid value for '--jobs'"),
        (["sync", "--from", "local", "--to", "s3", "--batch-size", "0"], "Invalid value for '--batch-size'"),
        (["sync", "--to", "s3"], "Missing option '--from'"),
        (["sync", "--from", "local"], "Missing option '--to'"),
        (["check", "--jobs", "many"], "Invalid value for '--jobs'"),
        (["prune-orphans", "--yes"], "Missing option '--backend'"),
        (["prune-orphans", "--backend", "local", "--everything"], "No such option: --everything"),
        (["check", "--format", "xml"], "Invalid value for '--format'"),
        (["prune-orphans", "--backend", "local", "--older-than", "soon"], "'soon' is not a duration"),
        (["prune-orphans", "--backend", "local", "--older-than", "-1h", "--yes"], "'-1h' is not a duration"),
        (["sync", "--from", "local", "--to", "s3", "--format", "yaml"], "Invalid value for '--format'"),
        (["prune-orphans", "--backend", "local", "--format", "csv", "--yes"], "Invalid value for '--format'"),
    ],
)
def test_usage_errors_exit_2_and_change_nothing(app: App, argv: list[str], message: str) -> None:
    before = [(f.backend, f.path) for f in referenced(app)]
    stored = sorted(info.path for info in app.local.list())
    result = app.cli(*argv)
    assert result.exit_code == 2, result.output
    [error] = [line for line in result.stderr.splitlines() if line.startswith("Error: ")]
    assert message in error
    assert "Traceback" not in result.stderr and result.stdout == ""
    assert [(f.backend, f.path) for f in referenced(app)] == before
    assert sorted(info.path for info in app.local.list()) == stored
    assert list(app.s3.list()) == []


def test_unknown_backend_in_rows_is_a_clear_error(app: App) -> None:
    engine = create_engine(app.db.sync_url, poolclass=NullPool)
    storages.register_backend(LocalBackend("ghost", app.path / "ghost"))
    with Session(engine) as session:
        session.add(Document(name="ghostly", file=FileObject("ghost", "g.txt", content=b"g")))
        session.commit()
    engine.dispose()
    storages.unregister_backend("ghost")  # the app's config module does not register it
    result = app.cli("check")
    assert result.exit_code == 2
    assert "no storage backend registered under key 'ghost' (registered: local, s3)" in result.stderr


# -- sync ------------------------------------------------------------------------------------------------------------


def test_sync_copies_verifies_and_repoints_rows(app: App) -> None:
    result = app.cli("sync", "--from", "local", "--to", "s3", "--jobs", "4", "--update-rows")
    assert result.exit_code == 0, result.output
    assert "7 files in 6 rows: copied 7" in result.stdout
    assert "6 rows now point at s3" in result.stdout
    files = referenced(app)
    assert {f.backend for f in files} == {"s3"}
    for item in files:
        assert app.s3.get_content(item.path) == app.local.get_content(item.path)
    assert app.cli("check").exit_code == 0
    again = app.cli("sync", "--from", "local", "--to", "s3", "--update-rows")
    assert again.exit_code == 0
    assert "0 files in 6 rows: copied 0" in again.stdout


def test_sync_is_resumable(app: App) -> None:
    first = app.cli("sync", "--from", "local", "--to", "s3", "--format", "json")
    assert first.exit_code == 0, first.output
    assert json.loads(first.stdout)["copied"] == 7
    assert {f.backend for f in referenced(app)} == {"local"}  # rows untouched without --update-rows
    # A partial copy on the target (a killed upload, a tampered file) is redone; identical files are skipped.
    docs = app.documents()
    assert docs[0].file
    app.s3.put(docs[0].file.path, b"half")
    second = json.loads(app.cli("sync", "--from", "local", "--to", "s3", "--format", "json").stdout)
    assert (second["copied"], second["skipped"]) == (1, 6)
    assert app.s3.get_content(docs[0].file.path) == b"content 0"


def test_sync_dry_run_changes_nothing(app: App) -> None:
    result = app.cli("sync", "--from", "local", "--to", "s3", "--update-rows", "--dry-run")
    assert result.exit_code == 0, result.output
    assert "would copy 7" in result.stdout
    assert list(app.s3.list()) == []
    assert {f.backend for f in referenced(app)} == {"local"}


def test_sync_missing_source_file_fails_and_keeps_that_row(app: App) -> None:
    docs = app.documents()
    assert docs[3].file
    app.local.delete(docs[3].file.path)
    result = app.cli("sync", "--from", "local", "--to", "s3", "--update-rows")
    assert result.exit_code == 2
    assert "1 file(s) could not be synced" in result.stderr and docs[3].file.path in result.stderr
    after = {doc.name: doc.file.backend for doc in app.documents() if doc.file}
    assert after["doc3"] == "local"
    assert sum(1 for backend in after.values() if backend == "s3") == 4


def test_sync_with_an_async_config(tmp_path: Path, db: TestDatabase, s3_server: S3Server) -> None:
    app = make_app(tmp_path, db, s3_server, is_async=True)
    result = app.cli("sync", "--from", "local", "--to", "s3", "--update-rows", "--jobs", "2")
    assert result.exit_code == 0, result.output
    assert {f.backend for f in referenced(app)} == {"s3"}
    assert app.cli("check").exit_code == 0


# -- prune-orphans ------------------------------------------------------------------------------------------------


def _age(backend: LocalBackend, path: str, seconds: int) -> None:
    stamp = time.time() - seconds
    os.utime(backend.root / path, (stamp, stamp))


def test_prune_orphans(app: App) -> None:
    app.local.put("old/orphan.txt", b"old")
    _age(app.local, "old/orphan.txt", 3 * 3600)
    app.local.put("new/inflight.txt", b"new")  # an upload whose row may not be committed yet
    for item in referenced(app):
        _age(app.local, item.path, 3 * 3600)

    dry = app.cli("prune-orphans", "--backend", "local", "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "would delete\tlocal:old/orphan.txt\t3" in dry.stdout
    assert (
        "1 orphan(s) (3 bytes) of 9 stored file(s) in local; 1 unreferenced file(s) younger than 1h kept" in dry.stdout
    )
    assert app.local.exists("old/orphan.txt")

    refused = app.cli("prune-orphans", "--backend", "local")  # no terminal: no confirmation
    assert refused.exit_code == 2
    assert "prune-orphans deletes 1 file(s) from local: pass --yes to confirm" in refused.stderr
    assert app.local.exists("old/orphan.txt")

    done = app.cli("prune-orphans", "--backend", "local", "--yes", "--format", "json")
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout)["deleted"] == 1
    assert not app.local.exists("old/orphan.txt")
    assert app.local.exists("new/inflight.txt")
    assert app.cli("check").exit_code == 0

    short_grace = app.cli("prune-orphans", "--backend", "local", "--older-than", "0", "--yes")
    assert short_grace.exit_code == 0
    assert not app.local.exists("new/inflight.txt")
    assert app.cli("check").exit_code == 0


def test_prune_orphans_on_s3(app: App) -> None:
    assert app.cli("sync", "--from", "local", "--to", "s3", "--update-rows").exit_code == 0
    app.s3.put("stray.bin", b"x")
    result = app.cli("prune-orphans", "--backend", "s3", "--older-than", "0s", "--yes")
    assert result.exit_code == 0, result.output
    assert not app.s3.exists("stray.bin")
    assert app.cli("check").exit_code == 0
    # The local copies are no longer referenced after --update-rows: they are the orphans now.
    local = app.cli("prune-orphans", "--backend", "local", "--older-than", "0s", "--dry-run", "--format", "json")
    assert len(json.loads(local.stdout)["orphans"]) == 7
