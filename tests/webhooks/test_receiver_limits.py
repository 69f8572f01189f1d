"""The receiver under hostile or broken senders, as a real process over real sockets.

Slow or unauthenticated senders must cost the receiver bounded time, memory and log
lines, and never keep a legitimate delivery from its 200: the URL token is checked
before any body byte is read, headers and bodies have deadlines, open connections have
a cap, and a client that goes away mid-body is one log line, not a traceback.
"""

from __future__ import annotations

import contextlib
import select
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from world import REPO, Receiver, wait_healthy

from pipelines.sandbox.harness import free_port

SECRET = "s3cr3t-for-limit-tests"
BILL = {"id": 42, "etag": '"abc"', "updated_at": "2026-11-20T09:15:02-05:00", "total": 10.0}


def head(token: str, length: int, extra: str = "") -> bytes:
    return (f"POST /webhooks/clio/{token} HTTP/1.1\r\nHost: receiver\r\n"
            f"Content-Type: application/json\r\nContent-Length: {length}\r\n{extra}\r\n").encode()


def connect(port: int) -> socket.socket:
    return socket.create_connection(("127.0.0.1", port), timeout=5)


def send_quietly(sock: socket.socket, data: bytes) -> None:
    """Send what the server takes; a server that already closed is what some tests want."""
    with contextlib.suppress(OSError):
        sock.sendall(data)


def wait_closed(socks: list[socket.socket], seconds: float) -> dict[socket.socket, bytes]:
    """Each socket the server closed within `seconds`, with what it sent before closing."""
    received = {s: b"" for s in socks}
    open_ = set(socks)
    closed: dict[socket.socket, bytes] = {}
    deadline = time.monotonic() + seconds
    while open_ and (left := deadline - time.monotonic()) > 0:
        readable, _, _ = select.select(list(open_), [], [], min(left, 0.2))
        for sock in readable:
            try:
                chunk = sock.recv(65536)
            except OSError:  # reset: the server closed with our bytes unread
                chunk = b""
            if chunk:
                received[sock] += chunk
            else:
                open_.discard(sock)
                closed[sock] = received[sock]
    return closed


def rss_kib(pid: int, field: str = "VmRSS") -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise AssertionError(f"no {field} for {pid}")


class Trickle(threading.Thread):
    """Sends one byte to each socket every `every` seconds (a slowloris), until stopped."""

    def __init__(self, socks: list[socket.socket], every: float = 0.25) -> None:
        super().__init__(daemon=True)
        self.socks, self.every = socks, every
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.wait(self.every):
            for sock in self.socks:
                send_quietly(sock, b"x")


@pytest.fixture
def limited(inbox_file: Path, tmp_path: Path, request) -> Iterator[Receiver]:
    """`clio-sync webhooks serve` with short deadlines, so the tests take seconds."""
    args = getattr(request, "param", ("--header-timeout", "1.5", "--body-timeout", "1.5",
                                      "--max-connections", "1000"))
    r = Receiver(inbox_file, tmp_path / "receiver.log", args=args).start()
    yield r
    r.stop()


def test_an_unknown_token_is_refused_before_the_body_is_read(limited, kit):
    sock = connect(limited.port)
    sock.sendall(head("not-a-token", 1_000_000) + b'{"data": ')  # the rest never comes
    answer = wait_closed([sock], 3.0)
    assert sock in answer, "the receiver waited for the body of an unknown webhook"
    assert answer[sock].startswith(b"HTTP/1.1 401")
    assert kit.rows() == []


def test_slow_unauthenticated_senders_cost_no_memory_and_no_tracebacks(limited, kit):
    token = kit.register(7, "bill", SECRET)
    body = kit.body(7, "updated", BILL)
    assert kit.post_signed(limited.url(token), body, SECRET).status_code == 200  # warm
    pid = limited.proc.pid
    before = rss_kib(pid)
    # 200 senders claim 1 MiB bodies for a made-up webhook and send half of it ...
    bodies = [connect(limited.port) for _ in range(200)]
    for sock in bodies:
        sock.settimeout(2)
        send_quietly(sock, head(f"forged-{sock.fileno()}", 1 << 20) + b"x" * (512 << 10))
    # ... 100 more send their headers one byte at a time, never finishing them
    trickling = [connect(limited.port) for _ in range(100)]
    for sock in trickling:
        sock.sendall(f"POST /webhooks/clio/{token} HTTP/1.1\r\nHost: r\r\nX-Slow: ".encode())
    trickle = Trickle(trickling)
    trickle.start()
    try:
        started = time.monotonic()
        body2 = kit.body(7, "updated", {**BILL, "id": 43})
        assert kit.post_signed(limited.url(token), body2, SECRET).status_code == 200
        assert time.monotonic() - started < 1.0  # the legitimate delivery is not held up
        forged = wait_closed(bodies, 3.0)
        assert len(forged) == len(bodies), "forged deliveries were kept open"
        slow = wait_closed(trickling, 1.5 + 3.0)  # the header deadline, and some slack
        assert len(slow) == len(trickling), "slow headers were not cut off"
    finally:
        trickle.stopping.set()
        for sock in bodies + trickling:
            sock.close()
    grown_mib = (rss_kib(pid, "VmHWM") - before) / 1024
    assert grown_mib < 40, f"the receiver grew by {grown_mib:.0f} MiB"
    assert [r["record_id"] for r in kit.rows()] == [42, 43]
    log = limited.log()
    assert "Traceback" not in log
    assert len(log.splitlines()) < 2 * 300  # about one line per refused connection


def test_a_body_that_does_not_arrive_in_time_is_a_408(limited, kit):
    token = kit.register(7, "bill", SECRET)
    socks = [connect(limited.port) for _ in range(5)]
    for sock in socks:
        sock.sendall(head(token, 1000) + b'{"data": {"id": 4')  # and then nothing
    answers = wait_closed(socks, 1.5 + 3.0)
    assert len(answers) == 5
    assert all(a.startswith(b"HTTP/1.1 408") for a in answers.values()), answers
    assert kit.rows() == []
    assert "Traceback" not in limited.log()


def test_a_client_gone_mid_body_is_one_log_line(limited, kit):
    token = kit.register(7, "bill", SECRET)
    for _ in range(4):
        sock = connect(limited.port)
        sock.sendall(head(token, 1000) + b'{"data": {"id": 4')
        sock.close()
    deadline = time.monotonic() + 10
    while limited.log().count("disconnected") < 4:
        assert time.monotonic() < deadline, limited.log()
        time.sleep(0.05)
    assert kit.post_signed(limited.url(token), kit.body(7, "updated", BILL),
                           SECRET).status_code == 200
    log = limited.log()
    assert "Traceback" not in log and "Exception in ASGI" not in log
    assert log.count("disconnected") == 4
    assert len([line for line in log.splitlines() if "disconnected" in line]) == 4


@pytest.mark.parametrize("limited", [("--max-connections", "20", "--header-timeout", "30")],
                         indirect=True)
def test_beyond_the_cap_the_longest_idle_connections_make_room(limited, kit):
    token = kit.register(7, "bill", SECRET)
    idle = [connect(limited.port) for _ in range(50)]  # idle clients fill the cap, and more
    try:
        closed = wait_closed(idle, 1.0)
        # the 30 that waited longest (29 if the health check's connection was still open)
        assert set(idle[:29]) <= set(closed) <= set(idle[:30])
        started = time.monotonic()
        resp = kit.post_signed(limited.url(token), kit.body(7, "updated", BILL), SECRET)
        assert resp.status_code == 200 and time.monotonic() - started < 1.0
        assert len(wait_closed(idle, 0.5)) == len(closed) + 1  # it made room too
    finally:
        for sock in idle:
            sock.close()
    log = limited.log()
    assert "Traceback" not in log
    assert log.count("waited longest") == len(closed) + 1


@pytest.mark.parametrize("limited", [("--max-connections", "5", "--body-timeout", "2")],
                         indirect=True)
def test_when_every_connection_has_a_request_a_new_one_is_refused(limited, kit):
    token = kit.register(7, "bill", SECRET)
    busy = [connect(limited.port) for _ in range(5)]
    for sock in busy:  # a request in progress, slowly
        sock.sendall(head(token, 1000, extra="Expect: 100-continue\r\n"))
    for sock in busy:  # the receiver answers 100 once it reads the body: a request is on
        assert sock.recv(100).startswith(b"HTTP/1.1 100")
        sock.sendall(b'{"data": ')
    extra = connect(limited.port)
    try:
        assert extra in wait_closed([extra], 1.0)
        assert len(wait_closed(busy, 2 + 3.0)) == 5  # 408 at the body deadline
        resp = kit.post_signed(limited.url(token), kit.body(7, "updated", BILL), SECRET)
        assert resp.status_code == 200
    finally:
        for sock in [*busy, extra]:
            sock.close()
    assert "each with a request" in limited.log() and "Traceback" not in limited.log()


def test_serve_gives_its_receiver_the_same_limits(tmp_path):
    """`clio-sync serve` (receiver + applier + schedule) takes the options too."""
    port = free_port()
    log_file = tmp_path / "serve.log"
    cmd = [sys.executable, "-m", "pipelines", "--log-format", "plain", "serve", "--port",
           str(port), "--db", str(tmp_path / "clio_sync.duckdb"), "--sync-every", "0",
           "--reconcile-every", "0", "--renew-every", "0", "--header-timeout", "1",
           "--max-connections", "5"]
    with log_file.open("ab") as out:
        proc = subprocess.Popen(cmd, cwd=REPO, stdout=out, stderr=out)
    try:
        wait_healthy(f"http://127.0.0.1:{port}", proc, log_file)
        idle = [connect(port) for _ in range(8)]
        # beyond the cap (4 if the server has not yet seen the health check's close)
        assert 3 <= len(wait_closed(idle, 0.5)) <= 4
        assert len(wait_closed(idle, 1 + 3.0)) == 8  # the header deadline
        for sock in idle:
            sock.close()
    finally:
        proc.terminate()
        proc.wait(timeout=60)
    assert "Traceback" not in log_file.read_text()
