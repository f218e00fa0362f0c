"""``litestar database storage ...``: the same commands through the plugin, on the app's configs, every dialect."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from dbops.storage import LocalBackend, storages
from dbops.types import FileObject
from tests.databases import TestDatabase
from tests.plugin.helpers import run_litestar, write_module
from tests.storage.conftest import ACCESS_KEY, SECRET_KEY, S3Server
from tests.storage.models import Base, Document

APP = """
from litestar import Litestar
from litestar_dbops import SQLAlchemyAsyncConfig, SQLAlchemyPlugin
from dbops.storage import LocalBackend, ObstoreBackend, storages
from tests.storage.models import Base

storages.register_backend(LocalBackend("local", {root!r}))
storages.register_backend(
    ObstoreBackend("s3", fs="s3://{bucket}/", aws_endpoint={endpoint!r}, aws_access_key_id={access!r},
                   aws_secret_access_key={secret!r})
)
db = SQLAlchemyAsyncConfig(connection_string={url!r}, metadata=Base.metadata, before_send_handler="autocommit")
app = Litestar(plugins=[SQLAlchemyPlugin(config=db)])
"""


def test_storage_commands_through_litestar(db: TestDatabase, tmp_path: Path, s3_server: S3Server) -> None:
    root = tmp_path / "files"
    bucket = s3_server.create_bucket()
    source = APP.format(
        root=str(root),
        bucket=bucket,
        endpoint=s3_server.endpoint,
        access=ACCESS_KEY,
        secret=SECRET_KEY,
        url=db.async_url,
    )
    module = write_module(tmp_path, source)
    local = storages.register_backend(LocalBackend("local", root))
    s3 = storages.register_backend(s3_server.backend("s3", bucket))
    engine = create_engine(db.sync_url, poolclass=NullPool)
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        session.add_all(Document(name=name, file=FileObject("local", f"{name}.txt", content=name)) for name in "abc")
        session.commit()

    def storage(*argv: str) -> tuple[int, str]:
        result = run_litestar(["--app", f"{module}:app", "database", "storage", *argv], app_dir=tmp_path)
        return result.exit_code, result.output

    def backends() -> list[str]:
        with Session(engine) as session:
            return [doc.file.backend for doc in session.scalars(select(Document).order_by(Document.name)) if doc.file]

    code, output = storage("check", "--format", "json")
    assert code == 0, output
    assert json.loads(output)["files"] == 3

    code, output = storage("sync", "--from", "local", "--to", "s3", "--jobs", "2", "--update-rows")
    assert code == 0, output
    assert "3 files in 3 rows: copied 3" in output and "3 rows now point at s3" in output
    assert backends() == ["s3"] * 3
    assert storage("check")[0] == 0

    for info in local.list():  # the local copies are orphans now; make them older than the grace period
        stamp = time.time() - 7200
        os.utime(local.root / info.path, (stamp, stamp))
    code, output = storage("prune-orphans", "--backend", "local", "--dry-run")
    assert code == 0, output
    assert "3 orphan(s)" in output and len(list(local.list())) == 3
    code, output = storage("prune-orphans", "--backend", "local", "--yes")
    assert code == 0, output
    assert "deleted 3" in output and list(local.list()) == []
    assert storage("check")[0] == 0

    with Session(engine) as session:
        document = session.scalars(select(Document).where(Document.name == "a")).one()
        assert document.file is not None
        path = document.file.path
    s3.delete(path)
    result = run_litestar(["--app", f"{module}:app", "db", "storage", "check"], app_dir=tmp_path)
    assert result.exit_code == 1
    assert f"missing\tstorage_document.file\trow {document.id}\ts3:{path}" in result.output
    engine.dispose()
