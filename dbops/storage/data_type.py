"""``StoredObject``: a column holding a FileObject's metadata as JSON (``multiple=True``: a list of them)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import JSON
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.mutable import MutableList
from sqlalchemy.types import TypeDecorator

from dbops.errors import StorageError
from dbops.storage.file_object import FileObject

__all__ = ["FileObjectList", "StoredObject", "file_objects_in"]


class FileObjectList(MutableList[FileObject]):
    """The list a ``StoredObject(multiple=True)`` column loads into; in-place changes are tracked.

    It remembers which files it held when loaded (or last flushed), so files removed in place are deleted
    after the commit, like files of a replaced list.
    """

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.mark_flushed()

    def mark_flushed(self) -> None:
        self._flushed_locations = {item.location for item in self if not item.has_pending_data}

    @property
    def removed_since_flush(self) -> set[tuple[str, str]]:
        return self._flushed_locations - {item.location for item in self}

    @classmethod
    def coerce(cls, key: str, value: Any) -> Any:
        if value is None or isinstance(value, cls):
            return value
        if isinstance(value, list | tuple):
            return cls(value)
        return super().coerce(key, value)


class StoredObject(TypeDecorator[Any]):
    """A column storing a ``FileObject`` (or, with ``multiple=True``, a list) as JSON metadata.

    ``backend`` is the key files in this column are written to by default; each stored file also records its
    own backend key, so ``dbops storage sync --update-rows`` can move files between backends row by row.
    """

    impl = JSON
    cache_ok = True

    def __init__(self, backend: str, multiple: bool = False, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("none_as_null", True)  # no file is SQL NULL, not JSON 'null'
        super().__init__(*args, **kwargs)
        self.backend = backend
        self.multiple = multiple
        if multiple:
            # In-place list changes (append, remove) mark the row dirty and are seen by the listener.
            FileObjectList.as_mutable(self)
        from dbops.storage.listeners import install

        install()

    @property
    def python_type(self) -> type[Any]:
        return list if self.multiple else FileObject

    def __repr__(self) -> str:
        # What autogenerate writes into a revision (SQLAlchemy's would show the JSON impl's none_as_null).
        multiple = ", multiple=True" if self.multiple else ""
        return f"StoredObject(backend={self.backend!r}{multiple})"

    def _dump(self, value: Any) -> dict[str, Any]:
        if isinstance(value, dict):
            return value
        if not isinstance(value, FileObject):
            raise StorageError(f"a StoredObject column takes FileObject values, got {type(value).__name__}")
        if value.has_pending_data:
            raise StorageError(
                f"file {value.filename!r} for backend {value.backend!r} has not been saved: add it through an ORM "
                f"session (which uploads it before commit) or call save() first"
            )
        return value.to_dict()

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        if self.multiple:
            if isinstance(value, FileObject | dict):
                value = [value]
            return [self._dump(item) for item in value]
        if isinstance(value, list):
            raise StorageError(
                "this StoredObject column holds one file; use StoredObject(..., multiple=True) for lists"
            )
        return self._dump(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        if isinstance(value, str | bytes):  # some drivers hand JSON back as text
            import json

            value = json.loads(value)
        if self.multiple:
            items = value if isinstance(value, list) else [value]
            return FileObjectList(FileObject.from_dict(item) for item in items)
        if isinstance(value, list):
            return FileObject.from_dict(value[0]) if value else None
        return FileObject.from_dict(value)

    def compare_values(self, x: Any, y: Any) -> bool:
        return bool(x == y)

    def copy_value(self, value: Any) -> Any:
        return value


def file_objects_in(value: Any) -> Iterable[FileObject]:
    """The FileObjects in a column value (one, a list, or none)."""
    if value is None:
        return ()
    if isinstance(value, FileObject):
        return (value,)
    if isinstance(value, list | tuple):
        return tuple(item for item in value if isinstance(item, FileObject))
    return ()
