"""Unit-of-work safety against a real S3 endpoint, on every dialect, with sync and async sessions.

Whatever happens (create, replace, remove, delete, rollback, failed commit, failed upload), no committed row
points at a missing file, and files of work that did not commit are gone. Async sessions run the same steps
through ``AsyncSession.run_sync``, which puts the listener on its awaited (greenlet) path.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import pytest
from sqlalchemy import Engine, create_engine, event, select
from sqlalchemy import exc as sa_exc
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from dbops.config import SQLAlchemySyncConfig
from dbops.errors import StorageError
from dbops.storage import MemoryBackend, ObstoreBackend, storages
from dbops.storage.check import check_files
from dbops.types import FileObject
from tests.databases import TestDatabase
from tests.storage.conftest import S3Server
from tests.storage.models import Base, Document, Gallery

T = TypeVar("T")


class Runner:
    """Run ``fn(session)`` in a fresh sync Session, or inside an AsyncSession via ``run_sync``."""

    def __init__(self, db: TestDatabase, is_async: bool) -> None:
        self.db = db
        self.is_async = is_async
        self.sync_engine = create_engine(db.sync_url, poolclass=NullPool)
        Base.metadata.create_all(self.sync_engine)

    def __call__(self, fn: Callable[[Session], T]) -> T:
        if not self.is_async:
            with Session(self.sync_engine, expire_on_commit=False) as session:
                return fn(session)

        async def run() -> T:
            engine = create_async_engine(self.db.async_url, poolclass=NullPool)
            try:
                async with AsyncSession(engine, expire_on_commit=False) as session:
                    return await session.run_sync(fn)
            finally:
                await engine.dispose()

        return asyncio.run(run())

    def assert_consistent(self, backend: ObstoreBackend | MemoryBackend, *, orphans: int = 0) -> None:
        """Every referenced file exists as recorded, and the bucket holds exactly those (plus ``orphans``)."""
        config = SQLAlchemySyncConfig(connection_string=self.db.sync_url, metadata=Base.metadata)
        result = check_files(config)
        assert result.ok, result.problems
        with Session(self.sync_engine) as session:
            referenced = {d.file.path for d in session.scalars(select(Document)) if d.file is not None}
            for gallery in session.scalars(select(Gallery)):
                referenced.update(item.path for item in gallery.images or [])
        stored = {info.path for info in backend.list()}
        assert referenced <= stored
        assert len(stored - referenced) == orphans, stored - referenced


@pytest.fixture
def run(db: TestDatabase, is_async: bool) -> Iterator[Runner]:
    runner = Runner(db, is_async)
    yield runner
    runner.sync_engine.dispose()


@pytest.fixture
def s3(s3_server: S3Server, s3_bucket: str) -> Iterator[ObstoreBackend]:
    backend = storages.register_backend(s3_server.backend("docs", s3_bucket))
    assert isinstance(backend, ObstoreBackend)
    yield backend


def new_file(name: str, content: bytes, **kwargs: Any) -> FileObject:
    return FileObject(backend="docs", filename=name, content=content, **kwargs)


def create(run: Runner, name: str = "a", content: bytes = b"first") -> Document:
    def fn(session: Session) -> Document:
        document = Document(name=name, file=new_file(f"{name}.txt", content, metadata={"tags": ["x"], "n": {"a": 1}}))
        session.add(document)
        session.commit()
        return document

    return run(fn)


def test_create_uploads_before_commit(run: Runner, s3: ObstoreBackend) -> None:
    document = create(run)
    assert document.file is not None
    assert s3.get_content(document.file.path) == b"first"

    def load(session: Session) -> FileObject | None:
        return session.get(Document, document.id).file  # type: ignore[union-attr]

    stored = run(load)
    assert stored is not None
    assert stored.size == 5 and stored.checksum and stored.metadata == {"tags": ["x"], "n": {"a": 1}}
    assert stored.content_type == "text/plain"
    assert stored.get_content() == b"first"
    run.assert_consistent(s3)


def test_replace_deletes_the_old_file_after_commit(run: Runner, s3: ObstoreBackend) -> None:
    document = create(run)
    old = document.file
    assert old is not None

    def replace(session: Session) -> FileObject:
        loaded = session.get(Document, document.id)
        assert loaded is not None
        loaded.file = new_file("b.txt", b"second")
        session.flush()
        assert s3.exists(old.path), "the replaced file must survive until the commit"
        session.commit()
        assert loaded.file is not None
        return loaded.file

    new = run(replace)
    assert not s3.exists(old.path)
    assert s3.get_content(new.path) == b"second"
    run.assert_consistent(s3)


def test_remove_deletes_after_commit(run: Runner, s3: ObstoreBackend) -> None:
    document = create(run)
    assert document.file is not None

    def remove(session: Session) -> None:
        loaded = session.get(Document, document.id)
        assert loaded is not None
        loaded.file = None
        session.commit()

    run(remove)
    assert not s3.exists(document.file.path)
    run.assert_consistent(s3)


def test_deleting_the_row_deletes_its_file(run: Runner, s3: ObstoreBackend) -> None:
    document = create(run)
    assert document.file is not None

    def delete(session: Session) -> None:
        session.delete(session.get(Document, document.id))
        session.commit()

    run(delete)
    assert not s3.exists(document.file.path)
    run.assert_consistent(s3)


def test_rollback_removes_uploads_and_keeps_the_old_file(run: Runner, s3: ObstoreBackend) -> None:
    document = create(run)
    assert document.file is not None

    def replace_then_rollback(session: Session) -> str:
        loaded = session.get(Document, document.id)
        assert loaded is not None
        loaded.file = new_file("b.txt", b"second")
        session.add(Document(name="other", file=new_file("o.txt", b"other")))
        session.flush()
        uploaded = loaded.file.path
        assert s3.exists(uploaded)
        session.rollback()
        return uploaded

    uploaded = run(replace_then_rollback)
    assert not s3.exists(uploaded)
    assert s3.get_content(document.file.path) == b"first"
    run.assert_consistent(s3)


def test_closing_without_commit_removes_uploads(run: Runner, s3: ObstoreBackend) -> None:
    def flush_only(session: Session) -> str:
        document = Document(name="x", file=new_file("x.txt", b"x"))
        session.add(document)
        session.flush()
        assert document.file is not None
        return document.file.path

    path = run(flush_only)
    assert not s3.exists(path)
    run.assert_consistent(s3)


def test_failed_commit_removes_the_uploaded_file(run: Runner, s3: ObstoreBackend) -> None:
    document = create(run, name="taken")
    assert document.file is not None

    def duplicate(session: Session) -> None:
        session.add(Document(name="taken", file=new_file("dup.txt", b"dup")))
        try:
            session.commit()
        finally:
            session.rollback()

    with pytest.raises(sa_exc.IntegrityError):
        run(duplicate)

    def failed_replace(session: Session) -> None:
        session.add(Document(name="second", file=None))
        session.commit()
        loaded = session.get(Document, document.id)
        assert loaded is not None
        loaded.file = new_file("new.txt", b"new")
        loaded.name = "second"  # unique violation: the commit fails after the upload
        try:
            session.commit()
        finally:
            session.rollback()

    with pytest.raises(sa_exc.IntegrityError):
        run(failed_replace)
    assert s3.get_content(document.file.path) == b"first"
    run.assert_consistent(s3)


def test_failure_of_the_commit_itself_removes_the_uploads(run: Runner, s3: ObstoreBackend) -> None:
    """The flush succeeds and the COMMIT fails (as a dropped connection or a deferred constraint would)."""
    document = create(run)
    assert document.file is not None

    def lost_at_commit(connection: Any) -> None:
        raise sa_exc.OperationalError("COMMIT", {}, Exception("server closed the connection at COMMIT"))

    def replace_and_add(session: Session) -> list[str]:
        loaded = session.get(Document, document.id)
        assert loaded is not None
        loaded.file = new_file("new.txt", b"new")
        extra = Document(name="extra", file=new_file("extra.txt", b"extra"))
        session.add(extra)
        session.flush()
        assert loaded.file is not None and extra.file is not None
        uploaded = [loaded.file.path, extra.file.path]
        assert all(s3.exists(path) for path in uploaded)
        event.listen(Engine, "commit", lost_at_commit)
        try:
            session.commit()
        finally:
            event.remove(Engine, "commit", lost_at_commit)
            session.rollback()
        return uploaded

    with pytest.raises(sa_exc.OperationalError, match="server closed the connection at COMMIT"):
        run(replace_and_add)
    assert sorted(info.path for info in s3.list()) == [document.file.path], "only the committed row's file is left"
    assert s3.get_content(document.file.path) == b"first"
    with Session(run.sync_engine) as session:
        assert [d.name for d in session.scalars(select(Document))] == ["a"]
    run.assert_consistent(s3)


def test_failed_upload_surfaces_and_commits_nothing(run: Runner, s3_server: S3Server) -> None:
    storages.register_backend(s3_server.backend("docs", "no-such-bucket-dbops"))

    def add(session: Session) -> None:
        session.add(Document(name="lost", file=new_file("lost.txt", b"x")))
        session.commit()

    with pytest.raises(StorageError, match="backend 'docs': cannot write"):
        run(add)
    with Session(run.sync_engine) as session:
        assert session.scalars(select(Document)).all() == []


def test_multiple_files_in_place_changes(run: Runner, s3: ObstoreBackend) -> None:
    def create_gallery(session: Session) -> Gallery:
        gallery = Gallery(title="g", images=[new_file("1.png", b"1"), new_file("2.png", b"2")])
        session.add(gallery)
        session.commit()
        return gallery

    gallery = run(create_gallery)
    first, second = gallery.images or []

    def edit(session: Session) -> list[str]:
        loaded = session.get(Gallery, gallery.id)
        assert loaded is not None and loaded.images is not None
        loaded.images.pop(0)
        loaded.images.append(new_file("3.png", b"3"))
        session.commit()
        return [item.path for item in loaded.images]

    paths = run(edit)
    assert not s3.exists(first.path)
    assert s3.exists(second.path)
    assert paths[0] == second.path and s3.get_content(paths[1]) == b"3"
    run.assert_consistent(s3)


def test_savepoint_rollback_removes_its_uploads(run: Runner, s3: ObstoreBackend) -> None:
    def nested(session: Session) -> tuple[str, str]:
        kept = Document(name="kept", file=new_file("kept.txt", b"k"))
        session.add(kept)
        session.flush()
        savepoint = session.begin_nested()
        dropped = Document(name="dropped", file=new_file("dropped.txt", b"d"))
        session.add(dropped)
        session.flush()
        savepoint.rollback()
        session.commit()
        assert kept.file is not None and dropped.file is not None
        return kept.file.path, dropped.file.path

    kept, dropped = run(nested)
    assert s3.exists(kept)
    assert not s3.exists(dropped)
    run.assert_consistent(s3)


class FailingDeletes(MemoryBackend):
    def delete(self, path: str) -> None:
        raise StorageError(f"backend {self.key!r}: cannot delete {path!r}: permission denied")


def test_failed_delete_after_commit_surfaces(run: Runner) -> None:
    backend = storages.register_backend(FailingDeletes("docs"))
    document = create(run)

    def replace(session: Session) -> None:
        loaded = session.get(Document, document.id)
        assert loaded is not None
        loaded.file = new_file("b.txt", b"b")
        session.commit()

    with pytest.raises(StorageError, match=r"committed, but 1 replaced file.*prune-orphans"):
        run(replace)
    with Session(run.sync_engine) as session:
        stored = session.get(Document, document.id)
        assert stored is not None and stored.file is not None and stored.file.filename == "b.txt"
    run.assert_consistent(backend, orphans=1)  # type: ignore[arg-type]


def test_unsaved_file_through_core_insert_is_refused(run: Runner, s3: ObstoreBackend) -> None:
    from sqlalchemy import insert

    def core(session: Session) -> None:
        session.execute(insert(Document).values(name="core", file=new_file("c.txt", b"c")))

    with pytest.raises(sa_exc.StatementError, match="has not been saved"):
        run(core)


def test_config_can_turn_the_listener_off(sqlite_db: TestDatabase) -> None:
    backend = storages.register_backend(MemoryBackend("docs"))
    config = SQLAlchemySyncConfig(
        connection_string=sqlite_db.sync_url, metadata=Base.metadata, enable_file_object_listener=False
    )
    Base.metadata.create_all(config.get_engine())
    with config.get_session() as session:
        session.add(Document(name="pending", file=new_file("p.txt", b"p")))
        with pytest.raises(sa_exc.StatementError, match="has not been saved"):
            session.commit()
        session.rollback()
        document = Document(name="saved", file=new_file("s.txt", b"s").save())
        session.add(document)
        session.commit()
        old = document.file
        assert old is not None
        document.file = new_file("t.txt", b"t").save()
        session.commit()
    assert backend.exists(old.path), "without the listener, replaced files are left alone"
    config.dispose()
