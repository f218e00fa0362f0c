"""Readers during a blocked migration, with and without ``--ddl-lock-timeout``: ``uv run --all-extras python
bench/ddl_timeout.py [--blocker-seconds 30] [--url postgresql+psycopg://postgres@127.0.0.1:5432/postgres]``.

A session holds a lock on ``book`` (an open transaction that read it) for ``--blocker-seconds``; meanwhile
``dbops upgrade`` adds a column and readers query the table in a loop. Plain (no timeout), the ALTER waits for
the whole blocker and the readers queue behind it; with ``--ddl-lock-timeout 500ms --retries N`` each attempt
gives up after 0.5 s and the readers keep flowing (target: reader p99 < 1 s). Uses (and drops) a database
named ``lint_ddl_bench`` on the server of ``--url``.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import sqlalchemy as sa

BIN = Path(sys.executable).parent
NAME = "lint_ddl_bench"
REVISION = '''"""{message}"""
import sqlalchemy as sa
from alembic import op

revision = {revision!r}
down_revision = {down!r}
branch_labels = None
depends_on = None


def upgrade():
    {body}


def downgrade():
    pass
'''


def run(url: str, blocker_seconds: float, options: list[str]) -> tuple[float, float, float, int]:
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{NAME}" WITH (FORCE)'))
        connection.execute(sa.text(f'CREATE DATABASE "{NAME}"'))
    target = sa.engine.make_url(url).set(database=NAME).render_as_string(hide_password=False)
    engine = sa.create_engine(target, pool_size=6)
    waits: list[float] = []
    stop = threading.Event()
    try:
        with tempfile.TemporaryDirectory(prefix="lint_ddl_bench_") as scratch:
            folder = Path(scratch)
            versions = folder / "migrations" / "versions"
            versions.mkdir(parents=True)
            (folder / "migrations" / "env.py").write_text(
                "from dbops.migrations.environment import run_migrations\n\nrun_migrations()\n"
            )
            create = 'op.create_table("book", sa.Column("id", sa.BigInteger, primary_key=True))'
            (versions / "r1.py").write_text(REVISION.format(message="book", revision="r1", down=None, body=create))
            add = 'op.add_column("book", sa.Column("isbn", sa.Text))'
            (versions / "r2.py").write_text(REVISION.format(message="isbn", revision="r2", down="r1", body=add))
            (folder / "settings.py").write_text(
                "from dbops import SQLAlchemySyncConfig, AlembicSyncConfig\n"
                f"db = SQLAlchemySyncConfig(connection_string={target!r}, "
                "alembic_config=AlembicSyncConfig(script_location='migrations'))\n"
            )
            dbops = [str(BIN / "dbops"), "--config", "settings.py:db", "upgrade"]
            subprocess.run([*dbops, "r1"], cwd=folder, check=True, capture_output=True)
            holding = threading.Event()

            def block() -> None:
                with engine.connect() as connection:
                    connection.execute(sa.text("SELECT count(*) FROM book"))
                    holding.set()
                    time.sleep(blocker_seconds)
                    connection.rollback()

            def read() -> None:
                while not stop.is_set():
                    started = time.perf_counter()
                    with engine.connect() as connection:
                        connection.execute(sa.text("SELECT count(*) FROM book"))
                    waits.append(time.perf_counter() - started)
                    time.sleep(0.05)

            blocker = threading.Thread(target=block)
            readers = [threading.Thread(target=read) for _ in range(4)]
            blocker.start()
            holding.wait()
            for thread in readers:
                thread.start()
            started = time.perf_counter()
            completed = subprocess.run([*dbops, *options], cwd=folder, capture_output=True, text=True, check=False)
            elapsed = time.perf_counter() - started
            stop.set()
            for thread in [blocker, *readers]:
                thread.join()
    finally:
        engine.dispose()
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{NAME}" WITH (FORCE)'))
        admin.dispose()
    p99 = statistics.quantiles(waits, n=100)[98] if len(waits) > 1 else max(waits)
    return p99, max(waits), elapsed, completed.returncode


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--blocker-seconds", type=float, default=30)
    parser.add_argument("--url", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    retries = str(int(args.blocker_seconds) + 5)
    print("| upgrade | reader p99 s | reader max s | upgrade s | exit |\n|---|---|---|---|---|")
    for label, options in (
        ("plain (no lock timeout)", []),
        (f"--ddl-lock-timeout 500ms --retries {retries}", ["--ddl-lock-timeout", "500ms", "--retries", retries]),
    ):
        p99, worst, elapsed, code = run(args.url, args.blocker_seconds, options)
        print(f"| {label} | {p99:.2f} | {worst:.2f} | {elapsed:.1f} | {code} |", flush=True)


if __name__ == "__main__":
    main()
