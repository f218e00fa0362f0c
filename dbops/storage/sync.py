"""``sync``: copy every file the rows reference from one backend to another, then optionally repoint rows.

Files stream chunk by chunk (memory stays a few chunks per worker whatever the file size), ``jobs`` at a
time. A copy is verified by reading it back (size + SHA-256 against what the row recorded, or against the
source). A file already present and identical is skipped, so a re-run resumes where a killed one stopped.
With ``update_rows`` each batch's rows are repointed to the target in one transaction, and only rows whose
files were all copied and verified, and that nobody changed meanwhile: sync never deletes a source file,
so at every moment each row points at a readable file.
"""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from dbops.connect import run_sync
from dbops.errors import StorageError, first_line
from dbops.models import model_metadata
from dbops.progress import NullReporter, Reporter
from dbops.storage.backends.base import CHECKSUM_METADATA_KEY, ObjectInfo, StorageBackend, md5_of_etag
from dbops.storage.file_object import FileObject
from dbops.storage.registry import storages
from dbops.storage.scan import BadValue, StoredColumn, count_rows, files_of, iter_batches, stored_columns

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from dbops.config import AnyConfig

__all__ = ["SyncResult", "copy_file", "sync_files"]

T = TypeVar("T")


@dataclass
class SyncResult:
    source: str
    target: str
    dry_run: bool = False
    rows: int = 0
    files: int = 0
    copied: int = 0
    skipped: int = 0
    bytes_copied: int = 0
    rows_updated: int = 0
    failures: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "target": self.target,
            "dry_run": self.dry_run,
            "rows": self.rows,
            "files": self.files,
            "copied": self.copied,
            "skipped": self.skipped,
            "bytes_copied": self.bytes_copied,
            "rows_updated": self.rows_updated,
            "failures": self.failures,
        }


def _identical(item: FileObject, source: StorageBackend, target: StorageBackend, info: ObjectInfo) -> bool:
    """Is the target's copy the same bytes the row recorded (or the source holds)?

    Cheapest evidence first: the size, then a SHA-256 the target keeps as metadata, then an MD5 ETag compared
    with the MD5 recorded at upload (or the source's), and only then reading the target's copy back.
    """
    expected_size = item.size
    if expected_size is None:
        source_info = source.stat(item.path)
        expected_size = source_info.size if source_info else None
    if expected_size is not None and info.size != expected_size:
        return False
    if info.checksum:
        return info.checksum == (item.checksum or source.checksum(item.path))
    if info.md5_etag:
        recorded = md5_of_etag(item.etag)  # the MD5 taken at upload
        return info.md5_etag == (recorded or source.digests(item.path)[1])
    return target.checksum(item.path) == (item.checksum or source.checksum(item.path))


def _recorded_match(item: FileObject, info: ObjectInfo | None) -> bool:
    """The target's listing matches what the row recorded (size, and SHA-256 or MD5 ETag): no I/O needed."""
    if info is None or item.size is None or info.size != item.size:
        return False
    if info.checksum and item.checksum:
        return info.checksum == item.checksum
    recorded = md5_of_etag(item.etag)
    return recorded is not None and info.md5_etag == recorded


Missing = object()
"""``copy_file(known=...)`` default: look the target file up with ``stat``."""


def copy_file(
    item: FileObject,
    source: StorageBackend,
    target: StorageBackend,
    *,
    dry_run: bool = False,
    known: ObjectInfo | object | None = Missing,
) -> int | None:
    """Copy one file unless the target already holds it; the bytes copied, or ``None`` when skipped.

    ``known`` is what a listing of the target said about the path (``None``: not there), saving a lookup.
    """
    info = target.stat(item.path) if known is Missing else known
    assert info is None or isinstance(info, ObjectInfo)
    if info is not None and _identical(item, source, target, info):
        return None
    if dry_run:
        source_info = source.stat(item.path)
        if source_info is None:
            raise StorageError(f"{item.backend}:{item.path} is missing from the source")
        return source_info.size
    metadata = {CHECKSUM_METADATA_KEY: item.checksum} if item.checksum else None
    # With the MD5 recorded at upload, an S3-style target checks its ETag against it: no MD5 to hash here.
    written = target.put(
        item.path,
        source.iter_chunks(item.path),
        content_type=item.content_type,
        metadata=metadata,
        expected_md5=md5_of_etag(item.etag),
    )
    try:
        if item.size is not None and written.size != item.size:
            raise StorageError(f"{item.path}: the source holds {written.size} bytes, the row recorded {item.size}")
        if item.checksum and written.checksum and written.checksum != item.checksum:
            raise StorageError(f"{item.path}: the source's checksum differs from the one the row recorded")
        if not written.verified:  # the server did not confirm the bytes: read the copy back
            stored = target.stat(item.path)
            if stored is None or stored.size != written.size:
                raise StorageError(f"{item.path}: the copy in {target.key!r} has the wrong size after writing")
            if target.checksum(item.path) != written.checksum:
                raise StorageError(f"{item.path}: the copy in {target.key!r} does not match the source's checksum")
    except StorageError:
        if info is None:
            target.delete(item.path)  # never leave a bad copy where a re-run would trust it
        raise
    return written.size


LISTING_LIMIT = 1_000_000
"""Up to this many target files are listed up front (one request per 1,000 on S3) instead of looked up one
by one; a bigger target falls back to a lookup per file, so memory stays bounded."""


def list_target(target: StorageBackend, limit: int = LISTING_LIMIT) -> dict[str, ObjectInfo] | None:
    listed: dict[str, ObjectInfo] = {}
    for info in target.list():
        if len(listed) >= limit:
            return None
        listed[info.path] = info
    return listed


def sync_files(
    config: AnyConfig,
    *,
    source: str,
    target: str,
    models: Sequence[str] | None = None,
    jobs: int = 4,
    update_rows: bool = False,
    dry_run: bool = False,
    batch_size: int = 200,
    reporter: Reporter | None = None,
) -> SyncResult:
    """Copy the files rows reference in ``source`` to ``target`` (and repoint the rows with ``update_rows``)."""
    reporter = reporter or NullReporter()
    if source == target:
        raise StorageError(f"--from and --to are the same backend ({source!r})")
    source_backend = storages.get_backend(source)
    target_backend = storages.get_backend(target)
    if jobs < 1:
        raise StorageError(f"--jobs must be at least 1, got {jobs}")
    columns = stored_columns(model_metadata(config), models)
    result = SyncResult(source=source, target=target, dry_run=dry_run)
    if not columns:
        reporter.warn("no StoredObject columns in the config's metadata: nothing to sync")
        return result
    batch_size = max(batch_size, jobs)

    def work(connection: Connection) -> SyncResult:
        # The target is listed while the rows are counted and the first batch is read.
        with ThreadPoolExecutor(max_workers=1) as lister:
            listing = lister.submit(list_target, target_backend)
            total = sum(count_rows(connection, column) for column in columns)
            batches = ((column, rows) for column in columns for rows in iter_batches(connection, column, batch_size))
            first = next(batches, None)
            listed = listing.result()
        window: deque[_Batch] = deque()
        in_flight: dict[str, Future[_Outcome]] = {}
        with (
            _LazyPool(jobs) as pool,
            reporter.progress(f"Syncing files {source} → {target}", total) as task,
        ):

            def finish(batch: _Batch) -> None:
                _finish_batch(connection, batch, source, target, result, update_rows, in_flight)
                task.advance(len(batch.rows))

            for column, rows in itertools.chain([first] if first else [], batches):
                window.append(
                    _submit_batch(column, rows, pool, source_backend, target_backend, result, listed, in_flight)
                )
                # The next batch is queued before this one is waited for, so the workers don't idle at a
                # batch boundary (while rows are read and repointed).
                if len(window) > 1:
                    finish(window.popleft())
            while window:
                finish(window.popleft())
        return result

    run_sync(config, work)
    for failure in result.failures[:5]:
        reporter.warn(failure)
    return result


_Outcome = tuple[int | None, str | None]
"""What copying one file gave: (bytes copied or ``None`` when skipped, error message or ``None``)."""


@dataclass
class _Batch:
    """One batch of rows and the copies of their files, submitted to the pool."""

    column: StoredColumn
    rows: list[Any]
    copies: dict[str, Future[_Outcome]]
    shared: set[str]
    """Paths whose copy the previous batch already started (counted there)."""
    items: dict[str, FileObject]
    listed: dict[str, ObjectInfo] | None
    """The target's listing (``None`` when too big to hold), updated as copies complete."""


class _LazyPool:
    """A thread pool started on first use, so a run with nothing to copy starts no threads."""

    def __init__(self, jobs: int) -> None:
        self.jobs = jobs
        self._pool: ThreadPoolExecutor | None = None

    def __enter__(self) -> _LazyPool:
        return self

    def __exit__(self, exc_type: object, *exc: object) -> None:
        if self._pool is not None:
            # On an error (or Ctrl-C) the queued copies are dropped; the running ones finish.
            self._pool.shutdown(wait=True, cancel_futures=exc_type is not None)

    def submit(self, fn: Callable[[FileObject], T], item: FileObject) -> Future[T]:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=self.jobs)
        return self._pool.submit(fn, item)


def _submit_batch(
    column: StoredColumn,
    rows: list[Any],
    pool: _LazyPool,
    source: StorageBackend,
    target: StorageBackend,
    result: SyncResult,
    listed: dict[str, ObjectInfo] | None,
    in_flight: dict[str, Future[_Outcome]],
) -> _Batch:
    def one(item: FileObject) -> _Outcome:
        try:
            known = Missing if listed is None else listed.get(item.path)
            return copy_file(item, source, target, dry_run=result.dry_run, known=known), None
        except StorageError as exc:
            return None, str(exc)

    batch = _Batch(column, rows, {}, set(), {}, listed)
    seen: set[str] = set()
    for row in rows:
        if isinstance(row[-1], BadValue):  # named and left alone; the other rows go on
            result.failures.append(f"{column.label} row {column.row_id(row)}: bad metadata, {row[-1].detail}")
            continue
        for item in files_of(row[-1]):
            if item.backend != source.key or item.path in seen:
                continue
            seen.add(item.path)
            batch.items[item.path] = item
            running = in_flight.get(item.path)
            if running is not None:
                batch.copies[item.path] = running
                batch.shared.add(item.path)
            elif listed is not None and _recorded_match(item, listed.get(item.path)):
                result.files += 1
                result.skipped += 1  # the listing already proves it: no request, no thread
            else:
                batch.copies[item.path] = in_flight[item.path] = pool.submit(one, item)
    return batch


def _finish_batch(
    connection: Connection,
    batch: _Batch,
    source: str,
    target: str,
    result: SyncResult,
    update_rows: bool,
    in_flight: dict[str, Future[_Outcome]],
) -> None:
    """Wait for the batch's copies, count them, and repoint its rows whose files all copied."""
    failed: set[str] = set()
    for path, future in batch.copies.items():
        copied, error = future.result()
        if in_flight.get(path) is future:
            del in_flight[path]
        if error is not None:
            failed.add(path)  # rows referencing it keep pointing at the source
        if path in batch.shared:
            continue  # counted (and reported) with the batch that started the copy
        result.files += 1
        if error is not None:
            result.failures.append(f"{batch.column.label} {source}:{path}: {error}")
        elif copied is None:
            result.skipped += 1
        else:
            result.copied += 1
            result.bytes_copied += copied
            if batch.listed is not None and not result.dry_run:
                # The target now holds what the row recorded: a later batch referencing it skips it.
                item = batch.items[path]
                batch.listed[path] = ObjectInfo(path=path, size=copied, checksum=item.checksum, etag=item.etag)
    result.rows += len(batch.rows)
    if update_rows and not result.dry_run:
        result.rows_updated += _repoint_rows(connection, batch.column, batch.rows, source, target, failed)


def _repoint_rows(
    connection: Connection, column: StoredColumn, rows: list[Any], source: str, target: str, failed: set[str]
) -> int:
    """In one transaction, point rows whose files all copied at ``target``; skip rows changed since read."""
    from sqlalchemy import and_, bindparam, or_, select, update
    from sqlalchemy import exc as sa_exc

    width = len(column.primary_key)
    wanted: dict[tuple[Any, ...], Any] = {}
    for row in rows:
        items = files_of(row[-1])
        moving = [item for item in items if item.backend == source]
        if moving and not any(item.path in failed for item in moving):
            wanted[tuple(row[:width])] = row[-1]
    if not wanted:
        return 0
    key_match = or_(*(and_(*(c == v for c, v in zip(column.primary_key, key, strict=True))) for key in wanted))
    try:
        with connection.begin():
            current = connection.execute(
                select(*column.primary_key, column.column).where(key_match).with_for_update()
            ).all()
            params = []
            for row in current:
                key = tuple(row[:width])
                if key not in wanted or _dump(row[-1]) != _dump(wanted[key]):
                    continue  # changed since it was read: leave it for the next run
                params.append(
                    {
                        **{f"pk_{index}": value for index, value in enumerate(key)},
                        "new_value": _moved(row[-1], source, target),
                    }
                )
            if params:
                statement = (
                    update(column.table)
                    .where(*(c == bindparam(f"pk_{index}") for index, c in enumerate(column.primary_key)))
                    .values({column.column.name: bindparam("new_value", type_=column.column.type)})
                )
                connection.execute(statement, params)
    except sa_exc.DBAPIError as exc:
        detail = first_line(exc)
        raise StorageError(f"cannot update {column.label}: {detail}") from exc
    return len(params)


def _dump(value: Any) -> Any:
    if isinstance(value, FileObject):
        return value.to_dict()
    if isinstance(value, list):
        return [_dump(item) for item in value]
    return value


def _moved(value: Any, source: str, target: str) -> Any:
    if isinstance(value, FileObject):
        return value.with_backend(target) if value.backend == source else value
    return [_moved(item, source, target) for item in value]
