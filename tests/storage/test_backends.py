"""Every backend against the same contract: put/get/stat/list/delete, streaming, refused keys, signing."""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from dbops.errors import StorageError, StorageNotFoundError
from dbops.storage import FsspecBackend, LocalBackend, MemoryBackend, ObstoreBackend, StorageBackend, storages
from tests.storage.conftest import S3Server

KINDS = ["local", "memory", "s3", "s3rver", "obstore-file", "fsspec-local"]


@pytest.fixture(params=KINDS)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StorageBackend]:
    kind = request.param
    if kind == "local":
        yield LocalBackend("b", tmp_path / "root", secret="s")
    elif kind == "memory":
        yield MemoryBackend("b")
    elif kind in ("s3", "s3rver"):
        server: S3Server = request.getfixturevalue("s3_server" if kind == "s3" else "s3rver_server")
        yield server.backend("b", server.create_bucket())
    elif kind == "obstore-file":
        (tmp_path / "ob").mkdir()
        yield ObstoreBackend("b", fs=f"file://{tmp_path / 'ob'}")
    else:
        yield FsspecBackend("b", "file", prefix=str(tmp_path / "fs"))


def test_put_get_stat_list_delete(backend: StorageBackend) -> None:
    info = backend.put("docs/a.txt", b"hello world", content_type="text/plain")
    assert info.size == 11
    assert info.checksum == hashlib.sha256(b"hello world").hexdigest()
    assert backend.get_content("docs/a.txt") == b"hello world"
    stat = backend.stat("docs/a.txt")
    assert stat is not None and stat.size == 11 and stat.last_modified is not None
    backend.put("docs/b.txt", [b"a", b"b"])
    backend.put("other/c.txt", "text")
    assert sorted(item.path for item in backend.list("docs/")) == ["docs/a.txt", "docs/b.txt"]
    assert sorted(item.path for item in backend.list()) == ["docs/a.txt", "docs/b.txt", "other/c.txt"]
    backend.delete("docs/a.txt")
    backend.delete("docs/a.txt")  # deleting a missing file is fine
    assert backend.stat("docs/a.txt") is None
    assert not backend.exists("docs/a.txt")
    with pytest.raises(StorageNotFoundError, match="not found"):
        backend.get_content("docs/a.txt")


def test_replace_overwrites(backend: StorageBackend) -> None:
    backend.put("x.bin", b"first")
    backend.put("x.bin", b"second!")
    assert backend.get_content("x.bin") == b"second!"
    assert backend.checksum("x.bin") == hashlib.sha256(b"second!").hexdigest()


def test_streams_a_multi_chunk_file(backend: StorageBackend, tmp_path: Path) -> None:
    source = tmp_path / "big.bin"
    data = os.urandom(9 * 1024 * 1024 + 123)  # above the obstore multipart threshold
    source.write_bytes(data)
    with source.open("rb") as handle:
        info = backend.put("big.bin", handle)
    assert info.size == len(data)
    chunks = list(backend.iter_chunks("big.bin", chunk_size=1024 * 1024))
    assert len(chunks) >= 2
    assert b"".join(chunks) == data
    assert backend.checksum("big.bin") == hashlib.sha256(data).hexdigest()


@pytest.mark.parametrize("bad", ["../escape.txt", "a/../../b", "/etc/passwd", "a\x00b", "C:\\windows", "..", ""])
def test_refuses_unsafe_keys(backend: StorageBackend, bad: str) -> None:
    with pytest.raises(StorageError):
        backend.put(bad, b"x")
    with pytest.raises(StorageError):
        backend.stat(bad)
    with pytest.raises(StorageError):
        backend.delete(bad)


def test_local_backend_writes_nothing_outside_root(tmp_path: Path) -> None:
    backend = LocalBackend("l", tmp_path / "root")
    with pytest.raises(StorageError, match=r"\.\."):
        backend.put("../outside.txt", b"x")
    assert not (tmp_path / "outside.txt").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["root"]


def test_local_signed_urls(tmp_path: Path) -> None:
    backend = LocalBackend("local", tmp_path, secret="k1", base_url="/files")
    url = backend.sign("a b/c.txt", expires_in=60)
    assert url.startswith("/files/local/a%20b/c.txt?")
    query = dict(part.split("=") for part in url.split("?", 1)[1].split("&"))
    assert backend.verify_signature("a b/c.txt", expires=query["expires"], signature=query["signature"])
    assert not backend.verify_signature("a b/other.txt", expires=query["expires"], signature=query["signature"])
    assert not backend.verify_signature(
        "a b/c.txt", expires=query["expires"], signature=query["signature"], for_upload=True
    )
    assert not backend.verify_signature(
        "a b/c.txt", expires=query["expires"], signature=query["signature"], now=time.time() + 120
    )
    other = LocalBackend("local", tmp_path, secret="k2")
    assert not other.verify_signature("a b/c.txt", expires=query["expires"], signature=query["signature"])
    with pytest.raises(StorageError):
        backend.sign("../x")


def test_s3_signed_url_downloads(s3_server: S3Server) -> None:
    backend = s3_server.backend("s3signed", s3_server.create_bucket())
    backend.put("doc.txt", b"signed content", content_type="text/plain")
    response = httpx.get(backend.sign("doc.txt", expires_in=60))
    assert response.status_code == 200
    assert response.content == b"signed content"
    upload = httpx.put(backend.sign("up.txt", for_upload=True), content=b"via url")
    assert upload.status_code == 200
    assert backend.get_content("up.txt") == b"via url"


def test_s3_keeps_checksum_and_content_type(s3_backend: ObstoreBackend) -> None:
    s3_backend.put("a.txt", b"abc", content_type="text/plain")
    info = s3_backend.stat("a.txt")
    assert info is not None
    assert info.checksum == hashlib.sha256(b"abc").hexdigest()
    assert info.content_type == "text/plain"


def test_unreachable_s3_is_a_one_line_storage_error() -> None:
    from tests.storage.conftest import free_port

    backend = ObstoreBackend(
        "down",
        fs="s3://nobucket/",
        aws_endpoint=f"http://127.0.0.1:{free_port()}",
        aws_access_key_id="x",
        aws_secret_access_key="y",
        client_options={"timeout": "2s", "connect_timeout": "1s"},
        retry_config={"max_retries": 0, "retry_timeout": timedelta(seconds=1)},
    )
    with pytest.raises(StorageError, match=r"backend 'down': cannot stat 'a\.txt'") as caught:
        backend.stat("a.txt")
    assert "\n" not in str(caught.value)


def test_registry() -> None:
    backend = storages.register_backend(MemoryBackend("reg-test"))
    assert storages.get_backend("reg-test") is backend
    with pytest.raises(StorageError, match=r"no storage backend registered under key 'nope' \(registered: .*reg-test"):
        storages.get_backend("nope")
    with pytest.raises(StorageError, match="needs key"):
        storages.register_backend("memory://")
    with pytest.raises(StorageError, match="expects a StorageBackend"):
        storages.register_backend(42)  # type: ignore[call-overload]
    url_backend = storages.register_backend("memory://", key="from-url")
    assert isinstance(url_backend, ObstoreBackend)
    url_backend.put("k", b"v")
    assert url_backend.get_content("k") == b"v"


def test_s3_put_with_the_expected_md5(s3_backend: ObstoreBackend) -> None:
    data = b"known bytes"
    right = hashlib.md5(data).hexdigest()
    confirmed = s3_backend.put("known.bin", data, expected_md5=right)
    assert confirmed.verified, "the server's MD5 ETag matches the caller's MD5"
    assert confirmed.checksum == hashlib.sha256(data).hexdigest() and confirmed.size == len(data)
    unconfirmed = s3_backend.put("known.bin", data, expected_md5=hashlib.md5(b"other").hexdigest())
    assert not unconfirmed.verified, "a different MD5 is not confirmed (the caller then reads the copy back)"
    assert s3_backend.put("plain.bin", data).verified, "without one, the backend hashes MD5 itself"
    big = os.urandom(9 * 1024 * 1024)  # multipart: its ETag is no plain MD5, so nothing is confirmed
    assert not s3_backend.put("big.bin", big, expected_md5=hashlib.md5(big).hexdigest()).verified
    assert s3_backend.get_content("big.bin") == big


def test_other_backends_accept_an_expected_md5(backend: StorageBackend) -> None:
    data = b"abc"
    info = backend.put("e.bin", data, expected_md5=hashlib.md5(b"not it").hexdigest())
    assert info.checksum == hashlib.sha256(data).hexdigest()
    assert backend.get_content("e.bin") == data
