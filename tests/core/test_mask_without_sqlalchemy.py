"""``mask_url`` without SQLAlchemy (``_mask_unambiguous``) answers exactly as SQLAlchemy's parser does.

The oracle is ``render_as_string(hide_password=True)`` of SQLAlchemy's own parse (``_mask_parsed``, the path
``mask_url`` takes otherwise). URLs are generated from the pieces SQLAlchemy's grammar reads, with the
characters that make it quote, unquote, reorder or give up.
"""

from __future__ import annotations

import subprocess
import sys

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from dbops.urls import _mask_parsed, _mask_unambiguous, mask_url

TRICKY = " +%@:/?#&=[]\n\t'\"\\é✓"
piece = st.text(alphabet=st.sampled_from("abcXYZ019._-~" + TRICKY), max_size=8)
percent = st.sampled_from(["%40", "%2F", "%3A", "%20", "%25", "%41", "%zz", "%"])
component = st.lists(st.one_of(piece, percent), max_size=3).map("".join)

schemes = st.sampled_from(
    ["postgresql", "postgresql+psycopg", "postgresql+asyncpg", "mysql+pymysql", "mariadb+asyncmy", "sqlite", "x y"]
)
hosts = st.one_of(
    st.sampled_from(["", "db", "127.0.0.1", "db.example.com", "[::1]", "[fe80::1%eth0]", "h_st", "ho st"]),
    component,
)
ports = st.sampled_from(["", ":5432", ":0", ":05432", ":", ":54x", ":+5", ":٣"])
databases = st.one_of(
    st.just(""), st.sampled_from(["/", "/app", "/my app", "/a%2Fb", "/a/b"]), component.map("/{}".format)
)
query_values = st.one_of(component, st.sampled_from(["utf8mb4", "require", "", "a b", "a+b", "x%20y"]))
queries = st.one_of(
    st.just(""),
    st.just("?"),
    st.lists(st.tuples(st.sampled_from(["charset", "sslmode", "b", "a", "a b", "k%3D"]), query_values), max_size=3).map(
        lambda pairs: "?" + "&".join(f"{key}={value}" for key, value in pairs)
    ),
    component.map("?{}".format),
)


@st.composite
def urls(draw: st.DrawFn) -> str:
    user = draw(component)
    password = draw(component)
    userinfo = draw(st.sampled_from([f"{user}:{password}@", f"{user}@", f"{user}:{password}@x@", ""]))
    return f"{draw(schemes)}://{userinfo}{draw(hosts)}{draw(ports)}{draw(databases)}{draw(queries)}"


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(urls())
@example("postgresql+psycopg://app:s3cret@db.internal:5432/app?sslmode=require&application_name=deploy")
@example("mysql+pymysql://root:p%40ss@127.0.0.1:3306/app?charset=utf8mb4")
@example("postgresql://u:pw@h/db?b=1&a=2")  # SQLAlchemy sorts the query: not the same text, so not quick
@example("postgresql://u%41:pw@h/db")  # renders as "uA": not quick
def test_the_quick_mask_is_sqlalchemys(url: str) -> None:
    quick = _mask_unambiguous(url)
    if quick is not None:
        assert quick == _mask_parsed(url, url)
        assert mask_url(url) == quick


def test_the_usual_urls_take_the_quick_path() -> None:
    for url in (
        "postgresql+psycopg://app:s3cret@db.internal:5432/app",
        "postgresql+asyncpg://app:p%40ss%2Fw%3Ard@10.0.0.7/app?ssl=require",
        "mysql+pymysql://root:Sp ace S3cr3t@127.0.0.1:3306/app?charset=utf8mb4",
        "mariadb+asyncmy://app:x@db/app",
    ):
        assert _mask_unambiguous(url) == url.split(":", 2)[0] + ":" + url.split(":", 2)[1] + ":***@" + url.split("@")[1]


def test_describing_a_config_with_a_password_imports_no_sqlalchemy() -> None:
    code = (
        "import sys\nfrom dbops import SQLAlchemySyncConfig\n"
        "config = SQLAlchemySyncConfig(connection_string='postgresql+psycopg://app:s3cret@db:5432/app')\n"
        "print(config.describe(), 'sqlalchemy' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "default (postgresql+psycopg://app:***@db:5432/app) False"
