"""``FileObject``: a file in a storage backend, as a row holds it (metadata) plus its not-yet-saved content.

A new ``FileObject(backend="docs", filename="a.pdf", content=b"...")`` carries pending content; it is
uploaded by ``save()`` / ``await save_async()``, or by the session listener before the row's transaction
commits. Unless ``to_filename``/``path`` is given, each file gets a fresh key (``<uuid>/<filename>``), so a
replacement never overwrites the file a committed row still points at.
"""

from __future__ import annotations

import io
import mimetypes
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dbops.errors import StorageError
from dbops.storage.backends.base import CHUNK_SIZE, ChunkReader, Content, ObjectInfo, StorageBackend

if TYPE_CHECKING:
    from pydantic import GetCoreSchemaHandler
    from pydantic_core import CoreSchema

__all__ = ["FileObject"]


def _safe_filename(filename: str) -> str:
    name = filename.replace("\\", "/").replace("\x00", "").rsplit("/", 1)[-1].strip()
    return name if name not in ("", ".", "..") else "file"


class FileObject:
    """A stored (or about-to-be-stored) file: backend key, path in the backend, and its metadata."""

    __slots__ = (
        "_backend_instance",
        "_pending_content",
        "_pending_source",
        "backend",
        "checksum",
        "content_type",
        "etag",
        "filename",
        "last_modified",
        "metadata",
        "path",
        "size",
    )

    def __init__(
        self,
        backend: str | StorageBackend,
        filename: str,
        *,
        to_filename: str | None = None,
        path: str | None = None,
        content_type: str | None = None,
        content: Content | None = None,
        source_path: str | Path | None = None,
        size: int | None = None,
        etag: str | None = None,
        last_modified: datetime | str | None = None,
        checksum: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        if isinstance(backend, StorageBackend):
            self._backend_instance: StorageBackend | None = backend
            self.backend: str = backend.key
        else:
            self._backend_instance = None
            self.backend = backend
        if content is not None and source_path is not None:
            raise StorageError(f"FileObject {filename!r}: give content or source_path, not both")
        self.filename = filename
        self.path: str = path or to_filename or f"{uuid.uuid4().hex}/{_safe_filename(filename)}"
        self.content_type = content_type or mimetypes.guess_type(filename)[0] or "application/octet-stream"
        self.size = size
        self.etag = etag
        self.last_modified = datetime.fromisoformat(last_modified) if isinstance(last_modified, str) else last_modified
        self.checksum = checksum
        self.metadata: dict[str, Any] = dict(metadata or {})
        self._pending_content: Content | None = content
        self._pending_source: Path | None = Path(source_path) if source_path is not None else None
        if content is not None and isinstance(content, bytes | bytearray | memoryview) and size is None:
            self.size = len(content)

    # -- identity and serialisation ---------------------------------------------------------------------------

    def __repr__(self) -> str:
        return f"FileObject(backend={self.backend!r}, path={self.path!r}, size={self.size!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, FileObject):
            return NotImplemented
        return self.to_dict() == other.to_dict() and self.has_pending_data == other.has_pending_data

    def __hash__(self) -> int:
        return hash((self.backend, self.path))

    @property
    def location(self) -> tuple[str, str]:
        """``(backend key, path)``: what identifies the stored bytes."""
        return (self.backend, self.path)

    def to_dict(self) -> dict[str, Any]:
        """The JSON-ready metadata a ``StoredObject`` column stores."""
        return {
            "backend": self.backend,
            "filename": self.filename,
            "path": self.path,
            "content_type": self.content_type,
            "size": self.size,
            "etag": self.etag,
            "last_modified": self.last_modified.isoformat() if self.last_modified else None,
            "checksum": self.checksum,
            "metadata": self.metadata,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FileObject:
        """Rebuild a stored FileObject from the JSON a ``StoredObject`` column holds."""
        try:
            return cls(
                backend=data["backend"],
                filename=data.get("filename") or data["path"].rsplit("/", 1)[-1],
                path=data["path"],
                content_type=data.get("content_type"),
                size=data.get("size"),
                etag=data.get("etag"),
                last_modified=data.get("last_modified"),
                checksum=data.get("checksum"),
                metadata=data.get("metadata") or {},
            )
        except (KeyError, TypeError, AttributeError, ValueError) as exc:
            raise StorageError(f"stored file metadata is malformed ({exc!r}): {str(data)[:200]}") from exc

    def with_backend(self, backend: str) -> FileObject:
        """The same stored file metadata, pointing at another backend key (used by ``storage sync``)."""
        return FileObject.from_dict({**self.to_dict(), "backend": backend})

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        from pydantic_core import core_schema

        def from_value(value: Any) -> FileObject:
            return value if isinstance(value, FileObject) else cls.from_dict(value)

        return core_schema.no_info_plain_validator_function(
            from_value,
            serialization=core_schema.plain_serializer_function_ser_schema(lambda value: value.to_dict()),
        )

    # -- the backend ------------------------------------------------------------------------------------------------

    @property
    def backend_instance(self) -> StorageBackend:
        """The registered backend for ``backend`` (``StorageError`` naming the registered keys otherwise)."""
        if self._backend_instance is not None:
            return self._backend_instance
        from dbops.storage.registry import storages

        return storages.get_backend(self.backend)

    @property
    def has_pending_data(self) -> bool:
        """True until content given at construction has been saved to the backend."""
        return self._pending_content is not None or self._pending_source is not None

    def _apply(self, info: ObjectInfo) -> None:
        self.size = info.size
        self.checksum = info.checksum or self.checksum
        self.etag = info.etag or self.etag
        self.last_modified = info.last_modified or self.last_modified
        self._pending_content = None
        self._pending_source = None

    # -- sync API -----------------------------------------------------------------------------------------------------

    def save(self) -> FileObject:
        """Upload pending content (no-op when there is none) and record size, checksum and etag."""
        if not self.has_pending_data:
            return self
        backend = self.backend_instance
        if self._pending_source is not None:
            try:
                with self._pending_source.open("rb") as handle:
                    info = backend.put(self.path, handle, content_type=self.content_type)
            except OSError as exc:
                raise StorageError(f"cannot read {self._pending_source}: {exc.strerror or exc}") from exc
        else:
            assert self._pending_content is not None
            info = backend.put(self.path, self._pending_content, content_type=self.content_type)
        self._apply(info)
        return self

    def get_content(self) -> bytes:
        """The whole file (use ``open()`` or ``iter_chunks()`` for large files)."""
        return self.backend_instance.get_content(self.path)

    def iter_chunks(self, chunk_size: int = CHUNK_SIZE) -> Iterator[bytes]:
        """Stream the file in chunks."""
        return self.backend_instance.iter_chunks(self.path, chunk_size=chunk_size)

    def open(self, chunk_size: int = CHUNK_SIZE) -> io.BufferedReader:
        """A read-only binary file that streams from the backend (``with file.open() as f: f.read(1024)``)."""
        return io.BufferedReader(ChunkReader(self.iter_chunks(chunk_size)), buffer_size=chunk_size)

    def __iter__(self) -> Iterator[bytes]:
        return self.iter_chunks()

    def exists(self) -> bool:
        return self.backend_instance.exists(self.path)

    def delete(self) -> None:
        """Remove the stored file (missing is not an error)."""
        self.backend_instance.delete(self.path)

    def sign(self, expires_in: int = 3600, for_upload: bool = False) -> str:
        """A time-limited URL for downloading (or, with ``for_upload``, uploading) the file."""
        return self.backend_instance.sign(self.path, expires_in=expires_in, for_upload=for_upload)

    # -- async twins ---------------------------------------------------------------------------------------------------

    async def save_async(self) -> FileObject:
        if not self.has_pending_data:
            return self
        backend = self.backend_instance
        if self._pending_source is not None:
            import asyncio

            return await asyncio.to_thread(self.save)
        assert self._pending_content is not None
        info = await backend.put_async(self.path, self._pending_content, content_type=self.content_type)
        self._apply(info)
        return self

    async def get_content_async(self) -> bytes:
        return await self.backend_instance.get_content_async(self.path)

    def iter_chunks_async(self, chunk_size: int = CHUNK_SIZE) -> AsyncIterator[bytes]:
        return self.backend_instance.iter_chunks_async(self.path, chunk_size=chunk_size)

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self.iter_chunks_async()

    async def exists_async(self) -> bool:
        return await self.backend_instance.stat_async(self.path) is not None

    async def delete_async(self) -> None:
        await self.backend_instance.delete_async(self.path)

    async def sign_async(self, expires_in: int = 3600, for_upload: bool = False) -> str:
        return await self.backend_instance.sign_async(self.path, expires_in=expires_in, for_upload=for_upload)
