"""A sync killed mid-way (the process dies, no cleanup) leaves every row pointing at a readable file,
and a re-run finishes the job, skipping what was already copied."""

from __future__ import annotations

import json
import os
from pathlib import Path

from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from dbops.storage import LocalBackend, storages
from dbops.types import FileObject
from tests.cli_runner import invoke_process
from tests.databases import TestDatabase
from tests.storage.conftest import ACCESS_KEY, SECRET_KEY, S3Server
from tests.storage.models import Base, Document

REPO_ROOT = Path(__file__).resolve().parents[2]

CONFIG = """
import os
from dbops.config import SQLAlchemySyncConfig
from dbops.storage import LocalBackend, ObstoreBackend, storages
from tests.storage.models import Base


class DiesAfter(ObstoreBackend):
    # Dies like `kill -9` on the N+1th upload, when DBOPS_TEST_DIE_AFTER is set.
    puts = 0

    def put(self, path, content, **kwargs):
        limit = os.environ.get("DBOPS_TEST_DIE_AFTER")
        if limit is not None and DiesAfter.puts >= int(limit):
            os._exit(137)
        DiesAfter.puts += 1
        return super().put(path, content, **kwargs)


storages.register_backend(LocalBackend("local", {root!r}))
storages.register_backend(
    DiesAfter("s3", fs="s3://{bucket}/", aws_endpoint={endpoint!r}, aws_access_key_id={access!r},
              aws_secret_access_key={secret!r})
)
config = SQLAlchemySyncConfig(connection_string={url!r}, metadata=Base.metadata)
"""


def test_killed_sync_leaves_rows_readable_and_resumes(tmp_path: Path, db: TestDatabase, s3_server: S3Server) -> None:
    bucket = s3_server.create_bucket()
    root = tmp_path / "files"
    (tmp_path / "kill_app.py").write_text(
        CONFIG.format(
            root=str(root),
            bucket=bucket,
            endpoint=s3_server.endpoint,
            access=ACCESS_KEY,
            secret=SECRET_KEY,
            url=db.sync_url,
        )
    )
    local = storages.register_backend(LocalBackend("local", root))
    engine = create_engine(db.sync_url, poolclass=NullPool)
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        session.add_all(
            Document(name=f"d{index:02}", file=FileObject("local", f"{index}.txt", content=os.urandom(100 + index)))
            for index in range(30)
        )
        session.commit()
    env = {"PYTHONPATH": str(REPO_ROOT), "DBOPS_TEST_DIE_AFTER": "15"}
    argv = ["--config", "kill_app.py:config", "storage", "sync", "--from", "local", "--to", "s3"]
    argv += ["--update-rows", "--jobs", "1", "--batch-size", "10"]

    killed = invoke_process(argv, cwd=tmp_path, env=env)
    assert killed.exit_code == 137, killed.output

    def backends() -> list[str]:
        with Session(engine) as session:
            docs = session.scalars(select(Document).order_by(Document.name)).all()
            return [doc.file.backend for doc in docs if doc.file]

    # The 16th upload killed it. The first batch's 10 files were copied; its rows were repointed unless the
    # process died first (the second batch's copies run while the first batch's rows are updated). Either
    # way no row points at a file that is not there.
    repointed = backends().count("s3")
    assert repointed in (0, 10)
    assert backends() == ["s3"] * repointed + ["local"] * (30 - repointed)
    check = invoke_process(["--config", "kill_app.py:config", "storage", "check"], cwd=tmp_path, env=env)
    assert check.exit_code == 0, check.output

    env.pop("DBOPS_TEST_DIE_AFTER")
    resumed = invoke_process([*argv, "--format", "json"], cwd=tmp_path, env=env)
    assert resumed.exit_code == 0, resumed.output
    summary = json.loads(resumed.stdout)
    files = 30 - repointed  # referenced by rows still pointing at local; 15 of all files are in S3 already
    assert (summary["files"], summary["skipped"], summary["copied"], summary["rows_updated"]) == (
        files,
        15 - repointed,
        15,
        files,
    )
    assert backends() == ["s3"] * 30
    check = invoke_process(["--config", "kill_app.py:config", "storage", "check"], cwd=tmp_path, env=env)
    assert check.exit_code == 0, check.output
    assert len(list(local.list())) == 30  # sync never deletes the source
    engine.dispose()
