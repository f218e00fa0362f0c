"""``litestar database storage ...``: the same commands through the plugin, on the app's configs."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import create_engine
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from dbops.storage import LocalBackend, storages
from dbops.types import FileObject
from tests.databases import TestDatabase
from tests.plugin.helpers import run_litestar, write_module
from tests.storage.models import Base, Document

APP = """
from litestar import Litestar
from litestar_dbops import SQLAlchemyAsyncConfig, SQLAlchemyPlugin
from dbops.storage import LocalBackend, storages
from tests.storage.models import Base

storages.register_backend(LocalBackend("local", {root!r}))
db = SQLAlchemyAsyncConfig(connection_string={url!r}, metadata=Base.metadata, before_send_handler="autocommit")
app = Litestar(plugins=[SQLAlchemyPlugin(config=db)])
"""


def test_storage_commands_through_litestar(sqlite_db: TestDatabase, tmp_path: Path) -> None:
    root = tmp_path / "files"
    module = write_module(tmp_path, APP.format(root=str(root), url=sqlite_db.async_url))
    local = storages.register_backend(LocalBackend("local", root))
    engine = create_engine(sqlite_db.sync_url, poolclass=NullPool)
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        document = Document(name="a", file=FileObject("local", "a.txt", content=b"a"))
        session.add(document)
        session.commit()
        assert document.file is not None
        path = document.file.path
    engine.dispose()

    result = run_litestar(
        ["--app", f"{module}:app", "database", "storage", "check", "--format", "json"], app_dir=tmp_path
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["files"] == 1

    local.delete(path)
    result = run_litestar(["--app", f"{module}:app", "db", "storage", "check"], app_dir=tmp_path)
    assert result.exit_code == 1
    assert f"missing\tstorage_document.file\trow 1\tlocal:{path}" in result.stdout
