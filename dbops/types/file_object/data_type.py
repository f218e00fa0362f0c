"""Re-export of ``dbops.storage.data_type.StoredObject`` at Advanced Alchemy's import path."""

from dbops.storage.data_type import FileObjectList, StoredObject

__all__ = ["FileObjectList", "StoredObject"]
