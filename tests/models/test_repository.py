"""Every repository method, sync and async, on SQLite, PostgreSQL and MariaDB."""

from __future__ import annotations

import contextlib
import datetime
import uuid

import pytest
from sqlalchemy import event, inspect, select
from sqlalchemy.orm import selectinload, with_loader_criteria

from dbops.errors import FilterError, MultipleResultsFoundError, NotFoundError, RepositoryError
from dbops.filters import (
    BeforeAfter,
    CollectionFilter,
    ComparisonFilter,
    LimitOffset,
    NotInCollectionFilter,
    NotInSearchFilter,
    OnBeforeAfter,
    OrderBy,
    SearchFilter,
)
from tests.models.harness import Context, run
from tests.models.models import TABLES, RtAuthorModel, RtBookModel, RtCounterModel

UTC = datetime.timezone.utc


async def _authors(ctx: Context, count: int = 5) -> list[RtAuthorModel]:
    repo = ctx.repo(RtAuthorModel)
    return list(
        await repo.add_many(
            [RtAuthorModel(name=f"Author {i}", dob=datetime.date(1950 + i, 1, 1)) for i in range(count)]
        )
    )


def test_in_lists_longer_than_the_drivers_parameter_limit(db, is_async):
    # 40,000 values: more than asyncpg's 32,767 bind parameters (on PostgreSQL they go as one array)
    async def body(ctx: Context) -> None:
        authors = await _authors(ctx, 5)
        repo = ctx.repo(RtAuthorModel)
        filler = [uuid.uuid4() for _ in range(40_000)]
        found = await repo.list(CollectionFilter("id", [authors[1].id, *filler, authors[3].id]), OrderBy("name"))
        assert [a.name for a in found] == ["Author 1", "Author 3"]
        found = await repo.list(CollectionFilter("id", [*filler[:-1], authors[2].id]))  # the cached form, new values
        assert [a.name for a in found] == ["Author 2"]
        kept = await repo.list(NotInCollectionFilter("id", [authors[0].id, *filler]), OrderBy("name"))
        assert [a.name for a in kept] == ["Author 1", "Author 2", "Author 3", "Author 4"]
        names = [f"nobody {index}" for index in range(40_000)]
        assert await repo.count(CollectionFilter("name", [*names, "Author 4", None])) == 1
        assert await repo.count(NotInCollectionFilter("name", [*names, "Author 4"])) == 4
        assert await repo.count(id=[*filler, authors[0].id]) == 1

    async def beyond_the_limit(ctx: Context) -> None:
        # The README's word for a SQLite build with a lower SQLITE_MAX_VARIABLE_NUMBER: a RepositoryError.
        with pytest.raises(RepositoryError, match="too many SQL variables"):
            await ctx.repo(RtAuthorModel).list(CollectionFilter("id", [uuid.uuid4() for _ in range(40_003)]))

    sqlite_too_small = db.dialect == "sqlite" and not _sqlite_binds(40_003)
    run(db, is_async, TABLES, beyond_the_limit if sqlite_too_small else body)


def _sqlite_binds(count: int) -> bool:
    """Whether this SQLite build takes ``count`` bind parameters in one statement (its real limit, asked)."""
    import sqlite3

    with contextlib.closing(sqlite3.connect(":memory:")) as connection:
        try:
            connection.execute("SELECT 1 WHERE ? IN (" + ", ".join("?" * (count - 1)) + ")", [0] * count)
        except sqlite3.OperationalError:
            return False
    return True


def test_add_and_single_item_reads(db, is_async):
    async def body(ctx: Context) -> None:
        repo = ctx.repo(RtAuthorModel)
        author = await repo.add(RtAuthorModel(name="Ann", dob=datetime.date(1970, 5, 1)))
        assert isinstance(author.id, uuid.UUID)
        assert author.created_at.tzinfo is not None and author.created_at == author.updated_at
        await ctx.session.commit()

        assert (await repo.get(author.id)).name == "Ann"
        assert (await repo.get("Ann", id_attribute="name")).id == author.id
        assert (await repo.get_one(name="Ann")).id == author.id
        assert (await repo.get_one(RtAuthorModel.name == "Ann")).id == author.id
        assert await repo.get_one_or_none(name="Bob") is None
        assert await repo.count() == 1
        assert await repo.count(name="Bob") == 0
        assert await repo.exists(name="Ann") is True
        assert await repo.exists(SearchFilter("name", "zzz")) is False

        with pytest.raises(NotFoundError, match=r"no RtAuthorModel with id="):
            await repo.get(uuid.uuid4())
        with pytest.raises(NotFoundError, match=r"no RtAuthorModel matches name='Bob'"):
            await repo.get_one(name="Bob")
        await repo.add(RtAuthorModel(name="Anna"))
        with pytest.raises(MultipleResultsFoundError, match="more than one RtAuthorModel"):
            await repo.get_one(SearchFilter("name", "Ann"))

    run(db, is_async, TABLES, body)


def test_list_filters_and_pagination(db, is_async):
    async def body(ctx: Context) -> None:
        authors = await _authors(ctx, 6)
        repo = ctx.repo(RtAuthorModel)

        async def names(*filters, **kwargs):
            return [a.name for a in await repo.list(*filters, OrderBy("name"), **kwargs)]

        assert await names() == [f"Author {i}" for i in range(6)]
        assert await names(SearchFilter("name", "author 1", ignore_case=True)) == ["Author 1"]
        assert await names(SearchFilter({"name", "bio"}, "Author 2")) == ["Author 2"]
        assert await names(SearchFilter("name", "author 2")) == []  # case-sensitive on every dialect
        assert await names(SearchFilter("name", "thor 3")) == ["Author 3"]
        await repo.add(RtAuthorModel(name="100%_sure"))
        assert await names(SearchFilter("name", "%_")) == ["100%_sure"]  # wildcards are literal
        assert await names(SearchFilter("name", "0%_S", ignore_case=True)) == ["100%_sure"]
        await repo.delete_where(name="100%_sure")
        await repo.add(RtAuthorModel(name="École Ünïon"))
        folded = [] if ctx.db.dialect == "sqlite" else ["École Ünïon"]  # SQLite's lower() folds ASCII only
        assert await names(SearchFilter("name", "éCOLE ü", ignore_case=True)) == folded
        assert await names(SearchFilter("name", "cole Ü", ignore_case=True)) == ["École Ünïon"]
        await repo.delete_where(name="École Ünïon")
        assert len(await names(NotInSearchFilter("name", "Author 1"))) == 5
        assert await names(CollectionFilter("id", [authors[0].id, authors[3].id])) == ["Author 0", "Author 3"]
        assert await names(CollectionFilter("id", [])) == []
        assert await names(CollectionFilter("id", None)) == [f"Author {i}" for i in range(6)]
        assert len(await names(NotInCollectionFilter("id", [authors[0].id]))) == 5
        assert await names(ComparisonFilter("dob", "ge", datetime.date(1954, 1, 1))) == ["Author 4", "Author 5"]
        assert await names(ComparisonFilter("name", "in", ["Author 1", "x"])) == ["Author 1"]
        assert await names(LimitOffset(limit=2, offset=2)) == ["Author 2", "Author 3"]
        assert await names(name=["Author 1", "Author 5"]) == ["Author 1", "Author 5"]
        assert await names(bio=None, name="Author 0") == ["Author 0"]
        desc = await repo.list(OrderBy("dob", "desc"), LimitOffset(2, 0))
        assert [a.name for a in desc] == ["Author 5", "Author 4"]
        assert [a.name for a in await repo.list(LimitOffset(1, 0), order_by=("name", True))] == ["Author 5"]

        past = datetime.datetime(2000, 1, 1, tzinfo=UTC)
        future = datetime.datetime.now(UTC) + datetime.timedelta(days=1)
        assert len(await names(BeforeAfter("created_at", before=future, after=past))) == 6
        assert await names(BeforeAfter("created_at", before=past)) == []
        assert len(await names(OnBeforeAfter("created_at", on_or_after=authors[0].created_at))) == 6

        for window in (False, True):
            page, total = await repo.list_and_count(
                SearchFilter("name", "Author"), OrderBy("name"), LimitOffset(2, 4), count_with_window_function=window
            )
            assert total == 6 and [a.name for a in page] == ["Author 4", "Author 5"]
            page, total = await repo.list_and_count(LimitOffset(2, 10), count_with_window_function=window)
            assert page == [] and total == 6
            page, total = await repo.list_and_count(
                OrderBy("name"), LimitOffset(4, 4), count_with_window_function=window
            )
            assert total == 6 and [a.name for a in page] == ["Author 4", "Author 5"]  # the last, short page
            custom = select(RtAuthorModel).where(RtAuthorModel.name != "Author 0")
            page, total = await repo.list_and_count(
                OrderBy("name"), LimitOffset(2, 0), statement=custom, count_with_window_function=window
            )
            assert total == 5 and [a.name for a in page] == ["Author 1", "Author 2"]
            page, total = await repo.list_and_count(count_with_window_function=window)
            assert len(page) == 6 and total == 6
            page, total = await repo.list_and_count(name="nobody", count_with_window_function=window)
            assert page == [] and total == 0

    run(db, is_async, TABLES, body)


def test_filters_and_null(db, is_async):
    """NULL behaves as in Python: ``None`` in a list matches NULL, negations keep NULL rows, and a filter and
    its negation split the rows between them."""

    async def body(ctx: Context) -> None:
        repo = ctx.repo(RtAuthorModel)
        await repo.add_many(
            [RtAuthorModel(name="A", bio="x"), RtAuthorModel(name="B"), RtAuthorModel(name="C", bio="y")]
        )

        async def names(*filters, **kwargs):
            return [a.name for a in await repo.list(*filters, OrderBy("name"), **kwargs)]

        everyone = ["A", "B", "C"]
        assert await names(CollectionFilter("bio", ["x", None])) == ["A", "B"]
        assert await names(CollectionFilter("bio", [None])) == ["B"]
        assert await names(CollectionFilter("bio", [])) == []
        assert await names(CollectionFilter("bio", None)) == everyone
        assert await names(NotInCollectionFilter("bio", ["x"])) == ["B", "C"]  # a NULL bio is not "x"
        assert await names(NotInCollectionFilter("bio", ["x", None])) == ["C"]  # SQL's NOT IN (.., NULL): no rows
        assert await names(NotInCollectionFilter("bio", [None])) == ["A", "C"]
        assert await names(NotInCollectionFilter("bio", [])) == everyone
        assert await names(NotInCollectionFilter("bio", None)) == everyone
        assert await names(NotInCollectionFilter("name", ["A"])) == ["B", "C"]  # a NOT NULL column
        for values in (["x"], ["x", None], [None], ["x", "y"], ["z"]):
            inside = await names(CollectionFilter("bio", values))
            outside = await names(NotInCollectionFilter("bio", values))
            assert sorted(inside + outside) == everyone, values
            assert await names(ComparisonFilter("bio", "in", values)) == inside
            assert await names(ComparisonFilter("bio", "notin", values)) == outside
        assert await names(bio=["x", None]) == ["A", "B"]  # keyword filters too
        assert await names(ComparisonFilter("bio", "eq", None)) == ["B"]
        assert await names(ComparisonFilter("bio", "ne", None)) == ["A", "C"]
        assert await names(ComparisonFilter("bio", "ne", "x")) == ["B", "C"]
        assert await names(ComparisonFilter("bio", "eq", "x")) == ["A"]
        assert await names(NotInSearchFilter("bio", "x")) == ["B", "C"]
        assert await names(NotInSearchFilter({"name", "bio"}, "y")) == ["A", "B"]
        assert await names(SearchFilter({"name", "bio"}, "x")) == ["A"]
        assert await names(SearchFilter("bio", None)) == everyone  # an absent query parameter
        assert await names(NotInSearchFilter("bio", None)) == everyone
        assert await repo.count(NotInCollectionFilter("bio", ["x", None])) == 1
        assert await repo.exists(NotInSearchFilter("bio", "x")) is True
        with pytest.raises(FilterError, match=r"ComparisonFilter: 'in' needs a list of values, got None"):
            ComparisonFilter("bio", "in", None)
        with pytest.raises(FilterError, match=r"ComparisonFilter: 'gt' needs a value, got None"):
            ComparisonFilter("bio", "gt", None)

    run(db, is_async, TABLES, body)


def test_add_many_bulk(db, is_async):
    async def body(ctx: Context) -> None:
        repo = ctx.repo(RtAuthorModel)
        given_id = uuid.uuid4()
        items = [RtAuthorModel(name=f"n{i:05d}") for i in range(12_001)] + [RtAuthorModel(id=given_id, name="given")]
        added = await repo.add_many(items)
        assert added == items  # the same instances come back, with their generated values
        assert added[-1].id == given_id
        assert len({a.id for a in added}) == len(items)  # more rows than one statement takes: chunked
        assert all(a.created_at == a.updated_at == added[0].created_at for a in added)
        assert await repo.count() == len(items)
        await ctx.session.commit()
        stored = await repo.get(added[5].id)
        assert stored is added[5]  # attached to the session's identity map
        assert stored.name == "n00005"

        counters = ctx.repo(RtCounterModel)
        rows = await counters.add_many([RtCounterModel(kind="k", slot=i, extra={"i": i}) for i in range(7)])
        ids = [c.id for c in rows]
        assert all(isinstance(i, int) for i in ids) and ids == sorted(ids) and len(set(ids)) == 7
        fresh = await counters.list(OrderBy("slot"))
        assert [(c.id, c.slot, c.extra) for c in fresh] == [(c.id, c.slot, {"i": c.slot}) for c in rows]
        assert await counters.add_many([]) == []

    run(db, is_async, TABLES, body)


def test_bulk_writes_take_a_none_id_or_timestamp_as_unset(db, is_async):
    """``add_many``/``upsert_many`` treat ``id=None`` and audit timestamps set to ``None`` as a flush does: not
    given (a default or the database fills them in), instead of inserting NULL."""

    async def body(ctx: Context) -> None:
        authors = ctx.repo(RtAuthorModel)
        added = await authors.add_many([RtAuthorModel(id=None, name="a", created_at=None, updated_at=None)])
        upserted = await authors.upsert_many([RtAuthorModel(id=None, name="b")])
        for item in (*added, *upserted):
            assert isinstance(item.id, uuid.UUID) and item.created_at is not None and item.updated_at is not None
        counters = ctx.repo(RtCounterModel)
        rows = await counters.add_many([RtCounterModel(id=None, kind="k", slot=i) for i in range(3)])
        rows += await counters.upsert_many([RtCounterModel(id=None, kind="k", slot=9)])
        assert all(isinstance(c.id, int) for c in rows) and len({c.id for c in rows}) == 4
        await ctx.session.commit()
        ctx.raw_session.expunge_all()
        assert sorted(c.id for c in await counters.list()) == sorted(c.id for c in rows)
        assert await authors.count(created_at=None) == 0

    run(db, is_async, TABLES, body)


def test_add_many_with_related_objects_uses_the_unit_of_work(db, is_async):
    async def body(ctx: Context) -> None:
        authors = ctx.repo(RtAuthorModel)
        author = RtAuthorModel(name="Ann", books=[RtBookModel(title="A"), RtBookModel(title="B")])
        await authors.add_many([author])
        books = ctx.repo(RtBookModel)
        stored = await books.list(OrderBy("title"))
        assert [(b.title, b.author_id) for b in stored] == [("A", author.id), ("B", author.id)]

    run(db, is_async, TABLES, body)


def test_update_is_partial_and_touches_updated_at(db, is_async):
    async def body(ctx: Context) -> None:
        repo = ctx.repo(RtAuthorModel)
        author = await repo.add(RtAuthorModel(name="Ann", dob=datetime.date(1970, 1, 1), bio="b"))
        await ctx.session.commit()
        created = author.created_at
        updated = await repo.update(RtAuthorModel(id=author.id, name="Anne"))
        assert (updated.name, updated.dob, updated.bio) == ("Anne", datetime.date(1970, 1, 1), "b")
        assert updated.created_at == created and updated.updated_at > created
        await ctx.session.commit()

        updated.bio = None  # an attached instance changed in place
        again = await repo.update(updated)
        assert again is updated and (await repo.get_one(name="Anne")).bio is None

        with pytest.raises(NotFoundError, match="no RtAuthorModel with id="):
            await repo.update(RtAuthorModel(id=uuid.uuid4(), name="ghost"))
        with pytest.raises(RepositoryError, match="cannot update a RtAuthorModel without its id"):
            await repo.update(RtAuthorModel(name="no id"))

    run(db, is_async, TABLES, body)


def test_update_many(db, is_async):
    async def body(ctx: Context) -> None:
        authors = await _authors(ctx, 4)
        await ctx.session.commit()
        repo = ctx.repo(RtAuthorModel)
        before = authors[0].updated_at
        result = await repo.update_many(
            [
                {"id": authors[0].id, "bio": "first"},
                {"id": authors[1].id, "bio": "second", "name": "Renamed"},
                RtAuthorModel(id=authors[2].id, bio="third"),
            ]
        )
        assert [(a.id, a.bio) for a in result] == [
            (authors[0].id, "first"),
            (authors[1].id, "second"),
            (authors[2].id, "third"),
        ]
        assert result[1].name == "Renamed" and result[0].name == "Author 0"  # untouched fields stay
        assert result[0].updated_at > before
        assert (await repo.get(authors[3].id)).bio is None
        first_id = authors[0].id
        with pytest.raises(NotFoundError, match="no RtAuthorModel with id="):
            await repo.update_many([{"id": uuid.uuid4(), "bio": "x"}])
        await ctx.session.rollback()
        with pytest.raises(FilterError, match="RtAuthorModel has no field 'nope'"):
            await repo.update_many([{"id": first_id, "nope": 1}])
        with pytest.raises(RepositoryError, match="without its id"):
            await repo.update_many([{"bio": "x"}])

    run(db, is_async, TABLES, body)


def test_upsert(db, is_async):
    async def body(ctx: Context) -> None:
        repo = ctx.repo(RtAuthorModel)
        created = await repo.upsert(RtAuthorModel(name="Ann", bio="one"))
        assert await repo.count() == 1
        same = await repo.upsert(RtAuthorModel(id=created.id, name="Ann B"))
        assert same.id == created.id and same.name == "Ann B" and same.bio == "one"
        by_name = await repo.upsert(RtAuthorModel(name="Ann B", bio="two"), match_fields="name")
        assert by_name.id == created.id and by_name.bio == "two"
        assert await repo.count() == 1

    run(db, is_async, TABLES, body)


def test_upsert_many(db, is_async):
    async def body(ctx: Context) -> None:
        authors = await _authors(ctx, 3)
        await ctx.session.commit()
        repo = ctx.repo(RtAuthorModel)
        created_at = authors[0].created_at
        result = await repo.upsert_many(
            [
                RtAuthorModel(id=authors[0].id, bio="updated"),
                RtAuthorModel(name="New one"),
                RtAuthorModel(id=authors[2].id, name="Renamed"),
            ]
        )
        assert [a.name for a in result] == ["Author 0", "New one", "Renamed"]
        assert result[0].bio == "updated" and result[0].created_at == created_at
        assert result[0].updated_at > created_at
        assert result[0].dob == datetime.date(1950, 1, 1)  # fields the input didn't set stay
        assert await repo.count() == 4

        counters = ctx.repo(RtCounterModel)
        await counters.add_many([RtCounterModel(kind="a", slot=i, value=i) for i in range(3)])
        merged = await counters.upsert_many(
            [RtCounterModel(kind="a", slot=1, value=100), RtCounterModel(kind="b", slot=1, value=7)],
            match_fields=["kind", "slot"],
        )
        assert [(c.kind, c.slot, c.value) for c in merged] == [("a", 1, 100), ("b", 1, 7)]
        assert isinstance(merged[1].id, int)
        assert await counters.count() == 4
        # with load= the rows are re-selected with the eager loads applied
        loaded = await repo.upsert_many([RtAuthorModel(id=authors[1].id, bio="b")], load=[RtAuthorModel.books])
        assert loaded[0].books == [] and loaded[0].bio == "b"
        # a match on fields without a unique constraint takes the per-item path
        slow = await counters.upsert_many([RtCounterModel(kind="zz", slot=5, value=100)], match_fields=["value"])
        assert (slow[0].id, slow[0].kind, slow[0].slot) == (merged[0].id, "zz", 5)
        assert await counters.count() == 4

    run(db, is_async, TABLES, body)


def test_get_or_upsert_and_get_and_update(db, is_async):
    async def body(ctx: Context) -> None:
        repo = ctx.repo(RtAuthorModel)
        author, created = await repo.get_or_upsert(name="Ann", bio="x")
        assert created is True and author.bio == "x"
        again, created = await repo.get_or_upsert(match_fields=["name"], name="Ann", bio="y")
        assert created is False and again.id == author.id and again.bio == "y"
        kept, created = await repo.get_or_upsert(match_fields="name", upsert=False, name="Ann", bio="z")
        assert created is False and kept.bio == "y"

        updated, changed = await repo.get_and_update(match_fields="name", name="Ann", bio="w")
        assert changed is True and updated.bio == "w"
        same, changed = await repo.get_and_update(match_fields="name", name="Ann", bio="w")
        assert changed is False and same.id == author.id
        with pytest.raises(NotFoundError):
            await repo.get_and_update(match_fields="name", name="Nobody", bio="w")
        with pytest.raises(FilterError, match="RtAuthorModel has no field 'age'"):
            await repo.get_or_upsert(name="Bob", age=3)

    run(db, is_async, TABLES, body)


def test_deletes(db, is_async):
    async def body(ctx: Context) -> None:
        authors = await _authors(ctx, 7)
        ids = [a.id for a in authors]
        await ctx.session.commit()
        repo = ctx.repo(RtAuthorModel)
        deleted = await repo.delete(ids[0], auto_expunge=True)
        assert deleted.name == "Author 0" and inspect(deleted).detached
        kept = await repo.delete(ids[6])
        assert kept.name == "Author 6" and inspect(kept).deleted  # flushed, still tracked
        with pytest.raises(NotFoundError):
            await repo.delete(ids[0])
        removed = await repo.delete_many([ids[1], ids[2], uuid.uuid4()], chunk_size=1)
        assert sorted(a.name for a in removed) == ["Author 1", "Author 2"]
        assert await repo.delete_many([]) == []
        where = await repo.delete_where(SearchFilter("name", "Author 3"))
        assert [a.name for a in where] == ["Author 3"]
        kw = await repo.delete_where(name="Author 4")
        assert [a.name for a in kw] == ["Author 4"]
        assert [a.name for a in await repo.list()] == ["Author 5"]
        await ctx.session.commit()
        assert await repo.count() == 1

    run(db, is_async, TABLES, body)


def test_load_relationships(db, is_async):
    async def body(ctx: Context) -> None:
        authors = await _authors(ctx, 2)
        books = ctx.repo(RtBookModel)
        await books.add_many([RtBookModel(title=f"B{i}", author_id=authors[0].id) for i in range(3)])
        await ctx.session.commit()
        ctx.raw_session.expunge_all()

        loaded = ctx.repo(RtAuthorModel, load=[RtAuthorModel.books])
        author = await loaded.get(authors[0].id)
        assert sorted(b.title for b in author.books) == ["B0", "B1", "B2"]
        plain = ctx.repo(RtAuthorModel)
        by_name = await plain.list(OrderBy("name"), load="books")
        assert [len(a.books) for a in by_name] == [3, 0]
        with_option = await plain.get(authors[1].id, load=[selectinload(RtAuthorModel.books)])
        assert with_option.books == []
        book = await books.get_one(title="B0", load=[RtBookModel.author])
        assert book.author.name == "Author 0"
        statement = select(RtBookModel).where(RtBookModel.pages == 0)
        assert await books.count(statement=statement) == 3
        assert len(await books.list(statement=statement, title="B1")) == 1

        with pytest.raises(FilterError, match="RtAuthorModel has no relationship 'novels'"):
            await plain.list(load="novels")
        with pytest.raises(FilterError, match="belongs to RtBookModel, not RtAuthorModel"):
            await plain.list(load=[RtBookModel.author])
        # A column is loaded (undeferred), as the seed's ``load=[DocumentModel.file]`` needs.
        assert len(await ctx.repo(RtAuthorModel, load=[RtAuthorModel.name]).list()) == 2
        with pytest.raises(FilterError, match="is not a relationship of RtAuthorModel"):
            ctx.repo(RtAuthorModel, load=[42])

    run(db, is_async, TABLES, body)


def test_auto_commit_expunge_refresh(db, is_async):
    async def body(ctx: Context) -> None:
        repo = ctx.repo(RtAuthorModel, auto_commit=True, auto_expunge=True)
        author = await repo.add(RtAuthorModel(name="Ann"))
        assert author not in ctx.raw_session
        await ctx.session.rollback()  # nothing to roll back: auto_commit committed
        assert await ctx.repo(RtAuthorModel).count() == 1

        flushed = ctx.repo(RtAuthorModel)
        await flushed.add(RtAuthorModel(name="Bob"), auto_refresh=False)
        assert await flushed.count() == 2
        await ctx.session.rollback()  # only flushed: rolled back
        assert await flushed.count() == 1

    run(db, is_async, TABLES, body)


def test_an_auto_expunge_repository_can_write(db, is_async):
    """With ``auto_expunge=True`` on the repository, the methods that look an item up before writing it
    (update, upsert, get_or_upsert, get_and_update, delete, delete_where) write, then detach; the lookup
    detached the item first, and the write failed with "not persistent within this Session"."""

    async def body(ctx: Context) -> None:
        repo = ctx.repo(RtAuthorModel, auto_expunge=True)
        ann = await repo.add(RtAuthorModel(name="Ann"))
        ann_id = ann.id
        results = [
            await repo.update(RtAuthorModel(id=ann_id, bio="updated")),
            await repo.upsert(RtAuthorModel(id=ann_id, bio="upserted")),
            (await repo.get_or_upsert(name="Ann", bio="got", match_fields="name"))[0],
            (await repo.get_and_update(name="Ann", dob=datetime.date(1970, 1, 1), match_fields="name"))[0],
        ]
        assert [a.bio for a in results] == ["updated", "upserted", "got", "got"]
        assert all(a not in ctx.raw_session for a in results)
        await ctx.session.commit()
        stored = await ctx.repo(RtAuthorModel).get(ann_id)
        assert (stored.bio, stored.dob) == ("got", datetime.date(1970, 1, 1))
        await repo.add(RtAuthorModel(name="Bob"))
        assert (await repo.delete(ann_id)).name == "Ann"
        assert [a.name for a in await repo.delete_where(name="Bob")] == ["Bob"]
        assert await repo.count() == 0

    run(db, is_async, TABLES, body)


def test_execution_options_reach_count_and_exists(db, is_async):
    """``execution_options`` (per call and per repository) apply to ``count`` and ``exists`` as to ``list``:
    here a soft-delete style ``do_orm_execute`` hook that an option switches off."""

    async def body(ctx: Context) -> None:
        sync_session = ctx.raw_session.sync_session if ctx.is_async else ctx.raw_session

        @event.listens_for(sync_session, "do_orm_execute")
        def hide(state) -> None:
            if state.is_select and not state.execution_options.get("include_hidden", False):
                criteria = with_loader_criteria(RtAuthorModel, RtAuthorModel.name != "Hidden", include_aliases=True)
                state.statement = state.statement.options(criteria)

        repo = ctx.repo(RtAuthorModel)
        await repo.add_many([RtAuthorModel(name="Hidden"), RtAuthorModel(name="Shown")])
        everything = {"include_hidden": True}
        assert (len(await repo.list()), await repo.count(), await repo.exists(name="Hidden")) == (1, 1, False)
        assert len(await repo.list(execution_options=everything)) == 2
        assert await repo.count(execution_options=everything) == 2
        assert await repo.exists(name="Hidden", execution_options=everything) is True
        assert await repo.exists(SearchFilter("name", "Hid"), execution_options=everything) is True
        unhidden = ctx.repo(RtAuthorModel, execution_options=everything)
        assert len(await unhidden.list()) == await unhidden.count() == 2
        assert await unhidden.exists(name="Hidden") is True

    run(db, is_async, TABLES, body)


def test_filter_validation(db, is_async):
    async def body(ctx: Context) -> None:
        repo = ctx.repo(RtAuthorModel)
        with pytest.raises(FilterError, match=r"SearchFilter: RtAuthorModel has no field 'title' \(fields: bio, "):
            await repo.list(SearchFilter("title", "x"))
        with pytest.raises(FilterError, match=r"OrderBy: RtAuthorModel\.books is a relationship, not a column"):
            await repo.list(OrderBy("books"))
        with pytest.raises(FilterError, match="keyword filter: RtAuthorModel has no field 'age'"):
            await repo.count(age=3)
        with pytest.raises(FilterError, match="is not a filter or SQL expression"):
            await repo.list("name = 'x'")
        with pytest.raises(FilterError, match="order_by: RtAuthorModel has no field 'nope'"):
            await repo.list(order_by=("nope", False))

    run(db, is_async, TABLES, body)


def test_repository_needs_a_model(sqlite_db):
    from dbops.repository import SQLAlchemySyncRepository

    class NoModel(SQLAlchemySyncRepository[RtAuthorModel]):
        pass

    with pytest.raises(RepositoryError, match="NoModel needs a model: set model_type"):
        NoModel(session=None)  # type: ignore[arg-type]


def test_async_repository_on_a_scoped_session(sqlite_db):
    import asyncio

    from sqlalchemy.ext.asyncio import async_scoped_session, async_sessionmaker, create_async_engine

    from dbops.repository import SQLAlchemyAsyncRepository
    from tests.models.harness import create_tables

    create_tables(sqlite_db, TABLES)

    async def main() -> None:
        engine = create_async_engine(sqlite_db.async_url)
        scoped = async_scoped_session(
            async_sessionmaker(engine, expire_on_commit=False), scopefunc=asyncio.current_task
        )
        repo = SQLAlchemyAsyncRepository[RtAuthorModel](session=scoped, model_type=RtAuthorModel)
        await repo.add(RtAuthorModel(name="Ann"), auto_commit=True)
        assert [a.name for a in await repo.list()] == ["Ann"]
        await scoped.remove()
        await engine.dispose()

    asyncio.run(main())
