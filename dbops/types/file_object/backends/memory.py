"""Re-export of ``dbops.storage.backends.memory``."""

from dbops.storage.backends.memory import MemoryBackend

__all__ = ["MemoryBackend"]
