"""A model with a composite primary key through every repository and service method, sync and async, on
every dialect. Keys are given as tuples (in primary-key column order) or dicts, as in Advanced Alchemy; the
stored rows are checked with plain SQL."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text

from dbops import repository, service
from dbops.errors import DuplicateKeyError, NotFoundError, RepositoryError
from dbops.filters import OrderBy
from tests.models.harness import Context, run
from tests.models.models import COMPOSITE_TABLES
from tests.models.models import RtEnrollmentModel as Enrollment


class EnrollmentService(service.SQLAlchemyAsyncRepositoryService[Enrollment]):
    class Repo(repository.SQLAlchemyAsyncRepository[Enrollment]):
        model_type = Enrollment

    repository_type = Repo


class SyncEnrollmentService(service.SQLAlchemySyncRepositoryService[Enrollment]):
    class Repo(repository.SQLAlchemySyncRepository[Enrollment]):
        model_type = Enrollment

    repository_type = Repo


def _service(ctx: Context) -> Any:
    if ctx.is_async:
        return EnrollmentService(ctx.raw_session)
    return ctx.wrap(SyncEnrollmentService(ctx.raw_session))


async def _rows(ctx: Context) -> list[tuple[Any, ...]]:
    """The table as plain SQL sees it."""
    result = await ctx.session.execute(
        text("SELECT student_id, course, grade, seat FROM rt_enrollment ORDER BY student_id, course")
    )
    return [tuple(row) for row in result.all()]


async def _seed(ctx: Context) -> Any:
    repo = ctx.repo(Enrollment)
    await repo.add_many(
        [
            Enrollment(student_id=1, course="math", grade="B", seat=10),
            Enrollment(student_id=1, course="art", grade=None, seat=11),
            Enrollment(student_id=2, course="math", grade="A", seat=12),
        ]
    )
    await ctx.session.commit()
    return repo


def test_reads_by_tuple_and_dict_keys(db, is_async):
    async def body(ctx: Context) -> None:
        repo = await _seed(ctx)
        assert (await repo.get((1, "math"))).grade == "B"
        assert (await repo.get({"student_id": 2, "course": "math"})).grade == "A"
        assert (await repo.get({"course": "art", "student_id": 1})).seat == 11  # any key order in a dict
        assert (await repo.get([1, "art"])).seat == 11
        assert (await repo.get(12, id_attribute="seat")).student_id == 2
        assert (await repo.get_one(student_id=1, course="art")).seat == 11
        assert await repo.get_one_or_none(student_id=3, course="art") is None
        assert await repo.exists(student_id=1, course="math") is True
        assert await repo.exists(student_id=2, course="art") is False
        assert await repo.count(student_id=1) == 2
        assert [(e.student_id, e.course) for e in await repo.list(OrderBy("seat"))] == [
            (1, "math"),
            (1, "art"),
            (2, "math"),
        ]
        with pytest.raises(NotFoundError, match=r"no RtEnrollmentModel with student_id=2, course='art'"):
            await repo.get((2, "art"))
        with pytest.raises(RepositoryError, match=r"composite primary key \(student_id, course\)"):
            await repo.get(1)
        with pytest.raises(RepositoryError, match=r"composite primary key \(student_id, course\)"):
            await repo.get((1, "math", "extra"))
        with pytest.raises(RepositoryError, match=r"composite primary key \(student_id, course\)"):
            await repo.get({"student_id": 1})

    run(db, is_async, COMPOSITE_TABLES, body)


def test_writes_by_composite_key(db, is_async):
    async def body(ctx: Context) -> None:
        repo = await _seed(ctx)
        updated = await repo.update(Enrollment(student_id=1, course="art", grade="C"))
        assert (updated.grade, updated.seat) == ("C", 11)  # seat untouched: a partial update
        upserted = await repo.upsert(Enrollment(student_id=2, course="math", grade="A+"))
        assert upserted.seat == 12
        inserted = await repo.upsert(Enrollment(student_id=3, course="art", grade="D", seat=13))
        assert inserted.grade == "D"
        many = await repo.upsert_many(
            [Enrollment(student_id=3, course="art", grade="E"), Enrollment(student_id=4, course="art", seat=14)]
        )
        assert [(e.student_id, e.grade) for e in many] == [(3, "E"), (4, None)]
        many = await repo.update_many(
            [{"student_id": 4, "course": "art", "grade": "F"}, Enrollment(student_id=3, course="art", seat=15)]
        )
        assert [(e.student_id, e.grade, e.seat) for e in many] == [(4, "F", 14), (3, "E", 15)]
        item, changed = await repo.get_and_update(
            student_id=4, course="art", grade="G", match_fields=["student_id", "course"]
        )
        assert (item.grade, changed) == ("G", True)
        item, created = await repo.get_or_upsert(student_id=5, course="art", seat=16)
        assert created is True
        await ctx.session.commit()
        assert await _rows(ctx) == [
            (1, "art", "C", 11),
            (1, "math", "B", 10),
            (2, "math", "A+", 12),
            (3, "art", "E", 15),
            (4, "art", "G", 14),
            (5, "art", None, 16),
        ]

        deleted = await repo.delete((5, "art"))
        assert (deleted.student_id, deleted.course) == (5, "art")
        deleted = await repo.delete({"student_id": 4, "course": "art"})
        assert deleted.grade == "G"
        stored = await repo.get((3, "art"))
        gone = await repo.delete_many([(1, "art"), {"student_id": 1, "course": "math"}, stored])
        assert sorted((e.student_id, e.course) for e in gone) == [(1, "art"), (1, "math"), (3, "art")]
        await ctx.session.commit()
        assert await _rows(ctx) == [(2, "math", "A+", 12)]

        with pytest.raises(NotFoundError):
            await repo.delete((9, "art"))
        with pytest.raises(DuplicateKeyError) as raised:
            await repo.add(Enrollment(student_id=2, course="math"))
        assert (raised.value.model, raised.value.field) == ("RtEnrollmentModel", "student_id, course")

    run(db, is_async, COMPOSITE_TABLES, body)


def test_service_with_a_composite_key(db, is_async):
    async def body(ctx: Context) -> None:
        await _seed(ctx)
        enrollments = _service(ctx)
        assert (await enrollments.get((1, "math"))).seat == 10
        updated = await enrollments.update({"grade": "A"}, item_id=(1, "math"))
        assert (updated.grade, updated.seat) == ("A", 10)
        updated = await enrollments.update({"grade": "B+"}, item_id={"student_id": 1, "course": "art"})
        assert updated.grade == "B+"
        updated = await enrollments.update({"student_id": 2, "course": "math", "grade": "C"})
        assert updated.grade == "C"
        upserted = await enrollments.upsert({"grade": "D"}, item_id=(2, "math"))
        assert (upserted.grade, upserted.seat) == ("D", 12)
        upserted = await enrollments.upsert({"student_id": 7, "course": "art", "seat": 70})
        assert upserted.seat == 70
        deleted = await enrollments.delete_many([(7, "art"), await enrollments.get((1, "art"))])
        assert sorted((e.student_id, e.course) for e in deleted) == [(1, "art"), (7, "art")]
        assert (await enrollments.delete({"student_id": 2, "course": "math"})).grade == "D"
        await ctx.session.commit()
        assert await _rows(ctx) == [(1, "math", "A", 10)]
        with pytest.raises(RepositoryError, match="update needs item_id or 'student_id', 'course' in the data"):
            await enrollments.update({"grade": "x"})

    run(db, is_async, COMPOSITE_TABLES, body)
