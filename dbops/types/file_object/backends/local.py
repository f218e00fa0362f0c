"""Re-export of ``dbops.storage.backends.local``."""

from dbops.storage.backends.local import LocalBackend, LocalStorageBackend

__all__ = ["LocalBackend", "LocalStorageBackend"]
