"""What every benchmark reports beside its own table: one row per comparison, for ``bench/run.py``'s summary.

Each script calls ``record(...)`` for every dbops-vs-peer figure it prints. When ``bench/run.py`` runs it, the
rows go (as JSON lines) to the file named by ``DBOPS_BENCH_ROWS``, and the runner prints them all as one
table: the work, dbops' time, the peer and its time, the ratio, the target, dbops' peak RSS, whether
``.pyc`` files were present, and the load average when the figure was taken (a shared 2-core machine makes
figures wander: the load average says how quiet the run was).
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

ROWS_FILE = "DBOPS_BENCH_ROWS"

# Child processes must find (and keep) compiled bytecode: with PYTHONDONTWRITEBYTECODE set (as in this
# environment) every cold start would recompile SQLAlchemy and Alembic, seconds that are not the work measured.
ENV = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}

_PEAK_RSS = (
    "import resource, subprocess, sys\n"
    "subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)\n"
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)\n"
)


@dataclass
class Row:
    area: str
    work: str
    dbops_seconds: float
    peer: str
    peer_seconds: float
    target: float | None
    dbops_rss_mb: float | None
    pyc: str
    load_average: float

    @property
    def ratio(self) -> float:
        return self.dbops_seconds / self.peer_seconds if self.peer_seconds else float("inf")


def pyc_present() -> str:
    """'yes' when dbops' and SQLAlchemy's modules have bytecode for this interpreter, else 'no'."""
    for name in ("dbops.cli.app", "sqlalchemy.engine.base"):
        spec = importlib.util.find_spec(name)
        if spec is None or spec.origin is None:
            continue
        cached = importlib.util.cache_from_source(spec.origin)
        if not Path(cached).exists():
            return "no"
    return "yes"


def peak_rss_mb(argv: list[str], cwd: Path) -> float:
    """Peak RSS (MB) of one run of ``argv`` (as a grandchild, so this process's own memory doesn't count)."""
    done = subprocess.run(
        [sys.executable, "-c", _PEAK_RSS, *argv], cwd=cwd, env=ENV, capture_output=True, text=True, check=True
    )
    return float(done.stdout.strip())


def record(
    area: str,
    work: str,
    dbops_seconds: float,
    peer: str,
    peer_seconds: float,
    *,
    target: float | None = None,
    dbops_rss_mb: float | None = None,
) -> Row:
    """Note one comparison (for ``bench/run.py``'s summary table) and return it."""
    row = Row(
        area=area,
        work=work,
        dbops_seconds=dbops_seconds,
        peer=peer,
        peer_seconds=peer_seconds,
        target=target,
        dbops_rss_mb=dbops_rss_mb,
        pyc=pyc_present(),
        load_average=round(os.getloadavg()[0], 2),
    )
    path = os.environ.get(ROWS_FILE)
    if path:
        with open(path, "a", encoding="utf-8") as stream:
            stream.write(json.dumps(asdict(row)) + "\n")
    return row


def read_rows(path: Path) -> list[Row]:
    if not path.exists():
        return []
    return [Row(**json.loads(line)) for line in path.read_text().splitlines() if line.strip()]


def summary_table(rows: list[Row]) -> str:
    """The runner's one table, in Markdown (pasteable into the README)."""
    lines = [
        "| area | work | dbops | peer | peer time | ratio | target | dbops peak RSS | .pyc | load avg |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        target = f"<= {row.target:g}x" if row.target is not None else ""
        met = "" if row.target is None else (" ✓" if row.ratio <= row.target else " ✗")
        rss = f"{row.dbops_rss_mb:.0f} MB" if row.dbops_rss_mb is not None else ""
        lines.append(
            f"| {row.area} | {row.work} | {row.dbops_seconds:.3g} s | {row.peer} | {row.peer_seconds:.3g} s"
            f" | {row.ratio:.2f}x{met} | {target} | {rss} | {row.pyc} | {row.load_average:.1f} |"
        )
    return "\n".join(lines)
