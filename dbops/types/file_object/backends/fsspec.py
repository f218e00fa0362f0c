"""Re-export of ``dbops.storage.backends.fsspec``."""

from dbops.storage.backends.fsspec import FsspecBackend

__all__ = ["FsspecBackend"]
