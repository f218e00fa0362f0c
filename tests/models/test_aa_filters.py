"""The filters Advanced Alchemy apps use, each against a hand-computed result, applied both with
``append_to_statement(select(Model), Model)`` and from the repository, sync and async, on every dialect.

The rows (name, active, score, kind, tags)::

    alpha    True   10    a     red, blue
    Beta     False  None  b
    gamma    None   30    a     red
    delta    True   None  None
    Epsilon  False  50    c     green
"""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from sqlalchemy import and_, func, or_, select
from sqlalchemy.dialects import mysql, postgresql, sqlite

from dbops.errors import FilterError
from dbops.filters import (
    BeforeAfter,
    BooleanFilter,
    ChoicesFilter,
    CollectionFilter,
    ComparisonFilter,
    ExistsFilter,
    FilterGroup,
    LimitOffset,
    MultiFilter,
    NotExistsFilter,
    NotInCollectionFilter,
    NotNullFilter,
    NullFilter,
    OrderBy,
    SearchFilter,
    StatementFilter,
)
from tests.models.harness import Context, run
from tests.models.models import FILTER_TABLES
from tests.models.models import RtItemModel as Item
from tests.models.models import RtTagModel as Tag

ALL = ["Beta", "Epsilon", "alpha", "delta", "gamma"]  # sorted(): the order the cases compare in

CASES: list[tuple[str, StatementFilter, list[str]]] = [
    ("null", NullFilter("score"), ["Beta", "delta"]),
    ("not null", NotNullFilter(Item.score), ["Epsilon", "alpha", "gamma"]),
    ("boolean true", BooleanFilter("active", True), ["alpha", "delta"]),
    ("boolean false", BooleanFilter(Item.active, False), ["Beta", "Epsilon"]),
    ("boolean none", BooleanFilter("active", None), ALL),
    ("choices", ChoicesFilter("kind", ["a", "c"]), ["Epsilon", "alpha", "gamma"]),
    ("collection prefer_any", CollectionFilter("kind", ["a", None], prefer_any=True), ["alpha", "delta", "gamma"]),
    ("not in prefer_any", NotInCollectionFilter("kind", ["a"], prefer_any=True), ["Beta", "Epsilon", "delta"]),
    ("collection on an expression", CollectionFilter(func.lower(Item.name), ["beta", "epsilon"]), ["Beta", "Epsilon"]),
    ("exists", ExistsFilter([Tag.item_id == Item.id, Tag.label == "red"]), ["alpha", "gamma"]),
    (
        "exists or",
        ExistsFilter(
            [and_(Tag.item_id == Item.id, Tag.label == "blue"), and_(Tag.item_id == Item.id, Tag.label == "green")],
            operator="or",
        ),
        ["Epsilon", "alpha"],
    ),
    ("exists of nothing", ExistsFilter([]), []),
    ("not exists", NotExistsFilter([Tag.item_id == Item.id]), ["Beta", "delta"]),
    ("not exists red", NotExistsFilter([Tag.item_id == Item.id, Tag.label == "red"]), ["Beta", "Epsilon", "delta"]),
    ("not exists of nothing", NotExistsFilter([]), ALL),
    (
        "group or",
        FilterGroup(or_, [NullFilter("score"), ComparisonFilter("score", "ge", 50)]),
        ["Beta", "Epsilon", "delta"],
    ),
    ("group and", FilterGroup(and_, [BooleanFilter("active", True), NotNullFilter("score")]), ["alpha"]),
    (
        "nested groups",
        FilterGroup(
            or_,
            [FilterGroup(and_, [ChoicesFilter("kind", ["a"]), NotNullFilter("active")]), SearchFilter("name", "elt")],
        ),
        ["alpha", "delta"],
    ),
    ("group of nothing", FilterGroup(and_, []), ALL),
    ("group of a no-op filter", FilterGroup(or_, [BooleanFilter("active", None)]), ALL),
    (
        "multi",
        MultiFilter(
            {
                "and_": [
                    {"type": "null", "field_name": "score"},
                    {
                        "or_": [
                            {"type": "boolean", "field_name": "active", "value": True},
                            {"type": "collection", "field_name": "kind", "values": ["zz"]},
                        ]
                    },
                ]
            }
        ),
        ["delta"],
    ),
    (
        "multi or",
        MultiFilter(
            {
                "or_": [
                    {"type": "choices", "field_name": "kind", "values": ["b"]},
                    {"type": "comparison", "field_name": "score", "operator": "gt", "value": 20},
                    {"type": "search", "field_name": "name", "value": "ALP", "ignore_case": True},
                ]
            }
        ),
        ["Beta", "Epsilon", "alpha", "gamma"],
    ),
    (
        "multi dates from ISO strings",
        MultiFilter({"and_": [{"type": "before_after", "field_name": "created_at", "after": "2000-01-01T00:00:00Z"}]}),
        ALL,
    ),
    (
        "multi future",
        MultiFilter(
            {"and_": [{"type": "on_before_after", "field_name": "created_at", "on_or_after": "2999-01-01T00:00:00Z"}]}
        ),
        [],
    ),
]


async def _seed(ctx: Context) -> Any:
    rows = [
        ("alpha", True, 10, "a", ["red", "blue"]),
        ("Beta", False, None, "b", []),
        ("gamma", None, 30, "a", ["red"]),
        ("delta", True, None, None, []),
        ("Epsilon", False, 50, "c", ["green"]),
    ]
    repo = ctx.repo(Item)
    items = await repo.add_many([Item(name=n, active=a, score=s, kind=k) for n, a, s, k, _ in rows])
    await ctx.repo(Tag).add_many(
        [Tag(item_id=item.id, label=label) for item, row in zip(items, rows, strict=True) for label in row[4]]
    )
    await ctx.session.commit()
    return repo


def test_each_filter_by_itself_and_from_the_repository(db, is_async):
    async def body(ctx: Context) -> None:
        repo = await _seed(ctx)
        for label, item_filter, expected in CASES:
            statement = item_filter.append_to_statement(select(Item), Item)
            by_statement = sorted((await ctx.session.execute(statement)).scalars().all(), key=lambda i: i.name)
            assert [i.name for i in by_statement] == expected, f"{label}: append_to_statement"
            assert sorted(i.name for i in await repo.list(item_filter)) == expected, f"{label}: repository"
            assert await repo.count(item_filter) == len(expected), f"{label}: count"
            page, total = await repo.get_many_and_count(item_filter, LimitOffset(2, 0))
            assert (len(page), total) == (min(2, len(expected)), len(expected)), f"{label}: get_many_and_count"

    run(db, is_async, FILTER_TABLES, body)


def test_ordering_by_expressions_attributes_and_nulls(db, is_async):
    async def body(ctx: Context) -> None:
        repo = await _seed(ctx)

        async def names(*filters: Any, **kwargs: Any) -> list[str]:
            return [i.name for i in await repo.get_many(*filters, **kwargs)]

        assert await names(OrderBy(func.lower(Item.name), "asc")) == ["alpha", "Beta", "delta", "Epsilon", "gamma"]
        assert await names(OrderBy(func.lower(Item.name), "desc")) == ["gamma", "Epsilon", "delta", "Beta", "alpha"]
        by_name = OrderBy(func.lower(Item.name))
        assert await names(OrderBy(Item.score, nulls="last"), by_name) == ["alpha", "gamma", "Epsilon", "Beta", "delta"]
        assert await names(OrderBy("score", "asc", nulls="first"), by_name) == [
            "Beta",
            "delta",
            "alpha",
            "gamma",
            "Epsilon",
        ]
        assert await names(OrderBy("score", "desc", nulls="first"), by_name) == [
            "Beta",
            "delta",
            "Epsilon",
            "gamma",
            "alpha",
        ]
        assert await names(OrderBy(Item.score, "desc", nulls="last"), by_name) == [
            "Epsilon",
            "gamma",
            "alpha",
            "Beta",
            "delta",
        ]
        # the repository's order_by= takes SQLAlchemy ordering expressions too
        assert await names(order_by=func.lower(Item.name).desc()) == ["gamma", "Epsilon", "delta", "Beta", "alpha"]
        assert await names(NotNullFilter("score"), order_by=[Item.score.desc()]) == ["Epsilon", "gamma", "alpha"]
        assert await names(NotNullFilter("score"), order_by=[("score", True)]) == ["Epsilon", "gamma", "alpha"]

    run(db, is_async, FILTER_TABLES, body)


def test_prefer_any_is_one_array_parameter_on_postgresql_only():
    ids = CollectionFilter("id", [1, 2, 3], prefer_any=True)
    spelled = CollectionFilter("id", [1, 2, 3])
    statement = ids.append_to_statement(select(Item.id), Item)
    assert "= ANY (" in str(statement.compile(dialect=postgresql.dialect()))
    assert " IN (" in str(statement.compile(dialect=sqlite.dialect()))
    assert " IN (" in str(statement.compile(dialect=mysql.dialect()))
    # Advanced Alchemy's spelling: the flag as an argument of append_to_statement
    as_argument = spelled.append_to_statement(select(Item.id), Item, prefer_any=True)
    assert "= ANY (" in str(as_argument.compile(dialect=postgresql.dialect()))
    excluded = NotInCollectionFilter("id", [1], prefer_any=True).append_to_statement(select(Item.id), Item)
    assert "!= ALL (" in str(excluded.compile(dialect=postgresql.dialect()))


# The ignores: these pass what the annotations forbid, on purpose, to show the runtime check refuses it too
@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: BooleanFilter("active", "yes"), "BooleanFilter: value must be True, False or None"),  # type: ignore[arg-type]
        (lambda: ExistsFilter([], operator="xor"), "operator must be 'and' or 'or'"),  # type: ignore[arg-type]
        (lambda: FilterGroup("xor", []), "logical_operator must be and_ or or_"),
        (lambda: FilterGroup(or_, ["score"]), "is not a filter"),  # type: ignore[list-item]
        (lambda: MultiFilter({"not_": []}), "'not_' is not a group"),
        (lambda: MultiFilter({"and_": [{"type": "nope"}]}), "unknown filter type 'nope'"),
        (lambda: MultiFilter({"and_": [{"type": "null"}]}), "MultiFilter: null: "),
        (lambda: MultiFilter({"and_": [{"type": "boolean", "field_name": "active", "value": 3}]}), "value must be"),
        (
            lambda: MultiFilter({"and_": [{"type": "before_after", "field_name": "created_at", "after": "soon"}]}),
            "after must be an ISO 8601",
        ),
        (lambda: OrderBy("score", nulls="middle"), "nulls must be 'first', 'last' or None"),  # type: ignore[arg-type]
    ],
)
def test_bad_filters_are_refused_when_built(make: Any, message: str) -> None:
    with pytest.raises(FilterError, match=message):
        make()


def test_bad_fields_and_misplaced_filters_are_refused_when_applied() -> None:
    with pytest.raises(FilterError, match="RtItemModel has no field 'colour'"):
        NullFilter("colour").append_to_statement(select(Item), Item)
    with pytest.raises(FilterError, match="OrderBy sorts or pages"):
        FilterGroup(and_, [OrderBy("score")]).append_to_statement(select(Item), Item)
    with pytest.raises(FilterError, match="RtItemModel has no field 'colour'"):
        MultiFilter({"or_": [{"type": "not_null", "field_name": "colour"}]}).append_to_statement(select(Item), Item)
    assert datetime.date(2020, 1, 1) < datetime.date.today()  # the ISO-date cases above rely on a sane clock
    with pytest.raises(FilterError, match="before must be a date"):
        BeforeAfter("created_at", before="2020")  # type: ignore[arg-type]
