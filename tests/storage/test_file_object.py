"""FileObject's own API (sync and async), its JSON form, pydantic support and StoredObject's coercions."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Optional

import pytest
from pydantic import BaseModel, Field, computed_field
from sqlalchemy import Column, Integer, MetaData, Table, create_engine, insert, select

from dbops.errors import StorageError
from dbops.storage import FileObject, LocalBackend, MemoryBackend, ObstoreBackend, StoredObject, storages


@pytest.fixture
def memory() -> MemoryBackend:
    backend = MemoryBackend("mem")
    storages.register_backend(backend)
    return backend


def test_save_read_stream_delete(memory: MemoryBackend) -> None:
    item = FileObject("mem", "notes.txt", content=b"x" * 3000, metadata={"a": {"b": [1, 2]}})
    assert item.has_pending_data and item.content_type == "text/plain"
    assert item.path.endswith("/notes.txt") and item.path != "notes.txt"
    item.save()
    assert not item.has_pending_data
    assert item.size == 3000 and item.checksum and item.etag
    assert item.get_content() == b"x" * 3000
    assert [len(chunk) for chunk in item.iter_chunks(1024)] == [1024, 1024, 952]
    with item.open(chunk_size=1000) as handle:
        assert handle.read(10) == b"x" * 10
        assert len(handle.read()) == 2990
    assert b"".join(item) == b"x" * 3000
    assert item.exists()
    item.delete()
    assert not item.exists()


def test_new_files_get_distinct_keys_and_safe_names(memory: MemoryBackend) -> None:
    first = FileObject("mem", "same.txt", content=b"1")
    second = FileObject("mem", "same.txt", content=b"2")
    assert first.path != second.path
    sneaky = FileObject("mem", "../../etc/passwd", content=b"x")
    assert sneaky.path.endswith("/passwd") and ".." not in sneaky.path
    explicit = FileObject("mem", "a.txt", to_filename="fixed/a.txt", content=b"x")
    assert explicit.path == "fixed/a.txt"


def test_source_path_streams_from_disk(tmp_path: Path) -> None:
    backend = storages.register_backend(LocalBackend("disk", tmp_path / "store"))
    source = tmp_path / "in.bin"
    source.write_bytes(b"abc" * 1000)
    item = FileObject(backend, "in.bin", source_path=source).save()
    assert item.size == 3000 and backend.get_content(item.path) == b"abc" * 1000
    with pytest.raises(StorageError, match="give content or source_path, not both"):
        FileObject("disk", "x", content=b"x", source_path=source)
    with pytest.raises(StorageError, match="cannot read"):
        FileObject("disk", "x", source_path=tmp_path / "missing.bin").save()


def test_local_sign_through_file_object(tmp_path: Path) -> None:
    storages.register_backend(LocalBackend("signed", tmp_path, secret="x"))
    item = FileObject("signed", "a.txt", content=b"a").save()
    assert item.sign(expires_in=10).startswith(f"/_storage/signed/{item.path}?expires=")
    assert "upload=1" in item.sign(for_upload=True)


def test_errors_are_clear(memory: MemoryBackend) -> None:
    item = FileObject("mem", "a.txt", content=b"a").save()
    with pytest.raises(StorageError, match=r"backend 'mem' \(MemoryBackend\) cannot sign URLs"):
        item.sign()
    ghost = FileObject("ghost", "g.txt", path="g.txt")
    with pytest.raises(StorageError, match=r"no storage backend registered under key 'ghost' \(registered: .*mem"):
        ghost.get_content()
    with pytest.raises(StorageError, match="malformed"):
        FileObject.from_dict({"filename": "no backend"})


def test_dict_round_trip(memory: MemoryBackend) -> None:
    item = FileObject("mem", "a.txt", content=b"a", metadata={"nested": {"k": [1, {"x": None}]}}).save()
    again = FileObject.from_dict(item.to_dict())
    assert again == item
    assert again.last_modified == item.last_modified
    moved = item.with_backend("other")
    assert moved.backend == "other" and moved.path == item.path and moved.checksum == item.checksum


def test_pydantic_field(memory: MemoryBackend) -> None:
    class Document(BaseModel):
        name: str
        file: Optional[FileObject] = Field(default=None, exclude=True)
        attachment: Optional[FileObject] = None

        @computed_field  # type: ignore[prop-decorator]
        @property
        def size(self) -> Optional[int]:
            return None if self.file is None else self.file.size

    item = FileObject("mem", "a.txt", content=b"abc").save()
    document = Document(name="d", file=item, attachment=item.to_dict())  # type: ignore[arg-type]
    assert document.attachment == item
    dumped = document.model_dump()
    assert "file" not in dumped and dumped["size"] == 3 and dumped["attachment"]["path"] == item.path


def test_async_twins_against_s3(s3_backend: ObstoreBackend) -> None:
    async def scenario() -> None:
        item = FileObject("s3", "async.txt", content=b"async bytes")
        await item.save_async()
        assert item.size == 11
        assert await item.get_content_async() == b"async bytes"
        assert b"".join([chunk async for chunk in item.iter_chunks_async(4)]) == b"async bytes"
        assert b"".join([chunk async for chunk in item]) == b"async bytes"
        assert (await item.sign_async(expires_in=30)).startswith("http://127.0.0.1:")
        assert await item.exists_async()
        await item.delete_async()
        assert not await item.exists_async()

    asyncio.run(scenario())


def test_stored_object_coercion(memory: MemoryBackend) -> None:
    metadata = MetaData()
    table = Table(
        "t",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("one", StoredObject("mem")),
        Column("many", StoredObject("mem", multiple=True)),
    )
    engine = create_engine("sqlite://")
    metadata.create_all(engine)
    item = FileObject("mem", "a.txt", content=b"a").save()
    with engine.begin() as connection:
        connection.execute(insert(table).values(id=1, one=item, many=item))  # one file for a list: wrapped
        connection.execute(insert(table).values(id=2, one=None, many=None))
        rows = connection.execute(select(table.c.one, table.c.many).order_by(table.c.id)).all()
        assert rows[0].one == item and list(rows[0].many) == [item]
        assert rows[1].one is None and rows[1].many is None
        with pytest.raises(Exception, match="holds one file"):
            connection.execute(insert(table).values(id=3, one=[item]))
        with pytest.raises(Exception, match="takes FileObject values"):
            connection.execute(insert(table).values(id=4, one="nope"))


def test_large_file_streams_through_open_on_s3(s3_backend: ObstoreBackend, tmp_path: Path) -> None:
    import hashlib
    import os

    source = tmp_path / "large.bin"
    data = os.urandom(10 * 1024 * 1024 + 7)  # a multipart upload, read back in many chunks
    source.write_bytes(data)
    item = FileObject("s3", "large.bin", source_path=source).save()
    assert item.size == len(data) and item.checksum == hashlib.sha256(data).hexdigest()
    digest = hashlib.sha256()
    with item.open(chunk_size=256 * 1024) as handle:
        assert handle.read(5) == data[:5]
        digest.update(data[:5])
        while piece := handle.read(100_000):
            assert len(piece) <= 100_000
            digest.update(piece)
    assert digest.hexdigest() == item.checksum
    assert sum(len(chunk) for chunk in item) == len(data)
