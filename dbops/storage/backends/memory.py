"""Files kept in a dict, for tests and throwaway setups; keeps content type and checksum like a real store."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import datetime, timezone

from dbops.errors import StorageNotFoundError
from dbops.storage.backends.base import CHUNK_SIZE, Content, HashingIterator, ObjectInfo, StorageBackend, iter_content

__all__ = ["MemoryBackend"]


class MemoryBackend(StorageBackend):
    """Store files in process memory (lost when the process exits)."""

    def __init__(self, key: str = "memory") -> None:
        super().__init__(key)
        self._files: dict[str, tuple[bytes, ObjectInfo]] = {}
        self._lock = threading.Lock()

    def put(
        self,
        path: str,
        content: Content,
        *,
        content_type: str | None = None,
        metadata: dict[str, str] | None = None,
        expected_md5: str | None = None,
    ) -> ObjectInfo:
        path = self.check_path(path)
        chunks = HashingIterator(iter_content(content))
        data = b"".join(chunks)
        info = ObjectInfo(
            path=path,
            size=chunks.size,
            last_modified=datetime.now(timezone.utc),
            checksum=chunks.checksum,
            etag=f'"{chunks.md5}"',
            content_type=content_type,
        )
        with self._lock:
            self._files[path] = (data, info)
        return info

    def iter_chunks(self, path: str, *, chunk_size: int = CHUNK_SIZE) -> Iterator[bytes]:
        path = self.check_path(path)
        with self._lock:
            entry = self._files.get(path)
        if entry is None:
            raise StorageNotFoundError(f"backend {self.key!r}: file {path!r} not found")
        data = entry[0]
        return (data[start : start + chunk_size] for start in range(0, max(len(data), 1), chunk_size) if data)

    def stat(self, path: str) -> ObjectInfo | None:
        path = self.check_path(path)
        with self._lock:
            entry = self._files.get(path)
        return None if entry is None else entry[1]

    def delete(self, path: str) -> None:
        path = self.check_path(path)
        with self._lock:
            self._files.pop(path, None)

    def list(self, prefix: str = "") -> Iterator[ObjectInfo]:
        with self._lock:
            infos = [info for path, (_, info) in sorted(self._files.items()) if path.startswith(prefix)]
        yield from infos
