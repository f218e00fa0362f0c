"""The checked-in completion scripts are what the CLI generates today, and completion itself works."""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT

_spec = importlib.util.spec_from_file_location("dbops_completions_generate", REPO_ROOT / "completions" / "generate.py")
assert _spec is not None and _spec.loader is not None
_generator = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_generator)
FILES: dict[str, str] = _generator.FILES
generate = _generator.generate


@pytest.mark.parametrize("shell", sorted(FILES))
def test_checked_in_completions_are_current(shell: str) -> None:
    path = REPO_ROOT / "completions" / FILES[shell]
    assert path.read_text() == generate(shell), f"{path} is stale: run `uv run python completions/generate.py`"


def test_zsh_script_starts_with_compdef() -> None:
    assert (REPO_ROOT / "completions" / "dbops.zsh").read_text().startswith("#compdef dbops\n")


# -- completion in real shells ------------------------------------------------------------------------------
# Each test installs the checked-in script the way the README says (its install lines, run in an empty home
# directory), starts the shell as a user would, and asks it to complete: the shell's own completion machinery
# runs our script, which runs `dbops` (a wrapper on PATH calling this interpreter).

CASES = [
    ("dbops down", "downgrade"),
    ("dbops upgrade --fo", "--format"),
    ("dbops sessions cl", "cleanup"),
    ("dbops load-data examples/ap", "examples/app.py"),  # FILE... completes file names (from the repository root)
]


def _need(program: str) -> str:
    path = shutil.which(program)
    if path is None:
        pytest.skip(f"{program} is not installed (apt-get install {program}; .ci/run installs it where it can)")
    return path


def _readme_install_lines() -> dict[str, str]:
    """The README's install line for each shell (the line after its ``# <shell>`` comment)."""
    text = (REPO_ROOT / "README.md").read_text()
    section = text[text.index("\n## Shell completions\n") :]
    block = re.search(r"```bash\n(.*?)```", section, flags=re.DOTALL)
    assert block is not None
    lines = block.group(1).splitlines()
    return {
        line.split()[1]: lines[index + 1]
        for index, line in enumerate(lines)
        if line.startswith("# ") and line.split()[1] in FILES
    }


@pytest.fixture
def home(tmp_path: Path) -> dict[str, str]:
    """An empty home directory with `dbops` on PATH; the environment to run a shell in."""
    home = tmp_path / "home"
    home.mkdir()
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    wrapper = bin_dir / "dbops"
    wrapper.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m dbops "$@"\n')
    wrapper.chmod(0o755)
    env = {
        key: value for key, value in os.environ.items() if not key.startswith(("_DBOPS", "ZDOTDIR", "XDG_", "BASH"))
    }
    return {**env, "HOME": str(home), "PATH": f"{bin_dir}{os.pathsep}{env['PATH']}", "TERM": "dumb"}


def _install(shell: str, env: dict[str, str]) -> None:
    line = _readme_install_lines()[shell]
    completed = subprocess.run(["bash", "-c", line], cwd=REPO_ROOT, env=env, capture_output=True, text=True)
    assert completed.returncode == 0, f"README install line failed on an empty home: {line}\n{completed.stderr}"


@pytest.mark.parametrize(("typed", "expected"), CASES)
def test_bash_completes_after_the_readme_install(home: dict[str, str], typed: str, expected: str) -> None:
    loader = Path("/usr/share/bash-completion/bash_completion")
    if not loader.exists():
        pytest.skip("bash-completion is not installed (apt-get install bash-completion)")
    _install("bash", home)
    words = typed.split()
    # bash-completion finds ~/.local/share/bash-completion/completions/dbops on demand, as on the first TAB.
    script = (
        f"source {loader}; _completion_loader dbops; "
        f"COMP_WORDS=({typed}); COMP_CWORD={len(words) - 1}; COMP_LINE='{typed}'; COMP_POINT={len(typed)}; "
        "$(complete -p dbops | sed -E 's/.* -F ([^ ]+) .*/\\1/') dbops; printf '%s\\n' \"${COMPREPLY[@]}\""
    )
    completed = subprocess.run(["bash", "-c", script], env=home, capture_output=True, text=True, timeout=60)
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.split() == [expected]


# zsh completes only in its line editor: drive an interactive zsh on a pseudo-terminal (zsh's zpty module), type
# the words and TAB, then a key bound to a widget that writes the edited line to a file.
ZSH_DRIVER = r"""
zmodload zsh/zpty
zpty shell "zsh -i"
zpty -w shell "dump() { print -r -- \"\$BUFFER\" > $OUT; }; zle -N dump; bindkey '^X' dump"
zpty -n -w shell "$TYPED"$'\t'$'\x18'
for i in {1..600}; do [[ -s $OUT ]] && break; sleep 0.1; done
zpty -d shell
"""


@pytest.mark.parametrize(("typed", "expected"), CASES)
def test_zsh_completes_after_the_readme_install(
    home: dict[str, str], tmp_path: Path, typed: str, expected: str
) -> None:
    zsh = _need("zsh")
    _install("zsh", home)
    out = tmp_path / "buffer.txt"
    completed = subprocess.run(
        [zsh, "-f", "-c", ZSH_DRIVER],
        env={**home, "OUT": str(out), "TYPED": typed},
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert out.exists(), f"zsh never finished the completion: {completed.stdout[-500:]} {completed.stderr[-500:]}"
    # The first TAB completes (the file is autoloaded by it), and the word is finished with a space.
    assert out.read_text() == " ".join([*typed.split()[:-1], expected]) + " \n"


@pytest.mark.parametrize(("typed", "expected"), CASES)
def test_fish_completes_after_the_readme_install(home: dict[str, str], typed: str, expected: str) -> None:
    fish = _need("fish")
    _install("fish", home)
    # fish autoloads ~/.config/fish/completions/dbops.fish; `complete -C` asks for what TAB would offer.
    completed = subprocess.run(
        [fish, "-c", f"complete -C '{typed}'"], env=home, capture_output=True, text=True, timeout=60
    )
    assert completed.returncode == 0, completed.stderr
    assert [line.split("\t")[0] for line in completed.stdout.splitlines()] == [expected]
