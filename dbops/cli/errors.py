"""The one place where exceptions become output and exit codes.

``DbopsError`` → ``Error: <message>`` on stderr and its ``exit_code``; usage errors → click's message and 2;
anything unexpected → one line and 1. Tracebacks only with ``--verbose`` or ``DBOPS_TRACEBACK=1``, and never
with locals (they hold URLs with passwords).
"""

from __future__ import annotations

import os
import sys
import traceback

from dbops.errors import DbopsError, first_line, redact

__all__ = ["report_exception"]

EXIT_INTERRUPTED = 130


def _show_traceback(verbose: bool) -> bool:
    return verbose or os.environ.get("DBOPS_TRACEBACK", "") not in ("", "0")


def report_exception(error: BaseException, *, verbose: bool) -> int:
    """Print ``error`` for a person and return the exit code the process should end with."""
    if _show_traceback(verbose):
        text = "".join(traceback.format_exception(type(error), error, error.__traceback__))
        sys.stderr.write(redact(text))
    if isinstance(error, DbopsError):
        _line(f"Error: {error.message}")
        return error.exit_code
    if isinstance(error, KeyboardInterrupt):
        _line("Interrupted.")
        return EXIT_INTERRUPTED
    detail = redact(first_line(str(error)))
    hint = "" if _show_traceback(verbose) else " (run with --verbose for the traceback)"
    _line(f"Error: unexpected {type(error).__name__}: {detail}{hint}")
    return 1


def _line(text: str) -> None:
    sys.stderr.write(text.rstrip() + "\n")
    sys.stderr.flush()
