"""Any fsspec filesystem (extra ``dbops[fsspec]``): ``FsspecBackend("files", "memory")``, s3fs, gcsfs, ..."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any

from dbops.errors import StorageError, StorageNotFoundError
from dbops.storage.backends.base import CHUNK_SIZE, Content, HashingIterator, ObjectInfo, StorageBackend, iter_content

__all__ = ["FsspecBackend"]


class FsspecBackend(StorageBackend):
    """Store files on an fsspec filesystem (a protocol name plus options, or a filesystem object) under ``prefix``."""

    def __init__(self, key: str, fs: Any, *, prefix: str = "", **storage_options: Any) -> None:
        super().__init__(key)
        if isinstance(fs, str):
            try:
                import fsspec  # type: ignore[import-untyped]
            except ImportError as exc:  # pragma: no cover - depends on the installed extras
                raise StorageError("FsspecBackend needs fsspec: pip install 'dbops[fsspec]'") from exc
            try:
                fs = fsspec.filesystem(fs, **storage_options)
            except (ImportError, ValueError) as exc:
                raise StorageError(f"backend {key!r}: cannot open fsspec filesystem {fs!r}: {exc}") from exc
        self.fs: Any = fs
        self.prefix = prefix.rstrip("/")
        self.supports_signing = hasattr(fs, "sign")

    def _full(self, path: str) -> str:
        relative = self.check_path(path)
        return f"{self.prefix}/{relative}" if self.prefix else relative

    def _relative(self, full: str) -> str:
        full = full.lstrip("/") if not self.prefix.startswith("/") else full
        prefix = self.prefix.lstrip("/") + "/" if self.prefix else ""
        stripped = full.lstrip("/")
        return stripped[len(prefix) :] if prefix and stripped.startswith(prefix) else stripped

    def put(
        self,
        path: str,
        content: Content,
        *,
        content_type: str | None = None,
        metadata: dict[str, str] | None = None,
        expected_md5: str | None = None,
    ) -> ObjectInfo:
        full = self._full(path)
        chunks = HashingIterator(iter_content(content))
        try:
            parent = full.rsplit("/", 1)[0] if "/" in full else ""
            if parent:
                self.fs.makedirs(parent, exist_ok=True)
            with self.fs.open(full, "wb") as handle:
                for chunk in chunks:
                    handle.write(chunk)
        except OSError as exc:
            raise StorageError(f"backend {self.key!r}: cannot write {path!r}: {exc}") from exc
        return ObjectInfo(
            path=path, size=chunks.size, checksum=chunks.checksum, etag=f'"{chunks.md5}"', content_type=content_type
        )

    def iter_chunks(self, path: str, *, chunk_size: int = CHUNK_SIZE) -> Iterator[bytes]:
        full = self._full(path)
        try:
            handle = self.fs.open(full, "rb")
        except FileNotFoundError as exc:
            raise StorageNotFoundError(f"backend {self.key!r}: file {path!r} not found") from exc
        except OSError as exc:
            raise StorageError(f"backend {self.key!r}: cannot read {path!r}: {exc}") from exc
        return _read(handle, chunk_size)

    def stat(self, path: str) -> ObjectInfo | None:
        full = self._full(path)
        try:
            info = self.fs.info(full)
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise StorageError(f"backend {self.key!r}: cannot stat {path!r}: {exc}") from exc
        if info.get("type") == "directory":
            return None
        return ObjectInfo(path=path, size=int(info.get("size") or 0), last_modified=_modified(info))

    def delete(self, path: str) -> None:
        full = self._full(path)
        try:
            self.fs.rm_file(full)
        except FileNotFoundError:
            return
        except OSError as exc:
            raise StorageError(f"backend {self.key!r}: cannot delete {path!r}: {exc}") from exc

    def list(self, prefix: str = "") -> Iterator[ObjectInfo]:
        root = self.prefix or "/"
        try:
            found = self.fs.find(root, detail=True) if self.fs.exists(root) else {}
        except OSError as exc:
            raise StorageError(f"backend {self.key!r}: cannot list: {exc}") from exc
        for name, info in sorted(found.items()):
            relative = self._relative(name)
            if relative.startswith(prefix):
                yield ObjectInfo(path=relative, size=int(info.get("size") or 0), last_modified=_modified(info))

    def sign(self, path: str, *, expires_in: int = 3600, for_upload: bool = False) -> str:
        if for_upload or not hasattr(self.fs, "sign"):
            return super().sign(path, expires_in=expires_in, for_upload=for_upload)
        try:
            url: str = self.fs.sign(self._full(path), expiration=expires_in)
        except NotImplementedError as exc:
            raise StorageError(f"backend {self.key!r}: this fsspec filesystem cannot sign URLs") from exc
        return url


def _read(handle: Any, chunk_size: int) -> Iterator[bytes]:
    with handle:
        while chunk := handle.read(chunk_size):
            yield bytes(chunk)


def _modified(info: dict[str, Any]) -> datetime | None:
    for key in ("mtime", "LastModified", "last_modified", "created"):
        value = info.get(key)
        if isinstance(value, datetime):
            return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
        if isinstance(value, int | float):
            return datetime.fromtimestamp(value, timezone.utc)
    return None
