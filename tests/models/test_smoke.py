from __future__ import annotations

from tests.models.harness import Context, run
from tests.models.models import TABLES, AuthorModel, BookModel, CounterModel


def test_smoke(db, is_async):
    async def body(ctx: Context) -> None:
        authors = ctx.repo(AuthorModel)
        a = await authors.add(AuthorModel(name="Ann"))
        assert (await authors.get(a.id)).name == "Ann"
        many = await authors.add_many([AuthorModel(name=f"n{i}") for i in range(10)])
        assert await authors.count() == 11
        books = ctx.repo(BookModel)
        await books.add_many([BookModel(title=f"t{i}", author_id=a.id) for i in range(3)])
        counters = ctx.repo(CounterModel)
        cs = await counters.add_many([CounterModel(kind="k", slot=i) for i in range(5)])
        assert [c.id for c in cs] == sorted(c.id for c in cs) and cs[0].id is not None
        up = await counters.upsert_many([CounterModel(kind="k", slot=1, value=5), CounterModel(kind="k", slot=9, value=9)], match_fields=["kind", "slot"])
        assert [u.value for u in up] == [5, 9]
        assert await counters.count() == 6
        um = await authors.update_many([{"id": many[0].id, "bio": "x"}])
        assert um[0].bio == "x"
        await authors.delete_many([m.id for m in many[5:]])
        assert await authors.count() == 6
        items, total = await authors.list_and_count(name="Ann")
        assert total == 1
        await ctx.session.commit()

    run(ctx_db := db, is_async, TABLES, body)
