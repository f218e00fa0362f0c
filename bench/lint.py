"""Speed of the deploy-safety checks: ``uv run --all-extras python bench/lint.py``.

1. ``dbops lint`` of ``--revisions`` (default 50) revisions, rendered offline for PostgreSQL, MySQL and SQLite,
   compared with squawk (a compiled Rust linter) on the same SQL written out as files (target: dbops < 3 s);
2. ``dbops verify`` of ``--verify-revisions`` (default 500) revision files (target: < 0.5 s).

Each figure is the median of ``--repeat`` runs of the console script (a whole process: start-up included),
so it is what a CI job pays; CPU seconds are shown beside it, since a shared machine inflates wall clock.
An installed package has its bytecode compiled: so that this environment's ``PYTHONDONTWRITEBYTECODE`` does
not make every run compile SQLAlchemy and Alembic from source, the children run without it, after a warm-up.
The revisions mix what real projects hold: tables, columns, indexes, type changes, data fixes (op.execute).
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BIN = Path(sys.executable).parent
URLS = {
    "postgresql": "postgresql+psycopg://postgres@127.0.0.1:5432/lint_bench_never_connected",
    "mysql": "mysql+pymysql://root@127.0.0.1:3306/lint_bench_never_connected",
    "sqlite": "sqlite:///{folder}/lint_bench.sqlite",
}
SETTINGS = """
from dbops import SQLAlchemySyncConfig, AlembicSyncConfig
db = SQLAlchemySyncConfig(connection_string={url!r}, alembic_config=AlembicSyncConfig(script_location="migrations"))
"""
BODIES = [
    'op.create_table("t{n}", sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True), '
    'sa.Column("name", sa.String(50)), sa.Column("owner_id", sa.BigInteger))',
    'op.add_column("t{p}", sa.Column("note_{n}", sa.Text))',
    'op.create_index("ix_t{p}_name_{n}", "t{p}", ["name"])',
    'op.execute("UPDATE t{p} SET name = lower(name) WHERE name IS NOT NULL")',
    'op.alter_column("t{p}", "name", type_=sa.String(80), existing_type=sa.String(50))',
]


def write_project(folder: Path, url: str, count: int) -> None:
    (folder / "settings.py").write_text(SETTINGS.format(url=url))
    versions = folder / "migrations" / "versions"
    versions.mkdir(parents=True)
    (folder / "migrations" / "env.py").write_text(
        "from dbops.migrations.environment import run_migrations\n\nrun_migrations()\n"
    )
    table = 0
    for n in range(count):
        kind = n % len(BODIES)
        if kind == 0:
            table = n
        body = BODIES[kind].format(n=n, p=table)
        down = f"r{n - 1:04d}" if n else None
        (versions / f"r{n:04d}.py").write_text(
            f'"""step {n}"""\nimport sqlalchemy as sa\nfrom alembic import op\n\n'
            f"revision = 'r{n:04d}'\ndown_revision = {down!r}\nbranch_labels = None\ndepends_on = None\n\n\n"
            f"def upgrade():\n    {body}\n\n\ndef downgrade():\n    pass\n"
        )


ENV = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(command: list[str], cwd: Path, repeat: int, ok: tuple[int, ...] = (0, 1)) -> tuple[float, float]:
    """Median wall-clock and CPU seconds of ``command`` (CPU is what a shared, busy machine can't inflate)."""
    times, cpu = [], []
    subprocess.run(command, cwd=cwd, capture_output=True, check=False, env=ENV)  # warm-up: bytecode, disk cache
    for _ in range(repeat):
        started, cpu_started = time.perf_counter(), _children_cpu()
        completed = subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False, env=ENV)
        times.append(time.perf_counter() - started)
        cpu.append(_children_cpu() - cpu_started)
        if completed.returncode not in ok:
            sys.exit(f"{' '.join(command)} failed ({completed.returncode}): {completed.stderr.strip()[-500:]}")
    return statistics.median(times), statistics.median(cpu)


def squawk_files(folder: Path, count: int) -> Path:
    """The PostgreSQL SQL of every revision, one file each (what squawk lints), from ``upgrade --sql``."""
    out = subprocess.run(
        [str(BIN / "dbops"), "--config", "settings.py:db", "upgrade", "--sql"],
        cwd=folder,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    target = folder / "sql"
    target.mkdir()
    for index, part in enumerate(out.split("-- Running upgrade")[1:]):
        (target / f"{index:04d}.sql").write_text("-- Running upgrade" + part)
    return target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--revisions", type=int, default=50)
    parser.add_argument("--verify-revisions", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    rows: list[tuple[str, str, tuple[float, float], str]] = []
    with tempfile.TemporaryDirectory(prefix="lint_bench_") as scratch:
        root = Path(scratch)
        for dialect, url in URLS.items():
            folder = root / dialect
            folder.mkdir()
            write_project(folder, url.format(folder=folder), args.revisions)
            lint_time = timed([str(BIN / "dbops"), "--config", "settings.py:db", "lint"], folder, args.repeat)
            rows.append((f"dbops lint, {args.revisions} revisions", dialect, lint_time, "< 3 s"))
            if dialect == "postgresql" and shutil.which("squawk", path=str(BIN)):
                sql = squawk_files(folder, args.revisions)
                squawk = [str(BIN / "squawk"), "--assume-in-transaction", *map(str, sorted(sql.glob("*.sql")))]
                rows.append(
                    (
                        f"squawk, same {args.revisions} revisions as SQL",
                        dialect,
                        timed(squawk, folder, args.repeat),
                        "peer",
                    )
                )
        folder = root / "verify"
        folder.mkdir()
        write_project(folder, URLS["sqlite"].format(folder=folder), args.verify_revisions)
        verify = [str(BIN / "dbops"), "--config", "settings.py:db", "verify"]
        rows.append(
            (
                f"dbops verify, {args.verify_revisions} revisions",
                "any",
                timed(verify, folder, args.repeat, (0,)),
                "< 0.5 s",
            )
        )
        help_time = timed([str(BIN / "dbops"), "--help"], folder, args.repeat, (0,))
        rows.append(("dbops --help (process start-up, for scale)", "-", help_time, "-"))
    print("| what | dialect | wall s (median) | CPU s | target |\n|---|---|---|---|---|")
    for what, dialect, (seconds, cpu), target in rows:
        print(f"| {what} | {dialect} | {seconds:.2f} | {cpu:.2f} | {target} |")


if __name__ == "__main__":
    main()
