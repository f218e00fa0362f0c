"""Durations as people type them: ``500ms``, ``90s``, ``30m``, ``1.5h``, ``2d``, ``1w``, ``1h30m``.

One parser for every duration dbops reads (``--older-than`` of sessions cleanup and storage prune-orphans,
``--ddl-lock-timeout`` and ``ddl_lock_timeout``), so the same text means the same time everywhere. A bare number
is refused (seconds or minutes? ``90s`` says), except ``0``.
"""

from __future__ import annotations

import re
from datetime import timedelta

__all__ = ["parse_duration"]

_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|w|d|h|m|s)")
_SECONDS = {"w": 604800.0, "d": 86400.0, "h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}
EXAMPLES = "500ms, 90s, 30m, 1.5h, 2d, 1w or 1h30m"


def parse_duration(text: str) -> timedelta:
    """``text`` as a timedelta; ``ValueError`` naming the accepted forms otherwise."""
    cleaned = text.strip().lower().replace(" ", "")
    if cleaned == "0":
        return timedelta(0)
    parts = _PART.findall(cleaned)
    if not parts or "".join(number + unit for number, unit in parts) != cleaned:
        raise ValueError(f"{text!r} is not a duration (use e.g. {EXAMPLES})")
    return timedelta(seconds=sum(float(number) * _SECONDS[unit] for number, unit in parts))
