"""The receiver bench's load generator sends the bytes Clio's deliverer (the sandbox's) sends.

`bench/webhook_sender.py` serialises requests itself, to cost the shared cores little;
the receiver must still see exactly what a real delivery looks like on the wire.
"""

from __future__ import annotations

import socket
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import httpx

from pipelines.sandbox.webhooks import signature

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
import webhook_sender

SECRET = "bench-secret"
BODY = b'{"data": {"id": 42, "etag": "\\"e\\""}, "meta": {"event": "updated", "webhook_id": 1}}'


def captured_requests(*senders: Callable[[str], None]) -> list[bytes]:
    """What each `send(url)` writes to a socket (the same URL), read up to its body's end."""
    server = socket.create_server(("127.0.0.1", 0))
    url = f"http://127.0.0.1:{server.getsockname()[1]}/webhooks/clio/tok3n"
    got: list[bytes] = []

    def serve() -> None:
        for _ in senders:
            conn, _ = server.accept()
            with conn:
                data = b""
                while (b"\r\n\r\n" not in data
                       or len(data.split(b"\r\n\r\n", 1)[1]) < len(BODY)):
                    data += conn.recv(65536)
                got.append(data)
                conn.sendall(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        for send in senders:
            send(url)
    finally:
        thread.join(10)
        server.close()
    return got


def test_the_bench_sends_what_the_sandbox_deliverer_sends() -> None:
    def as_the_sandbox(url: str) -> None:  # pipelines/sandbox/webhooks.py, Webhooks._send
        with httpx.Client(timeout=5) as http:
            http.post(url, content=BODY, headers={"Content-Type": "application/json",
                                                  "X-Hook-Signature": signature(BODY, SECRET)})

    def as_the_bench(url: str) -> None:
        (request,) = webhook_sender.requests(url, [BODY], SECRET)
        with socket.create_connection(webhook_sender.host_port(url), timeout=5) as s:
            s.sendall(request)
            s.recv(65536)

    sandbox, bench = captured_requests(as_the_sandbox, as_the_bench)
    assert bench == sandbox
    assert b"\r\nX-Hook-Signature: " + signature(BODY, SECRET).encode() + b"\r\n" in bench
