"""What one sender may cost the receiver: deadlines and a cap on open connections.

uvicorn closes idle keep-alive connections and (with h11) refuses oversized headers, but
a client may take forever to finish its request headers, and any number of clients may
hold connections open. Slow or idle clients cost a socket and some memory each; enough
of them would starve Clio's deliveries. So the receiver runs uvicorn's own HTTP/1.1
protocol (h11, or httptools when installed) with three more bounds, checked per
connection before the app sees a request:

- `header_timeout`: from connecting, or from our previous answer, to the end of the next
  request's headers (a slowloris trickling header bytes is cut off, however steady);
- `max_header_bytes`: what a request's headers may take before they are complete;
- `max_connections`: open connections at most. A connection beyond it first makes room
  by closing the one that has waited longest for its request headers (an idle or slow
  client, never a request in progress), so idle clients cannot lock deliveries out; when
  every connection is busy with a request, the new one is closed at once.

The body has its own deadline (`body_timeout`), enforced by the app (`receiver.py`),
which reads no body byte before the URL token names a live webhook.
"""

from __future__ import annotations

import asyncio
import gc
import logging
from dataclasses import dataclass
from typing import Any

HEADER_TIMEOUT = 10.0  # seconds; a proxy or Clio sends its headers in milliseconds
BODY_TIMEOUT = 10.0  # seconds for a delivery's whole body (a few KB)
MAX_CONNECTIONS = 512  # a proxy's pool of a few hundred fits; well below 1024 open files
MAX_HEADER_BYTES = 16 * 1024  # h11's own default; Clio's headers are well under 2 KB

log = logging.getLogger("pipelines.webhooks.receiver")


@dataclass(frozen=True)
class Limits:
    """The receiver's bounds on each sender (see the module docstring)."""

    header_timeout: float = HEADER_TIMEOUT
    body_timeout: float = BODY_TIMEOUT
    max_connections: int = MAX_CONNECTIONS
    max_header_bytes: int = MAX_HEADER_BYTES


def run_server(app: Any, host: str, port: int, limits: Limits) -> None:
    """Serve `app` with uvicorn until SIGTERM or Ctrl-C, within `limits`.

    No proxy-header rewriting: nothing here reads the client's address from a request
    (the connection limits use the socket's), and it costs every request a lookup.
    """
    import uvicorn

    protocol = protocol_class(limits)
    freeze_heap()
    uvicorn.run(app, host=host, port=port, access_log=False, log_config=None,
                proxy_headers=False, http=protocol,
                h11_max_incomplete_event_size=limits.max_header_bytes)


def freeze_heap() -> None:
    """Keep the objects made at startup out of every later garbage collection.

    The process imports ~1,200 modules (~100,000 objects that live as long as it does).
    A full collection walks them all, and at 2,000 deliveries/s one came every few
    seconds, holding every request in flight for tens of milliseconds. Frozen, they are
    never walked again; what requests allocate is collected as before.
    """
    gc.collect()
    gc.freeze()


def protocol_class(limits: Limits) -> type[asyncio.Protocol]:
    """uvicorn's HTTP/1.1 protocol (the one it would pick itself), bounded by `limits`."""
    from uvicorn.protocols.http.auto import AutoHTTPProtocol

    # `waiting` is per server: its connections that wait for request headers, oldest first
    return type("BoundedHTTPProtocol", (_Bounded, AutoHTTPProtocol),
                {"limits": limits, "waiting": {}})


class _Bounded:
    """Mixin for uvicorn's H11Protocol and HttpToolsProtocol (same attributes and hooks).

    A request's headers are complete when the protocol starts its request cycle (a new
    `self.cycle`); until then a deadline runs and header bytes are counted.
    """

    limits: Limits
    waiting: dict[_Bounded, None]  # insertion-ordered: the first waited longest
    # provided by the uvicorn protocol
    connections: set[Any]
    cycle: Any
    client: tuple[str, int] | None
    loop: asyncio.AbstractEventLoop
    transport: asyncio.Transport

    _deadline: asyncio.TimerHandle | None = None
    _header_bytes = 0

    def connection_made(self, transport: asyncio.Transport) -> None:
        full = len(self.connections) >= self.limits.max_connections
        super().connection_made(transport)  # type: ignore[misc]
        if full:
            longest = next(iter(self.waiting), None)
            if longest is None:
                log.warning("refused a connection from %s: %d connections are open, each "
                            "with a request (--max-connections)", self._peer(),
                            self.limits.max_connections)
                transport.close()
                return
            longest._cut_off(f"{self.limits.max_connections} connections are open and it "
                             "waited longest for its request (--max-connections)")
        self._await_request()

    def data_received(self, data: bytes) -> None:
        cycle = self.cycle
        super().data_received(data)  # type: ignore[misc]
        if self._deadline is None:
            return
        if self.cycle is not cycle:  # this request's headers are complete
            self._stop_waiting()
            return
        self._header_bytes += len(data)
        if self._header_bytes > self.limits.max_header_bytes:
            self._cut_off(f"its request headers passed {self.limits.max_header_bytes} bytes")

    def on_response_complete(self) -> None:
        cycle = self.cycle
        super().on_response_complete()  # type: ignore[misc]
        if self.cycle is cycle and not self.transport.is_closing():
            self._await_request()  # keep-alive: the next request gets the same deadline

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_waiting()
        super().connection_lost(exc)  # type: ignore[misc]

    def _await_request(self) -> None:
        self._stop_waiting()
        self._header_bytes = 0
        self._deadline = self.loop.call_later(
            self.limits.header_timeout, self._cut_off,
            f"no complete request headers within {self.limits.header_timeout:g}s")
        self.waiting[self] = None

    def _stop_waiting(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None
        self.waiting.pop(self, None)

    def _cut_off(self, why: str) -> None:
        self._stop_waiting()
        if not self.transport.is_closing():
            log.info("closed a connection from %s: %s", self._peer(), why)
            self.transport.close()

    def _peer(self) -> str:
        return f"{self.client[0]}:{self.client[1]}" if self.client else "?"
