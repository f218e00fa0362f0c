"""Object stores through obstore (extra ``dbops[obstore]``): S3 and S3-compatible servers, GCS, Azure, local.

``ObstoreBackend(key, fs="s3://bucket/", aws_endpoint=..., ...)`` passes the keyword options to
``obstore.store.from_url``; an ``http://`` endpoint (MinIO, moto) turns on ``allow_http`` by itself.
Small files go up in one PUT, large ones as a streamed multipart upload (memory stays a few chunks).
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from typing import Any

from dbops.errors import StorageError, StorageNotFoundError, first_line
from dbops.storage.backends.base import (
    CHECKSUM_METADATA_KEY,
    CHUNK_SIZE,
    Content,
    HashingIterator,
    ObjectInfo,
    StorageBackend,
    iter_content,
)

__all__ = ["ObstoreBackend"]

MULTIPART_THRESHOLD = 8 * 1024 * 1024


def _import_obstore() -> Any:
    try:
        import obstore
    except ImportError as exc:  # pragma: no cover - depends on the installed extras
        raise StorageError("ObstoreBackend needs obstore: pip install 'dbops[obstore]'") from exc
    return obstore


class ObstoreBackend(StorageBackend):
    """A backend over any obstore store; ``fs`` is a URL (``s3://bucket/``) or a ready store object."""

    supports_signing = True

    def __init__(self, key: str, fs: Any, **options: Any) -> None:
        super().__init__(key)
        _import_obstore()
        if isinstance(fs, str):
            from obstore.store import from_url

            endpoint = next(
                (str(options[name]) for name in ("aws_endpoint", "endpoint", "aws_endpoint_url") if name in options),
                "",
            )
            if endpoint.startswith("http://"):
                client_options = dict(options.pop("client_options", None) or {})
                client_options.setdefault("allow_http", True)
                options["client_options"] = client_options
            if fs.startswith("s3://") and not any(name in options for name in ("region", "aws_region")):
                options["aws_region"] = "us-east-1"
            try:
                self.store: Any = from_url(fs, **options)
            except Exception as exc:
                raise StorageError(f"backend {key!r}: cannot open {fs}: {first_line(exc)}") from exc
            self.url = fs
        else:
            self.store = fs
            self.url = repr(fs)

        # obstore's local-filesystem store keeps no per-object attributes (content type, checksum metadata).
        self._keeps_attributes = type(self.store).__name__ != "LocalStore"

    def _attributes(self, content_type: str | None, metadata: dict[str, str] | None) -> dict[str, str] | None:
        return _attributes(content_type, metadata) if self._keeps_attributes else None

    def __repr__(self) -> str:
        return f"ObstoreBackend(key={self.key!r}, fs={self.url!r})"

    def _fail(self, action: str, path: str, exc: BaseException) -> StorageError:
        if isinstance(exc, FileNotFoundError) and action == "write":
            return StorageError(f"backend {self.key!r}: cannot write {path!r}: the bucket or container was not found")
        if isinstance(exc, FileNotFoundError):
            return StorageNotFoundError(f"backend {self.key!r}: file {path!r} not found")
        return StorageError(f"backend {self.key!r}: cannot {action} {path!r}: {first_line(exc)}")

    def put(
        self,
        path: str,
        content: Content,
        *,
        content_type: str | None = None,
        metadata: dict[str, str] | None = None,
        expected_md5: str | None = None,
    ) -> ObjectInfo:
        obstore = _import_obstore()
        path = self.check_path(path)
        raw = iter_content(content)
        head, ended = _take(raw, MULTIPART_THRESHOLD)
        # The server's ETag is the MD5 of a single-PUT body, to compare with ours (or the caller's expected
        # one, then hashing MD5 here is not needed); a multipart ETag is no plain MD5, so none is computed.
        chunks = HashingIterator(itertools.chain(head, raw), md5=ended and expected_md5 is None)
        attributes = self._attributes(content_type, metadata)
        try:
            if ended:  # small: one PUT, with the checksum stored as metadata
                data = b"".join(chunks)
                if attributes is not None:
                    attributes[CHECKSUM_METADATA_KEY] = chunks.checksum
                result = obstore.put(self.store, path, data, attributes=attributes)
            else:
                result = obstore.put(
                    self.store, path, chunks, attributes=attributes, chunk_size=CHUNK_SIZE * 8, max_concurrency=4
                )
        except Exception as exc:
            raise self._fail("write", path, exc) from exc
        written = ObjectInfo(
            path=path,
            size=chunks.size,
            etag=result.get("e_tag"),
            checksum=chunks.checksum,
            content_type=content_type,
        )
        if ended and written.md5_etag is not None and written.md5_etag == (expected_md5 or chunks.md5):
            written = dataclasses.replace(written, verified=True)
        return written

    async def put_async(
        self,
        path: str,
        content: Content,
        *,
        content_type: str | None = None,
        metadata: dict[str, str] | None = None,
        expected_md5: str | None = None,
    ) -> ObjectInfo:
        if not isinstance(content, bytes | bytearray | memoryview | str):
            return await super().put_async(
                path, content, content_type=content_type, metadata=metadata, expected_md5=expected_md5
            )
        obstore = _import_obstore()
        path = self.check_path(path)
        chunks = HashingIterator(iter_content(content))
        data = b"".join(chunks)
        attributes = self._attributes(content_type, metadata)
        if attributes is not None:
            attributes[CHECKSUM_METADATA_KEY] = chunks.checksum
        try:
            result = await obstore.put_async(self.store, path, data, attributes=attributes)
        except Exception as exc:
            raise self._fail("write", path, exc) from exc
        return ObjectInfo(
            path=path, size=chunks.size, etag=result.get("e_tag"), checksum=chunks.checksum, content_type=content_type
        )

    def iter_chunks(self, path: str, *, chunk_size: int = CHUNK_SIZE) -> Iterator[bytes]:
        obstore = _import_obstore()
        path = self.check_path(path)
        try:
            result = obstore.get(self.store, path)
        except Exception as exc:
            raise self._fail("read", path, exc) from exc
        return self._stream(result, path, chunk_size)

    def _stream(self, result: Any, path: str, chunk_size: int) -> Iterator[bytes]:
        try:
            for chunk in result.stream(min_chunk_size=chunk_size):
                yield bytes(chunk)
        except Exception as exc:
            raise self._fail("read", path, exc) from exc

    async def iter_chunks_async(self, path: str, *, chunk_size: int = CHUNK_SIZE) -> AsyncIterator[bytes]:
        obstore = _import_obstore()
        path = self.check_path(path)
        try:
            result = await obstore.get_async(self.store, path)
            async for chunk in result.stream(min_chunk_size=chunk_size):
                yield bytes(chunk)
        except Exception as exc:
            raise self._fail("read", path, exc) from exc

    async def get_content_async(self, path: str, *, options: dict[str, Any] | None = None) -> bytes:
        return b"".join([chunk async for chunk in self.iter_chunks_async(path)])

    def _info(self, path: str, result: Any) -> ObjectInfo:
        meta = result.meta
        attributes = dict(result.attributes or {})
        return ObjectInfo(
            path=path,
            size=int(meta["size"]),
            last_modified=meta.get("last_modified"),
            etag=meta.get("e_tag"),
            checksum=attributes.get(CHECKSUM_METADATA_KEY),
            content_type=attributes.get("Content-Type"),
        )

    def stat(self, path: str) -> ObjectInfo | None:
        obstore = _import_obstore()
        path = self.check_path(path)
        try:
            result = obstore.get(self.store, path, options={"head": True})
        except FileNotFoundError:
            return None
        except Exception as exc:
            raise self._fail("stat", path, exc) from exc
        return self._info(path, result)

    async def stat_async(self, path: str) -> ObjectInfo | None:
        obstore = _import_obstore()
        path = self.check_path(path)
        try:
            result = await obstore.get_async(self.store, path, options={"head": True})
        except FileNotFoundError:
            return None
        except Exception as exc:
            raise self._fail("stat", path, exc) from exc
        return self._info(path, result)

    def delete(self, path: str) -> None:
        obstore = _import_obstore()
        path = self.check_path(path)
        try:
            obstore.delete(self.store, path)
        except FileNotFoundError:
            return
        except Exception as exc:
            raise self._fail("delete", path, exc) from exc

    async def delete_async(self, path: str) -> None:
        obstore = _import_obstore()
        path = self.check_path(path)
        try:
            await obstore.delete_async(self.store, path)
        except FileNotFoundError:
            return
        except Exception as exc:
            raise self._fail("delete", path, exc) from exc

    def list(self, prefix: str = "") -> Iterator[ObjectInfo]:
        obstore = _import_obstore()
        try:
            for batch in obstore.list(self.store, prefix=prefix or None):
                for meta in batch:
                    yield ObjectInfo(
                        path=meta["path"],
                        size=int(meta["size"]),
                        last_modified=meta.get("last_modified"),
                        etag=meta.get("e_tag"),
                    )
        except Exception as exc:
            raise self._fail("list", prefix or "/", exc) from exc

    def sign(self, path: str, *, expires_in: int = 3600, for_upload: bool = False) -> str:
        obstore = _import_obstore()
        path = self.check_path(path)
        try:
            url: str = obstore.sign(self.store, "PUT" if for_upload else "GET", path, timedelta(seconds=expires_in))
        except Exception as exc:
            raise self._fail("sign a URL for", path, exc) from exc
        return url

    async def sign_async(self, path: str, *, expires_in: int = 3600, for_upload: bool = False) -> str:
        obstore = _import_obstore()
        path = self.check_path(path)
        try:
            url: str = await obstore.sign_async(
                self.store, "PUT" if for_upload else "GET", path, timedelta(seconds=expires_in)
            )
        except Exception as exc:
            raise self._fail("sign a URL for", path, exc) from exc
        return url


def _attributes(content_type: str | None, metadata: dict[str, str] | None) -> dict[str, str]:
    attributes = dict(metadata or {})
    if content_type:
        attributes["Content-Type"] = content_type
    return attributes


def _take(chunks: Iterator[bytes], limit: int) -> tuple[list[bytes], bool]:
    """Read chunks until more than ``limit`` bytes or the end; say whether the end was reached."""
    buffered: list[bytes] = []
    size = 0
    for chunk in chunks:
        buffered.append(chunk)
        size += len(chunk)
        if size > limit:
            return buffered, False
    return buffered, True
