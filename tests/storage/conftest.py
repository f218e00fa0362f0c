"""Storage fixtures: an S3-compatible server (moto in server mode, like a user's MinIO), buckets, backends.

The server runs as a separate process on 127.0.0.1 and a free port for the whole pytest session (one per
xdist worker); every test gets its own bucket and its own registered backend keys, unregistered afterwards.
"""

from __future__ import annotations

import os
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

ACCESS_KEY = "dbops-test"
SECRET_KEY = "dbops-test-secret"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class S3Server:
    endpoint: str

    def client(self):  # type: ignore[no-untyped-def]
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
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
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
        )


def start_moto(port: int) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SECRET_KEY},
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return process
        except OSError:
            if process.poll() is not None:
                raise RuntimeError("moto server exited at start") from None
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("moto server did not start within 30 s")


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    port = free_port()
    process = start_moto(port)
    try:
        yield S3Server(f"http://127.0.0.1:{port}")
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


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
