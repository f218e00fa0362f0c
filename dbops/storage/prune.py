"""``prune-orphans``: find and delete stored files that no row references.

Every StoredObject column in the config's metadata counts as a reference (``--model`` is deliberately not
offered: pruning with a partial view would delete files other models use). Files younger than the grace
period are kept, so uploads whose transaction has not committed yet are safe.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from dbops.connect import run_sync
from dbops.errors import StorageError
from dbops.models import model_metadata
from dbops.progress import NullReporter, Reporter
from dbops.storage.backends.base import ObjectInfo
from dbops.storage.registry import storages
from dbops.storage.scan import BadValue, files_of, iter_batches, stored_columns

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from dbops.config import AnyConfig

__all__ = ["OrphanScan", "delete_orphans", "find_orphans"]


@dataclass
class OrphanScan:
    backend: str
    older_than: timedelta
    stored: int = 0
    referenced: int = 0
    recent: int = 0
    orphans: list[ObjectInfo] = field(default_factory=list)
    deleted: int = 0

    @property
    def orphan_bytes(self) -> int:
        return sum(info.size for info in self.orphans)

    def as_dict(self) -> dict[str, Any]:
        return {
            "backend": self.backend,
            "older_than_seconds": int(self.older_than.total_seconds()),
            "stored": self.stored,
            "referenced": self.referenced,
            "recent_kept": self.recent,
            "orphans": [info.path for info in self.orphans],
            "orphan_bytes": self.orphan_bytes,
            "deleted": self.deleted,
        }


def find_orphans(
    config: AnyConfig,
    *,
    backend: str,
    older_than: timedelta = timedelta(hours=1),
    now: datetime | None = None,
    batch_size: int = 1000,
    reporter: Reporter | None = None,
) -> OrphanScan:
    """List files in ``backend`` that no row references and that are older than ``older_than``."""
    reporter = reporter or NullReporter()
    store = storages.get_backend(backend)
    columns = stored_columns(model_metadata(config))
    if not columns:
        raise StorageError(
            "no StoredObject columns in the config's metadata: refusing to treat every stored file as an orphan"
        )

    def referenced_paths(connection: Connection) -> set[str]:
        paths: set[str] = set()
        for column in columns:
            for rows in iter_batches(connection, column, batch_size):
                for row in rows:
                    if isinstance(row[-1], BadValue):
                        # Which files it references can't be known: pruning could delete one of them.
                        raise StorageError(
                            f"{column.label} row {column.row_id(row)} holds bad metadata ({row[-1].detail}): fix "
                            f"or clear it before pruning (nothing was deleted)"
                        )
                    paths.update(item.path for item in files_of(row[-1]) if item.backend == backend)
        return paths

    referenced = run_sync(config, referenced_paths)
    cutoff = (now or datetime.now(timezone.utc)) - older_than
    scan = OrphanScan(backend=backend, older_than=older_than, referenced=len(referenced))
    with reporter.progress(f"Listing {backend}", None) as task:
        for info in store.list():
            scan.stored += 1
            task.advance()
            if info.path in referenced:
                continue
            modified = info.last_modified
            if modified is not None and modified.tzinfo is None:
                modified = modified.replace(tzinfo=timezone.utc)
            if modified is None or modified > cutoff:
                scan.recent += 1
                continue
            scan.orphans.append(info)
    return scan


def delete_orphans(scan: OrphanScan, *, jobs: int = 8, reporter: Reporter | None = None) -> OrphanScan:
    """Delete the files ``find_orphans`` listed; ``StorageError`` naming the first failure, if any."""
    reporter = reporter or NullReporter()
    store = storages.get_backend(scan.backend)
    failures: list[str] = []

    def one(info: ObjectInfo) -> str | None:
        try:
            store.delete(info.path)
        except StorageError as exc:
            return str(exc)
        return None

    with (
        ThreadPoolExecutor(max_workers=max(1, jobs)) as pool,
        reporter.progress("Deleting orphans", len(scan.orphans)) as task,
    ):
        for error in pool.map(one, scan.orphans):
            task.advance()
            if error is None:
                scan.deleted += 1
            else:
                failures.append(error)
    if failures:
        raise StorageError(f"deleted {scan.deleted} orphans, {len(failures)} failed (first: {failures[0]})")
    return scan
