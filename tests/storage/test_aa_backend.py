"""A custom storage backend written against Advanced Alchemy's API (``save_object`` / ``get_content`` /
``delete_object`` / ``sign`` and their async twins), ported by changing its import only, works everywhere dbops
uses backends: FileObject, the unit of work on every dialect with sync and async sessions, ``storage check``.
The oracle is the backend's own directory on disk."""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from dbops.config import SQLAlchemySyncConfig
from dbops.errors import StorageError, StorageNotFoundError
from dbops.storage import MemoryBackend, storages
from dbops.storage.check import check_files
from dbops.types import FileObject
from dbops.types.file_object import StorageBackend  # was: from advanced_alchemy.types.file_object import ...
from tests.databases import TestDatabase
from tests.storage.models import Document
from tests.storage.test_unit_of_work import Runner


class FolderBackend(StorageBackend):
    """What an Advanced Alchemy app's own backend looks like: files in a folder, ``fs`` is the folder."""

    driver = "folder"
    protocol = "file"

    def __init__(self, key: str, fs: Path, **kwargs: Any) -> None:
        super().__init__(key=key, fs=fs, **kwargs)
        self.calls: list[str] = []

    def _file(self, path: Any) -> Path:
        return Path(self.fs) / str(path)

    def get_content(self, path: Any, *, options: dict[str, Any] | None = None) -> bytes:
        self.calls.append("get_content")
        return self._file(path).read_bytes()  # FileNotFoundError when missing

    async def get_content_async(self, path: Any, *, options: dict[str, Any] | None = None) -> bytes:
        self.calls.append("get_content_async")
        return await asyncio.to_thread(self._file(path).read_bytes)

    def save_object(self, file_object: Any, data: Any, **kwargs: Any) -> Any:
        self.calls.append("save_object")
        target = self._file(file_object.path)
        target.parent.mkdir(parents=True, exist_ok=True)
        content = data if isinstance(data, bytes) else b"".join(data)
        target.write_bytes(content)
        file_object.size = len(content)
        file_object.etag = hashlib.md5(content).hexdigest()
        return file_object

    async def save_object_async(self, file_object: Any, data: Any, **kwargs: Any) -> Any:
        self.calls.append("save_object_async")
        return await asyncio.to_thread(self.save_object, file_object, data)

    def delete_object(self, paths: Any) -> None:
        self.calls.append("delete_object")
        for path in [paths] if isinstance(paths, (str, Path)) else paths:
            self._file(path).unlink()  # FileNotFoundError when missing

    async def delete_object_async(self, paths: Any) -> None:
        self.calls.append("delete_object_async")
        await asyncio.to_thread(self.delete_object, paths)

    def sign(self, paths: Any, *, expires_in: int | None = None, for_upload: bool = False) -> Any:
        if isinstance(paths, Sequence) and not isinstance(paths, str):
            return [self.sign(p, expires_in=expires_in, for_upload=for_upload) for p in paths]
        return f"https://files.example/{paths}?expires={expires_in}&upload={int(for_upload)}"

    async def sign_async(self, paths: Any, *, expires_in: int | None = None, for_upload: bool = False) -> Any:
        return self.sign(paths, expires_in=expires_in, for_upload=for_upload)


@pytest.fixture
def folder(tmp_path: Path) -> Iterator[FolderBackend]:
    backend = FolderBackend(key="docs", fs=tmp_path / "files")
    storages.register_backend(backend)
    yield backend
    storages.unregister_backend("docs")


def on_disk(backend: FolderBackend) -> dict[str, bytes]:
    root = Path(backend.fs)
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_file_object_through_an_advanced_alchemy_shaped_backend(folder: FolderBackend) -> None:
    assert folder.advanced_alchemy_shaped and folder.supports_signing
    stored = FileObject(folder, "report.txt", content=b"hello world").save()
    assert on_disk(folder) == {stored.path: b"hello world"}
    assert (stored.size, stored.etag) == (11, hashlib.md5(b"hello world").hexdigest())
    assert stored.checksum == hashlib.sha256(b"hello world").hexdigest()
    assert stored.get_content() == b"hello world"
    assert b"".join(stored.iter_chunks()) == b"hello world"
    assert stored.exists() is True
    assert stored.sign(expires_in=60) == f"https://files.example/{stored.path}?expires=60&upload=0"
    info = folder.stat(stored.path)  # no stat in that API: read to learn size and checksum
    assert info is not None and (info.size, info.checksum) == (11, stored.checksum)
    streamed = FileObject(folder, "big.bin", content=iter([b"a" * 10, b"b" * 5])).save()
    assert (streamed.size, on_disk(folder)[streamed.path]) == (15, b"a" * 10 + b"b" * 5)
    stored.delete()
    stored.delete()  # deleting a missing file is not an error, as for every dbops backend
    assert list(on_disk(folder)) == [streamed.path]
    assert folder.stat(stored.path) is None
    with pytest.raises(StorageNotFoundError, match=f"backend 'docs': file '{stored.path}' not found"):
        b"".join(folder.iter_chunks(stored.path))
    with pytest.raises(StorageError, match="cannot list its files"):
        list(folder.list())
    with pytest.raises(StorageError, match=r"contains '\.\.'"):
        folder.put("../escape.txt", b"x")


def test_async_twins_use_the_backends_async_methods(folder: FolderBackend) -> None:
    async def main() -> None:
        stored = await FileObject(folder, "a.txt", content=b"async bytes").save_async()
        assert await stored.get_content_async() == b"async bytes"
        assert b"".join([c async for c in stored.iter_chunks_async()]) == b"async bytes"
        assert await stored.sign_async(expires_in=5) == f"https://files.example/{stored.path}?expires=5&upload=0"
        await stored.delete_async()
        assert on_disk(folder) == {}

    asyncio.run(main())
    assert {"save_object_async", "get_content_async", "delete_object_async"} <= set(folder.calls)


def test_a_failing_backend_is_a_storage_error_naming_it(tmp_path: Path) -> None:
    class Broken(FolderBackend):
        def save_object(self, file_object: Any, data: Any, **kwargs: Any) -> Any:
            raise PermissionError("read-only file system")

    with pytest.raises(StorageError, match=r"backend 'broken': file 'x.txt': save failed: PermissionError"):
        Broken(key="broken", fs=tmp_path).put("x.txt", b"x")


def test_dbops_backends_answer_the_advanced_alchemy_method_set() -> None:
    memory = MemoryBackend("aa-memory")
    file_object = FileObject(memory, "n.txt", path="n.txt")
    assert memory.save_object(file_object, b"note") is file_object
    assert (file_object.size, file_object.checksum) == (4, hashlib.sha256(b"note").hexdigest())
    assert memory.get_content("n.txt", options={}) == b"note"
    memory.save_object(FileObject(memory, "m.txt", path="m.txt"), b"more")
    memory.delete_object(["n.txt", "m.txt"])
    assert list(memory.list()) == []
    assert asyncio.run(memory.save_object_async(FileObject(memory, "o.txt", path="o.txt"), b"o")).size == 1
    asyncio.run(memory.delete_object_async("o.txt"))
    assert memory.stat("o.txt") is None
    assert not memory.advanced_alchemy_shaped


def test_unit_of_work_and_check_on_every_dialect(db: TestDatabase, is_async: bool, folder: FolderBackend) -> None:
    runner = Runner(db, is_async)
    name = f"doc-{uuid.uuid4().hex[:8]}"

    def create(session: Any) -> str:
        session.add(Document(name=name, file=FileObject("docs", "contract.pdf", content=b"%PDF-1.7 signed")))
        session.commit()
        return str(session.scalars(select(Document).where(Document.name == name)).one().file.path)

    path = runner(create)
    assert on_disk(folder) == {path: b"%PDF-1.7 signed"}  # uploaded before the commit

    def replace(session: Any) -> str:
        document = session.scalars(select(Document).where(Document.name == name)).one()
        document.file = FileObject("docs", "contract-v2.pdf", content=b"%PDF-1.7 v2")
        session.commit()
        return str(document.file.path)

    new_path = runner(replace)
    assert on_disk(folder) == {new_path: b"%PDF-1.7 v2"}  # the old file deleted after the commit

    def rolled_back(session: Any) -> None:
        session.add(Document(name=f"{name}-x", file=FileObject("docs", "draft.pdf", content=b"draft")))
        session.flush()
        session.rollback()

    runner(rolled_back)
    assert on_disk(folder) == {new_path: b"%PDF-1.7 v2"}  # the upload of the rolled-back row removed

    result = check_files(SQLAlchemySyncConfig(connection_string=db.sync_url, metadata=Document.metadata))
    assert (result.files, result.problems) == (1, [])
    Path(folder.fs, new_path).write_bytes(b"tampered")  # same name, different bytes
    problems = check_files(SQLAlchemySyncConfig(connection_string=db.sync_url, metadata=Document.metadata)).problems
    assert [(problem.path, problem.problem) for problem in problems] == [(new_path, "size mismatch")]
    Path(folder.fs, new_path).unlink()
    problems = check_files(SQLAlchemySyncConfig(connection_string=db.sync_url, metadata=Document.metadata)).problems
    assert [(problem.path, problem.problem) for problem in problems] == [(new_path, "missing")]
