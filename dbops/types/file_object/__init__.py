"""``dbops.types.file_object``: the file storage names at Advanced Alchemy's import paths (see dbops.storage)."""

from dbops.storage.backends.base import StorageBackend
from dbops.storage.data_type import FileObjectList, StoredObject
from dbops.storage.file_object import FileObject
from dbops.storage.registry import StorageRegistry, storages

__all__ = ["FileObject", "FileObjectList", "StorageBackend", "StorageRegistry", "StoredObject", "storages"]
