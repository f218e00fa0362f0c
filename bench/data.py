"""Benchmark dump-data / load-data against the databases' own tools, measured in the same run.

Table (the issue's shape): book(uuid pk, varchar, numeric, json, fk uuid → author, two timestamptz).

    uv run --all-extras python bench/data.py                # 100k rows, < 2 minutes
    uv run --all-extras python bench/data.py --rows 1000000 # the issue's full size

Every command (ours and the peers') runs as a subprocess under a tiny wrapper that reports the child's
wall time and peak RSS (``resource.getrusage(RUSAGE_CHILDREN).ru_maxrss``), so the figures are comparable.
The peers do the same work as dbops (issue 18): dumps write JSON lines in primary-key order, loads use the
database's bulk loader.

- PostgreSQL: ``psql \\copy (select row_to_json(t) from book t order by id) to file``; ``psql \\copy book from``.
- SQLite: ``sqlite3 -json "select * from book order by id"``; ``sqlite3 .import --csv``.
- MariaDB: ``mariadb -N -B -e "SELECT JSON_OBJECT(...) FROM book ORDER BY id"``; ``mariadb < dump.sql``
  (``mariadb-dump``'s output).

Each row of the table also says whether bytecode (``.pyc``) was present for dbops and SQLAlchemy and the
1-minute load average when the row was measured. A peer binary that is missing is skipped with a note.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.report import record

ROOT = Path(__file__).resolve().parent.parent
PG = os.environ.get("DBOPS_BENCH_PG", "postgresql://postgres@127.0.0.1:5432")
MY_HOST, MY_PORT = "127.0.0.1", "3306"

SETTINGS = """
import sqlalchemy as sa
from sqlalchemy.dialects import mysql
from dbops import SQLAlchemySyncConfig

metadata = sa.MetaData()
ts = sa.DateTime(timezone=True).with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")
sa.Table("author", metadata, sa.Column("id", sa.Uuid, primary_key=True), sa.Column("name", sa.String(100)))
sa.Table(
    "book",
    metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column("title", sa.String(200), nullable=False),
    sa.Column("price", sa.Numeric(10, 2)),
    sa.Column("meta", sa.JSON),
    sa.Column("author_id", sa.Uuid, sa.ForeignKey("author.id"), nullable=False),
    sa.Column("created_at", ts, nullable=False),
    sa.Column("updated_at", ts, nullable=False),
)
db = SQLAlchemySyncConfig(connection_string={url!r}, metadata=metadata)
"""

# An installed package has its bytecode compiled; don't let PYTHONDONTWRITEBYTECODE make every run compile
# SQLAlchemy from source (seconds of CPU that are not dump/load work).
ENV = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
WARM_UP = (
    "import dbops.cli.app, dbops.cli.data, dbops.data.dump, dbops.data.load, sqlalchemy.dialects.postgresql,"
    " psycopg, pymysql, rich.progress"
)

WRAPPER = (
    "import json, resource, subprocess, sys, time\n"
    "start = time.perf_counter()\n"
    "done = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)\n"
    "code = done.returncode\n"
    "sys.stderr.write(done.stderr.decode(errors='replace')[-2000:] if code else '')\n"
    "elapsed = time.perf_counter() - start\n"
    "rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024\n"
    "print(json.dumps({'code': code, 'seconds': elapsed, 'rss_mb': rss}))\n"
)


REPEAT = 1


def measure(
    argv: list[str],
    *,
    cwd: Path,
    stdin_path: Path | None = None,
    stdout_path: Path | None = None,
    prepare: Callable[[], object] | None = None,
) -> dict[str, float]:
    """Run ``argv`` as a grandchild and return its wall time and peak RSS (MB); ``prepare`` runs before each."""
    if stdin_path or stdout_path:  # redirections through sh, measured as the shell's children
        command = " ".join(_quote(a) for a in argv)
        if stdin_path:
            command += f" < {_quote(str(stdin_path))}"
        if stdout_path:
            command += f" > {_quote(str(stdout_path))}"
        argv = ["sh", "-c", command]
    best: dict[str, float] = {}
    for _ in range(REPEAT):  # best time of REPEAT runs (a shared machine is noisy), largest RSS
        if prepare is not None:
            prepare()
        completed = subprocess.run(
            [sys.executable, "-c", WRAPPER, *argv], cwd=cwd, capture_output=True, text=True, check=True, env=ENV
        )
        result: dict[str, float] = json.loads(completed.stdout)
        if result["code"] != 0:
            raise SystemExit(f"failed: {' '.join(argv)}\n{completed.stderr}")
        best = {
            "seconds": min(result["seconds"], best.get("seconds", math.inf)),
            "rss_mb": max(result["rss_mb"], best.get("rss_mb", 0.0)),
            "load": max(os.getloadavg()[0], best.get("load", 0.0)),
        }
    return best


def _quote(text: str) -> str:
    import shlex

    return shlex.quote(text)


def bytecode_present() -> bool:
    """Whether the modules a dump and a load import have their ``.pyc`` (else each run compiles them)."""
    import importlib.util

    for name in ("dbops.data.dump", "dbops.data.load", "sqlalchemy.engine.base"):
        spec = importlib.util.find_spec(name)
        if spec is None or spec.origin is None or not Path(importlib.util.cache_from_source(spec.origin)).exists():
            return False
    return True


def dbops(*args: str) -> list[str]:
    return [sys.executable, "-m", "dbops", "-q", "--config", "settings.py:db", *args]


def psql(url: str, sql: str) -> None:
    subprocess.run(["psql", url, "-v", "ON_ERROR_STOP=1", "-qc", sql], check=True, capture_output=True)


def bench_postgres(rows: int, work: Path) -> list[tuple[str, str, dict[str, float], dict[str, float]]]:
    name = f"dbops_bench_{uuid.uuid4().hex[:8]}"
    psql(f"{PG}/postgres", f'CREATE DATABASE "{name}"')
    url = f"{PG}/{name}"
    try:
        (work / "settings.py").write_text(SETTINGS.format(url=url.replace("postgresql://", "postgresql+psycopg://")))
        psql(
            url,
            "CREATE TABLE author (id uuid PRIMARY KEY, name varchar(100));"
            "CREATE TABLE book (id uuid PRIMARY KEY, title varchar(200) NOT NULL, price numeric(10,2), meta json,"
            " author_id uuid NOT NULL REFERENCES author(id), created_at timestamptz NOT NULL,"
            " updated_at timestamptz NOT NULL);"
            "INSERT INTO author SELECT gen_random_uuid(), 'author ' || i FROM generate_series(1, 1000) i;"
            f"INSERT INTO book SELECT gen_random_uuid(), 'title ' || i, (i % 100000) / 100.0,"
            " json_build_object('i', i, 'tags', json_build_array('a', 'b'), 'ok', i % 2 = 0),"
            " a.ids[1 + i % 1000], now() - i * interval '1 second', now() - i * interval '1 millisecond'"
            f" FROM generate_series(1, {rows}) i, (SELECT array_agg(id ORDER BY id) AS ids FROM author) a;",
        )
        psql(url, "VACUUM ANALYZE")
        results = []
        ours = measure(dbops("dump-data", "--dir", "pg-dump"), cwd=work)
        peer = measure(
            [
                "psql",
                url,
                "-qc",
                f"\\copy (select row_to_json(t) from book t order by id) to '{work / 'pg-peer.json'}'",
            ],
            cwd=work,
        )
        results.append(("postgresql", "dump vs \\copy row_to_json order by", ours, peer))
        psql(url, f"\\copy book to '{work / 'book.copy'}'")
        ours = measure(
            dbops("load-data", "--dir", "pg-dump"), cwd=work, prepare=lambda: psql(url, "TRUNCATE book, author")
        )
        peer = measure(
            ["psql", url, "-qc", f"\\copy book from '{work / 'book.copy'}'"],
            cwd=work,
            prepare=lambda: psql(url, "TRUNCATE book"),
        )
        results.append(("postgresql", "load vs psql \\copy from", ours, peer))
        return results
    finally:
        psql(f"{PG}/postgres", f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def bench_sqlite(rows: int, work: Path) -> list[tuple[str, str, dict[str, float], dict[str, float]]]:
    if shutil.which("sqlite3") is None:
        print("note: sqlite3 not installed; SQLite figures skipped")
        return []
    import sqlite3

    path = work / "bench.sqlite"
    (work / "settings.py").write_text(SETTINGS.format(url=f"sqlite:///{path}"))
    schema = (
        "CREATE TABLE author (id CHAR(32) PRIMARY KEY, name VARCHAR(100));"
        "CREATE TABLE book (id CHAR(32) PRIMARY KEY, title VARCHAR(200) NOT NULL, price NUMERIC(10,2), meta JSON,"
        " author_id CHAR(32) NOT NULL REFERENCES author(id), created_at DATETIME NOT NULL,"
        " updated_at DATETIME NOT NULL);"
    )
    connection = sqlite3.connect(path)
    connection.executescript(schema)
    authors = [uuid.uuid4().hex for _ in range(1000)]
    connection.executemany("INSERT INTO author VALUES (?, ?)", [(a, f"author {i}") for i, a in enumerate(authors)])
    connection.executemany(
        "INSERT INTO book VALUES (?, ?, ?, ?, ?, ?, ?)",
        (
            (
                uuid.uuid4().hex,
                f"title {i}",
                (i % 100000) / 100,
                json.dumps({"i": i, "tags": ["a", "b"], "ok": i % 2 == 0}),
                authors[i % 1000],
                f"2024-01-01 00:00:{i % 60:02d}.{i % 1000000:06d}",
                "2024-01-02 00:00:00.000000",
            )
            for i in range(rows)
        ),
    )
    connection.commit()
    connection.close()
    results = []
    ours = measure(dbops("dump-data", "--dir", "lite-dump"), cwd=work)
    peer = measure(
        ["sqlite3", "-json", str(path), "select * from book order by id"], cwd=work, stdout_path=work / "lite.json"
    )
    results.append(("sqlite", "dump vs sqlite3 -json order by", ours, peer))
    subprocess.run(
        ["sqlite3", str(path), ".mode csv", f".output {work / 'book.csv'}", "select * from book"], check=True
    )

    def clear(script: str) -> None:
        connection = sqlite3.connect(path)
        connection.executescript(script)
        connection.close()

    ours = measure(
        dbops("load-data", "--dir", "lite-dump"),
        cwd=work,
        prepare=lambda: clear("DELETE FROM book; DELETE FROM author;"),
    )
    peer = measure(
        ["sqlite3", str(path), f".import --csv {work / 'book.csv'} book"],
        cwd=work,
        prepare=lambda: clear("DELETE FROM book;"),
    )
    results.append(("sqlite", "load vs sqlite3 .import", ours, peer))
    return results


def mariadb_sql(sql: str, database: str | None = None) -> None:
    argv = ["mariadb", "-h", MY_HOST, "-P", MY_PORT, "-u", "root", "-e", sql]
    subprocess.run([*argv, database] if database else argv, check=True, capture_output=True)


def bench_mariadb(rows: int, work: Path) -> list[tuple[str, str, dict[str, float], dict[str, float]]]:
    if shutil.which("mariadb-dump") is None or shutil.which("mariadb") is None:
        print("note: mariadb / mariadb-dump not installed; MariaDB figures skipped")
        return []
    name = f"dbops_bench_{uuid.uuid4().hex[:8]}"
    mariadb_sql(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin")
    try:
        url = f"mysql+pymysql://root@{MY_HOST}:{MY_PORT}/{name}?charset=utf8mb4"
        (work / "settings.py").write_text(SETTINGS.format(url=url))
        mariadb_sql(
            "CREATE TABLE author (id UUID PRIMARY KEY, name VARCHAR(100));"
            "CREATE TABLE book (id UUID PRIMARY KEY, title VARCHAR(200) NOT NULL, price DECIMAL(10,2), meta JSON,"
            " author_id UUID NOT NULL REFERENCES author(id), created_at DATETIME(6) NOT NULL,"
            " updated_at DATETIME(6) NOT NULL);"
            "INSERT INTO author SELECT UUID(), CONCAT('author ', seq) FROM seq_1_to_1000;"
            "CREATE TEMPORARY TABLE ids (n INT PRIMARY KEY, id UUID)"
            " SELECT ROW_NUMBER() OVER (ORDER BY id) - 1 AS n, id FROM author;"
            "INSERT INTO book SELECT UUID(), CONCAT('title ', seq), (seq % 100000) / 100,"
            " JSON_OBJECT('i', seq, 'tags', JSON_ARRAY('a', 'b'), 'ok', seq % 2 = 0),"
            " (SELECT id FROM ids WHERE n = seq % 1000),"
            " NOW(6) - INTERVAL seq SECOND, NOW(6) - INTERVAL seq MICROSECOND"
            f" FROM seq_1_to_{rows};",
            name,
        )
        results = []
        ours = measure(dbops("dump-data", "--dir", "my-dump"), cwd=work)
        client = ["mariadb", "-h", MY_HOST, "-P", MY_PORT, "-u", "root"]
        as_json = (
            "SELECT JSON_OBJECT('id', id, 'title', title, 'price', price, 'meta', meta, 'author_id', author_id,"
            " 'created_at', created_at, 'updated_at', updated_at) FROM book ORDER BY id"
        )
        peer = measure([*client, "-N", "-B", "-e", as_json, name], cwd=work, stdout_path=work / "my-peer.json")
        results.append(("mariadb", "dump vs mariadb JSON_OBJECT order by", ours, peer))
        dump_argv = ["mariadb-dump", "-h", MY_HOST, "-P", MY_PORT, "-u", "root", "--single-transaction", name, "book"]
        subprocess.run(dump_argv, check=True, stdout=(work / "my.sql").open("wb"))
        ours = measure(
            dbops("load-data", "--dir", "my-dump"),
            cwd=work,
            prepare=lambda: mariadb_sql("SET FOREIGN_KEY_CHECKS=0; TRUNCATE book; TRUNCATE author;", name),
        )  # the peer's dump.sql drops and recreates the table itself
        peer = measure(
            ["mariadb", "-h", MY_HOST, "-P", MY_PORT, "-u", "root", name], cwd=work, stdin_path=work / "my.sql"
        )
        results.append(("mariadb", "load vs mariadb < dump.sql", ours, peer))
        return results
    finally:
        mariadb_sql(f"DROP DATABASE IF EXISTS `{name}`")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000, help="rows in the book table (issue: 1000000)")
    parser.add_argument("--only", choices=["postgresql", "sqlite", "mariadb"], action="append")
    parser.add_argument("--repeat", type=int, default=1, help="run each command N times, report the best time")
    args = parser.parse_args()
    global REPEAT
    REPEAT = max(1, args.repeat)
    chosen = args.only or ["postgresql", "sqlite", "mariadb"]
    subprocess.run([sys.executable, "-c", WARM_UP], check=True, env=ENV)
    print(f"{args.rows:,} rows in book (+1,000 authors); times in seconds, peak RSS in MB\n")
    pyc = "yes" if bytecode_present() else "no"
    header = (
        f"{'database':<11} {'operation':<38} {'dbops':>7} {'peer':>7} {'ratio':>6} {'dbops RSS':>10} {'peer RSS':>9}"
        f" {'.pyc':>5} {'load avg':>9}"
    )
    print(header)
    print("-" * len(header), flush=True)
    with tempfile.TemporaryDirectory(prefix="dbops-bench-") as folder:
        for dialect, runner in (("postgresql", bench_postgres), ("sqlite", bench_sqlite), ("mariadb", bench_mariadb)):
            if dialect not in chosen:
                continue
            work = Path(folder) / dialect
            work.mkdir()
            for name, label, ours, peer in runner(args.rows, work):
                ratio = ours["seconds"] / peer["seconds"] if peer["seconds"] else float("inf")
                operation, _, peer_label = label.partition(" vs ")
                record(
                    "data",
                    f"{name} {operation} ({args.rows:,} rows)",
                    ours["seconds"],
                    peer_label or "peer",
                    peer["seconds"],
                    target=1.5,
                    dbops_rss_mb=ours["rss_mb"],
                )
                print(
                    f"{name:<11} {label:<38} {ours['seconds']:>7.2f} {peer['seconds']:>7.2f} {ratio:>5.2f}x"
                    f" {ours['rss_mb']:>10.0f} {peer['rss_mb']:>9.0f} {pyc:>5} {max(ours['load'], peer['load']):>9.2f}",
                    flush=True,
                )


if __name__ == "__main__":
    main()
