"""The seed's document-upload example, with dbops import paths, against a real S3 endpoint (moto server)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import httpx
import pytest
from litestar.testing import TestClient
from sqlalchemy import create_engine
from sqlalchemy.pool import NullPool

from dbops.storage import storages
from dbops.types.file_object.backends.obstore import ObstoreBackend
from tests.databases import TestDatabase
from tests.storage.conftest import ACCESS_KEY, SECRET_KEY, S3Server


@pytest.fixture
def s3_as_local(s3_server: S3Server, s3_bucket: str) -> Iterator[ObstoreBackend]:
    # As in the seed: an S3 backend registered under the key "local".
    backend = ObstoreBackend(
        key="local",
        fs=f"s3://{s3_bucket}/",
        aws_endpoint=s3_server.endpoint,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
    )
    storages.register_backend(backend)
    yield backend


def test_document_upload_example(db: TestDatabase, s3_as_local: ObstoreBackend) -> None:
    from tests.storage.seed_app import DocumentModel, create_app

    engine = create_engine(db.sync_url, poolclass=NullPool)
    DocumentModel.metadata.create_all(engine, tables=[DocumentModel.__table__])  # type: ignore[list-item]
    engine.dispose()
    app, config = create_app(db.async_url)
    with TestClient(app) as client:
        created = client.post(
            "/documents/", data={"name": "report"}, files={"file": ("report.txt", b"v1", "text/plain")}
        )
        assert created.status_code == 201, created.text
        body = created.json()
        assert body["name"] == "report" and "file" not in body
        assert httpx.get(body["file_url"]).content == b"v1"
        [first_path] = [info.path for info in s3_as_local.list()]

        patched = client.patch(
            f"/documents/{body['id']}", data={"name": "report2"}, files={"file": ("r2.txt", b"v2", "text/plain")}
        )
        assert patched.status_code == 200, patched.text
        assert httpx.get(patched.json()["file_url"]).content == b"v2"
        assert not s3_as_local.exists(first_path), "the replaced file is deleted after the commit"
        assert len(list(s3_as_local.list())) == 1

        fetched = client.get(f"/documents/{body['id']}")
        assert fetched.json()["name"] == "report2"
        listing = client.get("/documents/").json()
        assert listing["total"] == 1 and "X-Amz-Signature=" in listing["items"][0]["file_url"]
        searched = client.get("/documents/", params={"searchString": "REPORT2"}).json()
        assert [item["name"] for item in searched["items"]] == ["report2"]
        assert client.get("/documents/", params={"searchString": "nothing"}).json()["total"] == 0

        no_file = client.post("/documents/", files={"name": (None, "empty")})  # multipart without a file
        assert no_file.status_code == 201 and no_file.json()["file_url"] is None

        assert client.delete(f"/documents/{body['id']}").status_code == 204
        assert list(s3_as_local.list()) == []
    if config.engine_instance is not None:
        asyncio.run(config.engine_instance.dispose())
