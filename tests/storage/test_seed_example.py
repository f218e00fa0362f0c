"""The seed's document-upload example, with dbops import paths, against a real S3 endpoint (moto server).

``seed_example.py`` is the seed's code; only the MinIO endpoint, the bucket and the SQLite URL are replaced
by the test's moto server, a fresh bucket and the test database (on every dialect), and it runs in a fresh
interpreter, tables created by the example's own ``create_all=True``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.databases import TestDatabase
from tests.storage.conftest import S3Server

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parents[1]
SEED_VALUES = ("http://localhost:9000", "s3://static-files/", "sqlite+aiosqlite:///test.sqlite")


def run_example(tmp_path: Path, db: TestDatabase, s3_server: S3Server) -> tuple[dict[str, dict[str, Any]], str]:
    bucket = s3_server.create_bucket()
    source = (HERE / "seed_example.py").read_text()
    for seed_value, ours in zip(SEED_VALUES, (s3_server.endpoint, f"s3://{bucket}/", db.async_url), strict=True):
        assert source.count(f'"{seed_value}"') == 1, seed_value
        source = source.replace(f'"{seed_value}"', repr(ours))
    (tmp_path / "seed_app_module.py").write_text(source)
    completed = subprocess.run(
        [sys.executable, str(HERE / "seed_driver.py"), "seed_app_module"],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), str(REPO_ROOT)])},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    return json.loads(completed.stdout.strip().splitlines()[-1]), bucket


def test_document_upload_example(tmp_path: Path, db: TestDatabase, s3_server: S3Server) -> None:
    steps, bucket = run_example(tmp_path, db, s3_server)

    created = steps["create"]
    assert created["status"] == 201, created
    assert created["body"]["name"] == "report" and "file" not in created["body"]
    assert created["content"] == "v1", "the signed URL serves the uploaded bytes"
    assert f"/{bucket}/" in created["body"]["file_url"] and "X-Amz-Signature=" in created["body"]["file_url"]
    [first_path] = created["stored"]
    assert first_path.endswith("/report.txt")

    patched = steps["patch"]
    assert patched["status"] == 200, patched
    assert patched["body"]["name"] == "report2" and patched["content"] == "v2"
    assert first_path not in patched["stored"], "the replaced file is deleted after the commit"
    assert len(patched["stored"]) == 1

    assert steps["get"]["body"]["name"] == "report2" and steps["get"]["content"] == "v2"
    listing = steps["list"]["body"]
    assert listing["total"] == 1 and [item["name"] for item in listing["items"]] == ["report2"]
    assert [item["name"] for item in steps["search"]["body"]["items"]] == ["report2"]
    assert steps["search-nothing"]["body"]["total"] == 0

    refused = steps["create-without-file"]
    assert refused["status"] >= 400, refused  # the seed's file column is NOT NULL
    assert steps["list-after-refusal"]["body"]["total"] == 1
    assert refused["stored"] == patched["stored"], "a refused row leaves no file behind"

    assert steps["delete"]["status"] == 204
    assert steps["list-after-delete"]["body"]["total"] == 0
    assert steps["delete"]["stored"] == [], "deleting the row deletes its file"


def test_the_readme_shows_this_example() -> None:
    readme = (REPO_ROOT / "README.md").read_text()
    section = readme.split("### The document-upload example (Litestar)", 1)[1]
    shown = section.split("```python\n", 1)[1].split("```", 1)[0]
    code = (HERE / "seed_example.py").read_text().split('"""', 2)[2].lstrip("\n")
    assert shown == code
