"""The engines called directly: keyset paging (composite keys, every dialect), progress, durations, grace."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, create_engine, insert, select
from sqlalchemy.pool import NullPool

from dbops.config import SQLAlchemySyncConfig
from dbops.errors import ConfigError, StorageError
from dbops.storage import FileObject, LocalBackend, MemoryBackend, ObjectInfo, ObstoreBackend, StoredObject, storages
from dbops.storage.check import check_files
from dbops.storage.prune import delete_orphans, find_orphans
from dbops.storage.sync import sync_files
from tests.databases import TestDatabase
from tests.reporter import RecordingReporter


def composite(db: TestDatabase, rows: int) -> tuple[SQLAlchemySyncConfig, Table, MemoryBackend, MemoryBackend]:
    source = storages.register_backend(MemoryBackend("src"))
    target = storages.register_backend(MemoryBackend("dst"))
    assert isinstance(source, MemoryBackend) and isinstance(target, MemoryBackend)
    metadata = MetaData()
    table = Table(
        "storage_composite",
        metadata,
        Column("tenant", String(20), primary_key=True),
        Column("number", Integer, primary_key=True),
        Column("file", StoredObject("src")),
    )
    engine = create_engine(db.sync_url, poolclass=NullPool)
    metadata.create_all(engine)
    with engine.begin() as connection:
        connection.execute(
            insert(table),
            [
                {
                    "tenant": f"t{index % 3}",
                    "number": index,
                    "file": FileObject("src", f"{index}.txt", content=f"file {index}").save(),
                }
                for index in range(rows)
            ],
        )
    engine.dispose()
    return SQLAlchemySyncConfig(connection_string=db.sync_url, metadata=metadata), table, source, target


def test_composite_keys_page_through_every_row(db: TestDatabase) -> None:
    config, table, _, target = composite(db, 23)
    reporter = RecordingReporter()
    result = sync_files(config, source="src", target="dst", batch_size=4, jobs=2, update_rows=True, reporter=reporter)
    assert (result.rows, result.files, result.copied, result.rows_updated) == (23, 23, 23, 23)
    assert [(task.total, task.done) for task in reporter.tasks] == [(23, 23)]
    assert len(list(target.list())) == 23
    engine = config.get_engine()
    with engine.connect() as connection:
        assert {item.backend for item in connection.scalars(select(table.c.file))} == {"dst"}
    config.dispose()
    checked = check_files(config, batch_size=5)
    assert checked.ok and checked.files == 23
    config.dispose()


def test_check_without_stored_columns_warns(sqlite_db: TestDatabase) -> None:
    reporter = RecordingReporter()
    config = SQLAlchemySyncConfig(connection_string=sqlite_db.sync_url, metadata=MetaData())
    assert check_files(config, reporter=reporter).files == 0
    assert reporter.warnings == ["no StoredObject columns in the config's metadata: nothing to check"]
    with pytest.raises(StorageError, match="refusing to treat every stored file as an orphan"):
        storages.register_backend(MemoryBackend("m"))
        find_orphans(config, backend="m")


def test_missing_table_is_a_one_line_error(sqlite_db: TestDatabase) -> None:
    metadata = MetaData()
    Table("never_created", metadata, Column("id", Integer, primary_key=True), Column("f", StoredObject("x")))
    config = SQLAlchemySyncConfig(connection_string=sqlite_db.sync_url, metadata=metadata)
    with pytest.raises(StorageError, match=r"cannot read never_created\.f: no such table"):
        check_files(config)


def test_model_without_stored_column(sqlite_db: TestDatabase) -> None:
    metadata = MetaData()
    Table("plain", metadata, Column("id", Integer, primary_key=True))
    config = SQLAlchemySyncConfig(connection_string=sqlite_db.sync_url, metadata=metadata)
    with pytest.raises(ConfigError, match="model 'plain' has no StoredObject column"):
        check_files(config, models=["plain"])


def test_prune_grace_period(sqlite_db: TestDatabase) -> None:
    config, _, source, _ = composite(sqlite_db, 2)
    source.put("orphan.txt", b"o")
    now = datetime.now(timezone.utc)
    assert find_orphans(config, backend="src", older_than=timedelta(hours=1), now=now).orphans == []
    later = find_orphans(config, backend="src", older_than=timedelta(hours=1), now=now + timedelta(hours=2))
    assert [info.path for info in later.orphans] == ["orphan.txt"] and later.referenced == 2 and later.stored == 3
    delete_orphans(later)
    assert not source.exists("orphan.txt") and len(list(source.list())) == 2


def shared_file_rows(db: TestDatabase, source: MemoryBackend) -> tuple[SQLAlchemySyncConfig, Table, FileObject]:
    """Five rows, batch boundaries between them, all referencing one file, plus one file of their own each."""
    metadata = MetaData()
    table = Table(
        "storage_shared",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("files", StoredObject("src", multiple=True)),
    )
    engine = create_engine(db.sync_url, poolclass=NullPool)
    metadata.create_all(engine)
    shared = FileObject(source, "shared.txt", content=b"shared by every row").save()
    with engine.begin() as connection:
        connection.execute(
            insert(table),
            [
                {"id": index, "files": [shared, FileObject(source, f"{index}.txt", content=f"own {index}").save()]}
                for index in range(1, 6)  # not 0: MariaDB takes 0 for "next auto-increment value"
            ],
        )
    engine.dispose()
    return SQLAlchemySyncConfig(connection_string=db.sync_url, metadata=metadata), table, shared


def test_a_file_shared_across_batches_is_copied_once(db: TestDatabase, s3_backend: ObstoreBackend) -> None:
    source = storages.register_backend(MemoryBackend("src"))
    assert isinstance(source, MemoryBackend)
    config, table, shared = shared_file_rows(db, source)
    result = sync_files(config, source="src", target="s3", batch_size=1, jobs=4, update_rows=True)
    assert (result.rows, result.files, result.copied, result.skipped, result.failures) == (5, 6, 6, 0, [])
    assert result.rows_updated == 5
    assert s3_backend.get_content(shared.path) == b"shared by every row"
    with config.get_engine().connect() as connection:
        backends = {item.backend for files in connection.scalars(select(table.c.files)) for item in files}
    assert backends == {"s3"}
    config.dispose()


def test_a_wrong_recorded_md5_falls_back_to_reading_the_copy(db: TestDatabase, s3_backend: ObstoreBackend) -> None:
    source = storages.register_backend(MemoryBackend("src"))
    assert isinstance(source, MemoryBackend)
    config, table, shared = shared_file_rows(db, source)
    engine = config.get_engine()
    with engine.begin() as connection:
        rows = connection.execute(select(table.c.id, table.c.files)).all()
        for row_id, files in rows:  # an etag that is no MD5 of the content (an SSE-KMS ETag looks like this)
            damaged = [FileObject.from_dict({**item.to_dict(), "etag": '"' + "0" * 32 + '"'}) for item in files]
            connection.execute(table.update().where(table.c.id == row_id).values(files=damaged))
    result = sync_files(config, source="src", target="s3", jobs=2)
    assert (result.copied, result.failures) == (6, [])
    assert s3_backend.get_content(shared.path) == b"shared by every row"
    checked = check_files(config)
    assert checked.ok, checked.problems
    config.dispose()


def test_a_source_that_differs_from_its_row_is_not_copied(db: TestDatabase, s3_backend: ObstoreBackend) -> None:
    source = storages.register_backend(MemoryBackend("src"))
    assert isinstance(source, MemoryBackend)
    config, _, shared = shared_file_rows(db, source)
    source.put(shared.path, b"SHARED BY EVERY ROW")  # same size, other bytes: the row's checksum no longer holds
    result = sync_files(config, source="src", target="s3", jobs=2, update_rows=True)
    assert result.copied == 5 and len(result.failures) == 1
    assert "checksum differs from the one the row recorded" in result.failures[0]
    assert not s3_backend.exists(shared.path), "no unverified copy is left where a re-run would trust it"
    assert result.rows_updated == 0, "every row references the bad file, so none is repointed"
    config.dispose()


def test_sync_shows_a_rich_progress_bar_on_a_terminal(sqlite_db: TestDatabase) -> None:
    import io

    from rich.console import Console

    from dbops.cli.render import RichReporter

    config, _, _, _ = composite(sqlite_db, 12)
    screen = io.StringIO()
    console = Console(file=screen, force_terminal=True, width=100)
    result = sync_files(
        config, source="src", target="dst", batch_size=4, jobs=2, reporter=RichReporter(console=console)
    )
    assert result.copied == 12
    assert "Syncing files src → dst" in screen.getvalue() and "12/12" in screen.getvalue()
    quiet = io.StringIO()
    sync_files(config, source="src", target="dst", reporter=RichReporter(console=Console(file=quiet)))
    assert quiet.getvalue() == "", "no progress bar when stderr is not a terminal"
    config.dispose()


class GeneratedBackend(MemoryBackend):
    """A source whose one big file is generated chunk by chunk on read, so it never exists whole in memory."""

    CHUNK = 1024 * 1024

    def __init__(self, key: str, chunks: int) -> None:
        super().__init__(key)
        self.chunks = chunks

    def iter_chunks(self, path: str, *, chunk_size: int = CHUNK) -> Iterator[bytes]:
        return (bytes([index % 251]) * self.CHUNK for index in range(self.chunks))

    def stat(self, path: str) -> ObjectInfo | None:
        return ObjectInfo(path=path, size=self.CHUNK * self.chunks)


@pytest.mark.parametrize("target_kind", ["local", "s3", "s3rver"])
def test_sync_streams_a_large_file(
    sqlite_db: TestDatabase, tmp_path: Path, target_kind: str, request: pytest.FixtureRequest
) -> None:
    import hashlib
    import tracemalloc

    chunks = 96
    source = storages.register_backend(GeneratedBackend("gen", chunks))
    if target_kind == "local":
        target = storages.register_backend(LocalBackend("big-target", tmp_path / "target"))
    else:
        server = request.getfixturevalue("s3_server" if target_kind == "s3" else "s3rver_server")  # multipart
        target = storages.register_backend(server.backend("big-target", server.create_bucket()))
    digest = hashlib.sha256()
    for chunk in source.iter_chunks("big.bin"):
        digest.update(chunk)
    metadata = MetaData()
    table = Table("storage_big", metadata, Column("id", Integer, primary_key=True), Column("file", StoredObject("gen")))
    engine = create_engine(sqlite_db.sync_url, poolclass=NullPool)
    metadata.create_all(engine)
    item = FileObject("gen", "big.bin", path="big.bin", size=chunks * GeneratedBackend.CHUNK)
    item.checksum = digest.hexdigest()
    with engine.begin() as connection:
        connection.execute(insert(table).values(id=1, file=item))
    engine.dispose()
    config = SQLAlchemySyncConfig(connection_string=sqlite_db.sync_url, metadata=metadata)
    tracemalloc.start()
    try:
        result = sync_files(config, source="gen", target=target.key, jobs=2)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert (result.copied, result.failures) == (1, [])
    assert target.checksum("big.bin") == item.checksum
    # A few chunks for a local target; for S3 the parts in flight (4 x 8 MB): never the whole file.
    assert peak < 48 * GeneratedBackend.CHUNK, f"{peak / 2**20:.0f} MB of Python memory for a 96 MB file"
    config.dispose()
