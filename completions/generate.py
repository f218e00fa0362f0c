"""Regenerate the shell completion scripts from the CLI: ``uv run python completions/generate.py``.

Each file is ``_DBOPS_COMPLETE=source_<shell> dbops``; tests/completions checks the checked-in copies are current.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
FILES = {"bash": "dbops.bash", "zsh": "dbops.zsh", "fish": "dbops.fish"}


def generate(shell: str) -> str:
    env = {**os.environ, "_DBOPS_COMPLETE": f"source_{shell}"}
    completed = subprocess.run(
        [sys.executable, "-m", "dbops"], env=env, capture_output=True, text=True, check=True
    )
    return completed.stdout.strip() + "\n"


def main() -> None:
    for shell, name in FILES.items():
        (HERE / name).write_text(generate(shell))
        print(f"wrote completions/{name}")


if __name__ == "__main__":
    main()
