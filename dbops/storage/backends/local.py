"""Files on the local filesystem under one root directory, with HMAC-signed, expiring URLs.

Writes go to a temporary file next to the target and are renamed into place, so a reader (or a killed
process) never sees half a file. Signed URLs are checked by the route ``litestar_dbops.storage`` mounts.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import hmac
import os
import secrets
import time
import uuid
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import quote, urlencode

from dbops.errors import StorageError, StorageNotFoundError
from dbops.storage.backends.base import (
    CHUNK_SIZE,
    Content,
    HashingIterator,
    ObjectInfo,
    StorageBackend,
    iter_content,
    shown_path,
)

__all__ = ["LocalBackend", "LocalStorageBackend"]

TEMP_MARKER = ".dbops-tmp-"
SECRET_ENV = "DBOPS_STORAGE_SECRET"


class LocalBackend(StorageBackend):
    """Store files under ``root``; ``base_url`` is where the signed-URL route is mounted.

    ``secret`` signs URLs (HMAC-SHA256). Without one, ``$DBOPS_STORAGE_SECRET`` is used, else a random
    per-process secret (URLs then only verify in the process that signed them).
    """

    supports_signing = True

    def __init__(
        self,
        key: str,
        root: str | os.PathLike[str],
        *,
        secret: str | bytes | None = None,
        base_url: str = "/_storage",
        create: bool = True,
    ) -> None:
        super().__init__(key)
        self.root = Path(root).resolve()
        if create:
            self.root.mkdir(parents=True, exist_ok=True)
        secret = secret if secret is not None else os.environ.get(SECRET_ENV)
        self._secret = (secret.encode() if isinstance(secret, str) else secret) or secrets.token_bytes(32)
        self.base_url = base_url.rstrip("/")

    def __repr__(self) -> str:
        return f"LocalBackend(key={self.key!r}, root={str(self.root)!r})"

    def _file(self, path: str) -> Path:
        relative = self.check_path(path)
        # Checked before touching the disk, so a write that can't succeed creates no directories on its way.
        name_max, path_max = _limits(self.root)
        full = self.root / relative
        if len(os.fsencode(full)) >= path_max or any(len(os.fsencode(part)) > name_max for part in full.parts):
            raise StorageError(
                f"backend {self.key!r}: file path {shown_path(path)} is too long for {self.root} (names up to "
                f"{name_max} bytes, paths up to {path_max - 1})"
            )
        try:
            target = full.resolve()
        except OSError as exc:
            raise StorageError(f"backend {self.key!r}: file path {shown_path(path)}: {exc.strerror or exc}") from exc
        if target != self.root and self.root not in target.parents:
            raise StorageError(f"backend {self.key!r}: file path {shown_path(path)} resolves outside {self.root}")
        return target

    def put(
        self,
        path: str,
        content: Content,
        *,
        content_type: str | None = None,
        metadata: dict[str, str] | None = None,
        expected_md5: str | None = None,
    ) -> ObjectInfo:
        target = self._file(path)
        # Not derived from the target's name: a name of 255 bytes would make it too long.
        temp = target.with_name(f"{TEMP_MARKER}{uuid.uuid4().hex}")
        chunks = HashingIterator(iter_content(content))
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            with temp.open("wb") as handle:
                for chunk in chunks:
                    handle.write(chunk)
            temp.replace(target)
        except OSError as exc:
            with contextlib.suppress(OSError):
                temp.unlink(missing_ok=True)
            raise StorageError(f"backend {self.key!r}: cannot write {shown_path(path)}: {exc.strerror or exc}") from exc
        except BaseException:
            with contextlib.suppress(OSError):
                temp.unlink(missing_ok=True)
            raise
        stat = target.stat()
        return ObjectInfo(
            path=path,
            size=chunks.size,
            last_modified=datetime.fromtimestamp(stat.st_mtime, timezone.utc),
            checksum=chunks.checksum,
            etag=f'"{chunks.md5}"',
            content_type=content_type,
        )

    def iter_chunks(self, path: str, *, chunk_size: int = CHUNK_SIZE) -> Iterator[bytes]:
        target = self._file(path)
        try:
            handle = target.open("rb")
        except FileNotFoundError as exc:
            raise StorageNotFoundError(f"backend {self.key!r}: file {shown_path(path)} not found") from exc
        except OSError as exc:
            raise StorageError(f"backend {self.key!r}: cannot read {shown_path(path)}: {exc.strerror or exc}") from exc
        return _read_chunks(handle, chunk_size)

    def stat(self, path: str) -> ObjectInfo | None:
        try:
            stat = self._file(path).stat()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise StorageError(f"backend {self.key!r}: cannot stat {shown_path(path)}: {exc.strerror or exc}") from exc
        return ObjectInfo(
            path=path, size=stat.st_size, last_modified=datetime.fromtimestamp(stat.st_mtime, timezone.utc)
        )

    def delete(self, path: str) -> None:
        try:
            self._file(path).unlink(missing_ok=True)
        except OSError as exc:
            detail = exc.strerror or exc
            raise StorageError(f"backend {self.key!r}: cannot delete {shown_path(path)}: {detail}") from exc

    def list(self, prefix: str = "") -> Iterator[ObjectInfo]:
        for folder, dirs, files in os.walk(self.root):
            dirs.sort()
            for name in sorted(files):
                if name.startswith(TEMP_MARKER):
                    continue
                full = Path(folder) / name
                relative = full.relative_to(self.root).as_posix()
                if not relative.startswith(prefix):
                    continue
                try:
                    stat = full.stat()
                except FileNotFoundError:
                    continue
                yield ObjectInfo(
                    path=relative, size=stat.st_size, last_modified=datetime.fromtimestamp(stat.st_mtime, timezone.utc)
                )

    # -- signed URLs -----------------------------------------------------------------------------------------

    def _signature(self, path: str, expires: int, for_upload: bool) -> str:
        message = f"{'PUT' if for_upload else 'GET'}\n{self.key}\n{path}\n{expires}".encode()
        return hmac.new(self._secret, message, hashlib.sha256).hexdigest()

    def sign(self, path: str, *, expires_in: int = 3600, for_upload: bool = False) -> str:
        self.check_path(path)
        expires = int(time.time()) + int(expires_in)
        query = {"expires": str(expires), "signature": self._signature(path, expires, for_upload)}
        if for_upload:
            query["upload"] = "1"
        return f"{self.base_url}/{quote(self.key, safe='')}/{quote(path)}?{urlencode(query)}"

    def verify_signature(
        self, path: str, *, expires: int | str, signature: str, for_upload: bool = False, now: float | None = None
    ) -> bool:
        """True when ``signature`` was made by this backend for ``path`` and has not expired."""
        try:
            expires_at = int(expires)
            self.check_path(path)
        except (TypeError, ValueError, StorageError):
            return False
        if expires_at < (time.time() if now is None else now):
            return False
        return hmac.compare_digest(self._signature(path, expires_at, for_upload), str(signature))


@functools.cache
def _limits(root: Path) -> tuple[int, int]:
    """(longest file name, longest path) in bytes on the filesystem holding ``root``."""
    try:
        return os.pathconf(root, "PC_NAME_MAX"), os.pathconf(root, "PC_PATH_MAX")
    except (OSError, ValueError, AttributeError):  # no pathconf (Windows), or the root is gone
        return 255, 4096


def _read_chunks(handle: object, chunk_size: int) -> Iterator[bytes]:
    from typing import BinaryIO, cast

    reader = cast(BinaryIO, handle)
    with reader:
        while chunk := reader.read(chunk_size):
            yield chunk


LocalStorageBackend = LocalBackend
