"""Webhook subscriptions and their deliveries: handshake, signed POSTs, retries, suspension.

A background thread owns every outgoing call (one httpx client), so deliveries never
block API requests. Behaviour (CLIO_API.md, "Webhooks"):

- Handshake right after creation or a URL change: POST `{}` with `X-Hook-Secret`; the
  webhook becomes `enabled` when the answer is 200 echoing that header, else stays
  `pending` until `PUT /webhooks/{id}/activate` brings the secret.
- Deliveries: `{"data": {subscribed fields}, "meta": {"event", "webhook_id"}}`, header
  `X-Hook-Signature` = lowercase hex HMAC-SHA256 of the raw body with the shared secret.
  `updated` is sent only when a watched field changed (a record's first update always is).
  `fields` naming `custom_field_values{...}` watches the values too: when the firm edits a
  value without touching its parent (the "silent" custom field option), only webhooks
  watching the values hear of it, as an `updated` whose data shows the new values.
- 2xx, 3xx and 410 count as delivered; 410 suspends the webhook for good. Other answers
  and timeouts retry 5 times from 2 minutes, doubling, times `webhook_time_scale`; a
  delivery that exhausts its retries suspends the webhook.
- Expiry is judged on the firm's clock (the `Date` the API sends): once `expires_at` has
  passed, no event is queued.
- On demand (faults): `duplicates` sends every delivery twice; `reorder` holds deliveries
  briefly and sends them newest first.
"""

from __future__ import annotations

import hashlib
import heapq
import hmac
import itertools
import logging
import secrets
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

import httpx

from pipelines.sandbox.fields import Projector, parse_fields, projector, split_top_level
from pipelines.sandbox.render import dumps

if TYPE_CHECKING:
    from pipelines.sandbox.state import SandboxState

log = logging.getLogger(__name__)

MODEL_OF_ENDPOINT = {"bills": "bill", "activities": "activity", "contacts": "contact",
                     "matters": "matter", "tasks": "task", "calendar_entries": "calendar_entry",
                     "communications": "communication"}  # fmt: skip
VALUES_CHANGED = "custom_field_values"  # the firm's event for a value edit that touched nothing
MATTER_EVENTS = {"Open": "matter_opened", "Pending": "matter_pended", "Closed": "matter_closed"}
RETRIES = 5
FIRST_RETRY = 120.0  # seconds before the first retry, doubling after
HOLD_FOR_REORDER = 0.25  # quiet seconds after the newest held delivery before release
TIMEOUT = 5.0


def signature(body: bytes, secret: str) -> str:
    """`X-Hook-Signature`: lowercase hex HMAC-SHA256 of the raw body."""
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@dataclass
class Webhook:
    """One subscription, with what the sandbox tracks to decide deliveries."""

    id: int
    url: str
    fields: str
    model: str
    events: list[str]
    expires_at: datetime
    created_at: str
    updated_at: str
    shared_secret: str = field(default_factory=lambda: secrets.token_hex(16))
    status: str = "pending"
    version: int = 0
    project: Projector | None = None
    seen: dict[int, dict] = field(default_factory=dict)  # record id -> watched values
    statuses: dict[int, str | None] = field(default_factory=dict)  # matters: last status

    @property
    def watches_values(self) -> bool:
        """Whether `fields` names the custom field values (a watch list of its own)."""
        return any(part.partition("{")[0].strip() == "custom_field_values"
                   for part in split_top_level(self.fields))  # fmt: skip

    @property
    def etag(self) -> str:
        digest = hashlib.md5(f"webhook:{self.id}:{self.version}".encode()).hexdigest()
        return f'"{digest}"'

    def as_record(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "etag": self.etag,
            "url": self.url,
            "fields": self.fields,
            "shared_secret": self.shared_secret,
            "model": self.model,
            "status": self.status,
            "events": list(self.events),
            "expires_at": self.expires_at.isoformat(),
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "user": None,
        }


@dataclass(order=True)
class Delivery:
    due: float
    seq: int
    webhook_id: int = field(compare=False)
    body: bytes = field(compare=False)
    attempt: int = field(compare=False, default=0)
    handshake: bool = field(compare=False, default=False)


class WebhookService:
    """The webhooks of one sandbox and the thread that calls their URLs."""

    def __init__(self, state: SandboxState) -> None:
        self.state = state
        self.hooks: dict[int, Webhook] = {}
        self.duplicates = False
        self.reorder = False
        self.enable_delay = 0.0  # seconds from a good handshake answer to `enabled`
        self._ids = itertools.count(1)
        self._seq = itertools.count()
        self._queue: list[Delivery] = []
        self._held: list[Delivery] = []
        self._busy = 0
        self._cond = threading.Condition()
        self._stopped = False
        self._thread: threading.Thread | None = None
        state.firm.subscribe(self.on_change)

    # ----- subscriptions --------------------------------------------------------------

    def add(self, hook: Webhook) -> Webhook:
        hook.project = projector(parse_fields(hook.fields, _schema(hook.model)), self.state.lookup)
        with self._cond:
            self.hooks[hook.id] = hook
        self.handshake(hook)
        return hook

    def next_id(self) -> int:
        return next(self._ids)

    def records(self) -> list[dict]:
        with self._cond:
            return [h.as_record() for h in sorted(self.hooks.values(), key=lambda h: h.id)]

    def remove(self, hook_id: int) -> None:
        with self._cond:
            self.hooks.pop(hook_id, None)

    def handshake(self, hook: Webhook) -> None:
        self._push(Delivery(time.monotonic(), next(self._seq), hook.id, b"{}", handshake=True))

    # ----- events from the firm -------------------------------------------------------

    def on_change(self, endpoint: str, event: str, record: dict) -> None:
        """Firm listener: queue a delivery for each live webhook that wants this change."""
        model = MODEL_OF_ENDPOINT.get(endpoint)
        if model is None:
            return
        now = self.state.firm.now()
        with self._cond:
            hooks = [h for h in self.hooks.values() if h.model == model]
        for hook in hooks:
            if hook.status != "enabled" or hook.expires_at <= now or hook.project is None:
                continue
            if event == VALUES_CHANGED and not hook.watches_values:
                continue
            data = hook.project(record)
            previous = hook.seen.get(record["id"])
            was = hook.statuses.get(record["id"])
            hook.seen[record["id"]] = data
            hook.statuses[record["id"]] = record.get("status")
            for name in self._events(hook, event, record, data, previous, was):
                body = dumps({"data": data, "meta": {"event": name, "webhook_id": hook.id}})
                copies = 2 if self.duplicates else 1
                for _ in range(copies):
                    self._push(Delivery(time.monotonic(), next(self._seq), hook.id, body))

    @staticmethod
    def _events(
        hook: Webhook, event: str, record: dict, data: dict, previous: dict | None, was: str | None
    ) -> list[str]:
        names = []
        if event == VALUES_CHANGED:  # a watched value changed, its parent did not
            if previous is None or _watched(previous) != _watched(data):
                names.append("updated")
            return [n for n in names if n in hook.events]
        if event != "updated":
            names.append(event)
        elif previous is None or _watched(previous) != _watched(data):
            names.append("updated")
        status = record.get("status")
        # A matter's status change (or a new matter) also fires matter_<status>.
        changed = event == "created" or (event == "updated" and was is not None and was != status)
        if hook.model == "matter" and status in MATTER_EVENTS and changed:
            names.append(MATTER_EVENTS[status])
        return [n for n in names if n in hook.events]

    # ----- the delivery thread --------------------------------------------------------

    def _push(self, delivery: Delivery) -> None:
        with self._cond:
            if self.reorder and not delivery.handshake:
                self._held.append(delivery)
            else:
                heapq.heappush(self._queue, delivery)
            self._ensure_thread()
            self._cond.notify_all()

    def _ensure_thread(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._run, name="sandbox-webhooks", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        with httpx.Client(timeout=TIMEOUT) as http:
            while True:
                delivery = self._next()
                if delivery is None:
                    return
                try:
                    self._send(http, delivery)
                finally:
                    with self._cond:
                        self._busy -= 1
                        self._cond.notify_all()

    def _next(self) -> Delivery | None:
        with self._cond:
            while not self._stopped:
                self._release_held()
                now = time.monotonic()
                if self._queue and self._queue[0].due <= now:
                    self._busy += 1
                    return heapq.heappop(self._queue)
                wait = self._queue[0].due - now if self._queue else None
                if self._held:
                    wait = min(wait or HOLD_FOR_REORDER, HOLD_FOR_REORDER)
                self._cond.wait(wait)
            return None

    def _release_held(self) -> None:
        if self._held and time.monotonic() - self._held[-1].due >= HOLD_FOR_REORDER:
            base = time.monotonic()
            for offset, held in enumerate(reversed(self._held)):
                held.due = base + offset * 1e-6
                heapq.heappush(self._queue, held)
            self._held.clear()

    def _send(self, http: httpx.Client, delivery: Delivery) -> None:
        with self._cond:
            hook = self.hooks.get(delivery.webhook_id)
        if hook is None or (hook.status == "suspended" and not delivery.handshake):
            return
        headers = {"Content-Type": "application/json"}
        if delivery.handshake:
            headers["X-Hook-Secret"] = hook.shared_secret
        else:
            headers["X-Hook-Signature"] = signature(delivery.body, hook.shared_secret)
        try:
            response = http.post(hook.url, content=delivery.body, headers=headers)
        except httpx.HTTPError as exc:
            log.info("webhook %s: %s", hook.id, type(exc).__name__)
            status, echoed = None, None
        else:
            status, echoed = response.status_code, response.headers.get("X-Hook-Secret")
        if delivery.handshake:
            if status == 200 and echoed == hook.shared_secret:
                self._enable(hook)
            return
        self._settle(hook, delivery, status)

    def _settle(self, hook: Webhook, delivery: Delivery, status: int | None) -> None:
        if status == 410:
            self._set_status(hook, "suspended")
        elif status is not None and 200 <= status < 400:
            return
        elif delivery.attempt < RETRIES:
            delay = FIRST_RETRY * 2**delivery.attempt * self.state.config.webhook_time_scale
            delivery.attempt += 1
            delivery.due = time.monotonic() + delay
            with self._cond:
                heapq.heappush(self._queue, delivery)
        else:
            self._set_status(hook, "suspended")

    def _enable(self, hook: Webhook) -> None:
        """Clio marks a webhook enabled a moment after the handshake's answer arrives;
        until then changes are not delivered (`enable_delay` widens that moment)."""
        if self.enable_delay > 0:
            timer = threading.Timer(self.enable_delay, self._set_status, (hook, "enabled"))
            timer.daemon = True
            timer.start()
        else:
            self._set_status(hook, "enabled")

    def _set_status(self, hook: Webhook, status: str) -> None:
        with self._cond:
            hook.status = status
            hook.version += 1

    # ----- control --------------------------------------------------------------------

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until every queued delivery (retries included) is done; False on timeout."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._queue or self._held or self._busy:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                if self._held:
                    for held in self._held:
                        held.due -= HOLD_FOR_REORDER
                self._cond.notify_all()
                self._cond.wait(min(left, 0.02))
            return True

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=TIMEOUT + 1)


def _watched(data: dict) -> dict:
    return {k: v for k, v in data.items() if k != "etag"}


def _schema(model: str) -> str:
    from pipelines.sandbox.spec import webhook_models

    return webhook_models()[model]
