"""Storage fixtures: S3-compatible servers, buckets, backends.

``s3_server`` is moto in server mode (like a user's MinIO); ``s3rver_server`` is a second, independent S3
implementation (s3rver, from the npm registry: ``npm install --prefix .cache/s3rver s3rver@3``, which .ci/run
does), since servers differ in what they put in ETags (MD5, multipart) and the backend and sync tests run on
both. Each server runs as a separate process on 127.0.0.1 and a free port for the whole pytest session (one per
xdist worker); every test gets its own bucket and its own registered backend keys, unregistered afterwards.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from dbops.storage import LocalBackend, ObstoreBackend, storages
from tests.conftest import REPO_ROOT

ACCESS_KEY = "dbops-test"
SECRET_KEY = "dbops-test-secret"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class S3Server:
    endpoint: str
    access_key: str = ACCESS_KEY
    secret_key: str = SECRET_KEY

    def client(self):  # type: ignore[no-untyped-def]
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
            region_name="us-east-1",
        )

    def create_bucket(self) -> str:
        name = f"dbops-{uuid.uuid4().hex[:12]}"
        self.client().create_bucket(Bucket=name)
        return name

    def backend(self, key: str, bucket: str) -> ObstoreBackend:
        return ObstoreBackend(
            key,
            fs=f"s3://{bucket}/",
            aws_endpoint=self.endpoint,
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
        )


def start_moto(port: int) -> subprocess.Popen[bytes]:
    return _start(
        "moto server",
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        port,
        env={**os.environ, "AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SECRET_KEY},
    )


S3RVER = REPO_ROOT / ".cache" / "s3rver" / "node_modules" / ".bin" / "s3rver"


def start_s3rver(port: int, directory: Path) -> subprocess.Popen[bytes]:
    command = [str(S3RVER), "-d", str(directory), "-a", "127.0.0.1", "-p", str(port), "--silent"]
    return _start("s3rver", [*command, "--no-vhost-buckets"], port, env=None)


def _start(name: str, command: list[str], port: int, *, env: dict[str, str] | None) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return process
        except OSError:
            if process.poll() is not None:
                raise RuntimeError(f"{name} exited at start") from None
            time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"{name} did not start within 30 s")


@contextlib.contextmanager
def _serving(process: subprocess.Popen[bytes], port: int, **keys: str) -> Iterator[S3Server]:
    try:
        yield S3Server(f"http://127.0.0.1:{port}", **keys)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    port = free_port()
    with _serving(start_moto(port), port) as server:
        yield server


@pytest.fixture(scope="session")
def s3rver_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    if not S3RVER.exists() or shutil.which("node") is None:
        message = "s3rver is not installed (npm install --prefix .cache/s3rver s3rver@3; .ci/run does)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true: {message}")
        pytest.skip(message)
    port = free_port()
    # s3rver knows one key pair, its own.
    keys = {"access_key": "S3RVER", "secret_key": "S3RVER"}
    with _serving(start_s3rver(port, tmp_path_factory.mktemp("s3rver")), port, **keys) as server:
        yield server


@pytest.fixture
def s3_bucket(s3_server: S3Server) -> str:
    return s3_server.create_bucket()


@pytest.fixture
def s3_backend(s3_server: S3Server, s3_bucket: str) -> Iterator[ObstoreBackend]:
    backend = s3_server.backend("s3", s3_bucket)
    storages.register_backend(backend)
    yield backend
    storages.unregister_backend("s3")


@pytest.fixture
def local_backend(tmp_path: Path) -> Iterator[LocalBackend]:
    backend = LocalBackend("local", tmp_path / "files", secret="test-secret")
    storages.register_backend(backend)
    yield backend
    storages.unregister_backend("local")


@pytest.fixture(autouse=True)
def _clean_registry() -> Iterator[None]:
    before = set(storages.registered_backends())
    yield
    for key in set(storages.registered_backends()) - before:
        storages.unregister_backend(key)
