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


# Installed on $fpath as _dbops, the zsh file is autoloaded by the first TAB, which runs the file's body once.
# Typer's script only registers its function there (right for `eval "$(... source_zsh)"`), so that first TAB
# would complete nothing; when autoloaded, the body completes at once instead.
ZSH_REGISTER = "compdef _dbops_completion dbops"
ZSH_AUTOLOAD = """# Autoloaded from $fpath as _dbops (the first TAB): complete now. Sourced: register the function.
if [[ "$funcstack[1]" == "_dbops" ]]; then
  _dbops_completion "$@"
else
  compdef _dbops_completion dbops
fi"""


def generate(shell: str) -> str:
    env = {**os.environ, "_DBOPS_COMPLETE": f"source_{shell}"}
    completed = subprocess.run(
        [sys.executable, "-m", "dbops"], env=env, capture_output=True, text=True, check=True
    )
    text = completed.stdout.strip()
    if shell == "zsh":
        if text.count(ZSH_REGISTER) != 1:
            raise SystemExit(f"typer's zsh script changed: expected one line {ZSH_REGISTER!r}")
        text = text.replace(ZSH_REGISTER, ZSH_AUTOLOAD)
    return text + "\n"


def main() -> None:
    for shell, name in FILES.items():
        (HERE / name).write_text(generate(shell))
        print(f"wrote completions/{name}")


if __name__ == "__main__":
    main()
