"""File storage: ``FileObject``, the ``StoredObject`` column type, the ``storages`` registry and backends.

Names are imported lazily, so ``import dbops.storage`` stays cheap and the optional backends' libraries
(obstore, fsspec) load only when used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dbops.storage.backends.base import ObjectInfo, StorageBackend
    from dbops.storage.backends.fsspec import FsspecBackend
    from dbops.storage.backends.local import LocalBackend, LocalStorageBackend
    from dbops.storage.backends.memory import MemoryBackend
    from dbops.storage.backends.obstore import ObstoreBackend
    from dbops.storage.data_type import FileObjectList, StoredObject
    from dbops.storage.file_object import FileObject
    from dbops.storage.registry import StorageRegistry, storages

__all__ = [
    "FileObject",
    "FileObjectList",
    "FsspecBackend",
    "LocalBackend",
    "LocalStorageBackend",
    "MemoryBackend",
    "ObjectInfo",
    "ObstoreBackend",
    "StorageBackend",
    "StorageRegistry",
    "StoredObject",
    "storages",
]

_LOCATIONS = {
    "FileObject": "dbops.storage.file_object",
    "FileObjectList": "dbops.storage.data_type",
    "FsspecBackend": "dbops.storage.backends.fsspec",
    "LocalBackend": "dbops.storage.backends.local",
    "LocalStorageBackend": "dbops.storage.backends.local",
    "MemoryBackend": "dbops.storage.backends.memory",
    "ObjectInfo": "dbops.storage.backends.base",
    "ObstoreBackend": "dbops.storage.backends.obstore",
    "StorageBackend": "dbops.storage.backends.base",
    "StorageRegistry": "dbops.storage.registry",
    "StoredObject": "dbops.storage.data_type",
    "storages": "dbops.storage.registry",
}


def __getattr__(name: str) -> Any:
    module = _LOCATIONS.get(name)
    if module is None:
        raise AttributeError(f"module 'dbops.storage' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
