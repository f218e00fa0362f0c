"""Benchmark ``dbops storage sync``: local disk → S3 endpoint (moto in server mode, a separate process).

Measures, in one run, against the same server and the same files:
- N files x SIZE KB with --jobs 16 vs --jobs 1 (target: >= 5x faster),
- the peer doing the same job: a plain boto3 upload loop (``upload_file`` per file, 1 and 16 threads; and
  ``aws s3 sync`` when the aws CLI is on PATH), so the table says what dbops' bookkeeping (reading rows,
  SHA-256, verifying each copy, the target listing) costs over uploading alone,
- a no-op re-run vs the first run (target: < 10%),
- peak RSS syncing one big file (target: < 200 MB), in a fresh process each, next to a whole-file copy
  (``get_content()`` then ``save()``) as the memory reference.

The S3 endpoint is moto's S3 app, served by werkzeug in its own process, with a fixed delay per request
(``--latency-ms``, default 20) standing in for the network round trip to a real S3 endpoint: on localhost a
request has next to no latency, so without it there is nothing for parallel copies to overlap. moto spends a few
ms of (GIL-bound) CPU per request on the same cores as the client, which caps every client at
``files x moto's CPU per request`` (printed); the peer pays it too, so the dbops/peer ratio is like with like.
``--endpoint-url`` runs against another S3 server (MinIO, s3rver) instead. ``--standin`` adds, outside the
headline table, the same timings against ``bench/servers/s3_standin.py`` (a minimal server that discards bodies),
which shows the client's own parallel speed-up without moto's CPU.

Every timing is the best of ``--repeat`` rounds (each contender once per round, each first run into a fresh,
empty bucket), since the machine may be shared; every run is printed, with the load average.

    uv run --all-extras python bench/storage.py                         # modest sizes (a few minutes)
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
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CREDENTIALS = {"access": "bench", "secret": "bench-secret"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


MOTO_S3 = """
import sys, time
from moto.server import create_backend_app
from werkzeug.serving import run_simple

app = create_backend_app("s3")
delay = float(sys.argv[2]) / 1000


def delayed(environ, start_response):
    if delay:
        time.sleep(delay)  # the round trip a request to a real S3 endpoint takes
    return app(environ, start_response)


run_simple("127.0.0.1", int(sys.argv[1]), delayed, threaded=True)
"""


STANDIN = Path(__file__).resolve().parent / "servers" / "s3_standin.py"  # not bench/*.py: bench/run.py runs those


def start_moto(latency_ms: float = 0) -> tuple[subprocess.Popen[bytes], str]:
    """moto's S3 app in its own process; ``latency_ms`` delays every request like a network would."""
    return start_server(MOTO_S3, latency_ms)


def start_server(script: str | Path, latency_ms: float) -> tuple[subprocess.Popen[bytes], str]:
    """An S3 server (moto's code as a string, or the stand-in's file) on a free port, in its own process."""
    port = free_port()
    program = [str(script)] if isinstance(script, Path) else ["-c", script]
    command = [sys.executable, *program, str(port), str(latency_ms)]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(300):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return process, f"http://127.0.0.1:{port}"
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit(f"{script if isinstance(script, Path) else 'moto'} did not start")


def s3_client(endpoint: str, **options: object):  # type: ignore[no-untyped-def]
    import boto3

    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id=CREDENTIALS["access"],
        aws_secret_access_key=CREDENTIALS["secret"],
        region_name="us-east-1",
        **options,
    )


def make_bucket(endpoint: str, name: str) -> None:
    s3_client(endpoint).create_bucket(Bucket=name)


def drop_bucket(endpoint: str, name: str) -> None:
    """Empty and delete a bucket, so moto's memory (and the heap its GC walks) stays one run's worth."""
    client = s3_client(endpoint)
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=name):
        keys = [{"Key": item["Key"]} for item in page.get("Contents", [])]
        if keys:
            client.delete_objects(Bucket=name, Delete={"Objects": keys, "Quiet": True})
    client.delete_bucket(Bucket=name)


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


def boto3_upload(files_dir: Path, endpoint: str, bucket: str, jobs: int) -> float:
    """The peer: a plain boto3 loop uploading the same files to ``bucket``, ``jobs`` at a time."""
    from concurrent.futures import ThreadPoolExecutor

    from botocore.config import Config

    client = s3_client(endpoint, config=Config(max_pool_connections=max(jobs, 10)))  # clients are thread-safe
    paths = sorted(path for path in files_dir.rglob("*") if path.is_file())

    def upload(path: Path) -> None:
        client.upload_file(str(path), bucket, path.relative_to(files_dir).as_posix())

    start = time.perf_counter()
    with ThreadPoolExecutor(jobs) as pool:
        list(pool.map(upload, paths))
    return time.perf_counter() - start


def aws_cli_sync(files_dir: Path, endpoint: str, bucket: str) -> float | None:
    """``aws s3 sync`` of the same folder to ``bucket`` (its default 10 parallel requests); None without the CLI."""
    import shutil

    aws = shutil.which("aws")
    if aws is None:
        return None
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": CREDENTIALS["access"],
        "AWS_SECRET_ACCESS_KEY": CREDENTIALS["secret"],
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    start = time.perf_counter()
    subprocess.run(
        [aws, "s3", "sync", str(files_dir), f"s3://{bucket}", "--endpoint-url", endpoint, "--only-show-errors"],
        env=env,
        check=True,
    )
    return time.perf_counter() - start


def whole_file_copy(config, table, target: str) -> float:  # type: ignore[no-untyped-def]
    """The memory reference: load each FileObject, get_content() (the whole file), save() to the target."""
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
        whole_file_copy(config, table, "s3")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{before:.0f} {peak:.0f}")


def measure_rss(endpoint: str, mode: str, big_mb: int) -> tuple[float, float]:
    bucket = f"rss-{mode}-{int(time.time() * 1000) % 10**8}"
    make_bucket(endpoint, bucket)
    with tempfile.TemporaryDirectory() as workdir:
        child = subprocess.run(
            [
                *(sys.executable, __file__, "--rss-child", "--mode", mode, "--workdir", workdir),
                *("--endpoint", endpoint, "--bucket", bucket, "--big-mb", str(big_mb)),
                *("--access-key", CREDENTIALS["access"], "--secret-key", CREDENTIALS["secret"]),
            ],
            capture_output=True,
            text=True,
        )
    if child.returncode != 0:
        raise SystemExit(f"the {mode} RSS run failed (exit {child.returncode}):\n{child.stderr[-2000:]}")
    drop_bucket(endpoint, bucket)
    output = child.stdout.split()
    return float(output[0]), float(output[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", type=int, default=400, help="number of files (issue: 2000)")
    parser.add_argument("--size-kb", type=int, default=256, help="size of each file in KB (issue: 256)")
    parser.add_argument("--big-mb", type=int, default=256, help="size of the single big file in MB (issue: 1024)")
    parser.add_argument(
        "--skip-copy-rss", action="store_true", help="don't measure the whole-file copy's RSS (it needs RAM)"
    )
    parser.add_argument(
        "--latency-ms",
        type=float,
        default=20,
        help="per-request delay added by the moto server, standing in for the network round trip to S3 "
        "(0: raw localhost moto, which is CPU-bound and cannot show parallel speed-up on a small machine)",
    )
    parser.add_argument("--repeat", type=int, default=2, help="interleaved runs of each timing; the best counts")
    parser.add_argument(
        "--standin", action="store_true", help="also time the syncs against the minimal S3 stand-in (diagnostics)"
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

    if args.endpoint_url:
        moto, endpoint = None, args.endpoint_url
    else:
        moto, endpoint = start_moto(args.latency_ms)
    print(f"load average at start: {load_average()}", file=sys.stderr)
    standin: Timings | None = None
    try:
        with tempfile.TemporaryDirectory() as workdir:
            print(f"setting up {args.files} files x {args.size_kb} KB ...", file=sys.stderr)
            config, _ = setup_rows(Path(workdir), args.files, args.size_kb * 1024)
            files_dir = Path(workdir) / "files"
            timings = time_syncs(config, endpoint, moto, args, label="moto", drop=True, files_dir=files_dir)
            if args.standin and not args.endpoint_url:
                server, standin_endpoint = start_server(STANDIN, args.latency_ms)
                try:
                    standin = time_syncs(
                        config, standin_endpoint, server, args, label="stand-in", drop=False, files_dir=None
                    )
                finally:
                    server.terminate()
                    server.wait()
            config.dispose()
        base_rss, rss = measure_rss(endpoint, "dbops", args.big_mb)
        copy_rss = None if args.skip_copy_rss else measure_rss(endpoint, "copy", args.big_mb)[1]
    finally:
        if moto is not None:
            moto.terminate()
            moto.wait()

    t1, t16, tnoop = timings.best()
    p1, p16 = min(timings.peer1), min(timings.peer16)
    rows = [
        ("sync --jobs 1", f"{t1:.2f} s", f"{t1 / p1:.2f}x the peer's time"),
        ("peer: boto3 upload_file loop, 1 at a time", f"{p1:.2f} s", ""),
        (
            "sync --jobs 16",
            f"{t16:.2f} s",
            f"{t1 / t16:.2f}x faster than --jobs 1 (target >= 5x); {t16 / p16:.2f}x the peer's time",
        ),
        ("peer: boto3 upload_file loop, 16 threads", f"{p16:.2f} s", f"{p1 / p16:.2f}x faster than 1 at a time"),
    ]
    if timings.aws_cli:
        cli = min(timings.aws_cli)
        rows.append(("peer: aws s3 sync (10 parallel requests)", f"{cli:.2f} s", f"dbops --jobs 16: {t16 / cli:.2f}x"))
    rows += [
        (
            "no-op re-run (--jobs 16)",
            f"{tnoop:.2f} s",
            f"{100 * tnoop / t16:.1f}% of the first run (target < 10%); listing the bucket alone "
            f"{min(timings.listing):.2f} s",
        ),
        (
            f"peak RSS, one {args.big_mb} MB file",
            f"{rss:.0f} MB",
            f"{base_rss:.0f} MB before the sync started (target < 200 MB)",
        ),
    ]
    if copy_rss is not None:
        rows.append(
            (
                f"whole-file copy peak RSS, one {args.big_mb} MB file",
                f"{copy_rss:.0f} MB",
                f"{copy_rss / rss:.1f}x dbops",
            )
        )
    where = args.endpoint_url or f"moto server, {args.latency_ms:g} ms added per request"
    print(
        f"storage sync: {args.files} files x {args.size_kb} KB, local disk -> S3 ({where}); "
        f"best of {args.repeat} interleaved runs\n"
    )
    width = max(len(row[0]) for row in rows)
    for name, value, ratio in rows:
        print(f"{name:<{width}}  {value:>10}  {ratio}")
    if timings.server_cpu:
        per_request = min(timings.server_cpu)
        bound = per_request * args.files
        print(
            f"the server used {1000 * per_request:.1f} ms CPU per file during --jobs 16 (one core at most), "
            f"so no client can beat {bound:.2f} s there (dbops --jobs 16: {t16 / bound:.1f}x that)"
        )
    if standin is not None:
        s1, s16, snoop = standin.best()
        print(
            f"diagnostics, against the minimal stand-in (not an S3 implementation; it discards bodies): --jobs 1 "
            f"{s1:.2f} s, --jobs 16 {s16:.2f} s ({s1 / s16:.2f}x), no-op {snoop:.2f} s"
        )
    print(f"load average at the end: {load_average()} (2 cores shared with other work make the figures noisy)")


@dataclass
class Timings:
    jobs1: list[float] = field(default_factory=list)
    jobs16: list[float] = field(default_factory=list)
    noop: list[float] = field(default_factory=list)
    server_cpu: list[float] = field(default_factory=list)
    """The S3 server's CPU seconds per file during each --jobs 16 run."""
    listing: list[float] = field(default_factory=list)
    peer1: list[float] = field(default_factory=list)
    peer16: list[float] = field(default_factory=list)
    aws_cli: list[float] = field(default_factory=list)

    def best(self) -> tuple[float, float, float]:
        return min(self.jobs1), min(self.jobs16), min(self.noop)


def fresh_target(endpoint: str, name: str) -> str:
    """An empty bucket registered as backend ``name``."""
    from dbops.storage import storages

    bucket = f"dbops-bench-{name}-{int(time.time() * 1000) % 10**8}"
    make_bucket(endpoint, bucket)
    storages.register_backend(s3_backend(name, endpoint, bucket))
    BUCKETS[name] = bucket
    return name


BUCKETS: dict[str, str] = {}


def drop_target(endpoint: str, name: str) -> None:
    from dbops.storage import storages

    drop_bucket(endpoint, BUCKETS.pop(name))
    storages.unregister_backend(name)


def time_syncs(  # type: ignore[no-untyped-def]
    config,
    endpoint: str,
    server: subprocess.Popen[bytes] | None,
    args: argparse.Namespace,
    *,
    label: str,
    drop: bool,
    files_dir: Path | None,
) -> Timings:
    """``--repeat`` rounds of: --jobs 1 into a fresh bucket, --jobs 16 into another, then a no-op re-run; and,
    with ``files_dir``, the peers uploading the same files into fresh buckets of their own."""
    timings = Timings()
    for repeat in range(args.repeat):
        if files_dir is not None:
            for jobs, times in ((1, timings.peer1), (16, timings.peer16)):
                bucket = f"dbops-bench-boto3-{jobs}-{repeat}-{int(time.time() * 1000) % 10**8}"
                make_bucket(endpoint, bucket)
                times.append(boto3_upload(files_dir, endpoint, bucket, jobs))
                drop_bucket(endpoint, bucket)
            bucket = f"dbops-bench-awscli-{repeat}-{int(time.time() * 1000) % 10**8}"
            make_bucket(endpoint, bucket)
            cli = aws_cli_sync(files_dir, endpoint, bucket)
            drop_bucket(endpoint, bucket)
            if cli is not None:
                timings.aws_cli.append(cli)
        target = fresh_target(endpoint, f"{label}-jobs1-{repeat}")
        t1, _ = timed_sync(config, target, 1)
        if drop:
            drop_target(endpoint, target)
        target = fresh_target(endpoint, f"{label}-jobs16-{repeat}")
        before = process_cpu(server)
        t16, _ = timed_sync(config, target, 16)
        after = process_cpu(server)
        if before is not None and after is not None:
            timings.server_cpu.append((after - before) / args.files)
        tnoop, noop = timed_sync(config, target, 16)
        assert getattr(noop, "copied", None) == 0, noop
        timings.listing.append(timed_listing(target))
        if drop:
            drop_target(endpoint, target)
        timings.jobs1.append(t1)
        timings.jobs16.append(t16)
        timings.noop.append(tnoop)
        peers = f"boto3 x1 {timings.peer1[-1]:.2f} s, x16 {timings.peer16[-1]:.2f} s; " if files_dir else ""
        print(
            f"{label} run {repeat + 1}: {peers}--jobs 1 {t1:.2f} s, --jobs 16 {t16:.2f} s ({t1 / t16:.2f}x), "
            f"no-op {tnoop:.2f} s ({100 * tnoop / t16:.1f}%, listing the bucket alone {timings.listing[-1]:.2f} s); "
            f"load average {load_average()}",
            file=sys.stderr,
        )
    return timings


def timed_listing(key: str) -> float:
    """How long listing the target bucket takes by itself (the part of a no-op re-run the server decides)."""
    from dbops.storage import storages
    from dbops.storage.sync import list_target

    start = time.perf_counter()
    list_target(storages.get_backend(key))
    return time.perf_counter() - start


def load_average() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def process_cpu(process: subprocess.Popen[bytes] | None) -> float | None:
    """CPU seconds (user + system) a child process used so far, from /proc (Linux); ``None`` elsewhere."""
    if process is None:
        return None
    try:
        fields = Path(f"/proc/{process.pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


if __name__ == "__main__":
    main()
