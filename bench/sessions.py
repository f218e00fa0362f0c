"""Expired-session cleanup on PostgreSQL: `dbops sessions cleanup` (batched) vs one `DELETE ... < now()`.

Both runs start from the same table (ROWS sessions, half of them expired, scattered through the table), and
both run with a concurrent reader doing what a web app does: `get` a random session through the sync
backend and, when it has expired, `set` it again (a returning visitor logging back in, which must wait for a
row the cleanup holds). Reported: total cleanup time, and the reader's latency percentiles during each.

Targets (issue 5): cleanup total <= 1.5x the single DELETE; reader p99 < 250 ms throughout the cleanup.

    uv run --all-extras python bench/sessions.py              # 500,000 rows (250,000 expired)
    uv run --all-extras python bench/sessions.py --rows 2000000   # the issue's size

Set DBOPS_BENCH_PG (default postgresql+psycopg://postgres@127.0.0.1:5432/postgres) to pick the server; a
scratch database is created and dropped.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

import psycopg
from litestar.middleware.session.server_side import ServerSideSessionConfig
from litestar_dbops.session import SQLAlchemySyncSessionBackend
from sqlalchemy.engine import make_url

from dbops.config import EngineConfig, SQLAlchemySyncConfig
from dbops.sessions import SessionModelMixin, SessionTable, cleanup


class BenchSession(SessionModelMixin):
    __tablename__ = "bench_sessions"


SEED = """
INSERT INTO bench_sessions (id, session_id, data, expires_at, created_at, updated_at)
SELECT gen_random_uuid(), 's' || g, convert_to('{"user": ' || g || '}', 'UTF8'),
       CASE WHEN g %% 2 = 0 THEN now() - interval '1 hour' + make_interval(secs => g / 1000.0)
            ELSE now() + interval '1 day' + make_interval(secs => g / 1000.0) END,
       now(), now()
FROM generate_series(1, %(rows)s) AS g
"""


@dataclass
class Reader:
    """Session gets (and re-logins of expired ones) in a loop on its own thread, timing each request."""

    url: str
    rows: int
    latencies: list[float] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    thread: threading.Thread | None = None

    def start(self) -> None:
        self.thread = threading.Thread(target=lambda: asyncio.run(self._loop()), daemon=True)
        self.thread.start()

    def finish(self) -> list[float]:
        self.stop.set()
        assert self.thread is not None
        self.thread.join()
        return self.latencies

    async def _loop(self) -> None:
        config = SQLAlchemySyncConfig(connection_string=self.url, engine_config=EngineConfig(pool_size=2))
        backend = SQLAlchemySyncSessionBackend(ServerSideSessionConfig(max_age=86400), config, BenchSession)
        rng = random.Random(5)
        try:
            while not self.stop.is_set():
                session_id = f"s{rng.randint(1, self.rows)}"
                started = time.perf_counter()
                if await backend.get(session_id) is None:
                    await backend.set(session_id, b'{"user": "back"}')
                self.latencies.append(time.perf_counter() - started)
        finally:
            config.dispose()


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    return (
        statistics.quantiles(values, n=1000, method="inclusive")[round(q * 1000) - 1] if len(values) > 1 else values[0]
    )


def measure(url: str, rows: int, run: Callable[[], object]) -> tuple[float, list[float]]:
    reader = Reader(url, rows)
    reader.start()
    time.sleep(0.5)  # the reader is warm before the delete starts
    before = len(reader.latencies)
    started = time.perf_counter()
    run()
    seconds = time.perf_counter() - started
    latencies = reader.finish()[before:]
    return seconds, latencies


def reset(admin: str, rows: int) -> None:
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS bench_sessions")
    from sqlalchemy import create_engine

    engine = create_engine(admin_sqlalchemy(admin))
    BenchSession.__table__.create(engine)  # type: ignore[attr-defined]
    engine.dispose()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(SEED, {"rows": rows})  # type: ignore[arg-type]
        conn.execute("VACUUM ANALYZE bench_sessions")
        conn.execute("CHECKPOINT")


def admin_sqlalchemy(url: str) -> str:
    return url.replace("postgresql://", "postgresql+psycopg://", 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=500_000, help="session rows, half expired (issue: 2000000)")
    parser.add_argument("--batch-size", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each, alternating; medians are reported")
    args = parser.parse_args()

    server = make_url(os.environ.get("DBOPS_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"))
    scratch = f"dbops_bench_sessions_{uuid.uuid4().hex[:8]}"
    plain = server.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{scratch}"')  # type: ignore[arg-type]
    admin = server.set(drivername="postgresql", database=scratch).render_as_string(hide_password=False)
    url = admin_sqlalchemy(admin)
    try:
        print(
            f"PostgreSQL, {args.rows:,} sessions ({args.rows // 2:,} expired), batch size {args.batch_size}, "
            f"median of {args.repeat} runs each"
        )

        def single_delete() -> None:
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute("DELETE FROM bench_sessions WHERE expires_at < now()")

        config = SQLAlchemySyncConfig(connection_string=url)
        deleted: list[int] = []

        def batched() -> None:
            [result] = cleanup(config, tables=[SessionTable("bench_sessions")], batch_size=args.batch_size)
            deleted.append(result.deleted)

        base_runs: list[tuple[float, list[float]]] = []
        ours_runs: list[tuple[float, list[float]]] = []
        for _ in range(args.repeat):
            reset(admin, args.rows)
            base_runs.append(measure(url, args.rows, single_delete))
            reset(admin, args.rows)
            ours_runs.append(measure(url, args.rows, batched))
        config.dispose()
        base_seconds = statistics.median(seconds for seconds, _ in base_runs)
        ours_seconds = statistics.median(seconds for seconds, _ in ours_runs)
        base_latencies = [value for _, values in base_runs for value in values]
        ours_latencies = [value for _, values in ours_runs for value in values]
    finally:
        with psycopg.connect(plain, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)')  # type: ignore[arg-type]

    ms = 1000.0
    table = [
        ("total seconds", base_seconds, ours_seconds, ours_seconds / base_seconds, "<= 1.5x"),
        ("reader p50 ms", percentile(base_latencies, 0.5) * ms, percentile(ours_latencies, 0.5) * ms, None, ""),
        ("reader p99 ms", percentile(base_latencies, 0.99) * ms, percentile(ours_latencies, 0.99) * ms, None, "< 250"),
        ("reader max ms", max(base_latencies) * ms, max(ours_latencies) * ms, None, ""),
        ("reader requests", len(base_latencies), len(ours_latencies), None, ""),
    ]
    print(f"\n{'':<18}{'single DELETE':>15}{'dbops cleanup':>15}{'ratio':>9}  target")
    for name, base, ours, ratio, target in table:
        ratio_text = f"{ratio:.2f}x" if ratio is not None else ""
        print(f"{name:<18}{base:>15,.1f}{ours:>15,.1f}{ratio_text:>9}  {target}")
    print(f"\ndbops cleanup deleted {min(deleted):,} to {max(deleted):,} rows per run (revived re-logins stay)")
    print("reader latencies are pooled over all runs of each")
    ratio_ok = ours_seconds <= 1.5 * base_seconds
    p99_ok = percentile(ours_latencies, 0.99) * ms < 250
    verdict = {True: "yes", False: "NO"}
    print(f"cleanup <= 1.5x single DELETE: {verdict[ratio_ok]}; reader p99 < 250 ms: {verdict[p99_ok]}")


if __name__ == "__main__":
    main()
