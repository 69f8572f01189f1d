"""A cheap load generator for the receiver bench: raw HTTP/1.1 over keep-alive sockets.

A general-purpose client (aiohttp, httpx) costs about as much CPU per request as the
receiver does per delivery, and on a 2-core machine the two then compete for the cores,
so the generator's own cost shows up in the receiver's p99. Here every request is
serialised and signed before the clock starts, exactly as the sandbox's deliverer
(httpx, `pipelines/sandbox/webhooks.py`) sends it: the same request line, the same
headers in the same order, the same HMAC. A response is read only as far as the
status line and `content-length`. Latency still counts from each request's scheduled
time, so a request that waits for a free connection is late, not hidden.
"""

from __future__ import annotations

import asyncio
import collections
import time
from collections.abc import Callable
from urllib.parse import urlsplit

import httpx

from pipelines.sandbox.webhooks import signature

Done = Callable[[int, float], None]  # (status, perf_counter at the end of the response)


def requests(url: str, bodies: list[bytes], secret: str) -> list[bytes]:
    """Each body as the sandbox's httpx deliverer writes it to the socket."""
    client = httpx.Client()
    try:
        return [_serialise(client.build_request(
            "POST", url, content=body,
            headers={"Content-Type": "application/json",
                     "X-Hook-Signature": signature(body, secret)})) for body in bodies]
    finally:
        client.close()


def _serialise(request: httpx.Request) -> bytes:
    target = request.url.raw_path.decode("ascii")
    lines = [f"POST {target} HTTP/1.1".encode()]
    lines += [name + b": " + value for name, value in request.headers.raw]
    return b"\r\n".join(lines) + b"\r\n\r\n" + request.content


class _Connection(asyncio.Protocol):
    """One keep-alive connection: one request in flight at a time (no pipelining)."""

    def __init__(self, pool: Pool) -> None:
        self.pool = pool
        self.transport: asyncio.Transport | None = None
        self.buffer = b""
        self.done: Done | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def send(self, request: bytes, done: Done) -> None:
        self.done = done
        assert self.transport is not None
        self.transport.write(request)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            return
        head = self.buffer[:end]
        length = _content_length(head)
        if len(self.buffer) < end + 4 + length:
            return
        finished = time.perf_counter()
        self.buffer = self.buffer[end + 4 + length:]
        done, self.done = self.done, None
        assert done is not None
        done(int(head[9:12]), finished)
        self.pool.idle(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self.pool.lost(self)
        if self.done is not None:
            self.done(0, time.perf_counter())  # status 0: the connection went away


def _content_length(head: bytes) -> int:
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value)
    return 0


class Pool:
    """Keep-alive connections to one receiver; requests wait in order for a free one.

    The receiver closes a connection left idle (uvicorn after 5 s), as it may: `fill`
    opens what is missing before each measurement, as a proxy in front keeps its pool.
    """

    def __init__(self, host: str, port: int, size: int) -> None:
        self.host, self.port, self.size = host, port, size
        self.free: collections.deque[_Connection] = collections.deque()
        self.waiting: collections.deque[tuple[bytes, Done]] = collections.deque()
        self.connections: set[_Connection] = set()

    async def fill(self) -> None:
        loop = asyncio.get_running_loop()
        while len(self.connections) < self.size:
            _, conn = await loop.create_connection(lambda: _Connection(self), self.host,
                                                   self.port)
            self.connections.add(conn)
            self.free.append(conn)

    def lost(self, conn: _Connection) -> None:
        self.connections.discard(conn)
        if conn in self.free:
            self.free.remove(conn)

    def submit(self, request: bytes, done: Done) -> None:
        if self.free:
            self.free.popleft().send(request, done)
        else:
            self.waiting.append((request, done))

    def idle(self, conn: _Connection) -> None:
        if self.waiting:
            conn.send(*self.waiting.popleft())
        else:
            self.free.append(conn)

    def close(self) -> None:
        for conn in list(self.connections):
            if conn.transport is not None:
                conn.transport.close()


def host_port(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    assert parts.hostname is not None and parts.port is not None
    return parts.hostname, parts.port


async def closed_loop(pool: Pool, payloads: list[bytes], concurrency: int) -> list[float]:
    """`concurrency` senders, each sending its next request when the previous is answered."""
    latencies: list[float] = []
    queue = collections.deque(payloads)
    finished = asyncio.get_running_loop().create_future()
    outstanding = [0]

    def next_one() -> None:
        if not queue:
            if outstanding[0] == 0 and not finished.done():
                finished.set_result(None)
            return
        started = time.perf_counter()
        outstanding[0] += 1

        def done(status: int, at: float) -> None:
            outstanding[0] -= 1
            if status != 200:
                if not finished.done():
                    finished.set_exception(AssertionError(f"status {status}"))
                return
            latencies.append(at - started)
            next_one()

        pool.submit(queue.popleft(), done)

    for _ in range(concurrency):
        next_one()
    await finished
    return latencies


async def open_loop(pool: Pool, payloads: list[bytes], rate: float) -> list[float]:
    """Send request i at start + i / rate; its latency counts from that scheduled time.

    One dispatcher sends whatever is due, then sleeps until the next is: no task per
    request, so the generator is not late at the start.
    """
    latencies: list[float] = []
    remaining = [len(payloads)]
    finished = asyncio.get_running_loop().create_future()

    def answered(scheduled: float) -> Done:
        def done(status: int, at: float) -> None:
            if status != 200:
                if not finished.done():
                    finished.set_exception(AssertionError(f"status {status}"))
                return
            latencies.append(at - scheduled)
            remaining[0] -= 1
            if remaining[0] == 0:
                finished.set_result(None)
        return done

    start = time.perf_counter()
    sent = 0
    while sent < len(payloads):
        now = time.perf_counter()
        while sent < len(payloads) and start + sent / rate <= now:
            pool.submit(payloads[sent], answered(start + sent / rate))
            sent += 1
        if sent < len(payloads):
            await asyncio.sleep(max(0.0, start + sent / rate - time.perf_counter()))
    await finished
    return latencies
