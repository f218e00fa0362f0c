"""Storage backends at Advanced Alchemy's import paths (implementations live in dbops.storage.backends)."""
