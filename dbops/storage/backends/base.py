"""What every storage backend provides, and the helpers they share (key checks, streaming, hashing).

Backends are sync first (the CLI's sync engine drives them from worker threads); the ``*_async`` twins
default to running the sync method in a thread and are overridden where the library is natively async
(obstore). Every failure is a ``StorageError`` naming the backend and the path.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import re
from collections.abc import AsyncIterator, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import IO, Any, Union

from dbops.errors import StorageError

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


class StorageBackend:
    """Base class of the backends; ``key`` is the name rows use to refer to it (``StoredObject(backend=key)``)."""

    key: str
    supports_signing: bool = False

    def __init__(self, key: str) -> None:
        if not key or not isinstance(key, str):
            raise StorageError("a storage backend needs a non-empty string key")
        self.key = key

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
        raise NotImplementedError

    def iter_chunks(self, path: str, *, chunk_size: int = CHUNK_SIZE) -> Iterator[bytes]:
        """Yield the file's bytes in chunks; ``StorageNotFoundError`` when it does not exist."""
        raise NotImplementedError

    def stat(self, path: str) -> ObjectInfo | None:
        """What the backend knows about ``path``, or ``None`` when it does not exist."""
        raise NotImplementedError

    def delete(self, path: str) -> None:
        """Remove ``path``; removing a file that is not there is not an error."""
        raise NotImplementedError

    def list(self, prefix: str = "") -> Iterator[ObjectInfo]:
        """Every stored file under ``prefix`` (streamed, not collected)."""
        raise NotImplementedError

    def sign(self, path: str, *, expires_in: int = 3600, for_upload: bool = False) -> str:
        """A URL that grants access to ``path`` for ``expires_in`` seconds (PUT when ``for_upload``)."""
        raise StorageError(f"backend {self.key!r} ({type(self).__name__}) cannot sign URLs")

    # -- derived operations -------------------------------------------------------------------------------

    def get_content(self, path: str) -> bytes:
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
        return await asyncio.to_thread(
            self.put, path, content, content_type=content_type, metadata=metadata, expected_md5=expected_md5
        )

    async def iter_chunks_async(self, path: str, *, chunk_size: int = CHUNK_SIZE) -> AsyncIterator[bytes]:
        iterator = self.iter_chunks(path, chunk_size=chunk_size)
        sentinel = object()
        while True:
            chunk = await asyncio.to_thread(next, iterator, sentinel)
            if chunk is sentinel:
                return
            yield chunk  # type: ignore[misc]

    async def get_content_async(self, path: str) -> bytes:
        return await asyncio.to_thread(self.get_content, path)

    async def stat_async(self, path: str) -> ObjectInfo | None:
        return await asyncio.to_thread(self.stat, path)

    async def delete_async(self, path: str) -> None:
        await asyncio.to_thread(self.delete, path)

    async def sign_async(self, path: str, *, expires_in: int = 3600, for_upload: bool = False) -> str:
        return self.sign(path, expires_in=expires_in, for_upload=for_upload)
