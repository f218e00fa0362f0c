"""What every storage backend provides, and the helpers they share (key checks, streaming, hashing).

Backends are sync first (the CLI's sync engine drives them from worker threads); the ``*_async`` twins
default to running the sync method in a thread and are overridden where the library is natively async
(obstore). Every failure is a ``StorageError`` naming the backend and the path.

The base class also speaks Advanced Alchemy's backend API, both ways, so custom backends port unchanged:
a subclass that implements ``save_object`` / ``get_content`` / ``delete_object`` / ``sign`` (and their
``*_async`` twins) instead of ``put`` / ``iter_chunks`` / ``stat`` / ``delete`` gets the latter derived from
the former; and every dbops backend answers ``save_object`` / ``delete_object`` for code written against them.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import io
import re
from collections.abc import AsyncIterator, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import PurePosixPath
from typing import IO, TYPE_CHECKING, Any, Union

from dbops.errors import StorageError, StorageNotFoundError

if TYPE_CHECKING:
    from dbops.storage.file_object import FileObject

__all__ = [
    "CHECKSUM_METADATA_KEY",
    "CHUNK_SIZE",
    "Content",
    "ObjectInfo",
    "StorageBackend",
    "check_path",
    "iter_content",
    "md5_of_etag",
]

CHUNK_SIZE = 1024 * 1024
"""Bytes read or written at a time when streaming; memory use stays a few chunks whatever the file size."""

_MD5_HEX = re.compile(r"[0-9a-f]{32}")

CHECKSUM_METADATA_KEY = "dbops-sha256"
"""User metadata key under which backends that keep metadata store the file's SHA-256 (hex)."""

Content = Union[bytes, bytearray, memoryview, str, IO[bytes], Iterable[bytes]]
"""What can be stored: bytes, text (UTF-8), a binary file object or an iterable of byte chunks."""


@dataclass(frozen=True)
class ObjectInfo:
    """What a backend knows about one stored file."""

    path: str
    size: int
    last_modified: datetime | None = None
    etag: str | None = None
    checksum: str | None = None
    """SHA-256 hex when the backend stored it alongside the file (obstore, memory); ``None`` otherwise."""
    content_type: str | None = None
    verified: bool = False
    """Set by ``put`` when the server confirmed it received exactly the bytes sent (e.g. an S3 MD5 ETag)."""

    @property
    def md5_etag(self) -> str | None:
        """The ETag when it is a plain MD5 of the content (single-part S3-style uploads), else ``None``."""
        return md5_of_etag(self.etag)


def md5_of_etag(etag: str | None) -> str | None:
    """The MD5 hex an ETag stands for when it is a plain MD5 (``"<32 hex>"``), else ``None``."""
    if not etag:
        return None
    value = etag.strip('"').lower()
    return value if _MD5_HEX.fullmatch(value) else None


def shown_path(path: str, limit: int = 120) -> str:
    """``path`` for a message: quoted, and cut (with its length) when long, so an error stays one readable line."""
    if len(path) <= limit:
        return repr(path)
    return f"{path[:limit]!r}... ({len(path)} characters)"


def check_path(path: str, *, backend: str) -> str:
    """Refuse keys that could escape the backend's root: ``..`` segments, absolute paths, NUL, empty."""
    if not isinstance(path, str) or not path:
        raise StorageError(f"backend {backend!r}: empty file path")
    if "\x00" in path:
        raise StorageError(f"backend {backend!r}: file path {shown_path(path)} contains a NUL byte")
    normalised = path.replace("\\", "/")
    if normalised.startswith("/") or (len(normalised) > 1 and normalised[1] == ":"):
        raise StorageError(f"backend {backend!r}: file path {shown_path(path)} is absolute")
    if any(part == ".." for part in normalised.split("/")):
        raise StorageError(f"backend {backend!r}: file path {shown_path(path)} contains '..'")
    return normalised


def iter_content(content: Content, chunk_size: int = CHUNK_SIZE) -> Iterator[bytes]:
    """Yield ``content`` as byte chunks without reading a file object whole."""
    if isinstance(content, str):
        yield content.encode()
    elif isinstance(content, bytes | bytearray | memoryview):
        yield bytes(content)
    elif hasattr(content, "read"):
        reader: Any = content
        while True:
            chunk = reader.read(chunk_size)
            if not chunk:
                break
            yield chunk.encode() if isinstance(chunk, str) else bytes(chunk)
    else:
        for chunk in content:
            yield bytes(chunk)


class HashingIterator:
    """Wraps a chunk iterator, counting bytes and computing SHA-256 (and MD5) as the chunks pass through.

    ``md5=False`` skips the MD5 (the costlier of the two) when nothing will compare it with an ETag.
    """

    def __init__(self, chunks: Iterable[bytes], *, md5: bool = True) -> None:
        self._chunks = iter(chunks)
        self._hash = hashlib.sha256()
        self._md5 = hashlib.md5(usedforsecurity=False) if md5 else None
        self.size = 0

    def __iter__(self) -> Iterator[bytes]:
        return self

    def __next__(self) -> bytes:
        chunk = next(self._chunks)
        self._hash.update(chunk)
        if self._md5 is not None:
            self._md5.update(chunk)
        self.size += len(chunk)
        return chunk

    @property
    def checksum(self) -> str:
        return self._hash.hexdigest()

    @property
    def md5(self) -> str:
        if self._md5 is None:
            raise RuntimeError("HashingIterator(md5=False) computes no MD5")
        return self._md5.hexdigest()


class ChunkReader(io.RawIOBase):
    """A read-only binary file over a chunk iterator, so ``FileObject.open()`` streams large files."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._buffer = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self._buffer:
            try:
                self._buffer = next(self._chunks)
            except StopIteration:
                return 0
        size = min(len(buffer), len(self._buffer))
        buffer[:size] = self._buffer[:size]
        self._buffer = self._buffer[size:]
        return size


def _defines(cls: type[Any], name: str) -> bool:
    """Whether ``cls`` (a subclass) has its own ``name``, not the base class's."""
    return getattr(cls, name, None) is not getattr(StorageBackend, name, None)


class StorageBackend:
    """Base class of the backends; ``key`` is the name rows use to refer to it (``StoredObject(backend=key)``).

    ``fs`` and further keyword options are kept as ``self.fs`` / ``self.options``, as Advanced Alchemy's base
    class keeps them, for subclasses written against it (``super().__init__(key=key, fs=client)``).
    """

    key: str
    supports_signing: bool = False
    advanced_alchemy_shaped: bool = False
    """Set on subclasses that implement Advanced Alchemy's ``save_object`` instead of ``put``: dbops' methods
    are then derived from theirs (see the module docstring)."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if _defines(cls, "save_object") and not _defines(cls, "put"):
            cls.advanced_alchemy_shaped = True
            if _defines(cls, "sign") and "supports_signing" not in vars(cls):
                cls.supports_signing = True

    def __init__(self, key: str, fs: Any = None, **options: Any) -> None:
        if not key or not isinstance(key, str):
            raise StorageError("a storage backend needs a non-empty string key")
        self.key = key
        self.fs = fs
        self.options = options

    def __repr__(self) -> str:
        return f"{type(self).__name__}(key={self.key!r})"

    def check_path(self, path: str) -> str:
        return check_path(path, backend=self.key)

    # -- the operations each backend implements ----------------------------------------------------------

    def put(
        self,
        path: str,
        content: Content,
        *,
        content_type: str | None = None,
        metadata: dict[str, str] | None = None,
        expected_md5: str | None = None,
    ) -> ObjectInfo:
        """Store ``content`` at ``path`` (streaming; replaces an existing file) and return what was stored.

        ``expected_md5`` is the content's MD5 when the caller already knows it (``storage sync`` copying a
        recorded file): a backend whose server answers with an MD5 ETag then compares the two (``verified``)
        instead of hashing MD5 itself. Other backends ignore it.
        """
        if not self.advanced_alchemy_shaped:
            raise NotImplementedError
        path = self.check_path(path)
        file_object, data, chunks = self._object_to_save(path, content, content_type, metadata)
        with self._failures("save", path):
            saved = self.save_object(file_object, data) or file_object
        return self._saved_info(path, saved, chunks, content_type)

    def iter_chunks(self, path: str, *, chunk_size: int = CHUNK_SIZE) -> Iterator[bytes]:
        """Yield the file's bytes in chunks; ``StorageNotFoundError`` when it does not exist."""
        if not self.advanced_alchemy_shaped:
            raise NotImplementedError
        path = self.check_path(path)
        with self._failures("read", path):
            content = self.get_content(path)
        return _chunked(content, chunk_size)

    def stat(self, path: str) -> ObjectInfo | None:
        """What the backend knows about ``path``, or ``None`` when it does not exist."""
        if not self.advanced_alchemy_shaped:
            raise NotImplementedError
        # Advanced Alchemy's API has no stat: the file is read to learn its size and checksum.
        try:
            chunks = HashingIterator(self.iter_chunks(path), md5=False)
            for _ in chunks:
                pass
        except StorageNotFoundError:
            return None
        return ObjectInfo(path=self.check_path(path), size=chunks.size, checksum=chunks.checksum)

    def delete(self, path: str) -> None:
        """Remove ``path``; removing a file that is not there is not an error."""
        if not self.advanced_alchemy_shaped:
            raise NotImplementedError
        path = self.check_path(path)
        try:
            with self._failures("delete", path):
                self.delete_object(path)
        except StorageNotFoundError:
            pass

    def list(self, prefix: str = "") -> Iterator[ObjectInfo]:
        """Every stored file under ``prefix`` (streamed, not collected)."""
        if self.advanced_alchemy_shaped:
            raise StorageError(
                f"backend {self.key!r} ({type(self).__name__}) cannot list its files: it implements Advanced "
                "Alchemy's backend API, which has no listing (implement list() for storage scan/prune-orphans)"
            )
        raise NotImplementedError

    def sign(self, path: str, *, expires_in: int = 3600, for_upload: bool = False) -> str:
        """A URL that grants access to ``path`` for ``expires_in`` seconds (PUT when ``for_upload``)."""
        raise StorageError(f"backend {self.key!r} ({type(self).__name__}) cannot sign URLs")

    # -- derived operations -------------------------------------------------------------------------------

    def get_content(self, path: str, *, options: dict[str, Any] | None = None) -> bytes:
        """The whole file (``options`` is Advanced Alchemy's per-call backend options; dbops' backends take none)."""
        return b"".join(self.iter_chunks(path))

    def exists(self, path: str) -> bool:
        return self.stat(path) is not None

    def checksum(self, path: str) -> str:
        """SHA-256 hex of the stored bytes, read back from the backend (not from recorded metadata)."""
        return self.digests(path)[0]

    def digests(self, path: str) -> tuple[str, str]:
        """``(sha256, md5)`` hex of the stored bytes, read back in one pass."""
        chunks = HashingIterator(self.iter_chunks(path))
        for _ in chunks:
            pass
        return chunks.checksum, chunks.md5

    # -- Advanced Alchemy's method set ----------------------------------------------------------------------

    def save_object(self, file_object: FileObject, data: Any, **options: Any) -> FileObject:
        """Store ``data`` at ``file_object.path`` and record size, checksum and etag on ``file_object``
        (Advanced Alchemy's name for ``put``; its multipart options are the backend's own business here)."""
        info = self.put(
            file_object.path, data, content_type=file_object.content_type, metadata=_text_metadata(file_object)
        )
        _record(file_object, info)
        return file_object

    def delete_object(self, paths: str | Sequence[str]) -> None:
        """Delete one path or several (Advanced Alchemy's name for ``delete``)."""
        for path in [paths] if isinstance(paths, str) else paths:
            self.delete(path)

    async def save_object_async(self, file_object: FileObject, data: Any, **options: Any) -> FileObject:
        info = await self.put_async(
            file_object.path, data, content_type=file_object.content_type, metadata=_text_metadata(file_object)
        )
        _record(file_object, info)
        return file_object

    async def delete_object_async(self, paths: str | Sequence[str]) -> None:
        for path in [paths] if isinstance(paths, str) else paths:
            await self.delete_async(path)

    def _object_to_save(
        self, path: str, content: Content, content_type: str | None, metadata: dict[str, str] | None
    ) -> tuple[FileObject, Any, HashingIterator]:
        """The ``FileObject`` and data an Advanced Alchemy-shaped ``save_object`` gets, and the iterator that
        hashes the data on its way (in-memory content is hashed here and handed over as bytes)."""
        from dbops.storage.file_object import FileObject

        file_object = FileObject(
            self, PurePosixPath(path).name, path=path, content_type=content_type, metadata=metadata
        )
        if isinstance(content, bytes | bytearray | memoryview | str):
            data = content.encode() if isinstance(content, str) else bytes(content)
            chunks = HashingIterator([data], md5=False)
            for _ in chunks:
                pass
            return file_object, data, chunks
        chunks = HashingIterator(iter_content(content), md5=False)
        return file_object, chunks, chunks

    @staticmethod
    def _saved_info(path: str, saved: Any, chunks: HashingIterator, content_type: str | None) -> ObjectInfo:
        for _ in chunks:  # whatever save_object left unread still counts
            pass
        return ObjectInfo(
            path=path,
            size=chunks.size,
            etag=getattr(saved, "etag", None),
            last_modified=getattr(saved, "last_modified", None),
            checksum=chunks.checksum,
            content_type=content_type,
        )

    def _failures(self, operation: str, path: str) -> contextlib.AbstractContextManager[None]:
        return _translated(self.key, operation, path)

    # -- async twins ----------------------------------------------------------------------------------------

    async def put_async(
        self,
        path: str,
        content: Content,
        *,
        content_type: str | None = None,
        metadata: dict[str, str] | None = None,
        expected_md5: str | None = None,
    ) -> ObjectInfo:
        if self.advanced_alchemy_shaped and _defines(type(self), "save_object_async"):
            path = self.check_path(path)
            file_object, data, chunks = self._object_to_save(path, content, content_type, metadata)
            with self._failures("save", path):
                saved = await self.save_object_async(file_object, data) or file_object
            return self._saved_info(path, saved, chunks, content_type)
        return await asyncio.to_thread(
            self.put, path, content, content_type=content_type, metadata=metadata, expected_md5=expected_md5
        )

    async def iter_chunks_async(self, path: str, *, chunk_size: int = CHUNK_SIZE) -> AsyncIterator[bytes]:
        if self.advanced_alchemy_shaped and _defines(type(self), "get_content_async"):
            path = self.check_path(path)
            with self._failures("read", path):
                content = await self.get_content_async(path)
            for piece in _chunked(content, chunk_size):
                yield piece
            return
        iterator = self.iter_chunks(path, chunk_size=chunk_size)
        sentinel = object()
        while True:
            chunk = await asyncio.to_thread(next, iterator, sentinel)
            if chunk is sentinel:
                return
            yield chunk  # type: ignore[misc]

    async def get_content_async(self, path: str, *, options: dict[str, Any] | None = None) -> bytes:
        return await asyncio.to_thread(self.get_content, path)

    async def stat_async(self, path: str) -> ObjectInfo | None:
        return await asyncio.to_thread(self.stat, path)

    async def delete_async(self, path: str) -> None:
        if self.advanced_alchemy_shaped and _defines(type(self), "delete_object_async"):
            path = self.check_path(path)
            try:
                with self._failures("delete", path):
                    await self.delete_object_async(path)
            except StorageNotFoundError:
                pass
            return
        await asyncio.to_thread(self.delete, path)

    async def sign_async(self, path: str, *, expires_in: int = 3600, for_upload: bool = False) -> str:
        return self.sign(path, expires_in=expires_in, for_upload=for_upload)


def _chunked(content: bytes, chunk_size: int) -> Iterator[bytes]:
    return (content[start : start + chunk_size] for start in range(0, len(content), max(1, chunk_size)))


def _text_metadata(file_object: FileObject) -> dict[str, str] | None:
    return {str(k): str(v) for k, v in file_object.metadata.items()} or None


def _record(file_object: FileObject, info: ObjectInfo) -> None:
    """Put what ``put`` returned on ``file_object``, as Advanced Alchemy's ``save_object`` does."""
    file_object.size = info.size
    file_object.checksum = info.checksum or file_object.checksum
    file_object.etag = info.etag or file_object.etag
    file_object.last_modified = info.last_modified or file_object.last_modified


@contextlib.contextmanager
def _translated(key: str, operation: str, path: str) -> Iterator[None]:
    """Turn what an Advanced Alchemy-shaped backend raises into dbops' storage errors naming backend and path:
    ``FileNotFoundError`` (what its backends raise for a missing file) into ``StorageNotFoundError``."""
    where = f"backend {key!r}: file {path!r}"
    try:
        yield
    except StorageError:
        raise
    except FileNotFoundError as error:
        raise StorageNotFoundError(f"{where} not found") from error
    except Exception as error:
        raise StorageError(f"{where}: {operation} failed: {type(error).__name__}: {error}") from error
