"""Benchmark dbops' repository against Advanced Alchemy's and plain SQLAlchemy Core, in one run.

    uv run --all-extras python bench/repository.py                      # SQLite file, modest sizes (< 2 min)
    uv run --all-extras python bench/repository.py --rows 100000 --upsert-rows 10000 --queries 200   # the issue's
    uv run --all-extras python bench/repository.py --url postgresql+psycopg://postgres@127.0.0.1/bench

Advanced Alchemy is installed only in the benchmark's environment: without it importable, the script re-runs
itself under ``uv run --with advanced-alchemy``. Each contender gets its own table of the same shape
(uuid id, name, value, created_at, updated_at) in the same database, and its own session.

- add_many: insert ``--rows`` model instances (construction not timed); Core: ``insert()`` executemany of
  ready-made dicts of the same values (construction not timed; Core fills in the id and timestamp defaults).
  dbops and Core run ``--repeat`` times, interleaved, and the best run counts; Advanced Alchemy runs once.
- list_and_count: ``--queries`` pages of 20 with a search filter, ordering and limit/offset, plus the total.
- upsert_many: ``--upsert-rows`` instances, half updating existing rows, half new.
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
        "--repeat", type=int, default=3, help="runs of the cheaper measurements; the best counts (default 3)"
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

    # -- add_many --------------------------------------------------------------------------------------
    # dbops and Core run --repeat times, interleaved, into emptied tables (the best counts); Advanced Alchemy,
    # several times slower, once. Building the instances and rows is not timed.
    def ours_add(items: list[OurItem]) -> None:
        with Session(engine, expire_on_commit=False) as session:
            OurRepo(session=session).add_many(items)
            session.commit()

    def core_add(rows: list[dict[str, Any]]) -> None:
        with engine.begin() as connection:
            connection.execute(insert(core_table), rows)

    ours_items: list[OurItem] = []
    ours_times: list[float] = []
    core_times: list[float] = []
    for _ in range(args.repeat):
        with engine.begin() as connection:
            connection.execute(OurItem.__table__.delete())
            connection.execute(core_table.delete())
        ours_items = [OurItem(name=f"item {i:07d}", value=i) for i in range(n)]
        # Core fills in the table's Python-side defaults (id, created_at, updated_at) itself, as in an app.
        core_rows = [{"name": f"item {i:07d}", "value": i} for i in range(n)]
        ours_times.append(timed(functools.partial(ours_add, ours_items)))
        core_times.append(timed(functools.partial(core_add, core_rows)))

    aa_items = [AAItem(name=f"item {i:07d}", value=i) for i in range(n)]

    def aa_add() -> None:
        with Session(engine, expire_on_commit=False) as session:
            AARepo(session=session).add_many(aa_items)
            session.commit()

    results.append((f"add_many {n:,} rows", min(ours_times), timed(aa_add), min(core_times)))

    # -- list_and_count ------------------------------------------------------------------------------------
    def lister(repo_type: Any, filter_module: Any) -> Callable[[], None]:
        def run() -> None:
            with Session(engine) as session:
                repo = repo_type(session=session)
                for q in range(args.queries):
                    items, total = repo.list_and_count(
                        filter_module.SearchFilter("name", "item 00", ignore_case=True),
                        filter_module.OrderBy("value", "desc"),
                        filter_module.LimitOffset(20, (q * 20) % 2000),
                    )
                    assert len(items) == 20 and total > 0

        return run

    # Interleaved runs, the best of each counts: a loaded machine slows whichever runs at the wrong moment.
    ours_times: list[float] = []
    aa_times: list[float] = []
    for _ in range(args.repeat):
        ours_times.append(timed(lister(OurRepo, filters)))
        aa_times.append(timed(lister(AARepo, aa_filters)))
    ours_best, aa_best = min(ours_times), min(aa_times)
    results.append((f"list_and_count x{args.queries} (search+order+page)", ours_best, aa_best, None))

    # -- upsert_many ---------------------------------------------------------------------------------------
    m = min(args.upsert_rows, n * 2)
    half = m // 2
    ours_ids = [item.id for item in ours_items[:half]]
    aa_ids = [item.id for item in aa_items[:half]]
    ours_upserts = [OurItem(id=i, name=f"renamed {k}", value=-k) for k, i in enumerate(ours_ids)]
    ours_upserts += [OurItem(name=f"new {k}", value=k) for k in range(m - half)]
    aa_upserts = [AAItem(id=i, name=f"renamed {k}", value=-k) for k, i in enumerate(aa_ids)]
    aa_upserts += [AAItem(name=f"new {k}", value=k) for k in range(m - half)]

    def ours_upsert() -> None:
        with Session(engine, expire_on_commit=False) as session:
            stored = OurRepo(session=session).upsert_many(ours_upserts)
            session.commit()
            assert len(stored) == m

    def aa_upsert() -> None:
        with Session(engine, expire_on_commit=False) as session:
            stored = AARepo(session=session).upsert_many(aa_upserts)
            session.commit()
            assert len(stored) == m

    results.append((f"upsert_many {m:,} rows (half new)", timed(ours_upsert), timed(aa_upsert), None))

    with Session(engine) as session:
        assert OurRepo(session=session).count() == AARepo(session=session).count() == n + (m - half)

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
