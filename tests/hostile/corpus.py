"""Nasty strings for the hostile-input tests: passwords and cookie values no one designed dbops around."""

from __future__ import annotations

from urllib.parse import quote, unquote

# Every command runs with each of these, raw and percent-encoded in the URL (see test_passwords.py).
PASSWORDS = [
    "Sp ace S3cr3t",  # the example: SQLAlchemy accepts it unencoded
    "tab\there \"dq\" 'sq'",  # whitespace and both quotes
    "at@sign:colon/slash",  # URL delimiters; unencoded, the '@' would hand the tail to the host
    "per%25cent%zz#hash?q&a=b+c",  # percent signs (one a valid escape, one not) and query characters
    "ünïcødé ✓ pässwörd",  # non-ASCII (PyMySQL and asyncmy can't send it: latin-1 only)
    "line\nbreak secret",  # a line break: a message cut at its first line must not keep half of it
]

# Characters Hypothesis builds passwords and cookies from, beside any other character it likes.
NASTY_CHARACTERS = " \t\n\r\x00@:/%'\"\\;#?&=+*[](){}<>|`$~!,.ü✓\u200b\U0001f600"


def fragments(secret: str, *, width: int = 6) -> set[str]:
    """Pieces of ``secret`` (and of its percent-encoded spellings) that must never be printed.

    A leak of the whole password, or of a run of ``width`` of its characters (a tail after an unencoded
    ``@``, a first line, an encoded form) counts.
    """
    pieces: set[str] = set()
    for spelled in {secret, unquote(secret), quote(secret, safe=""), quote(secret, safe=" +")}:
        if len(spelled) <= width:
            pieces.add(spelled)
        else:
            pieces.update(spelled[index : index + width] for index in range(len(spelled) - width + 1))
    return {piece for piece in pieces if piece.strip()}


def leaked(secret: str, output: str) -> list[str]:
    """The fragments of ``secret`` found in ``output`` (empty when none leaked)."""
    return sorted(piece for piece in fragments(secret) if piece in output)
