"""Run the dbops CLI in-process (fast) or as a real subprocess, and capture exit code, stdout and stderr."""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from dbops.cli.app import run


@dataclass
class CliResult:
    exit_code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def invoke(argv: Sequence[str], *, cwd: Path | None = None, env: dict[str, str] | None = None) -> CliResult:
    """Run ``dbops argv`` in this process."""
    out, err = io.StringIO(), io.StringIO()
    old_cwd = Path.cwd()
    old_env = dict(os.environ)
    try:
        if cwd is not None:
            os.chdir(cwd)
        if env:
            os.environ.update(env)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = run(list(argv))
    finally:
        os.chdir(old_cwd)
        os.environ.clear()
        os.environ.update(old_env)
    return CliResult(code, out.getvalue(), err.getvalue())


def invoke_process(
    argv: Sequence[str], *, cwd: Path | None = None, env: dict[str, str] | None = None, timeout: float = 120
) -> CliResult:
    """Run ``python -m dbops argv`` as a separate process (for concurrency and import tests)."""
    full_env = {**os.environ, **(env or {})}
    full_env.pop("DBOPS_TRACEBACK", None) if env is None or "DBOPS_TRACEBACK" not in env else None
    completed = subprocess.run(
        [sys.executable, "-m", "dbops", *argv],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    return CliResult(completed.returncode, completed.stdout, completed.stderr)
