"""`clio-sync doctor`: check config, token, region and each endpoint's permission.

Each check is one row (check, status, detail). Endpoint checks cost one cheap request
each (`fields=id&limit=1`); they are skipped when the token itself does not work, since
every one of them would fail the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from typing import Literal

from pipelines.clio.client import ClioClient
from pipelines.clio.config import ClioSettings, load_settings
from pipelines.clio.endpoints import ENDPOINTS, Endpoint
from pipelines.clio.errors import ClioApiError
from pipelines.clio.token_location import describe_store
from pipelines.errors import ClioSyncError

Status = Literal["ok", "fail", "skip"]


@dataclass(frozen=True)
class Check:
    name: str
    status: Status
    detail: str


def run_checks(load: Callable[[], ClioSettings] = load_settings) -> Iterator[Check]:
    """Every check, in order; stops early only when nothing further could pass."""
    try:
        settings = load()
    except ClioSyncError as exc:
        yield Check("config", "fail", str(exc))
        return
    yield Check("config", "ok", f"api {settings.api}, region {settings.region}, "
                f"API {settings.api_root}")
    yield Check("token store", "ok", describe_store(settings))
    with ClioClient(settings) as client:
        token_ok = yield from _token_checks(settings, client)
        for endpoint in ENDPOINTS:
            if not token_ok:
                yield Check(f"endpoint {endpoint.table}", "skip", "needs a working token")
                continue
            yield _endpoint_check(client, endpoint)


def _token_checks(settings: ClioSettings, client: ClioClient) -> Generator[Check, None, bool]:
    try:
        client.auth.current()
    except ClioSyncError as exc:
        yield Check("token", "fail", str(exc))
        return False
    try:
        me = client.get_json("users/who_am_i.json", params={"fields": "id,name,email"})["data"]
    except ClioSyncError as exc:
        yield Check("token", "fail", str(exc))
        return False
    expiry = client.auth.current().expires_at
    until = f", access token valid until {expiry:%Y-%m-%d %H:%M} UTC" if expiry else ""
    yield Check("token", "ok", f"authorized as {me.get('name')} <{me.get('email')}>{until}")
    yield Check("region", "ok", f"{settings.region}: the token is accepted at {settings.base_url}")
    return True


def _endpoint_check(client: ClioClient, endpoint: Endpoint) -> Check:
    required = endpoint.required_filters[0] if endpoint.required_filters else {}  # notes: type
    try:
        client.get(endpoint.path, params={"fields": "id", "limit": 1, **required},
                   resource="doctor")
    except ClioApiError as exc:
        return Check(f"endpoint {endpoint.table}", "fail", str(exc))
    return Check(f"endpoint {endpoint.table}", "ok", "readable")
