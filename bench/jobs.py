"""Benchmark ``dump-data --jobs N`` / ``load-data --jobs N`` against ``pg_dump -j N -Fd`` / ``pg_restore -j N``.

Four tables of the book shape (``bench/data.py``), ``--rows`` rows in all, so N readers have work side by
side (one table is always read by one reader). Each figure is a subprocess measured like ``bench/data.py``
does (wall time, peak RSS of the child), in the same run:

- dump: ``dbops dump-data --jobs N`` vs ``pg_dump -Fd -j N --data-only`` vs one ``psql`` streaming every
  table's ``\\copy (select row_to_json(t) … order by id)`` in turn (what ``--jobs 1`` does, by the server);
- load: ``dbops load-data --jobs N`` vs ``pg_restore -j N --data-only --disable-triggers`` (of that
  ``pg_dump``; a data-only parallel restore doesn't order tables by foreign key, so it needs the triggers off)
  vs one ``psql`` running ``\\copy … from`` per table in turn.

    uv run --all-extras python bench/jobs.py                    # 100k rows, N = 1, 2, 4
    uv run --all-extras python bench/jobs.py --rows 1000000 --jobs 1 2 4 8

The load average (1 minute) is printed before and after: on a shared 2-core machine it decides the figures.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bench import data
else:  # run as a script: bench/ is on sys.path (it is not a package)
    import data

ENV, PG, WARM_UP, dbops, measure, psql = data.ENV, data.PG, data.WARM_UP, data.dbops, data.measure, data.psql
from bench.report import record  # noqa: E402  (importable once data put the repository on sys.path)

TABLES = 4

SETTINGS = """
import sqlalchemy as sa
from dbops import EngineConfig, SQLAlchemySyncConfig

metadata = sa.MetaData()
sa.Table("author", metadata, sa.Column("id", sa.Uuid, primary_key=True), sa.Column("name", sa.String(100)))
for number in range({tables}):
    sa.Table(
        f"book{{number}}",
        metadata,
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("price", sa.Numeric(10, 2)),
        sa.Column("meta", sa.JSON),
        sa.Column("author_id", sa.Uuid, sa.ForeignKey("author.id"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
db = SQLAlchemySyncConfig(connection_string={url!r}, metadata=metadata, engine_config=EngineConfig(pool_size=16))
"""


def cpu_seconds(command: list[str], cwd: Path) -> float:
    """User + system CPU time of one more run of ``command`` (the dbops process alone, not the server)."""
    import resource

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(command, cwd=cwd, check=True, capture_output=True, env=ENV)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime


def load_average() -> str:
    return f"{os.getloadavg()[0]:.1f}"


def create(url: str, rows: int) -> None:
    statements = ["CREATE TABLE author (id uuid PRIMARY KEY, name varchar(100));"]
    statements.append("INSERT INTO author SELECT gen_random_uuid(), 'author ' || i FROM generate_series(1, 1000) i;")
    for number in range(TABLES):
        statements.append(
            f"CREATE TABLE book{number} (id uuid PRIMARY KEY, title varchar(200) NOT NULL, price numeric(10,2),"
            " meta json, author_id uuid NOT NULL REFERENCES author(id), created_at timestamptz NOT NULL,"
            " updated_at timestamptz NOT NULL);"
            f"INSERT INTO book{number} SELECT gen_random_uuid(), 'title ' || i, (i % 100000) / 100.0,"
            " json_build_object('i', i, 'tags', json_build_array('a', 'b'), 'ok', i % 2 = 0),"
            " a.ids[1 + i % 1000], now() - i * interval '1 second', now() - i * interval '1 millisecond'"
            f" FROM generate_series(1, {rows // TABLES}) i, (SELECT array_agg(id ORDER BY id) AS ids FROM author) a;"
        )
    psql(url, "".join(statements))
    psql(url, "VACUUM ANALYZE")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000, help=f"rows in all, over {TABLES} tables")
    parser.add_argument("--jobs", type=int, nargs="+", default=[1, 2, 4], help="the N values to measure")
    parser.add_argument("--repeat", type=int, default=1, help="run each command N times, report the best time")
    args = parser.parse_args()
    data.REPEAT = max(1, args.repeat)
    if shutil.which("pg_dump") is None or shutil.which("pg_restore") is None:
        raise SystemExit("pg_dump / pg_restore not installed")
    subprocess.run([sys.executable, "-c", WARM_UP], check=True, env=ENV)
    name = f"jobs_bench_{uuid.uuid4().hex[:8]}"
    psql(f"{PG}/postgres", f'CREATE DATABASE "{name}"')
    url = f"{PG}/{name}"
    books = [f"book{number}" for number in range(TABLES)]
    empty = f"TRUNCATE author, {', '.join(books)}"
    try:
        with tempfile.TemporaryDirectory(prefix="jobs-bench-") as folder:
            work = Path(folder)
            sync_url = url.replace("postgresql://", "postgresql+psycopg://")
            (work / "settings.py").write_text(SETTINGS.format(tables=TABLES, url=sync_url))
            create(url, args.rows)
            print(
                f"{args.rows:,} rows over {TABLES} tables (+1,000 authors), PostgreSQL; load average {load_average()}"
            )
            stream = "".join(
                f"\\copy (select row_to_json(t) from {table} t order by id) to '{work / table}.json'\n"
                for table in ["author", *books]
            )
            (work / "stream-dump.sql").write_text(stream)
            stream_dump = measure(["psql", url, "-qf", str(work / "stream-dump.sql")], cwd=work)
            dumps: dict[int, tuple[dict[str, float], dict[str, float], float]] = {}
            for jobs in args.jobs:
                target = work / f"pg-{jobs}"
                command = dbops("dump-data", "--dir", f"dbops-{jobs}", "--jobs", str(jobs))
                ours = measure(command, cwd=work)
                peer = measure(
                    ["pg_dump", "-Fd", "-j", str(jobs), "--data-only", "-f", str(target), url],
                    cwd=work,
                    prepare=lambda target=target: shutil.rmtree(target, ignore_errors=True),  # type: ignore[misc]
                )
                dumps[jobs] = (ours, peer, cpu_seconds(command, work))
            for table in ["author", *books]:
                psql(url, f"\\copy {table} to '{work / table}.copy'")
            (work / "stream-load.sql").write_text(
                "".join(f"\\copy {table} from '{work / table}.copy'\n" for table in ["author", *books])
            )
            stream_load = measure(
                ["psql", url, "-qf", str(work / "stream-load.sql")], cwd=work, prepare=lambda: psql(url, empty)
            )
            loads: dict[int, tuple[dict[str, float], dict[str, float], float]] = {}
            for jobs in args.jobs:
                command = dbops("load-data", "--dir", f"dbops-{args.jobs[0]}", "--jobs", str(jobs))
                ours = measure(command, cwd=work, prepare=lambda: psql(url, empty))
                restore = ["pg_restore", "-j", str(jobs), "--data-only", "--disable-triggers", "-d", url]
                peer = measure([*restore, str(work / f"pg-{args.jobs[0]}")], cwd=work, prepare=lambda: psql(url, empty))
                psql(url, empty)
                loads[jobs] = (ours, peer, cpu_seconds(command, work))
            print(f"single-stream psql: dump {stream_dump['seconds']:.2f} s, load {stream_load['seconds']:.2f} s\n")
            print(
                "| work | N | dbops s | peer s | ratio | dbops vs its N=1 | peer vs its N=1 | dbops CPU s"
                " (of 2 cores x wall) | dbops RSS MB |"
            )
            print("|---|---|---|---|---|---|---|---|---|")
            for work_name, peer_name, results, single in (
                ("dump", "pg_dump -Fd -j N", dumps, stream_dump),
                ("load", "pg_restore -j N", loads, stream_load),
            ):
                first = results[args.jobs[0]]
                for jobs, (ours, peer, cpu) in results.items():
                    record(
                        "jobs",
                        f"PostgreSQL {work_name} --jobs {jobs} ({args.rows:,} rows in {TABLES} tables)",
                        ours["seconds"],
                        peer_name.replace("N", str(jobs)),
                        peer["seconds"],
                        dbops_rss_mb=ours["rss_mb"],
                    )
                    print(
                        f"| {work_name} vs {peer_name} | {jobs} | {ours['seconds']:.2f} | {peer['seconds']:.2f}"
                        f" | {ours['seconds'] / peer['seconds']:.2f}x | {first[0]['seconds'] / ours['seconds']:.2f}x"
                        f" | {first[1]['seconds'] / peer['seconds']:.2f}x | {cpu:.2f} ({2 * ours['seconds']:.1f})"
                        f" | {ours['rss_mb']:.0f} |"
                    )
                print(
                    f"| {work_name} vs single-stream psql | 1 | {first[0]['seconds']:.2f} | {single['seconds']:.2f}"
                    f" | {first[0]['seconds'] / single['seconds']:.2f}x | | | | |"
                )
            print(f"\nload average after: {load_average()} ({os.cpu_count()} cores)")
    finally:
        psql(f"{PG}/postgres", f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
