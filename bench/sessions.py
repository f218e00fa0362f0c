"""Expired-session cleanup on PostgreSQL: `dbops sessions cleanup` (batched) vs one `DELETE ... < now()`.

Every run starts from the same table: a template database is seeded once (ROWS sessions, half of them
expired, scattered through the table, indexes built row by row as an app builds them), and each run gets a
file-level copy of it (`CREATE DATABASE ... TEMPLATE`), so both contenders see the same rows in the same
pages. Before each run the copy is read into shared buffers (pg_prewarm, or scans when it is missing) and a
CHECKPOINT is taken, so both start warm and both write the same full-page images. Runs are interleaved
(ABBA order across rounds); the best of --repeat runs is compared, medians are shown too.

During every run a reader in a separate process (a web app is never in the cron job's process; in one
process the two would mostly measure Python's GIL) does what a web app does: `get` a random session through
the sync backend and, when it has expired, `set` it again (a returning visitor logging back in, which must
wait for a row the delete holds). Its latency percentiles cover the requests that overlap each run. By default
it runs flat out, back to back: the harshest case for the batched cleanup on a small box, since the reader
then takes a core (itself and its server process) exactly while the cleanup lets it run, whereas the single
DELETE blocks it. --reader-rate N paces it like app traffic (N requests a second, each timed from when it
was due, so time spent queued behind a blocked request counts).

Contenders: the single `DELETE` (psycopg, autocommit); dbops' cleanup engine (what the command runs, timed
from connect to the last commit); and the `dbops sessions cleanup --url` command as a process, whose figure
adds the interpreter's start-up and imports.

Targets (issue 5): cleanup total <= 1.5x the single DELETE; reader p99 < 250 ms throughout the cleanup.

    uv run --all-extras python bench/sessions.py                  # 500,000 rows (250,000 expired)
    uv run --all-extras python bench/sessions.py --rows 2000000   # the issue's size

Set DBOPS_BENCH_PG (default postgresql+psycopg://postgres@127.0.0.1:5432/postgres) to pick the server; scratch
databases are created and dropped.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from litestar.middleware.session.server_side import ServerSideSessionConfig
from litestar_dbops.session import SQLAlchemySyncSessionBackend
from sqlalchemy.engine import make_url

from dbops.config import EngineConfig, SQLAlchemySyncConfig
from dbops.sessions import SessionModelMixin, SessionTable, cleanup

ROOT = Path(__file__).resolve().parent.parent
TABLE = "bench_sessions"


class BenchSession(SessionModelMixin):
    __tablename__ = TABLE


SEED = """
INSERT INTO bench_sessions (id, session_id, data, expires_at, created_at, updated_at)
SELECT gen_random_uuid(), 's' || g, convert_to('{"user": ' || g || '}', 'UTF8'),
       CASE WHEN g %% 2 = 0 THEN now() - interval '1 hour' + make_interval(secs => g / 1000.0)
            ELSE now() + interval '1 day' + make_interval(secs => g / 1000.0) END,
       now(), now()
FROM generate_series(1, %(rows)s) AS g
"""


# -- the reader (its own process) -------------------------------------------------------------------------


async def reader_loop(url: str, rows: int, rate: float) -> list[tuple[float, float]]:
    """Session gets (and re-logins of expired ones) until stdin closes; (monotonic start, seconds) each.

    ``rate`` 0: back to back, as fast as it goes. Otherwise ``rate`` requests a second on a fixed schedule,
    each timed from when it was due, so a request held up behind a blocked one counts its wait too."""
    stop = threading.Event()

    def wait_for_eof() -> None:
        sys.stdin.read()
        stop.set()

    threading.Thread(target=wait_for_eof, daemon=True).start()
    config = SQLAlchemySyncConfig(connection_string=url, engine_config=EngineConfig(pool_size=2))
    backend = SQLAlchemySyncSessionBackend(ServerSideSessionConfig(max_age=86400), config, BenchSession)
    rng = random.Random(5)
    timings: list[tuple[float, float]] = []
    due = time.monotonic()
    try:
        while not stop.is_set():
            session_id = f"s{rng.randint(1, rows)}"
            if rate > 0:
                due += 1.0 / rate
                if (delay := due - time.monotonic()) > 0:
                    await asyncio.sleep(delay)
                begun = due
            else:
                begun = time.monotonic()
            if await backend.get(session_id) is None:
                await backend.set(session_id, b'{"user": "back"}')
            timings.append((begun, time.monotonic() - begun))
            if len(timings) == 50:
                print("ready", flush=True)  # warm: pool filled, statements cached
    finally:
        config.dispose()
    return timings


class Reader:
    """The reader process: started before a run, stopped after it."""

    def __init__(self, url: str, rows: int, rate: float) -> None:
        self.process = subprocess.Popen(
            [sys.executable, __file__, "--reader", url, "--rows", str(rows), "--reader-rate", str(rate)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        if self.process.stdout.readline().strip() != "ready":
            raise RuntimeError("the reader did not start")

    def finish(self) -> list[tuple[float, float]]:
        out, _ = self.process.communicate(timeout=120)
        return [(begun, seconds) for begun, seconds in json.loads(out)]


# -- runs ---------------------------------------------------------------------------------------------------


@dataclass
class Contender:
    name: str
    run: Callable[[str], int]  # database URL (psycopg form) -> rows deleted
    seconds: list[float] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    deleted: list[int] = field(default_factory=list)


def single_delete(url: str) -> int:
    with psycopg.connect(url, autocommit=True) as conn:
        return conn.execute(f"DELETE FROM {TABLE} WHERE expires_at < now()").rowcount


def engine_cleanup(batch_size: int) -> Callable[[str], int]:
    def run(url: str) -> int:
        config = SQLAlchemySyncConfig(connection_string=sqlalchemy_url(url))
        try:
            [result] = cleanup(config, tables=[SessionTable(TABLE)], batch_size=batch_size)
        finally:
            config.dispose()
        return result.deleted

    return run


def command_env(cache: Path) -> dict[str, str]:
    """The command's environment: bytecode cached (in ``cache``), as an installed dbops has it, even where the
    environment turns caching off (PYTHONDONTWRITEBYTECODE would make every run compile its imports)."""
    env = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
    return {**env, "PYTHONPATH": str(ROOT), "PYTHONPYCACHEPREFIX": str(cache)}


def command_cleanup(batch_size: int, env: dict[str, str]) -> Callable[[str], int]:
    def run(url: str) -> int:
        argv = ["sessions", "cleanup", "--url", sqlalchemy_url(url), "--table", TABLE, "--format", "json"]
        completed = subprocess.run(
            [sys.executable, "-m", "dbops", *argv, "--batch-size", str(batch_size)],
            capture_output=True,
            text=True,
            check=True,
            env=env,
        )
        deleted: int = json.loads(completed.stdout)["deleted"]
        return deleted

    return run


def sqlalchemy_url(url: str) -> str:
    return url.replace("postgresql://", "postgresql+psycopg://", 1)


def seed_template(admin: str, server: str, template: str, rows: int) -> None:
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{template}"')
    from sqlalchemy import create_engine

    url = f"{server}/{template}"
    engine = create_engine(sqlalchemy_url(url))
    BenchSession.__table__.create(engine)  # type: ignore[attr-defined]
    engine.dispose()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(SEED, {"rows": rows})
        conn.execute(f"VACUUM ANALYZE {TABLE}")


def fresh_copy(admin: str, server: str, template: str, name: str) -> str:
    """A file-level copy of the template, read into shared buffers, after a checkpoint."""
    with psycopg.connect(admin, autocommit=True) as conn:
        version = conn.info.server_version
        strategy = " STRATEGY FILE_COPY" if version >= 150000 else ""
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"{strategy}')
    url = f"{server}/{name}"
    with psycopg.connect(url, autocommit=True) as conn:
        relations = [TABLE] + [
            row[0] for row in conn.execute("SELECT indexname FROM pg_indexes WHERE tablename = %s", (TABLE,))
        ]
        try:
            conn.execute("CREATE EXTENSION IF NOT EXISTS pg_prewarm")
            for relation in relations:
                conn.execute("SELECT pg_prewarm(%s)", (relation,))
        except psycopg.Error:  # no pg_prewarm on this server: scans warm the table and the expiry index
            conn.execute(f"SELECT count(*) FROM {TABLE}")
            conn.execute(f"SELECT count(*) FROM {TABLE} WHERE expires_at < now()")
        conn.execute("CHECKPOINT")
    return url


def measure(contender: Contender, url: str, rows: int, rate: float) -> None:
    reader = Reader(sqlalchemy_url(url), rows, rate)
    started = time.monotonic()
    try:
        deleted = contender.run(url)
    finally:
        ended = time.monotonic()
        timings = reader.finish()
    contender.seconds.append(ended - started)
    contender.deleted.append(deleted)
    # every request that overlaps the run, including one that waited through all of it
    contender.latencies += [seconds for begun, seconds in timings if begun < ended and begun + seconds > started]


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=1000, method="inclusive")[round(q * 1000) - 1]


def report(contenders: list[Contender], loads: list[tuple[float, float, float]]) -> None:
    ms = 1000.0
    base = contenders[0]
    rows_out: list[tuple[str, list[float] | list[int], str]] = [
        ("best seconds", [min(c.seconds) for c in contenders], "{:.2f}"),
        ("median seconds", [statistics.median(c.seconds) for c in contenders], "{:.2f}"),
        ("ratio (best)", [min(c.seconds) / min(base.seconds) for c in contenders], "{:.2f}x"),
        (
            "ratio (median)",
            [statistics.median(c.seconds) / statistics.median(base.seconds) for c in contenders],
            "{:.2f}x",
        ),
        ("reader p50 ms", [percentile(c.latencies, 0.5) * ms for c in contenders], "{:,.1f}"),
        ("reader p99 ms", [percentile(c.latencies, 0.99) * ms for c in contenders], "{:,.1f}"),
        ("reader max ms", [max(c.latencies) * ms for c in contenders], "{:,.1f}"),
        ("reader requests", [len(c.latencies) for c in contenders], "{:,}"),
    ]
    width = 18
    print(f"\n{'':<18}" + "".join(f"{c.name:>{width}}" for c in contenders))
    for label, values, fmt in rows_out:
        print(f"{label:<18}" + "".join(f"{fmt.format(value):>{width}}" for value in values))
    print(
        "\nall runs, seconds: " + "; ".join(f"{c.name} " + " ".join(f"{s:.2f}" for s in c.seconds) for c in contenders)
    )
    for contender in contenders[1:]:
        print(
            f"{contender.name} deleted {min(contender.deleted):,} to {max(contender.deleted):,} rows per run "
            "(sessions revived by the reader stay)"
        )
    print("reader latencies are pooled over all runs of each contender")
    print(
        "load average (1, 5, 15 min) before: {:.2f} {:.2f} {:.2f}, after: {:.2f} {:.2f} {:.2f}".format(
            *loads[0], *loads[1]
        )
    )
    ours = contenders[1]
    # Each round runs every contender back to back, so a round's ratio compares runs under similar load.
    paired = [mine / theirs for mine, theirs in zip(ours.seconds, base.seconds, strict=True)]
    print("dbops cleanup / single DELETE per round: " + " ".join(f"{ratio:.2f}" for ratio in paired))
    ratio = min(ours.seconds) / min(base.seconds)
    p99 = percentile(ours.latencies, 0.99) * ms
    verdict = {True: "yes", False: "NO"}
    print(
        f"dbops cleanup {ratio:.2f}x single DELETE, best of each (target <= 1.5x): {verdict[ratio <= 1.5]}; "
        f"median round {statistics.median(paired):.2f}x; reader p99 {p99:.0f} ms (target < 250): {verdict[p99 < 250]}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=500_000, help="session rows, half expired (issue: 2000000)")
    parser.add_argument("--batch-size", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each, interleaved; the best is compared")
    parser.add_argument(
        "--reader-rate",
        type=float,
        default=0.0,
        metavar="N",
        help="the reader's requests per second on a fixed schedule (default 0: back to back, flat out)",
    )
    parser.add_argument("--reader", metavar="URL", help=argparse.SUPPRESS)  # the reader process
    args = parser.parse_args()
    if args.reader:
        timings = asyncio.run(reader_loop(args.reader, args.rows, args.reader_rate))
        sys.stdout.write(json.dumps(timings))
        return

    server_url = make_url(os.environ.get("DBOPS_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"))
    admin = server_url.set(drivername="postgresql").render_as_string(hide_password=False)
    server = admin.rsplit("/", 1)[0]
    prefix = f"dbops_bench_sessions_{uuid.uuid4().hex[:8]}"
    template = f"{prefix}_template"
    cache = tempfile.TemporaryDirectory(prefix="dbops-bench-pycache-")
    env = command_env(Path(cache.name))
    contenders = [
        Contender("single DELETE", single_delete),
        Contender("dbops cleanup", engine_cleanup(args.batch_size)),
        Contender("dbops command", command_cleanup(args.batch_size, env)),
    ]
    loads = [os.getloadavg()]
    print(
        f"PostgreSQL, {args.rows:,} sessions ({args.rows // 2:,} expired), batch size {args.batch_size}, "
        f"best of {args.repeat} interleaved runs each; reader "
        + (f"paced at {args.reader_rate:g} requests/s" if args.reader_rate > 0 else "flat out")
    )
    try:
        seed_template(admin, server, template, args.rows)
        # a first, unmeasured command run fills the bytecode cache (a dry run: the template stays as it is)
        warm_up = ["sessions", "cleanup", "--url", sqlalchemy_url(f"{server}/{template}"), "--dry-run"]
        subprocess.run([sys.executable, "-m", "dbops", *warm_up], env=env, check=True, capture_output=True)
        for round_ in range(args.repeat):
            for contender in contenders if round_ % 2 == 0 else contenders[::-1]:
                name = f"{prefix}_run"
                measure(contender, fresh_copy(admin, server, template, name), args.rows, args.reader_rate)
                with psycopg.connect(admin, autocommit=True) as conn:
                    conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
    finally:
        cache.cleanup()
        with psycopg.connect(admin, autocommit=True) as conn:
            for name in (f"{prefix}_run", template):
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    loads.append(os.getloadavg())
    report(contenders, loads)


if __name__ == "__main__":
    main()
