"""Worker threads for ``--jobs``: each holds its own connection to the config's database for the pool's life.

A worker enters a per-connection ``session`` (a snapshot transaction for dumps, session settings for loads)
once, reports ready, then runs the tasks it is given (``task(connection) → result``). The coordinator waits
until every worker is ready (a dump on MariaDB keeps its global read lock until then), then hands out batches
of tasks with ``run``, which returns results in task order, or raises the first error after every running task
has stopped: tasks not yet started are skipped, and a running task stops at its next progress step (its
reporter's ``advance`` raises). Threads, not processes: the work that runs side by side is the servers' (one
backend per connection) and the drivers' I/O, while the per-row Python work takes turns on the GIL; and the
dump or load of one table stays the plain function it is without ``--jobs``.

Async configs work too: each worker calls ``connect.run_sync``, so it runs on its own event loop, with its own
engine, in its own thread.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from dbops.errors import DataError
from dbops.progress import ProgressTask, Reporter

if TYPE_CHECKING:
    from types import TracebackType

    from sqlalchemy import Connection

    from dbops.config import AnyConfig

__all__ = ["Cancelled", "WorkerPool"]

T = TypeVar("T")


class Cancelled(BaseException):
    """Raised inside a running task when another task failed: it stops at its next progress step.

    A BaseException, like KeyboardInterrupt, so that no ``except Exception`` on the way (a fallback path
    that retries) mistakes it for the task's own failure.
    """


@dataclass
class _Job(Generic[T]):
    index: int
    task: Callable[[Connection], T]


class WorkerPool:
    """``count`` threads with a connection each; use as a context manager, then ``run`` batches of tasks."""

    def __init__(
        self,
        config: AnyConfig,
        count: int,
        *,
        session: Callable[[Connection], AbstractContextManager[Any]],
        name: str = "dbops-worker",
    ) -> None:
        self.config = config
        self.count = count
        self.session = session
        self.name = name
        self.cancelled = threading.Event()
        self._jobs: queue.SimpleQueue[_Job[Any] | None] = queue.SimpleQueue()
        self._done: queue.SimpleQueue[tuple[int, bool, Any]] = queue.SimpleQueue()
        self._ready: queue.SimpleQueue[BaseException | None] = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []
        self._failure: BaseException | None = None

    def __enter__(self) -> WorkerPool:
        self._check_pool()
        for number in range(self.count):
            thread = threading.Thread(target=self._main, name=f"{self.name}-{number + 1}", daemon=True)
            thread.start()
            self._threads.append(thread)
        failures = [error for error in (self._ready.get() for _ in self._threads) if error is not None]
        if failures:
            self._stop()
            raise failures[0]
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        if error is not None:
            self.cancelled.set()
        self._stop()
        if error is None and self._failure is not None:  # a session that failed to close (a commit, say)
            raise self._failure

    def _check_pool(self) -> None:
        """A sync config's workers take connections from its pool, beside the coordinator's: say if it's too
        small, rather than have a worker wait for ``pool_timeout`` and fail."""
        if self.config.is_async:  # each worker makes its own engine (``connect.run_sync``)
            return
        from sqlalchemy.pool import QueuePool

        from dbops.connect import sync_engine_for

        pool = sync_engine_for(self.config).pool
        overflow = int(getattr(pool, "_max_overflow", -1))
        if isinstance(pool, QueuePool) and overflow >= 0 and pool.size() + overflow < self.count + 1:
            raise DataError(
                f"--jobs {self.count} needs {self.count + 1} connections, and {self.config.describe()}'s pool "
                f"allows {pool.size() + overflow} (pool_size + max_overflow in its engine_config)"
            )

    def _stop(self) -> None:
        for _ in self._threads:
            self._jobs.put(None)
        for thread in self._threads:
            thread.join()
        self._threads = []

    def run(self, tasks: Sequence[Callable[[Connection], T]]) -> list[T]:
        """Run ``tasks`` on the workers; their results in order, or the first error (the others stop)."""
        for index, task in enumerate(tasks):
            self._jobs.put(_Job(index, task))
        results: dict[int, T] = {}
        first: BaseException | None = None
        for _ in tasks:
            index, ok, value = self._done.get()
            if ok:
                results[index] = value
            elif first is None or isinstance(first, Cancelled):
                if first is None:
                    self.cancelled.set()
                first = value
        if first is not None:
            raise first
        return [results[index] for index in range(len(tasks))]

    def reporter(self, reporter: Reporter) -> Reporter:
        """``reporter`` for tasks: its progress steps raise ``Cancelled`` once another task has failed."""
        return _CancellingReporter(reporter, self.cancelled)

    def _main(self) -> None:
        from dbops.connect import run_sync

        announced = stopped = False

        def serve(connection: Connection) -> None:
            nonlocal announced, stopped
            with self.session(connection):
                announced = True
                self._ready.put(None)
                self._serve(connection)
                stopped = True  # this worker's stop signal is taken: nothing more will come for it

        try:
            run_sync(self.config, serve)
        except BaseException as error:  # handed to the coordinator, which raises it
            if isinstance(error, _Lost):
                error = error.__cause__ or error
            if not announced:
                self._ready.put(error)
            elif self._failure is None:
                self._failure = error
            if not stopped:
                self._drain(error)

    def _serve(self, connection: Connection) -> None:
        while (job := self._jobs.get()) is not None:
            if self.cancelled.is_set():
                self._done.put((job.index, False, Cancelled()))
                continue
            try:
                value = job.task(connection)
            except BaseException as error:  # handed to the coordinator, which raises it
                self._done.put((job.index, False, error))
                if connection.invalidated:  # the connection is gone: this worker can't go on
                    raise _Lost(error) from error
            else:
                self._done.put((job.index, True, value))

    def _drain(self, error: BaseException) -> None:
        """A worker without a connection answers every job it takes with ``error`` until told to stop."""
        while (job := self._jobs.get()) is not None:
            self._done.put((job.index, False, error))


class _Lost(Exception):
    """A worker's connection died in a task (whose error the coordinator already has)."""


class _CancellingTask:
    def __init__(self, task: ProgressTask, cancelled: threading.Event) -> None:
        self._task = task
        self._cancelled = cancelled

    def advance(self, amount: int = 1) -> None:
        if self._cancelled.is_set():
            raise Cancelled
        self._task.advance(amount)


class _CancellingReporter:
    def __init__(self, reporter: Reporter, cancelled: threading.Event) -> None:
        self._reporter = reporter
        self._cancelled = cancelled

    def info(self, message: str) -> None:
        self._reporter.info(message)

    def warn(self, message: str) -> None:
        self._reporter.warn(message)

    @contextlib.contextmanager
    def progress(self, description: str, total: int | None) -> Iterator[ProgressTask]:
        if self._cancelled.is_set():
            raise Cancelled
        with self._reporter.progress(description, total) as task:
            yield _CancellingTask(task, self._cancelled)
