"""A minimal S3 stand-in for ``bench/storage.py``: just the requests ``storage sync`` makes, at almost no CPU.

moto is a faithful S3 emulator but spends a few ms of Python CPU per request on the same two cores as the
client; a real S3 spends none of the client's CPU. This server answers the requests a sync of small files
makes (create bucket, single-part PUT, ListObjectsV2 with paging, HEAD, DELETE) after a fixed delay, and
keeps only each object's size, MD5 and time (bodies are read, hashed for the ETag and dropped), so the
benchmark can show the client's own parallel speed-up. Multipart uploads and GET are not supported (501).

    python bench/servers/s3_standin.py PORT LATENCY_MS
"""

from __future__ import annotations

import asyncio
import hashlib
import sys
import time
from email.utils import formatdate
from urllib.parse import parse_qs, unquote, urlsplit
from xml.sax.saxutils import escape

PAGE = 1000

objects: dict[str, dict[str, tuple[int, str, float]]] = {}
"""bucket → key → (size, md5 hex, modified)."""


def listing(bucket: str, query: dict[str, list[str]]) -> bytes:
    prefix = query.get("prefix", [""])[0]
    after = query.get("continuation-token", query.get("start-after", [""]))[0]
    keys = sorted(key for key in objects.get(bucket, {}) if key.startswith(prefix) and key > after)
    page, truncated = keys[:PAGE], len(keys) > PAGE
    contents = "".join(
        f"<Contents><Key>{escape(key)}</Key><LastModified>"
        f"{time.strftime('%Y-%m-%dT%H:%M:%S.000Z', time.gmtime(objects[bucket][key][2]))}</LastModified>"
        f"<ETag>&quot;{objects[bucket][key][1]}&quot;</ETag><Size>{objects[bucket][key][0]}</Size>"
        f"<StorageClass>STANDARD</StorageClass></Contents>"
        for key in page
    )
    token = f"<NextContinuationToken>{escape(page[-1])}</NextContinuationToken>" if truncated else ""
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><ListBucketResult><Name>{escape(bucket)}</Name>'
        f"<Prefix>{escape(prefix)}</Prefix><KeyCount>{len(page)}</KeyCount><MaxKeys>{PAGE}</MaxKeys>"
        f"<IsTruncated>{'true' if truncated else 'false'}</IsTruncated>{token}{contents}</ListBucketResult>"
    ).encode()


def answer(method: str, target: str, body: bytes) -> tuple[str, dict[str, str], bytes]:
    url = urlsplit(target)
    bucket, _, key = unquote(url.path).lstrip("/").partition("/")
    query = parse_qs(url.query, keep_blank_values=True)
    store = objects.setdefault(bucket, {})
    if method == "PUT" and not key:
        return "200 OK", {}, b""
    if method == "PUT" and not query:
        digest = hashlib.md5(body, usedforsecurity=False).hexdigest()
        store[key] = (len(body), digest, time.time())
        return "200 OK", {"ETag": f'"{digest}"'}, b""
    if method == "GET" and not key and query.get("list-type") == ["2"]:
        return "200 OK", {"Content-Type": "application/xml"}, listing(bucket, query)
    if method == "HEAD" and key:
        if key not in store:
            return "404 Not Found", {}, b""
        size, digest, modified = store[key]
        headers = {"ETag": f'"{digest}"', "Last-Modified": formatdate(modified, usegmt=True)}
        return "200 OK", {**headers, "X-Size": str(size)}, b""
    if method == "DELETE":
        store.pop(key, None)
        return "204 No Content", {}, b""
    return "501 Not Implemented", {}, b""


async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, delay: float) -> None:
    try:
        while request := await reader.readline():
            method, target, _ = request.decode().split(" ", 2)
            headers: dict[str, str] = {}
            while (line := await reader.readline()) not in (b"\r\n", b""):
                name, _, value = line.decode().partition(":")
                headers[name.strip().lower()] = value.strip()
            length = int(headers.get("content-length", 0))
            body = await reader.readexactly(length) if length else b""
            await asyncio.sleep(delay)  # the network round trip to S3
            status, extra, payload = answer(method, target, body)
            if method == "HEAD" and "X-Size" in extra:
                extra["Content-Length"] = extra.pop("X-Size")
            else:
                extra["Content-Length"] = str(len(payload))
            head = "".join(f"{name}: {value}\r\n" for name, value in extra.items())
            writer.write(f"HTTP/1.1 {status}\r\n{head}\r\n".encode() + (b"" if method == "HEAD" else payload))
            await writer.drain()
    except (ConnectionError, asyncio.IncompleteReadError):
        pass
    finally:
        writer.close()


async def main(port: int, delay: float) -> None:
    server = await asyncio.start_server(lambda r, w: serve(r, w, delay), "127.0.0.1", port)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]), float(sys.argv[2]) / 1000))
