"""Run every dbops benchmark in one go and print each one's table of ratios against its peers.

    uv run --all-extras python bench/run.py               # every area, modest sizes
    uv run --all-extras python bench/run.py cli data      # only some areas
    uv run --all-extras python bench/run.py --full        # the sizes the issues name (slow)

Each area's script (``bench/<area>.py``) measures dbops and the peer it is compared with in the same run and
prints its own table; this runner then prints every script's comparisons as one table (``bench/report.py``:
dbops, the peer, the ratio, the target, peak RSS, whether ``.pyc`` files were present, the load average) and a
summary of which scripts ran and how long they took. A script that fails is reported, and the runner exits 1.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from bench.report import ROWS_FILE, read_rows, summary_table  # noqa: E402

NOT_BENCHMARKS = {"run", "report"}

# The flags that make each script run at the size its issue names.
FULL_SIZE: dict[str, list[str]] = {
    "cli": ["--repeat", "10"],
    "repository": ["--rows", "100000", "--upsert-rows", "10000", "--queries", "200"],
    "data": ["--rows", "1000000"],
    "jobs": ["--rows", "1000000", "--jobs", "1", "2", "4"],
    "sessions": ["--rows", "2000000"],
    "storage": ["--files", "2000", "--big-mb", "1024"],
}


def main() -> None:
    scripts = sorted(path.stem for path in HERE.glob("*.py") if path.stem not in NOT_BENCHMARKS)
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("areas", nargs="*", help=f"areas to run (default: {scripts})")
    parser.add_argument("--full", action="store_true", help="use the sizes the issues name")
    args = parser.parse_args()
    summary: list[tuple[str, str, float]] = []
    rows_file = Path(tempfile.mkdtemp(prefix="dbops-bench-rows-")) / "rows.jsonl"
    env = {**os.environ, ROWS_FILE: str(rows_file)}
    for area in args.areas or scripts:
        command = [sys.executable, str(HERE / f"{area}.py"), *(FULL_SIZE.get(area, []) if args.full else [])]
        print(f"\n=== bench/{area}.py {' '.join(command[2:])}".rstrip(), flush=True)
        started = time.perf_counter()
        returncode = subprocess.run(command, check=False, env=env).returncode
        result = "ok" if returncode == 0 else f"FAILED (exit {returncode})"
        summary.append((area, result, time.perf_counter() - started))
    rows = read_rows(rows_file)
    if rows:
        print("\n=== every comparison, one table\n")
        print(summary_table(rows))
    print("\n| benchmark | result | seconds |\n|---|---|---|")
    for area, result, seconds in summary:
        print(f"| {area} | {result} | {seconds:.1f} |")
    sys.exit(0 if all(result == "ok" for _, result, _ in summary) else 1)


if __name__ == "__main__":
    main()
