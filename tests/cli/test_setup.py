"""The README's set-up commands: step 1 installs runtime dependencies only, as the README says."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess

import pytest

from tests.conftest import REPO_ROOT

DEV_TOOLS = ("pytest", "mypy", "ruff", "moto", "hypothesis", "boto3")


def setup_commands() -> list[str]:
    text = (REPO_ROOT / "README.md").read_text()
    section = text[text.index("\n## Set up\n") : text.index("\n## ", text.index("\n## Set up\n") + 1)]
    block = re.search(r"```bash\n(.*?)```", section, flags=re.DOTALL)
    assert block is not None
    return [line for line in block.group(1).splitlines() if line.strip() and not line.startswith("#")]


def test_the_uv_step_needs_only_python() -> None:
    """No system-wide pip install (PEP 668 refuses it on Debian/Ubuntu): uv goes into a venv of its own."""
    first = setup_commands()[0]
    assert first.startswith("python3 -m venv ") and "pip install uv" in first
    assert not any(line.startswith("pip install") for line in setup_commands())


def test_step_1_installs_no_dev_tools() -> None:
    uv = os.environ.get("UV") or shutil.which("uv")
    if uv is None:
        pytest.skip("uv is not on PATH (run the suite through uv run)")
    step = next(line for line in setup_commands() if "examples/app.py:db upgrade" in line)
    words = shlex.split(step)
    assert words[:2] == ["uv", "run"]
    flags = words[2 : words.index("dbops")]
    # What `uv run <flags>` syncs, read from the lock file (no network, no install).
    exported = subprocess.run(
        [uv, "export", "--frozen", "--no-hashes", "--no-header", "--no-emit-project", *flags],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    lines = [line.strip() for line in exported.splitlines() if line.strip()[:1] not in ("", "#", "-")]
    names = {re.split(r"[=<>; \[]", line, maxsplit=1)[0].lower() for line in lines}
    assert {"sqlalchemy", "alembic", "typer", "litestar"} <= names
    assert not names & set(DEV_TOOLS), f"step 1 would install dev tools: {sorted(names & set(DEV_TOOLS))}"
    assert len(names) < 45, f"step 1 installs {len(names)} packages"
