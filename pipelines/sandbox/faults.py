"""Injected faults: each applies to the next `count` matching requests.

`{"kind": "429"|"500"|"502"|"503"|"slow"|"truncated"|"invalid_json"|"bad_record"|"drop"|"empty",
"count": 1,
"path": "bills.json", "after": 0, "retry_after": 1, "delay": 0.5}`: `path` is a substring
of the request path (None: any Clio or OAuth path), `after` lets that many matching
requests pass first. Several faults may wait at once; a request gets the first due one.

- `429`, `500`, `502`, `503`: that status in Clio's error shape (429 adds `Retry-After`).
- `slow`: the normal answer after `delay` seconds.
- `truncated`: headers announce the whole body, half of it is sent, the connection closes.
- `invalid_json`: a complete 200 answer whose body is not JSON (an HTML error page).
- `bad_record`: a complete 200 page whose first record is spoiled (not JSON) while the
  rest of the body, its `meta` and next-page link included, is intact.
- `drop`: the connection closes after the status line and headers, before any body.
- `empty`: a well-formed 200 list page with no records and no next page (an outage that
  answers "nothing here" rather than an error).
"""

from __future__ import annotations

from dataclasses import dataclass

from pipelines.sandbox.errors import bad_request

KINDS = ("429", "500", "502", "503", "slow", "truncated", "invalid_json", "bad_record", "drop",
         "empty")


@dataclass
class Fault:
    kind: str
    count: int = 1
    path: str | None = None
    after: int = 0
    retry_after: int = 1
    delay: float = 0.5

    @classmethod
    def from_spec(cls, spec: dict) -> Fault:
        kind = str(spec.get("kind"))
        if kind not in KINDS:
            raise bad_request(f"fault kind must be one of {', '.join(KINDS)}, got {kind!r}.")
        try:
            return cls(
                kind=kind,
                count=int(spec.get("count", 1)),
                path=spec.get("path"),
                after=int(spec.get("after", 0)),
                retry_after=max(1, int(spec.get("retry_after", 1))),
                delay=float(spec.get("delay", 0.5)),
            )
        except (TypeError, ValueError):
            raise bad_request("count, after, retry_after and delay must be numbers.") from None


@dataclass
class FaultPlan:
    """Pending faults plus standing conditions (endpoints a user's role forbids)."""

    pending: list[Fault]
    role_forbids: set[str]

    @classmethod
    def empty(cls) -> FaultPlan:
        return cls([], set())

    def clear(self) -> None:
        self.pending.clear()
        self.role_forbids.clear()

    def take(self, path: str) -> Fault | None:
        """The fault this request meets, if any (counting it down)."""
        chosen = None
        for fault in self.pending:
            if fault.path and fault.path not in path:
                continue
            if fault.after > 0:
                fault.after -= 1
            elif chosen is None:
                chosen = fault
                fault.count -= 1
        self.pending = [f for f in self.pending if f.count > 0]
        return chosen
