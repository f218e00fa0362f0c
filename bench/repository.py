"""Benchmark dbops' repository against Advanced Alchemy's and plain SQLAlchemy Core, in one run.

    uv run --all-extras python bench/repository.py                      # SQLite file, modest sizes (< 2 min)
    uv run --all-extras python bench/repository.py --rows 100000 --upsert-rows 10000 --queries 200   # the issue's
    uv run --all-extras python bench/repository.py --url postgresql+psycopg://postgres@127.0.0.1/bench

Advanced Alchemy is installed only in the benchmark's environment: without it importable, the script re-runs
itself under ``uv run --with advanced-alchemy``. Each contender gets its own table of the same shape
(uuid id, name, value, created_at, updated_at) in the same database, and its own session.

- add_many: insert ``--rows`` model instances (construction not timed); Core: ``insert()`` executemany of
  ready-made dicts of the same values (construction not timed; Core fills in the id and timestamp defaults).
- list_and_count: ``--queries`` pages of 20 with a search filter, ordering and limit/offset, plus the total.
- upsert_many: ``--upsert-rows`` instances, half updating existing rows, half new.

Every contender runs ``--repeat`` times (default 3) in every measurement, interleaved (one run of each per round,
the order rotating), and each one's best run counts: the same treatment for all.
"""

from __future__ import annotations

import argparse
import functools
import os
import shutil
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

try:
    import advanced_alchemy  # noqa: F401
except ImportError:
    if os.environ.get("DBOPS_BENCH_REEXEC") != "1" and shutil.which("uv"):
        os.environ["DBOPS_BENCH_REEXEC"] = "1"
        command = ["uv", "run", "--all-extras", "--with", "advanced-alchemy", "python", __file__, *sys.argv[1:]]
        os.execvp("uv", command)
    raise SystemExit(
        "advanced-alchemy is not installed: run `uv run --with advanced-alchemy python bench/repository.py`"
    ) from None

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from advanced_alchemy import base as aa_base
from advanced_alchemy import filters as aa_filters
from advanced_alchemy.repository import SQLAlchemySyncRepository as AARepository
from sqlalchemy import Column, Integer, MetaData, String, Table, create_engine, insert
from sqlalchemy.orm import Mapped, Session, mapped_column

from dbops import base, filters
from dbops.repository import SQLAlchemySyncRepository
from dbops.types import GUID, DateTimeUTC, utcnow


class OurItem(base.UUIDAuditBase):
    __tablename__ = "bench_dbops_item"

    name: Mapped[str] = mapped_column(String(60))
    value: Mapped[int]


class AAItem(aa_base.UUIDAuditBase):
    __tablename__ = "bench_aa_item"

    name: Mapped[str] = mapped_column(String(60))
    value: Mapped[int]


class OurRepo(SQLAlchemySyncRepository[OurItem]):
    model_type = OurItem


class AARepo(AARepository[AAItem]):
    model_type = AAItem


def timed(fn: Callable[[], Any]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", help="database URL (default: a temporary SQLite file)")
    parser.add_argument("--rows", type=int, default=20_000, help="rows for add_many (default 20000; issue: 100000)")
    parser.add_argument("--upsert-rows", type=int, default=2_000, help="upsert_many rows (default 2000; issue: 10000)")
    parser.add_argument("--queries", type=int, default=50, help="list_and_count calls (default 50; issue: 200)")
    parser.add_argument(
        "--repeat", type=int, default=3, help="runs of every measurement for every contender; the best counts"
    )
    args = parser.parse_args()

    folder = None if args.url else tempfile.mkdtemp(prefix="dbops-bench-")
    url = args.url or f"sqlite:///{folder}/bench.sqlite"
    try:
        run(args, url)
    finally:
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)


def run(args: argparse.Namespace, url: str) -> None:
    engine = create_engine(url)
    tables = [OurItem.__table__, AAItem.__table__]
    core_table = Table(
        "bench_core_item",
        MetaData(),
        Column("id", GUID(), primary_key=True, default=uuid.uuid4),
        Column("name", String(60), nullable=False),
        Column("value", Integer, nullable=False),
        Column("created_at", DateTimeUTC(), nullable=False, default=utcnow),
        Column("updated_at", DateTimeUTC(), nullable=False, default=utcnow),
    )
    for table in (*tables, core_table):
        table.drop(engine, checkfirst=True)
        table.create(engine)

    results: list[tuple[str, float, float, float | None]] = []
    n = args.rows

    # Warm up every contender (mapper configuration, statement compilation), then start from empty tables.
    with Session(engine) as session:
        OurRepo(session=session).add_many([OurItem(name="warm-up", value=0)])
        AARepo(session=session).add_many([AAItem(name="warm-up", value=0)])
        session.execute(insert(core_table), [{"name": "warm-up", "value": 0}])
        session.rollback()

    # Every measurement: --repeat rounds; in each round every contender runs once, the order rotating from round to
    # round (a loaded machine slows whichever runs at the wrong moment), and each contender's best round counts.
    def rounds(contenders: dict[str, Callable[[int], Callable[[], Any]]]) -> dict[str, float]:
        """``contenders[name](round)`` prepares a round (not timed) and returns the timed call."""
        times: dict[str, list[float]] = {name: [] for name in contenders}
        names = list(contenders)
        for index in range(args.repeat):
            order = names[index % len(names) :] + names[: index % len(names)]
            for name in order:
                times[name].append(timed(contenders[name](index)))
        return {name: min(values) for name, values in times.items()}

    # -- add_many --------------------------------------------------------------------------------------
    # Into emptied tables; building the instances and rows is not timed.
    last: dict[str, list[Any]] = {}

    def adder(key: str, model: Any, repo_type: Any) -> Callable[[int], Callable[[], None]]:
        def prepare(_: int) -> Callable[[], None]:
            with engine.begin() as connection:
                connection.execute(model.__table__.delete())
            items = last[key] = [model(name=f"item {i:07d}", value=i) for i in range(n)]

            def call() -> None:
                with Session(engine, expire_on_commit=False) as session:
                    repo_type(session=session).add_many(items)
                    session.commit()

            return call

        return prepare

    def add_core(_: int) -> Callable[[], None]:
        with engine.begin() as connection:
            connection.execute(core_table.delete())
        # Core fills in the table's Python-side defaults (id, created_at, updated_at) itself, as in an app.
        rows = [{"name": f"item {i:07d}", "value": i} for i in range(n)]

        def call() -> None:
            with engine.begin() as connection:
                connection.execute(insert(core_table), rows)

        return call

    best = rounds({"ours": adder("ours", OurItem, OurRepo), "aa": adder("aa", AAItem, AARepo), "core": add_core})
    results.append((f"add_many {n:,} rows", best["ours"], best["aa"], best["core"]))

    # -- list_and_count ------------------------------------------------------------------------------------
    def lister(repo_type: Any, filter_module: Any) -> Callable[[int], Callable[[], None]]:
        def run(_: int) -> None:
            with Session(engine) as session:
                repo = repo_type(session=session)
                for q in range(args.queries):
                    items, total = repo.list_and_count(
                        filter_module.SearchFilter("name", "item 00", ignore_case=True),
                        filter_module.OrderBy("value", "desc"),
                        filter_module.LimitOffset(20, (q * 20) % 2000),
                    )
                    assert len(items) == 20 and total > 0

        return lambda index: functools.partial(run, index)

    best = rounds({"ours": lister(OurRepo, filters), "aa": lister(AARepo, aa_filters)})
    results.append((f"list_and_count x{args.queries} (search+order+page)", best["ours"], best["aa"], None))

    # -- upsert_many ---------------------------------------------------------------------------------------
    # Each round: half of the rows rename rows add_many wrote, half are new (so every round is "half new").
    m = min(args.upsert_rows, n * 2)
    half = m // 2

    def upserter(key: str, model: Any, repo_type: Any) -> Callable[[int], Callable[[], None]]:
        def prepare(index: int) -> Callable[[], None]:
            existing = [item.id for item in last[key][:half]]
            batch = [model(id=i, name=f"renamed {index} {k}", value=-k) for k, i in enumerate(existing)]
            batch += [model(name=f"new {index} {k}", value=k) for k in range(m - half)]

            def call() -> None:
                with Session(engine, expire_on_commit=False) as session:
                    stored = repo_type(session=session).upsert_many(batch)
                    session.commit()
                    assert len(stored) == m

            return call

        return prepare

    best = rounds({"ours": upserter("ours", OurItem, OurRepo), "aa": upserter("aa", AAItem, AARepo)})
    results.append((f"upsert_many {m:,} rows (half new)", best["ours"], best["aa"], None))

    with Session(engine) as session:
        assert OurRepo(session=session).count() == AARepo(session=session).count() == n + args.repeat * (m - half)

    engine.dispose()

    print(f"dialect: {engine.dialect.name}   (times in seconds; ratio < 1 means dbops is faster)")
    header = f"{'operation':<44} {'dbops':>8} {'adv-alchemy':>12} {'core':>8} {'dbops/AA':>9} {'dbops/core':>11}"
    print(header)
    print("-" * len(header))
    for name, ours, aa, core in results:
        core_text = f"{core:8.3f}" if core is not None else f"{'-':>8}"
        core_ratio = f"{ours / core:11.2f}" if core else f"{'-':>11}"
        print(f"{name:<44} {ours:8.3f} {aa:12.3f} {core_text} {ours / aa:9.2f} {core_ratio}")


if __name__ == "__main__":
    main()
