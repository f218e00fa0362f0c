"""Dumps on object storage (``--dir s3://bucket/prefix``), against real S3-compatible servers (moto, s3rver).

The same dump as on disk, byte for byte; the manifest, written last, commits it: a killed dump leaves the
previous one loadable and its own unloadable; bad buckets, credentials and endpoints are one-line errors; and
memory does not grow with the table.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
import sqlalchemy as sa

from dbops.data.dump import dump_data
from dbops.data.load import load_data
from dbops.errors import DataError
from tests.cli_runner import invoke
from tests.conftest import REPO_ROOT
from tests.data.models import (
    chain_metadata,
    chain_rows,
    create_and_fill,
    create_tables,
    dispose,
    everything_metadata,
    everything_rows,
    make_config,
    snapshot,
)
from tests.databases import TestDatabase
from tests.storage.conftest import S3RVER, S3Server, free_port, start_moto, start_s3rver

AWS_VARIABLES = [name for name in os.environ if name.startswith(("AWS_", "GOOGLE_", "AZURE_"))]


@pytest.fixture(scope="module")
def moto() -> Iterator[S3Server]:
    port = free_port()
    process = start_moto(port)
    yield S3Server(f"http://127.0.0.1:{port}")
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture(scope="module")
def s3rver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    if not S3RVER.exists():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("CI=true: s3rver is not installed (npm install --prefix .cache/s3rver s3rver@3)")
        pytest.skip("s3rver is not installed (npm install --prefix .cache/s3rver s3rver@3)")
    port = free_port()
    process = start_s3rver(port, tmp_path_factory.mktemp("s3rver"))
    yield S3Server(f"http://127.0.0.1:{port}", access_key="S3RVER", secret_key="S3RVER")
    process.terminate()
    process.wait(timeout=10)


def environment(server: S3Server) -> dict[str, str]:
    """What a user sets to reach an S3-compatible server: keys and endpoint (plain HTTP allowed by itself)."""
    return {
        "AWS_ACCESS_KEY_ID": server.access_key,
        "AWS_SECRET_ACCESS_KEY": server.secret_key,
        "AWS_ENDPOINT_URL": server.endpoint,
        "AWS_REGION": "us-east-1",
    }


@pytest.fixture(params=["moto", "s3rver"])
def server(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> S3Server:
    chosen: S3Server = request.getfixturevalue(request.param)
    for name in AWS_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    for name, value in environment(chosen).items():
        monkeypatch.setenv(name, value)
    return chosen


@pytest.fixture
def bucket(server: S3Server) -> str:
    return server.create_bucket()


def objects(server: S3Server, bucket: str, prefix: str = "") -> dict[str, bytes]:
    client = server.client()
    keys = [item["Key"] for item in client.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", [])]
    return {key[len(prefix) :]: client.get_object(Bucket=bucket, Key=key)["Body"].read() for key in sorted(keys)}


def dump_files(listing: dict[str, bytes]) -> dict[str, bytes]:
    """Table files by name (without the dump's folder), as a local dump names them."""
    return {key.rsplit("/", 1)[-1]: data for key, data in listing.items() if key != "manifest.json"}


def comparable(manifest: bytes) -> dict[str, object]:
    """A manifest without what differs between two dumps of the same data, and what only buckets record."""
    data = orjson.loads(manifest)
    data.pop("created_at")
    data.pop("folder", None)
    for table in data["tables"]:
        table.pop("size", None)
    return data  # type: ignore[no-any-return]


def local_files(directory: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(directory.iterdir()) if path.name != "manifest.json"}


@pytest.mark.parametrize("db", ["sqlite", "postgresql", "mariadb"], indirect=True)
@pytest.mark.parametrize("server", ["moto"], indirect=True)
def test_dump_load_dump_through_a_bucket_is_byte_identical_to_a_local_dump(
    db: TestDatabase, is_async: bool, server: S3Server, bucket: str, tmp_path: Path
) -> None:
    metadata = everything_metadata(db.dialect)
    create_and_fill(db, metadata, {"everything": everything_rows(db.dialect)})
    config = make_config(db, metadata, is_async=is_async)
    before = snapshot(db, metadata)
    dump_data(config, directory=tmp_path / "local")
    result = dump_data(config, directory=f"s3://{bucket}/backups/first")
    assert str(result.directory) == f"s3://{bucket}/backups/first"
    first = objects(server, bucket, "backups/first/")
    assert dump_files(first) == local_files(tmp_path / "local")
    assert comparable(first["manifest.json"]) == comparable((tmp_path / "local" / "manifest.json").read_bytes())
    manifest = orjson.loads(first["manifest.json"])
    assert sorted(first) == sorted(["manifest.json", f"{manifest['folder']}/everything.json"])
    assert manifest["tables"][0]["size"] == len(first[f"{manifest['folder']}/everything.json"])

    dispose(config)
    db.reset()
    create_tables(db, metadata)
    config = make_config(db, metadata, is_async=is_async)
    loaded = load_data(config, directory=f"s3://{bucket}/backups/first")
    assert loaded.rows == result.rows and str(loaded.tables[0].file).startswith(f"s3://{bucket}/backups/first/")
    assert snapshot(db, metadata) == before
    dump_data(config, directory=f"s3://{bucket}/backups/second")
    dispose(config)
    second = objects(server, bucket, "backups/second/")
    assert dump_files(second) == local_files(tmp_path / "local")
    assert comparable(second["manifest.json"]) == comparable(first["manifest.json"])


def test_a_new_dump_replaces_the_previous_one_whole_gzip_and_jsonl(
    sqlite_db: TestDatabase, server: S3Server, bucket: str, tmp_path: Path
) -> None:
    metadata = chain_metadata()
    create_and_fill(sqlite_db, metadata, chain_rows())
    config = make_config(sqlite_db, metadata)
    server.client().put_object(Bucket=bucket, Key="shop/README.txt", Body=b"not a dump file: left alone")
    dump_data(config, directory=f"s3://{bucket}/shop", compress=True)
    old = orjson.loads(objects(server, bucket, "shop/")["manifest.json"])
    create_and_fill(sqlite_db, metadata, {"authors": [{"id": 3, "name": "Cy"}]})
    dump_data(config, directory=f"s3://{bucket}/shop/", file_format="jsonl", compress=True)
    listing = objects(server, bucket, "shop/")
    new = orjson.loads(listing["manifest.json"])
    assert new["folder"] != old["folder"]
    # the previous dump's files are gone, only once the new manifest named the new ones
    assert sorted(listing) == sorted(
        ["README.txt", "manifest.json", *(f"{new['folder']}/{table['file']}" for table in new["tables"])]
    )
    dump_data(config, directory=tmp_path / "local", file_format="jsonl", compress=True)
    assert dump_files(listing) == {**local_files(tmp_path / "local"), "README.txt": listing["README.txt"]}

    dispose(config)
    sqlite_db.reset()
    create_tables(sqlite_db, metadata)
    config = make_config(sqlite_db, metadata)
    result = load_data(config, directory=f"s3://{bucket}/shop")
    assert {table.name: table.rows for table in result.tables}["authors"] == 3
    # a bucket copied down to disk (aws s3 sync) loads as a local dump, and through file:// as a bucket
    copy = tmp_path / "copy"
    for key, data in listing.items():
        (copy / key).parent.mkdir(parents=True, exist_ok=True)
        (copy / key).write_bytes(data)
    for directory in (str(copy), f"file://{copy}"):
        assert load_data(config, directory=directory, mode="truncate").rows == result.rows
    # the manifest named as a file stands for its dump
    assert load_data(config, files=[f"s3://{bucket}/shop/manifest.json"], mode="truncate").rows == result.rows


def test_file_urls_dump_and_load_like_a_bucket(sqlite_db: TestDatabase, tmp_path: Path) -> None:
    metadata = chain_metadata()
    create_and_fill(sqlite_db, metadata, chain_rows())
    config = make_config(sqlite_db, metadata)
    dump_data(config, directory=tmp_path / "local")
    dump_data(config, directory=f"file://{tmp_path}/bucket/prefix")
    manifest = orjson.loads((tmp_path / "bucket" / "prefix" / "manifest.json").read_bytes())
    folder = tmp_path / "bucket" / "prefix" / manifest["folder"]
    assert local_files(folder) == local_files(tmp_path / "local")
    before = snapshot(sqlite_db, metadata)
    assert load_data(config, directory=f"file://{tmp_path}/bucket/prefix", mode="truncate").rows == 9
    assert snapshot(sqlite_db, metadata) == before
    dump_data(config, directory=f"file://{tmp_path}/bucket/prefix")  # the previous dump's folder goes
    again = orjson.loads((tmp_path / "bucket" / "prefix" / "manifest.json").read_bytes())
    assert sorted(path.name for path in (tmp_path / "bucket" / "prefix").iterdir()) == sorted(
        ["manifest.json", again["folder"]]
    )


def test_load_verifies_every_object_against_the_manifest(
    sqlite_db: TestDatabase, server: S3Server, bucket: str, tmp_path: Path
) -> None:
    metadata = chain_metadata()
    create_and_fill(sqlite_db, metadata, chain_rows())
    config = make_config(sqlite_db, metadata)
    url = f"s3://{bucket}/dump"
    dump_data(config, directory=url)
    client = server.client()
    manifest = orjson.loads(objects(server, bucket, "dump/")["manifest.json"])
    key = f"dump/{manifest['folder']}/authors.json"
    original = client.get_object(Bucket=bucket, Key=key)["Body"].read()
    before = snapshot(sqlite_db, metadata)

    client.put_object(Bucket=bucket, Key=key, Body=original.replace(b"Ann", b"Bob"))  # same size, other bytes
    with pytest.raises(DataError, match=r"authors.json: checksum mismatch"):
        load_data(config, directory=url, mode="truncate")
    client.put_object(Bucket=bucket, Key=key, Body=original + b"\n")
    with pytest.raises(DataError, match=r"authors.json: \d+ bytes, but the manifest says \d+"):
        load_data(config, directory=url, mode="truncate")
    client.put_object(Bucket=bucket, Key=key, Body=original)
    client.put_object(Bucket=bucket, Key=f"dump/{manifest['folder']}/extra.json", Body=b"[\n]\n")
    with pytest.raises(DataError, match=r"extra.json: not listed in manifest.json"):
        load_data(config, directory=url, mode="truncate")
    client.delete_object(Bucket=bucket, Key=f"dump/{manifest['folder']}/extra.json")
    client.delete_object(Bucket=bucket, Key=key)
    with pytest.raises(DataError, match=r"authors.json: listed in the manifest but missing"):
        load_data(config, directory=url, mode="truncate")
    # a local dump uploaded as it is (aws s3 sync): no folder, no sizes, files beside the manifest
    dump_data(config, directory=tmp_path / "local")
    for path in (tmp_path / "local").iterdir():
        client.put_object(Bucket=bucket, Key=f"synced/{path.name}", Body=path.read_bytes())
    assert load_data(config, directory=f"s3://{bucket}/synced", mode="truncate").rows == 9
    # a manifest naming a folder outside the dump is refused before anything is read
    client.put_object(Bucket=bucket, Key=key, Body=original)
    crafted = {**manifest, "folder": ".."}
    client.put_object(Bucket=bucket, Key="dump/manifest.json", Body=orjson.dumps(crafted))
    with pytest.raises(DataError, match=r"folder '\.\.' is not a plain folder name"):
        load_data(config, directory=url, mode="truncate")
    assert snapshot(sqlite_db, metadata) == before


KILLED_DUMP = """
import os, sys, time
from contextlib import contextmanager
from dbops.data.dump import dump_data
from tests.data.models import chain_metadata, make_config
from tests.databases import TestDatabase

class StopsAtSecondTable:
    # Holds the dump still once the first table's file is uploaded, for the test to kill -9 it.
    tables = 0
    def info(self, message): pass
    def warn(self, message): pass
    @contextmanager
    def progress(self, description, total):
        StopsAtSecondTable.tables += 1
        if StopsAtSecondTable.tables == 2:
            open(sys.argv[3], "w").close()
            time.sleep(120)
        yield self
    def advance(self, amount=1): pass

database = TestDatabase("sqlite", sys.argv[1], "", "test")
dump_data(make_config(database, chain_metadata()), directory=sys.argv[2], reporter=StopsAtSecondTable())
"""


def killed_dump(tmp_path: Path, database: TestDatabase, url: str) -> None:
    script = tmp_path / "killed_dump.py"
    script.write_text(textwrap.dedent(KILLED_DUMP))
    marker = tmp_path / "stopped"
    marker.unlink(missing_ok=True)
    process = subprocess.Popen(
        [sys.executable, str(script), database.sync_url, url, str(marker)], cwd=REPO_ROOT, env=dict(os.environ)
    )
    try:
        deadline = time.monotonic() + 120
        while not marker.exists():
            assert process.poll() is None, "the dump ended before it was killed"
            assert time.monotonic() < deadline
            time.sleep(0.05)
        os.kill(process.pid, signal.SIGKILL)
    finally:
        process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL


def test_a_killed_dump_leaves_the_previous_dump_loadable_and_itself_unloadable(
    sqlite_db: TestDatabase, server: S3Server, bucket: str, tmp_path: Path
) -> None:
    metadata = chain_metadata()
    create_and_fill(sqlite_db, metadata, chain_rows())
    config = make_config(sqlite_db, metadata)
    killed_dump(tmp_path, sqlite_db, f"s3://{bucket}/first")  # the first dump to a prefix, killed
    partial = objects(server, bucket, "first/")
    assert partial and "manifest.json" not in partial  # the first table's file went up
    with pytest.raises(DataError, match=r"first: no manifest.json; an interrupted dump left files"):
        load_data(config, directory=f"s3://{bucket}/first")

    url = f"s3://{bucket}/dump"
    dump_data(config, directory=url)
    complete = objects(server, bucket, "dump/")
    before = snapshot(sqlite_db, metadata)
    create_and_fill(sqlite_db, metadata, {"authors": [{"id": 3, "name": "Cy"}]})
    killed_dump(tmp_path, sqlite_db, url)  # a dump over it, killed once its first file is up
    after = objects(server, bucket, "dump/")
    leftovers = {key: data for key, data in after.items() if key not in complete}
    assert len(leftovers) == 1 and next(iter(leftovers)).endswith("/authors.json")
    assert b'"Cy"' in next(iter(leftovers.values()))
    assert {key: after[key] for key in complete} == complete  # the previous dump, untouched

    dispose(config)
    sqlite_db.reset()
    create_tables(sqlite_db, metadata)
    config = make_config(sqlite_db, metadata)
    load_data(config, directory=url)
    assert snapshot(sqlite_db, metadata) == before  # the previous dump, not the newer partial one

    create_and_fill(sqlite_db, metadata, {"authors": [{"id": 3, "name": "Cy"}]})
    dump_data(config, directory=url)  # the next complete dump removes the killed one's folder
    final = objects(server, bucket, "dump/")
    folder = orjson.loads(final["manifest.json"])["folder"]
    assert all(key == "manifest.json" or key.startswith(f"{folder}/") for key in final)


def test_a_failed_dump_removes_what_it_wrote_and_keeps_the_previous_dump(
    sqlite_db: TestDatabase, server: S3Server, bucket: str
) -> None:
    metadata = chain_metadata()
    create_and_fill(sqlite_db, metadata, chain_rows())
    config = make_config(sqlite_db, metadata)
    url = f"s3://{bucket}/dump"
    dump_data(config, directory=url)
    complete = objects(server, bucket, "dump/")
    reporter = FailsAtSecondTable()
    with pytest.raises(RuntimeError, match="the dump fails here"):
        dump_data(config, directory=url, reporter=reporter)
    assert reporter.tables == 2  # the first table's file had gone up
    assert objects(server, bucket, "dump/") == complete


class FailsAtSecondTable:
    tables = 0

    def info(self, message: str) -> None:
        pass

    def warn(self, message: str) -> None:
        pass

    @contextlib.contextmanager
    def progress(self, description: str, total: int | None) -> Iterator[FailsAtSecondTable]:
        self.tables += 1
        if self.tables == 2:
            raise RuntimeError("the dump fails here")
        yield self

    def advance(self, amount: int = 1) -> None:
        pass


CONFIG = """
from dbops import SQLAlchemySyncConfig
from tests.data.models import chain_metadata
db = SQLAlchemySyncConfig(connection_string={url!r}, metadata=chain_metadata())
"""


@pytest.mark.parametrize("command", ["dump-data", "load-data"])
def test_a_bad_bucket_endpoint_or_prefix_is_a_one_line_error(
    sqlite_db: TestDatabase,
    server: S3Server,
    bucket: str,
    tmp_path: Path,
    command: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    create_and_fill(sqlite_db, chain_metadata(), chain_rows())
    (tmp_path / "settings.py").write_text(CONFIG.format(url=sqlite_db.sync_url))
    dump_data(make_config(sqlite_db, chain_metadata()), directory=f"s3://{bucket}/dump")

    def run(url: str, **env: str) -> str:
        with monkeypatch.context() as patch:
            for name, value in env.items():
                patch.setenv(name, value)
            result = invoke([command, "--dir", url, "-c", "settings.py:db"], cwd=tmp_path)
        assert result.exit_code == 2, result.output
        assert result.stderr.count("\n") == 1 and "Traceback" not in result.output, result.stderr
        return result.stderr

    assert "NoSuchBucket" in run(f"s3://no-such-bucket-{bucket}/dump")
    unreachable = run(f"s3://{bucket}/dump", AWS_ENDPOINT_URL=f"http://127.0.0.1:{free_port()}")
    assert "cannot reach http://127.0.0.1:" in unreachable
    assert "cannot open" in run("gs://")
    if command == "load-data":
        assert "no manifest.json; not a dbops dump" in run(f"s3://{bucket}/empty")


def test_without_credentials_the_error_says_so(
    sqlite_db: TestDatabase, moto: S3Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in AWS_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto.endpoint)
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    create_and_fill(sqlite_db, chain_metadata(), chain_rows())
    with pytest.raises(DataError, match=r"cannot list: no credentials \(set AWS_ACCESS_KEY_ID"):
        dump_data(make_config(sqlite_db, chain_metadata()), directory="s3://any-bucket/dump")


def test_a_manifest_that_is_not_ours_is_never_overwritten(
    sqlite_db: TestDatabase, server: S3Server, bucket: str
) -> None:
    create_and_fill(sqlite_db, chain_metadata(), chain_rows())
    server.client().put_object(Bucket=bucket, Key="app/manifest.json", Body=b'{"name": "my web app"}')
    with pytest.raises(DataError, match=r"holds a manifest.json that is not a readable dbops manifest"):
        dump_data(make_config(sqlite_db, chain_metadata()), directory=f"s3://{bucket}/app")
    assert objects(server, bucket, "app/") == {"manifest.json": b'{"name": "my web app"}'}


PEAK_RSS = """
import resource, sys
from dbops.data.dump import dump_data
from dbops.data.load import load_data
from dbops.config import SQLAlchemySyncConfig
from tests.data.test_object_storage import big_metadata

config = SQLAlchemySyncConfig(connection_string=sys.argv[1], metadata=big_metadata())
if sys.argv[2] == "dump":
    dump_data(config, directory=sys.argv[3])
else:
    load_data(config, directory=sys.argv[3])
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)
"""


def big_metadata() -> sa.MetaData:
    metadata = sa.MetaData()
    sa.Table("blobs", metadata, sa.Column("id", sa.Integer, primary_key=True), sa.Column("body", sa.Text))
    return metadata


def peak_mb(tmp_path: Path, url: str, action: str, location: str) -> int:
    script = tmp_path / "peak.py"
    script.write_text(PEAK_RSS)
    completed = subprocess.run(
        [sys.executable, str(script), url, action, location],
        cwd=REPO_ROOT,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    return int(completed.stdout.split()[-1])


@pytest.mark.parametrize("server", ["moto"], indirect=True)
def test_memory_stays_flat_whatever_the_table_size(server: S3Server, bucket: str, tmp_path: Path) -> None:
    """Peak RSS of a dump and a load of 30 MB vs 120 MB of rows: the 90 MB more don't show up in memory."""
    peaks: dict[str, list[int]] = {"dump": [], "load": []}
    for index, rows in enumerate((30_000, 120_000)):
        path = tmp_path / f"big{index}.sqlite"
        url = f"sqlite:///{path}"
        engine = sa.create_engine(url)
        with engine.begin() as connection:
            big_metadata().create_all(connection)
            connection.exec_driver_sql(
                "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?) "
                "INSERT INTO blobs SELECT i, printf('%d', i) || hex(randomblob(500)) FROM n",
                (rows,),
            )
        engine.dispose()
        location = f"s3://{bucket}/big{index}"
        peaks["dump"].append(peak_mb(tmp_path, url, "dump", location))
        with sa.create_engine(url).begin() as connection:
            connection.exec_driver_sql("DELETE FROM blobs")
        peaks["load"].append(peak_mb(tmp_path, url, "load", location))
    sizes = [size for key, size in objects_sizes(server, bucket) if key.endswith("blobs.json")]
    assert sorted(sizes)[1] - sorted(sizes)[0] > 80 << 20
    # The growth is what buffering a file would show (90 MB more, at least); the bound on the peak is generous
    # because a loaded machine varies it (once over 250 MB in a parallel run, 127-137 MB when quiet).
    for action, (small, large) in peaks.items():
        assert large - small < 60, f"{action}: peak RSS {small} MB for 30 MB of rows, {large} MB for 120 MB"
        assert large < 400, f"{action}: peak RSS {large} MB ({peaks})"


def objects_sizes(server: S3Server, bucket: str) -> list[tuple[str, int]]:
    listing = server.client().list_objects_v2(Bucket=bucket).get("Contents", [])
    return [(item["Key"], int(item["Size"])) for item in listing]


def test_a_file_another_process_wrote_gets_its_size_from_the_store(tmp_path: Path) -> None:
    """A worker process writing a table file (``--jobs``) has its own ``ObjectFolder``: the commit lists instead."""
    from dbops.data.manifest import Manifest, TableEntry
    from dbops.data.objects import ObjectDestination, ObjectFolder

    destination = ObjectDestination(f"file://{tmp_path}/dump")
    destination.check_target()
    with destination as folder:
        worker = ObjectFolder(folder.place, folder.run)
        with worker.open_writer("t.json") as out:
            out.write(b"[\n]\n")
        entry = TableEntry("t", "t.json", 0, out.sha256, [], [], [])
        destination.commit(Manifest("0", "sqlite", "now", None, None, tables=[entry]))
    manifest = orjson.loads((tmp_path / "dump" / "manifest.json").read_bytes())
    assert manifest["tables"][0]["size"] == 4
    missing = ObjectDestination(f"file://{tmp_path}/dump")
    missing.check_target()
    with pytest.raises(DataError, match=r"u.json: missing from the dump's folder"), missing:
        missing.commit(
            Manifest("0", "sqlite", "now", None, None, tables=[TableEntry("u", "u.json", 0, "", [], [], [])])
        )


def test_wrong_credentials_are_a_one_line_error(sqlite_db: TestDatabase, tmp_path: Path) -> None:
    """moto with authentication on (``INITIAL_NO_AUTH_ACTION_COUNT=0``) refuses a key it doesn't know."""
    from tests.storage.conftest import _start

    port = free_port()
    command = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)]
    process = _start("moto", command, port, env={**os.environ, "INITIAL_NO_AUTH_ACTION_COUNT": "0"})
    try:
        create_and_fill(sqlite_db, chain_metadata(), chain_rows())
        (tmp_path / "settings.py").write_text(CONFIG.format(url=sqlite_db.sync_url))
        env = {
            "AWS_ACCESS_KEY_ID": "AKIANOBODYKNOWS",
            "AWS_SECRET_ACCESS_KEY": "wrong",
            "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}",
            "AWS_REGION": "us-east-1",
        }
        for command_name in ("dump-data", "load-data"):
            result = invoke([command_name, "--dir", "s3://backups/shop", "-c", "settings.py:db"], cwd=tmp_path, env=env)
            assert result.exit_code == 2 and result.stderr.count("\n") == 1, result.stderr
            assert result.stderr == (
                "Error: s3://backups/shop: cannot list: InvalidAccessKeyId: The AWS Access Key Id you provided does "
                "not exist in our records. (check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)\n"
            )
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.mark.parametrize("db", ["postgresql", "mariadb"], indirect=True)
@pytest.mark.parametrize("server", ["moto"], indirect=True)
def test_a_parallel_dump_to_a_bucket_and_a_parallel_load_from_it(
    db: TestDatabase, server: S3Server, bucket: str, tmp_path: Path
) -> None:
    """--jobs and a bucket together: readers in several threads upload their own table files into the one dump
    folder; the objects equal a single-reader local dump's files, and --jobs 4 loads them back."""
    metadata = chain_metadata()
    create_and_fill(db, metadata, chain_rows())
    config = make_config(db, metadata)
    before = snapshot(db, metadata)
    dump_data(config, directory=tmp_path / "local")
    dump_data(config, directory=f"s3://{bucket}/parallel", jobs=4)
    uploaded = objects(server, bucket, "parallel/")
    assert dump_files(uploaded) == local_files(tmp_path / "local")
    assert comparable(uploaded["manifest.json"]) == comparable((tmp_path / "local" / "manifest.json").read_bytes())
    dispose(config)
    db.reset()
    create_tables(db, metadata)
    config = make_config(db, metadata)
    load_data(config, directory=f"s3://{bucket}/parallel", jobs=4)
    dispose(config)
    assert snapshot(db, metadata) == before


@pytest.mark.parametrize("server", ["moto"], indirect=True)
def test_the_cli_loads_a_bucket_dump_named_by_its_manifest(
    sqlite_db: TestDatabase, server: S3Server, bucket: str, tmp_path: Path
) -> None:
    """`load-data s3://bucket/prefix/manifest.json` (a FILE argument, not --dir) keeps the URL's "//"."""
    metadata = chain_metadata()
    create_and_fill(sqlite_db, metadata, chain_rows())
    before = snapshot(sqlite_db, metadata)
    (tmp_path / "settings.py").write_text(CONFIG.format(url=sqlite_db.sync_url))
    dumped = invoke(["dump-data", "--dir", f"s3://{bucket}/cli", "-c", "settings.py:db"], cwd=tmp_path)
    assert dumped.exit_code == 0, dumped.output
    engine = sa.create_engine(sqlite_db.sync_url)
    with engine.begin() as connection:
        connection.execute(sa.text("UPDATE authors SET name = 'changed'"))
    engine.dispose()
    assert snapshot(sqlite_db, metadata) != before
    manifest = f"s3://{bucket}/cli/manifest.json"
    loaded = invoke(["load-data", "--mode", "truncate", manifest, "-c", "settings.py:db"], cwd=tmp_path)
    assert loaded.exit_code == 0, loaded.output
    assert snapshot(sqlite_db, metadata) == before
    local = invoke(["load-data", "--mode", "truncate", "nowhere/authors.json", "-c", "settings.py:db"], cwd=tmp_path)
    assert local.exit_code == 2 and "nowhere/authors.json" in local.stderr, local.output
