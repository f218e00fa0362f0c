"""Column types and file objects, under the names Advanced Alchemy users import them by.

Exports resolve lazily (``from dbops.types import FileObject, storages``), so importing this package does
not import SQLAlchemy until a name is used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dbops.storage.data_type import StoredObject
    from dbops.storage.file_object import FileObject
    from dbops.storage.registry import StorageRegistry, storages

__all__ = ["FileObject", "StorageRegistry", "StoredObject", "storages"]

_LAZY = {
    "FileObject": "dbops.storage.file_object",
    "StoredObject": "dbops.storage.data_type",
    "StorageRegistry": "dbops.storage.registry",
    "storages": "dbops.storage.registry",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'dbops.types' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
