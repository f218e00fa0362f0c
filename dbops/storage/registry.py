"""The process-wide ``storages`` registry: backend key → backend.

Rows name their backend by key (``StoredObject(backend="documents")``), so whoever reads the rows (the app,
or ``dbops storage ...``) must have registered that key. Apps do it at import time of their config module;
the CLI imports that module through ``--config``, so the same registrations apply there.
"""

from __future__ import annotations

import threading
from typing import Any, TypeVar, overload

from dbops.errors import StorageError
from dbops.storage.backends.base import StorageBackend

__all__ = ["StorageRegistry", "storages"]

B = TypeVar("B", bound=StorageBackend)


class StorageRegistry:
    """Backends by key; registering a key again replaces the earlier backend."""

    def __init__(self) -> None:
        self._backends: dict[str, StorageBackend] = {}
        self._lock = threading.Lock()

    # A backend object comes back typed as itself: ``local = storages.register_backend(LocalBackend(...))``
    # keeps ``local.root`` without a cast.
    @overload
    def register_backend(self, value: B, key: str | None = None, **options: Any) -> B: ...
    @overload
    def register_backend(self, value: str, key: str | None = None, **options: Any) -> StorageBackend: ...
    def register_backend(self, value: StorageBackend | str, key: str | None = None, **options: Any) -> StorageBackend:
        """Register a backend object, or a URL (``s3://bucket/``, ``file:///srv/files``) opened with obstore."""
        if isinstance(value, str):
            if key is None:
                raise StorageError(f"register_backend({value!r}) needs key=... to name the backend")
            from dbops.storage.backends.obstore import ObstoreBackend

            backend: StorageBackend = ObstoreBackend(key, value, **options)
        elif isinstance(value, StorageBackend):
            backend = value
            if key is not None and key != backend.key:
                raise StorageError(f"register_backend: key {key!r} differs from the backend's own key {backend.key!r}")
        else:
            raise StorageError(f"register_backend expects a StorageBackend or a URL, got {type(value).__name__}")
        with self._lock:
            self._backends[backend.key] = backend
        return backend

    def unregister_backend(self, key: str) -> None:
        with self._lock:
            self._backends.pop(key, None)

    def get_backend(self, key: str) -> StorageBackend:
        """The backend registered under ``key``; ``StorageError`` naming the known keys otherwise."""
        backend = self._backends.get(key)
        if backend is None:
            known = ", ".join(sorted(self._backends)) or "none"
            raise StorageError(
                f"no storage backend registered under key {key!r} (registered: {known}); call "
                f"storages.register_backend(...) in the module your config lives in"
            )
        return backend

    def is_registered(self, key: str) -> bool:
        return key in self._backends

    def registered_backends(self) -> list[str]:
        return sorted(self._backends)

    def clear(self) -> None:
        with self._lock:
            self._backends.clear()

    def __contains__(self, key: object) -> bool:
        return key in self._backends


storages = StorageRegistry()
