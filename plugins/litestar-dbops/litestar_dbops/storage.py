"""Serving and accepting files for the local storage backend through signed URLs, and upload helpers.

``LocalBackend.sign()`` makes URLs like ``/_storage/<backend key>/<path>?expires=...&signature=...``; mount
``create_storage_router()`` at the same path (the default of both) and those URLs work:

    app = Litestar(route_handlers=[DocumentController, create_storage_router()])

Object stores (S3, GCS, Azure) sign their own URLs; they never go through this route.
"""

from __future__ import annotations

import asyncio
import tempfile
from typing import TYPE_CHECKING, Any

from litestar import Request, Router, get, put
from litestar.exceptions import ClientException, NotAuthorizedException, NotFoundException
from litestar.params import FromPath
from litestar.response import Stream

from dbops.errors import StorageError, StorageNotFoundError
from dbops.storage.backends.local import LocalBackend
from dbops.storage.file_object import FileObject
from dbops.storage.registry import storages

if TYPE_CHECKING:
    from litestar.datastructures import UploadFile

__all__ = ["create_storage_router", "file_object_from_upload", "file_objects_from_uploads"]

DEFAULT_MAX_UPLOAD = 100 * 1024 * 1024
SPOOL_SIZE = 1024 * 1024


def _local_backend(backend_key: str, allowed: frozenset[str] | None) -> LocalBackend:
    if allowed is not None and backend_key not in allowed:
        raise NotFoundException()
    try:
        backend = storages.get_backend(backend_key)
    except StorageError:
        raise NotFoundException() from None
    if not isinstance(backend, LocalBackend):
        raise NotFoundException()
    return backend


def _checked(backend: LocalBackend, file_path: str, query: dict[str, Any], *, for_upload: bool) -> str:
    path = file_path.lstrip("/")
    expires = query.get("expires")
    signature = query.get("signature")
    if not expires or not signature:
        raise NotAuthorizedException("missing signature")
    if not backend.verify_signature(path, expires=str(expires), signature=str(signature), for_upload=for_upload):
        raise NotAuthorizedException("invalid or expired signature")
    return path


def create_storage_router(
    path: str = "/_storage",
    *,
    backends: list[str] | None = None,
    max_upload_size: int = DEFAULT_MAX_UPLOAD,
    include_in_schema: bool = False,
) -> Router:
    """A router serving signed GET (download) and PUT (``for_upload=True``) URLs of local backends.

    ``backends`` limits which backend keys it serves (default: every registered ``LocalBackend``).
    """
    allowed = frozenset(backends) if backends is not None else None

    @get("/{backend_key:str}/{file_path:path}", include_in_schema=include_in_schema, sync_to_thread=False)
    def download(request: Request[Any, Any, Any], backend_key: FromPath[str], file_path: FromPath[str]) -> Stream:
        backend = _local_backend(backend_key, allowed)
        relative = _checked(backend, file_path, dict(request.query_params), for_upload=False)
        info = backend.stat(relative)
        if info is None:
            raise NotFoundException()
        import mimetypes

        try:
            chunks = backend.iter_chunks(relative)
        except StorageNotFoundError:
            raise NotFoundException() from None
        media_type = mimetypes.guess_type(relative)[0] or "application/octet-stream"
        return Stream(chunks, media_type=media_type, headers={"Content-Length": str(info.size)})

    @put("/{backend_key:str}/{file_path:path}", include_in_schema=include_in_schema, status_code=200)
    async def upload(
        request: Request[Any, Any, Any], backend_key: FromPath[str], file_path: FromPath[str]
    ) -> dict[str, Any]:
        backend = _local_backend(backend_key, allowed)
        relative = _checked(backend, file_path, dict(request.query_params), for_upload=True)
        # Spooled to a temporary file past 1 MB, so a large upload does not sit in memory.
        with tempfile.SpooledTemporaryFile(max_size=SPOOL_SIZE) as spool:
            size = 0
            async for chunk in request.stream():
                size += len(chunk)
                if size > max_upload_size:
                    raise ClientException(f"upload larger than {max_upload_size} bytes", status_code=413)
                spool.write(chunk)
            spool.seek(0)
            try:
                info = await asyncio.to_thread(backend.put, relative, spool)
            except StorageError as exc:
                raise ClientException(str(exc)) from exc
        return {"path": info.path, "size": info.size, "checksum": info.checksum}

    return Router(path=path, route_handlers=[download, upload])


async def file_object_from_upload(
    upload: UploadFile,
    *,
    backend: str,
    filename: str | None = None,
    path: str | None = None,
    metadata: dict[str, Any] | None = None,
) -> FileObject:
    """A pending ``FileObject`` from a Litestar ``UploadFile``; it is stored when its row is flushed."""
    return FileObject(
        backend=backend,
        filename=filename or upload.filename or "uploaded_file",
        path=path,
        content_type=upload.content_type,
        content=await upload.read(),
        metadata=metadata,
    )


async def file_objects_from_uploads(uploads: list[UploadFile], *, backend: str) -> list[FileObject]:
    """Pending ``FileObject``s for a ``StoredObject(multiple=True)`` column."""
    return [await file_object_from_upload(upload, backend=backend) for upload in uploads]
