"""Database URLs: one parser (SQLAlchemy's ``make_url``), one way to show them, one scrubber for free text.

- ``parse_url`` is ``make_url`` with one-line errors, and it refuses a URL whose password holds an unencoded
  ``@``: SQLAlchemy ends the password at the first ``@`` and reads the rest as the host, so the driver would
  try to reach a host named after the password's tail, and print that tail in its error.
- ``mask_url`` renders a URL with ``render_as_string(hide_password=True)``, so exactly the password the driver
  receives is hidden, whatever characters it holds. A URL that doesn't parse, or holds an unencoded ``@``, is
  shown masked up to its last ``@``.
- ``redact`` scrubs free text (driver messages, tracebacks, log lines), where no parser can tell where an
  unknown password ends. It masks the password of every live config (``remember``, called by each config) in
  its raw, percent-encoded and quoted spellings, wherever it appears; then, for URLs dbops was never given,
  ``scheme://user:...@`` up to the last ``@`` on the line, and ``password=...`` fragments.

Nothing here imports SQLAlchemy until a URL with an ``@`` has to be parsed: a no-op ``upgrade`` of a SQLite
database must not pay for it (``dbops.migrations.fast``).
"""

from __future__ import annotations

import functools
import json
import re
import weakref
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from sqlalchemy.engine import URL

__all__ = ["backend_name", "mask_url", "parse_url", "redact", "remember"]

# Free text: ``scheme://user:password@``. The username stops at whitespace and ``@`` (so the ``'root'@'localhost'``
# of a MySQL message after a password-less URL is left alone); ``host:5432/`` is a port, not a password. The
# password runs to the last ``@`` on the line, because it may hold spaces, ``@``, ``/``...; an already masked
# ``***@`` stops at its own ``@``. Over-masking a line with two URLs is the price of never leaking a tail.
_URL_PASSWORD = re.compile(
    r"(?P<head>\b[a-zA-Z][a-zA-Z0-9+.\-]*://[^\s:/@]*:)(?!\d+(?:[/?\s)'\"]|$))(?:\*\*\*(?=@)|[^\n]*)(?=@)"
)
# A quoted value is masked up to its closing quote (it may hold spaces). MySQL's "(using password: YES)" says
# whether a password was sent, not what it was: it stays readable.
_KEYWORD_PASSWORD = re.compile(
    r"""(?P<head>\b(?:password|passwd|pwd)['"]?\s*[=:]\s*)"""
    r"""(?:(?P<quote>['"])(?:\\.|(?!(?P=quote)).)*(?P=quote)|(?!(?:YES|NO)\))[^'"\s,;)]+)""",
    re.I,
)
MASK = "***"
MIN_SCRUBBED_LENGTH = 4
"""Known passwords shorter than this are masked only where a pattern finds them (in a URL or ``password=``):
masked everywhere, ``abc`` would blank out every word ``abc`` in every message."""


class _HasConnectionString(Protocol):
    connection_string: str | None


_live: weakref.WeakValueDictionary[int, Any] = weakref.WeakValueDictionary()


def remember(owner: _HasConnectionString) -> None:
    """Scrub ``owner.connection_string``'s password from all free text for as long as ``owner`` lives."""
    _live[id(owner)] = owner


def redact(text: str) -> str:
    """``text`` with every password in it masked: those of live configs, and any in a URL or ``password=``."""
    for pattern in _known_password_patterns():
        text = pattern.sub(MASK, text)
    text = _URL_PASSWORD.sub(lambda match: f"{match['head']}{MASK}", text)
    return _KEYWORD_PASSWORD.sub(_mask_keyword, text)


def mask_url(url: str | URL | None) -> str:
    """The URL as a person should see it: ``render_as_string(hide_password=True)`` of the parsed URL."""
    text = url if isinstance(url, str) or url is None else None
    if text is not None and "@" not in text:
        return str(text)  # no userinfo, so no password (SQLAlchemy's grammar ends a password with "@")
    if text is not None and ":" not in text.partition("://")[2].rpartition("@")[0]:
        # No ":" before the last "@": a user name without a password, nothing to hide, and no SQLAlchemy import
        # (the fast paths, dbops.migrations.fast, describe the config of a passwordless postgres@host URL).
        return text
    quick = _mask_unambiguous(text) if text is not None else None
    if quick is not None:
        return quick
    return _mask_parsed(url, text)


def _mask_parsed(url: str | URL | None, text: str | None) -> str:
    """``mask_url`` through SQLAlchemy's parser (any URL)."""
    try:
        parsed = _make_url(url)
    except Exception:
        return _mask_unparsed(str(url))
    if parsed.password is None:
        return text if text is not None else parsed.render_as_string(hide_password=False)  # as the user wrote it
    if _tail_after_password(text, parsed):
        return _mask_unparsed(text if text is not None else parsed.render_as_string(hide_password=False))
    return parsed.render_as_string(hide_password=True)


# What SQLAlchemy's URL grammar reads after the "@" (host, port, database, query), restricted to the spellings it
# renders back unchanged: a plain host name or address (no IPv6 brackets, no percent signs), a port as digits.
_AFTER_USERINFO = re.compile(
    r"(?P<host>[A-Za-z0-9._\-]*)(?::(?P<port>[0-9]+))?(?:/(?P<database>[^?]*))?(?:\?(?P<query>.*))?"
)
_SCHEME = re.compile(r"[\w+]+")


def _mask_unambiguous(text: str) -> str | None:
    """``scheme://user:***@rest`` when that is exactly what ``render_as_string(hide_password=True)`` gives, or None.

    Only for URLs whose userinfo is unambiguous (exactly one ``@`` after ``://``) and whose other parts
    SQLAlchemy renders back as written; so a no-op ``upgrade`` with a password in its URL doesn't import
    SQLAlchemy (0.25 s) just to print ``***``. Anything else returns None: SQLAlchemy decides. A test compares
    the two on generated URLs.
    """
    from urllib.parse import parse_qsl, quote, quote_plus, unquote

    scheme, separator, rest = text.partition("://")
    if not separator or rest.count("@") != 1 or "\n" in text or "\r" in text or not _SCHEME.fullmatch(scheme):
        return None
    userinfo, _, after = rest.partition("@")
    username, colon, _password = userinfo.partition(":")
    if not colon or "/" in username or quote(unquote(username), safe=" +") != username:
        return None
    parts = _AFTER_USERINFO.fullmatch(after)
    if parts is None:
        return None
    port, database, query = parts["port"], parts["database"], parts["query"]
    if port is not None and str(int(port)) != port:
        return None
    if database is not None and quote(unquote(database), safe=" +/") != database:
        return None
    if query is not None:
        values: dict[str, list[str]] = {}
        for key, value in parse_qsl(query):
            values.setdefault(key, []).append(value)
        rendered = "&".join(f"{quote_plus(key)}={quote_plus(value)}" for key in sorted(values) for value in values[key])
        if not values or rendered != query:
            return None
    return f"{scheme}://{username}:{MASK}@{after}"


def parse_url(url: str | URL) -> URL:
    """``make_url(url)``, or a ``ConfigError`` naming the URL (masked) when SQLAlchemy can't read it as meant."""
    from dbops.errors import ConfigError

    text = url if isinstance(url, str) else None
    try:
        parsed = _make_url(url)
    except Exception:
        # Neither the parser's words nor its exception (a --verbose traceback would show it): they quote the
        # piece it choked on, which may be part of the password.
        raise ConfigError(
            f"cannot parse the database URL {mask_url(url)}: percent-encode special characters in the user name "
            f"and password (e.g. '%40' for '@', '%25' for '%')"
        ) from None
    if parsed.password is not None and _tail_after_password(text, parsed):
        raise ConfigError(
            f"the database URL {mask_url(url)} has an '@' after the one that ends its password (SQLAlchemy would "
            f"read the rest of the password as the host): write '@' in a password as '%40'"
        )
    return parsed


def backend_name(url: str | URL) -> str:
    """``sqlite``, ``postgresql``, ``mysql``, ``mariadb``, ... (the dialect, without the driver)."""
    return parse_url(url).get_backend_name()


def _make_url(url: str | URL | None) -> URL:
    from sqlalchemy.engine import make_url

    if url is None:
        raise ValueError("no URL")
    return make_url(url)


def _tail_after_password(text: str | None, parsed: URL) -> bool:
    """Whether an ``@`` follows the one that ends the password: the password's tail went into the host."""
    if text is None:  # a URL object: its fields are what the driver gets; an "@" there came from such a string
        return any("@" in (part or "") for part in (parsed.host, parsed.database))
    scheme_end = text.find("://") + 3
    password_start = text.find(":", scheme_end)
    password_end = text.find("@", password_start)
    return password_start >= 0 and password_end >= 0 and "@" in text[password_end + 1 :]


def _mask_unparsed(text: str) -> str:
    """``scheme://***@rest-after-the-last-@``: nothing before the last ``@`` can be told apart from the password."""
    scheme, separator, rest = text.partition("://")
    if not separator or "@" not in rest:
        return redact(text)
    return f"{scheme}://{MASK}@{rest.rpartition('@')[2]}"


def _mask_keyword(match: re.Match[str]) -> str:
    quote = match["quote"] or ""
    return f"{match['head']}{quote}{MASK}{quote}"


def _known_password_patterns() -> list[re.Pattern[str]]:
    patterns: set[re.Pattern[str]] = set()
    for owner in list(_live.values()):
        patterns.update(_password_patterns(getattr(owner, "connection_string", None)))
    # Longest first across all configs: one config's password "line" must not eat the tail of another's ":line",
    # leaving its ":" behind.
    return sorted(patterns, key=lambda pattern: len(pattern.pattern), reverse=True)


@functools.lru_cache(maxsize=64)
def _password_patterns(url: str | None) -> tuple[re.Pattern[str], ...]:
    """Patterns matching the URL's password as drivers, tracebacks and reprs spell it (longest first)."""
    if not url or "@" not in url:
        return ()
    passwords: set[str] = set()
    try:
        parsed: URL | None = _make_url(url)
    except Exception:
        parsed = None
    if parsed is not None and parsed.password is not None:
        passwords.add(str(parsed.password))
    if parsed is None or (parsed.password is not None and _tail_after_password(url, parsed)):
        # Unparsable, or an unencoded "@": the password may run up to the last "@".
        password_start = url.find(":", url.find("://") + 3)
        if password_start >= 0 and "@" in url[password_start:]:
            passwords.add(url[password_start + 1 : url.rfind("@")])
    spellings: set[str] = set()
    for password in passwords:
        spellings.update(_spellings(password))
        # A message cut at its first line keeps only the first line of a password holding a line break.
        spellings.update(piece for piece in re.split(r"[\r\n]+", password) if piece)
    words = sorted((s for s in spellings if len(s) >= MIN_SCRUBBED_LENGTH), key=len, reverse=True)
    # Not inside a longer word: the password "postgres" must not turn "postgresql" into "***ql".
    return tuple(re.compile(rf"(?<![A-Za-z0-9]){re.escape(word)}(?![A-Za-z0-9])") for word in words)


def _spellings(password: str) -> set[str]:
    from urllib.parse import quote, quote_plus

    return {
        password,
        quote(password, safe=""),
        quote(password, safe=" +"),  # how render_as_string(hide_password=False) writes it
        quote_plus(password),
        repr(password)[1:-1],
        json.dumps(password)[1:-1],
        json.dumps(password, ensure_ascii=False)[1:-1],
        password.replace("\\", "\\\\").replace("'", "\\'"),  # libpq conninfo quoting (psycopg)
    }
