"""Unit-of-work safety for ``StoredObject`` columns: session events that keep rows and stored files in step.

- Before a flush, new files on new or changed rows are uploaded (an upload error fails the flush, so the
  caller sees it and nothing is committed).
- If the transaction then rolls back (including a failed commit), the files uploaded in it are removed.
- Files a row stopped referencing (replaced, removed from a list, row deleted) are deleted only after the
  commit succeeded; a failed delete raises ``StorageError`` from ``commit()`` (the rows are committed; the
  leftover files are orphans that ``dbops storage prune-orphans`` removes).

So no committed row points at a missing file. Inside an ``AsyncSession`` the async backend methods are
awaited through SQLAlchemy's greenlet bridge, so uploads don't block the event loop.
Bulk ``UPDATE``/``DELETE`` statements bypass the ORM unit of work and are not tracked.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import event, inspect
from sqlalchemy.orm import Mapper, Session, SessionTransaction, attributes

from dbops.errors import StorageError
from dbops.storage.file_object import FileObject

__all__ = ["install", "uninstall"]

T = TypeVar("T")
STATE_KEY = "dbops.storage.unit_of_work"
_installed = False
_install_lock = threading.Lock()
_stored_keys: dict[Mapper[Any], tuple[str, ...]] = {}


@dataclass
class _UnitOfWork:
    uploaded: list[tuple[Any, FileObject]] = field(default_factory=list)
    """(savepoint or None, file) for files uploaded in this transaction."""
    to_delete: list[tuple[Any, FileObject]] = field(default_factory=list)
    """(savepoint or None, file) for files to delete once the transaction commits."""
    lists: list[Any] = field(default_factory=list)


def _events() -> list[tuple[Any, str, Callable[..., Any]]]:
    return [
        (Session, "before_flush", _before_flush),
        (Session, "after_flush_postexec", _after_flush),
        (Session, "after_commit", _after_commit),
        (Session, "after_soft_rollback", _after_soft_rollback),
        (Session, "after_transaction_end", _after_transaction_end),
        (Mapper, "mapper_configured", _mapper_configured),
    ]


def install() -> None:
    """Listen on every ORM ``Session`` (sync, and the sync session inside ``AsyncSession``); idempotent."""
    global _installed
    with _install_lock:
        if not _installed:
            for target, name, listener in _events():
                event.listen(target, name, listener)
            _installed = True


def uninstall() -> None:
    global _installed
    with _install_lock:
        if _installed:
            for target, name, listener in _events():
                event.remove(target, name, listener)
            _installed = False


def _stored_attribute_keys(mapper: Mapper[Any]) -> tuple[str, ...]:
    keys = _stored_keys.get(mapper)
    if keys is None:
        from dbops.storage.data_type import StoredObject

        keys = tuple(
            prop.key
            for prop in mapper.column_attrs
            if any(isinstance(getattr(column, "type", None), StoredObject) for column in prop.columns)
        )
        _stored_keys[mapper] = keys
    return keys


def _mapper_configured(mapper: Mapper[Any], class_: type[Any]) -> None:
    # Load the old value when a StoredObject attribute is replaced without having been loaded, so the
    # replaced file is known (and deleted after commit) instead of silently left behind.
    for key in _stored_attribute_keys(mapper):
        mapper.class_manager[key].impl.active_history = True


def _call(sync: Callable[[], T], coroutine: Callable[[], Awaitable[T]]) -> T:
    """Run the async twin through SQLAlchemy's greenlet bridge inside an AsyncSession, else the sync call."""
    from sqlalchemy.util import await_only, concurrency

    in_greenlet: Callable[[], bool] | None = getattr(concurrency, "in_greenlet", None)
    if in_greenlet is not None and in_greenlet():
        result: T = await_only(coroutine())
        return result
    return sync()


def _unit_of_work(session: Session) -> _UnitOfWork:
    uow = session.info.get(STATE_KEY)
    if uow is None:
        uow = session.info[STATE_KEY] = _UnitOfWork()
    return uow


def _items(values: Any) -> list[FileObject]:
    from dbops.storage.data_type import file_objects_in

    found: list[FileObject] = []
    for value in values or ():
        found.extend(file_objects_in(value))
    return found


def _before_flush(session: Session, flush_context: Any, instances: Any) -> None:
    if session.info.get("dbops.file_object_listener") is False:
        return  # the config set enable_file_object_listener=False
    savepoint = session.get_nested_transaction()
    uow: _UnitOfWork | None = session.info.get(STATE_KEY)
    for obj in list(session.new) + list(session.dirty):
        state = inspect(obj)
        keys = _stored_attribute_keys(state.mapper)
        if not keys:
            continue
        uow = uow or _unit_of_work(session)
        for key in keys:
            history = attributes.get_history(obj, key)
            current = [*history.added, *history.unchanged]
            current_items = _items(current)
            current_locations = {item.location for item in current_items}
            for item in current_items:
                if item.has_pending_data:
                    _call(item.save, item.save_async)
                    uow.uploaded.append((savepoint, item))
            for item in _items(history.deleted):
                if item.location not in current_locations and not item.has_pending_data:
                    uow.to_delete.append((savepoint, item))
            for value in current:
                removed = getattr(value, "removed_since_flush", None)
                if removed:
                    uow.to_delete.extend(
                        (savepoint, FileObject(backend, path.rsplit("/", 1)[-1], path=path))
                        for backend, path in removed
                    )
                if removed is not None:
                    uow.lists.append(value)
    for obj in session.deleted:
        state = inspect(obj)
        keys = _stored_attribute_keys(state.mapper)
        if not keys:
            continue
        uow = uow or _unit_of_work(session)
        for key in keys:
            history = attributes.get_history(obj, key)
            if not history.unchanged and not history.deleted and key in state.unloaded:
                getattr(obj, key)  # load what the row referenced, so its files go with it
                history = attributes.get_history(obj, key)
            for item in _items([*history.deleted, *history.unchanged]):
                if not item.has_pending_data:
                    uow.to_delete.append((savepoint, item))


def _after_flush(session: Session, flush_context: Any) -> None:
    uow: _UnitOfWork | None = session.info.get(STATE_KEY)
    if uow is None:
        return
    for value in uow.lists:
        value.mark_flushed()
    uow.lists.clear()


def _after_commit(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint was released: files stay pending until the real commit
    uow: _UnitOfWork | None = session.info.pop(STATE_KEY, None)
    if uow is None or not uow.to_delete:
        return
    failures = _delete_all(item for _, item in uow.to_delete)
    if failures:
        raise StorageError(
            f"the transaction committed, but {len(failures)} replaced file(s) could not be deleted "
            f"(first: {failures[0]}); `dbops storage prune-orphans` removes them later"
        )


def _after_soft_rollback(session: Session, previous_transaction: SessionTransaction) -> None:
    if not previous_transaction.nested:
        return
    uow: _UnitOfWork | None = session.info.get(STATE_KEY)
    if uow is None:
        return
    discarded = [item for savepoint, item in uow.uploaded if savepoint is previous_transaction]
    uow.uploaded = [(sp, item) for sp, item in uow.uploaded if sp is not previous_transaction]
    uow.to_delete = [(sp, item) for sp, item in uow.to_delete if sp is not previous_transaction]
    _discard(discarded)


def _after_transaction_end(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is not None:
        return
    uow: _UnitOfWork | None = session.info.pop(STATE_KEY, None)
    if uow is None:
        return  # committed (after_commit took it) or nothing to do
    _discard([item for _, item in uow.uploaded])


def _discard(uploaded: list[FileObject]) -> None:
    """Remove files uploaded by a transaction that did not commit; errors surface unless one already is."""
    if not uploaded:
        return
    failures = _delete_all(uploaded)
    if not failures:
        return
    message = (
        f"the transaction rolled back, but {len(failures)} file(s) uploaded in it could not be removed "
        f"(first: {failures[0]}); `dbops storage prune-orphans` removes them later"
    )
    active = sys.exc_info()[1]
    if active is not None:
        if hasattr(active, "add_note"):
            active.add_note(message)
        return
    raise StorageError(message)


def _delete_all(items: Any) -> list[str]:
    failures: list[str] = []
    for item in items:
        try:
            _call(item.delete, item.delete_async)
        except Exception as exc:
            failures.append(f"{item.backend}:{item.path}: {exc}")
    return failures
