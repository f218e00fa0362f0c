"""Write app modules into a temporary folder, import them, and run Litestar's own CLI on them."""

from __future__ import annotations

import importlib
import sys
import textwrap
import uuid
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

from click.testing import CliRunner, Result
from litestar.cli.main import litestar_group


def write_module(folder: Path, source: str, *, prefix: str = "app") -> str:
    """Write ``source`` as a uniquely named module in ``folder`` and return its name."""
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    (folder / f"{name}.py").write_text(textwrap.dedent(source))
    return name


def load_module(folder: Path, source: str) -> ModuleType:
    name = write_module(folder, source)
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))
    return importlib.import_module(name)


def run_litestar(args: Sequence[str], *, app_dir: Path, env: dict[str, Any] | None = None) -> Result:
    """``litestar --app-dir DIR ARGS`` in this process, through Litestar's root click group.

    The root group asks the app's CLI plugins for their commands once per process; resetting that flag lets
    each test's app register its own.
    """
    litestar_group._prepare_done = False  # type: ignore[attr-defined]
    return CliRunner().invoke(litestar_group, ["--app-dir", str(app_dir), *args], env=env, catch_exceptions=False)
