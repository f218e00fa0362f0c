"""Benchmark ``dbops storage sync``: local disk → S3 endpoint (moto in server mode, a separate process).

Measures, in one run:
- N files x SIZE KB with --jobs 16 vs --jobs 1 (target: >= 5x faster),
- a no-op re-run vs the first run (target: < 10%),
- peak RSS syncing one big file (target: < 200 MB), in a fresh process each,
and, as the peer, the copy Advanced Alchemy's FileObject API allows (``get_content()`` then ``save()``: the
whole file in memory, one at a time), on the same files.

    uv run --all-extras python bench/storage.py                         # modest sizes (< 2 minutes)
    uv run --all-extras python bench/storage.py --files 2000 --big-mb 1024   # the issue's full size
"""

from __future__ import annotations

import argparse
import os
import resource
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CREDENTIALS = {"access": "bench", "secret": "bench-secret"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


MOTO_WITH_LATENCY = """
import sys, time
from moto.server import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import run_simple

app = DomainDispatcherApplication(create_backend_app)
delay = float(sys.argv[2]) / 1000


def delayed(environ, start_response):
    time.sleep(delay)  # the round trip a request to a real S3 endpoint takes
    return app(environ, start_response)


run_simple("127.0.0.1", int(sys.argv[1]), delayed, threaded=True)
"""


def start_moto(latency_ms: float = 0) -> tuple[subprocess.Popen[bytes], str]:
    """moto in server mode in its own process; ``latency_ms`` delays every request like a network would."""
    port = free_port()
    if latency_ms:
        command = [sys.executable, "-c", MOTO_WITH_LATENCY, str(port), str(latency_ms)]
    else:
        command = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(300):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return process, f"http://127.0.0.1:{port}"
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit("moto server did not start")


def make_bucket(endpoint: str, name: str) -> None:
    import boto3

    boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id=CREDENTIALS["access"],
        aws_secret_access_key=CREDENTIALS["secret"],
        region_name="us-east-1",
    ).create_bucket(Bucket=name)


def s3_backend(key: str, endpoint: str, bucket: str):  # type: ignore[no-untyped-def]
    from dbops.storage import ObstoreBackend

    return ObstoreBackend(
        key,
        fs=f"s3://{bucket}/",
        aws_endpoint=endpoint,
        aws_access_key_id=CREDENTIALS["access"],
        aws_secret_access_key=CREDENTIALS["secret"],
    )


def setup_rows(workdir: Path, files: int, size: int):  # type: ignore[no-untyped-def]
    """A SQLite database with ``files`` rows, each referencing a ``size``-byte file on local disk."""
    from sqlalchemy import Column, Integer, MetaData, Table, create_engine, insert

    from dbops.config import SQLAlchemySyncConfig
    from dbops.storage import FileObject, LocalBackend, StoredObject, storages

    local = storages.register_backend(LocalBackend("local", workdir / "files"))
    metadata = MetaData()
    table = Table("document", metadata, Column("id", Integer, primary_key=True), Column("file", StoredObject("local")))
    url = f"sqlite:///{workdir / 'bench.sqlite'}"
    engine = create_engine(url)
    metadata.create_all(engine)
    rows = []
    for index in range(files):
        item = FileObject(local, f"{index}.bin", content=os.urandom(size)).save()
        rows.append({"id": index + 1, "file": item})
    with engine.begin() as connection:
        connection.execute(insert(table), rows)
    engine.dispose()
    return SQLAlchemySyncConfig(connection_string=url, metadata=metadata), table


def timed_sync(config, target: str, jobs: int) -> tuple[float, object]:  # type: ignore[no-untyped-def]
    from dbops.storage.sync import sync_files

    start = time.perf_counter()
    result = sync_files(config, source="local", target=target, jobs=jobs)
    return time.perf_counter() - start, result


def peer_copy(config, table, target: str) -> float:  # type: ignore[no-untyped-def]
    """Advanced Alchemy's way: load each FileObject, get_content() (whole file), save() to the target."""
    from sqlalchemy import select

    from dbops.storage import FileObject

    engine = config.get_engine()
    start = time.perf_counter()
    with engine.connect() as connection:
        for (item,) in connection.execute(select(table.c.file)):
            FileObject(target, item.filename, path=item.path, content=item.get_content()).save()
    return time.perf_counter() - start


def rss_child(args: argparse.Namespace) -> None:
    """Run in a fresh process: sync (or peer-copy) one big file, print peak RSS in MB."""
    from dbops.storage import storages

    workdir = Path(args.workdir)
    config, table = setup_rows(workdir, 1, 0)
    # Replace the tiny file with a big one written in chunks (never in memory whole).
    from sqlalchemy import update

    from dbops.storage import FileObject

    local = storages.get_backend("local")
    chunk = os.urandom(1024 * 1024)
    item = FileObject(local, "big.bin", content=(chunk for _ in range(args.big_mb))).save()
    with config.get_engine().begin() as connection:
        connection.execute(update(table).values(file=item))
    storages.register_backend(s3_backend("s3", args.endpoint, args.bucket))
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    if args.mode == "dbops":
        timed_sync(config, "s3", 4)
    else:
        peer_copy(config, table, "s3")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{before:.0f} {peak:.0f}")


def measure_rss(endpoint: str, mode: str, big_mb: int) -> tuple[float, float]:
    bucket = f"rss-{mode}-{int(time.time() * 1000) % 10**8}"
    make_bucket(endpoint, bucket)
    with tempfile.TemporaryDirectory() as workdir:
        output = subprocess.run(
            [
                *(sys.executable, __file__, "--rss-child", "--mode", mode, "--workdir", workdir),
                *("--endpoint", endpoint, "--bucket", bucket, "--big-mb", str(big_mb)),
                *("--access-key", CREDENTIALS["access"], "--secret-key", CREDENTIALS["secret"]),
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()
    return float(output[0]), float(output[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", type=int, default=400, help="number of files (issue: 2000)")
    parser.add_argument("--size-kb", type=int, default=256, help="size of each file in KB (issue: 256)")
    parser.add_argument("--big-mb", type=int, default=256, help="size of the single big file in MB (issue: 1024)")
    parser.add_argument("--skip-peer-rss", action="store_true", help="don't measure the peer's RSS (it needs RAM)")
    parser.add_argument(
        "--latency-ms",
        type=float,
        default=20,
        help="per-request delay added by the moto server, standing in for the network round trip to S3 "
        "(0: raw localhost moto, which is CPU-bound and cannot show parallel speed-up on a small machine)",
    )
    parser.add_argument("--endpoint-url", help="an S3 endpoint to use instead of moto (e.g. MinIO)")
    parser.add_argument("--access-key", default=None, help="access key for --endpoint-url")
    parser.add_argument("--secret-key", default=None, help="secret key for --endpoint-url")
    parser.add_argument("--rss-child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--mode", default="dbops", help=argparse.SUPPRESS)
    parser.add_argument("--workdir", help=argparse.SUPPRESS)
    parser.add_argument("--endpoint", help=argparse.SUPPRESS)
    parser.add_argument("--bucket", help=argparse.SUPPRESS)
    args = parser.parse_args()
    CREDENTIALS["access"] = args.access_key or CREDENTIALS["access"]
    CREDENTIALS["secret"] = args.secret_key or CREDENTIALS["secret"]
    if args.rss_child:
        rss_child(args)
        return

    from dbops.storage import storages

    if args.endpoint_url:
        moto, endpoint = None, args.endpoint_url
    else:
        moto, endpoint = start_moto(args.latency_ms)
    try:
        with tempfile.TemporaryDirectory() as workdir:
            print(f"setting up {args.files} files x {args.size_kb} KB ...", file=sys.stderr)
            config, table = setup_rows(Path(workdir), args.files, args.size_kb * 1024)
            run_id = int(time.time()) % 10**6
            for key in ("s3-jobs1", "s3-jobs16", "s3-peer"):
                bucket = f"dbops-bench-{key}-{run_id}"
                make_bucket(endpoint, bucket)
                storages.register_backend(s3_backend(key, endpoint, bucket))
            t1, _ = timed_sync(config, "s3-jobs1", 1)
            t16, _ = timed_sync(config, "s3-jobs16", 16)
            tnoop, noop = timed_sync(config, "s3-jobs16", 16)
            assert getattr(noop, "copied", None) == 0, noop
            tpeer = peer_copy(config, table, "s3-peer")
            config.dispose()
        base_rss, rss = measure_rss(endpoint, "dbops", args.big_mb)
        peer_rss = None if args.skip_peer_rss else measure_rss(endpoint, "peer", args.big_mb)[1]
    finally:
        if moto is not None:
            moto.terminate()
            moto.wait()

    rows = [
        ("sync --jobs 1", f"{t1:.2f} s", f"{tpeer / t1:.2f}x faster than peer"),
        (
            "sync --jobs 16",
            f"{t16:.2f} s",
            f"{t1 / t16:.2f}x faster than --jobs 1 (target >= 5x); {tpeer / t16:.2f}x faster than peer",
        ),
        ("no-op re-run (--jobs 16)", f"{tnoop:.2f} s", f"{100 * tnoop / t16:.1f}% of the first run (target < 10%)"),
        ("peer: get_content()+save(), sequential", f"{tpeer:.2f} s", "1.00x"),
        (
            f"peak RSS, one {args.big_mb} MB file",
            f"{rss:.0f} MB",
            f"interpreter+imports {base_rss:.0f} MB (target < 200 MB)",
        ),
    ]
    if peer_rss is not None:
        rows.append((f"peer peak RSS, one {args.big_mb} MB file", f"{peer_rss:.0f} MB", f"{peer_rss / rss:.1f}x dbops"))
    where = args.endpoint_url or f"moto server, {args.latency_ms:g} ms added per request"
    print(f"storage sync: {args.files} files x {args.size_kb} KB, local disk -> S3 ({where})\n")
    width = max(len(row[0]) for row in rows)
    for name, value, ratio in rows:
        print(f"{name:<{width}}  {value:>10}  {ratio}")


if __name__ == "__main__":
    main()
