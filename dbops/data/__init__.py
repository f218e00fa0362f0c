"""Data engines: ``dump_data``, ``load_data``, ``drop_all`` (no CLI or terminal code here).

``codec`` is the lossless row ⇄ JSON encoding; ``files`` the atomic, checksummed file layer; ``manifest`` the
dump's table of contents; ``tables`` table selection, foreign-key order and transaction setup.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["drop_all", "dump_data", "load_data"]

_EXPORTS = {"dump_data": "dbops.data.dump", "load_data": "dbops.data.load", "drop_all": "dbops.data.drop"}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'dbops.data' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
