"""Re-export of ``dbops.storage.backends.obstore``."""

from dbops.storage.backends.obstore import ObstoreBackend

__all__ = ["ObstoreBackend"]
