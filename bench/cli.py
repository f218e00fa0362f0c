"""CLI speed vs Alembic, measured in the same run: ``uv run --all-extras python bench/cli.py``.

1. ``dbops --help`` vs ``alembic --help`` (target: ratio <= 0.5);
2. a no-op ``dbops upgrade`` (already at head) vs ``alembic upgrade head`` on the same database, with the same
   revisions (target: ratio <= 0.7);
3. ``dbops show-current-revision`` / ``heads`` / ``history`` vs ``alembic current`` / ``heads`` / ``history``
   (target: ratio <= 0.7).

Both tools run as their console scripts from this environment; each figure is the median of ``--repeat``
runs. ``--url`` benchmarks another database (a sync URL, e.g. postgresql+psycopg://postgres@127.0.0.1/x).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BIN = Path(sys.executable).parent
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.report import ENV, peak_rss_mb, record  # noqa: E402

REVISION = '''"""step {n}"""
import sqlalchemy as sa
from alembic import op

revision = "r{n:03d}"
down_revision = {down!r}
branch_labels = None
depends_on = None


def upgrade():
    op.create_table("t{n:03d}", sa.Column("id", sa.Integer, primary_key=True), sa.Column("name", sa.String(50)))


def downgrade():
    op.drop_table("t{n:03d}")
'''


def timed(argv: list[str], cwd: Path, repeat: int) -> float:
    subprocess.run(argv, cwd=cwd, env=ENV, check=True, capture_output=True)  # warm caches, bytecode
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(argv, cwd=cwd, env=ENV, check=True, capture_output=True)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def setup(folder: Path, url: str, revisions: int) -> None:
    (folder / "settings.py").write_text(
        "from dbops import SQLAlchemySyncConfig, AlembicSyncConfig\n"
        f"db = SQLAlchemySyncConfig(connection_string={url!r}, "
        "alembic_config=AlembicSyncConfig(script_location='migrations'))\n"
    )
    subprocess.run([BIN / "dbops", "--config", "settings.py:db", "init"], cwd=folder, check=True, capture_output=True)
    # Alembic's own project (generic template, alembic.ini) lives in a folder of its own.
    (folder / "plain").mkdir()
    subprocess.run([BIN / "alembic", "init", "alembic"], cwd=folder / "plain", check=True, capture_output=True)
    ini = (folder / "plain" / "alembic.ini").read_text()
    (folder / "plain" / "alembic.ini").write_text(
        ini.replace("driver://user:pass@localhost/dbname", url.replace("%", "%%"))
    )
    for n in range(1, revisions + 1):
        text = REVISION.format(n=n, down=f"r{n - 1:03d}" if n > 1 else None)
        (folder / "migrations" / "versions" / f"r{n:03d}.py").write_text(text)
        (folder / "plain" / "alembic" / "versions" / f"r{n:03d}.py").write_text(text)
    subprocess.run(
        [BIN / "dbops", "--config", "settings.py:db", "upgrade"], cwd=folder, check=True, capture_output=True
    )
    # Alembic keeps its own version table (alembic_version) in the same database; its tables already exist.
    subprocess.run([BIN / "alembic", "stamp", "head"], cwd=folder / "plain", check=True, capture_output=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--revisions", type=int, default=10, help="revisions in the migrations directory")
    parser.add_argument("--url", help="sync database URL (default: a temporary SQLite file)")
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="dbops-bench-"))
    try:
        url = args.url or f"sqlite:///{folder / 'bench.sqlite'}"
        setup(folder, url, args.revisions)
        pairs = [
            ("--help", ["--help"], ["--help"], 0.5),
            ("no-op upgrade", ["--config", "settings.py:db", "upgrade"], ["upgrade", "head"], 0.7),
            *(
                (ours, ["--config", "settings.py:db", ours], [theirs], 0.7)
                for ours, theirs in (("show-current-revision", "current"), ("heads", "heads"), ("history", "history"))
            ),
        ]
        database = "SQLite" if not args.url else args.url.split("+")[0].split(":")[0]
        rows = []
        for name, ours_args, theirs_args, target in pairs:
            ours_argv = [str(BIN / "dbops"), *ours_args]
            ours_s = timed(ours_argv, folder, args.repeat)
            theirs_s = timed([str(BIN / "alembic"), *theirs_args], folder / "plain", args.repeat)
            rows.append((name, ours_s, theirs_s, target))
            record(
                "cli",
                f"{database}: dbops {' '.join(ours_args[2:] if ours_args[0] == '--config' else ours_args)}",
                ours_s,
                f"alembic {' '.join(theirs_args)}",
                theirs_s,
                target=target,
                dbops_rss_mb=peak_rss_mb(ours_argv, folder),
            )
    finally:
        shutil.rmtree(folder, ignore_errors=True)

    print(
        f"database: {'sqlite (temporary file)' if not args.url else args.url.split('@')[-1]}; "
        f"{args.revisions} revisions; median of {args.repeat} runs"
    )
    print(f"{'benchmark':<24}{'dbops s':>10}{'alembic s':>11}{'ratio':>8}{'target':>8}  ok")
    for name, ours, theirs, target in rows:
        ratio = ours / theirs
        print(
            f"{name:<24}{ours:>10.3f}{theirs:>11.3f}{ratio:>8.2f}{target:>8.2f}  {'yes' if ratio <= target else 'NO'}"
        )


if __name__ == "__main__":
    main()
